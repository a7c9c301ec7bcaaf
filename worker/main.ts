// The worker process: connect, run cancellations, stop cleanly on SIGINT/SIGTERM. `npm run worker` runs it on its
// own; `npm start` and `npm run bench` run this same file as a child process (scripts/servers.ts,
// startWorkerProcess), with their settings in its environment, and count it ready once Temporal lists it among
// the task queue's pollers.
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { loadConfig } from '../lib/config';
import { temporalDataConverter } from '../lib/payload-codec';
import { createLogger } from '../lib/logger';
import { startTracing } from '../lib/tracing';
import { createActivityDeps, createWorker, runtimeTelemetryFrom } from './worker';
import { createEventDispatcher, eventDispatchSettingsFrom } from '../activities/event-dispatcher';
import { bulkJobWatchSettingsFrom, createBulkJobWatcher } from '../activities/bulk-job-watcher';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'worker');
  // The signals are ours rather than the SDK's: one that comes while the worker is still being built (bundling
  // the workflow code takes seconds) must stop it too, not be lost and leave it to start polling.
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    shutdownSignals: [],
    telemetryOptions: runtimeTelemetryFrom(config),
  });
  const tracing = startTracing(config, 'cancelflow-worker');
  let worker: Worker | undefined;
  let stopRequested = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopRequested) return;
    stopRequested = true;
    logger.info({ signal }, 'worker stopping');
    if (worker?.getState() === 'RUNNING') worker.shutdown();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stop(signal));

  const deps = await createActivityDeps(config, logger, undefined, undefined, tracing);
  // Outbound webhooks are sent from this process, outside any workflow (activities/event-dispatcher.ts).
  const dispatcher = createEventDispatcher(deps, eventDispatchSettingsFrom(config));
  // Bulk jobs whose workflow ended without finishing them are recorded failed from here (bulk-job-watcher.ts).
  const watcher = createBulkJobWatcher(deps, bulkJobWatchSettingsFrom(config));
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  try {
    worker = await createWorker({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      deps,
      dataConverter: temporalDataConverter(config),
      tracing,
      ...(config.WORKFLOW_BUNDLE_PATH
        ? { workflows: { workflowBundle: { codePath: config.WORKFLOW_BUNDLE_PATH } } }
        : {}),
      maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    });
    if (stopRequested) return;
    const running = worker.run(); // until shutdown(): it finishes the tasks it holds first
    dispatcher.start();
    watcher.start();
    logger.info(
      {
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        temporal: config.TEMPORAL_ADDRESS,
        identity: worker.options.identity,
      },
      'worker polling',
    );
    await running;
    logger.info('worker stopped');
  } finally {
    await dispatcher.stop();
    await watcher.stop();
    await connection.close();
    await deps.temporal.connection.close();
    await deps.models.db.close();
    deps.mailer.close();
    await tracing?.shutdown();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('worker failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
