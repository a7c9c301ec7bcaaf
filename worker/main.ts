// The worker process: connect, run cancellations, stop cleanly on SIGINT/SIGTERM.
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { createActivityDeps, createWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'worker');
  const deps = await createActivityDeps(config, logger);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  try {
    const worker = await createWorker({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      deps,
    });
    logger.info(
      { taskQueue: config.TEMPORAL_TASK_QUEUE, temporal: config.TEMPORAL_ADDRESS },
      'worker running',
    );
    await worker.run(); // the SDK shuts the worker down on SIGINT/SIGTERM
  } finally {
    await connection.close();
    await deps.temporal.connection.close();
    await deps.models.db.close();
    deps.mailer.close();
  }
}

main().catch((error: unknown) => {
  console.error('worker failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
