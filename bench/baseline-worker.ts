// The engine's baseline worker for `npm run bench` (bench/baseline.workflows.ts), in a process of its own as the
// cancellation worker is (scripts/servers.ts startWorkerProcess runs both), so that the no-op workflows and the
// cancellations they are compared with run under the same conditions. It reads TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE and TEMPORAL_TASK_QUEUE (its own queue) from its environment; SIGTERM stops it cleanly
// (the SDK's own signal handling drains it).
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { loadConfig } from '../lib/config';
import { baselineActivities } from './baseline.activities';

async function main(): Promise<void> {
  const config = loadConfig();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      workflowsPath: require.resolve('./baseline.workflows'),
      activities: baselineActivities,
    });
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('baseline worker failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
