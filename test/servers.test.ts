// Smoke tests of the real servers the suite stands on: if one of these fails, nothing else can pass.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseConfig } from '../lib/config';
import { connectModels } from '../models';
import {
  commandLineOf,
  configEnvironment,
  startWorkerProcess,
  taskQueuePollers,
  temporalTestServerPath,
  type WorkerExit,
} from '../scripts/servers';
import { eventually } from './support/eventually';
import { testEnvironment } from './support/environment';
import { openTemporalConnection } from '../lib/temporal-connection';

const env = testEnvironment();

test('the Temporal dev server answers', async () => {
  const connection = await openTemporalConnection({ address: env.temporalAddress });
  try {
    const info = await connection.workflowService.getSystemInfo({});
    expect(info.serverVersion).toMatch(/^\d+\.\d+/);
  } finally {
    await connection.close();
  }
});

test('the time-skipping test server skips a day at once', async () => {
  const testEnv = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath() } },
  });
  try {
    const before = await testEnv.currentTimeMs();
    await testEnv.sleep('1 day');
    expect((await testEnv.currentTimeMs()) - before).toBeGreaterThanOrEqual(24 * 60 * 60 * 1000);
  } finally {
    await testEnv.teardown();
  }
});

test('mongoose writes and reads through the MongoDB wire protocol, and unique keys hold', async () => {
  const models = await connectModels(env.mongoUri, `smoke_${randomUUID().slice(0, 8)}`);
  try {
    await models.Product.create({ sku: 'SKU-1', name: '龙井茶', unitPriceMinor: 1200, currency: 'CNY' });
    const read = await models.Product.findOne({ sku: 'SKU-1' }).lean();
    expect(read?.name).toBe('龙井茶');
    await expect(
      models.Product.create({ sku: 'SKU-1', name: 'again', unitPriceMinor: 1, currency: 'CNY' }),
    ).rejects.toMatchObject({
      code: 11000,
    });
  } finally {
    await models.db.dropDatabase();
    await models.db.close();
  }
});

test('the worker runs in a process of its own: ready once it polls, stopped cleanly, its death reported', async () => {
  const taskQueue = `worker-process-${randomUUID().slice(0, 8)}`;
  const config = parseConfig({
    TEMPORAL_ADDRESS: env.temporalAddress,
    MONGODB_URI: env.mongoUri,
    MONGODB_DATABASE: `worker_${randomUUID().slice(0, 8)}`,
    TEMPORAL_TASK_QUEUE: taskQueue,
    LOG_LEVEL: 'warn',
  });
  // Its settings reach it through the environment, read back by the one schema as they were.
  expect(parseConfig(configEnvironment(config))).toEqual(config);
  const start = (onUnexpectedExit: (exit: WorkerExit) => void) =>
    startWorkerProcess({
      env: configEnvironment(config),
      temporalAddress: config.TEMPORAL_ADDRESS,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue,
      onUnexpectedExit,
    });
  const connection = await openTemporalConnection({ address: env.temporalAddress });
  const unexpected: WorkerExit[] = [];
  const worker = await start((exit) => unexpected.push(exit));
  try {
    expect(worker.identity).toBe(`${worker.workerPid}@${hostname()}`);
    expect(commandLineOf(worker.workerPid)).toMatch(/--import tsx .*worker\/main\.ts$/);
    const pollers = await taskQueuePollers(connection, config.TEMPORAL_NAMESPACE, taskQueue);
    expect(pollers.workflow).toContain(worker.identity);
    expect(pollers.activity).toContain(worker.identity);

    // Asked to stop, it shuts down and closes its connections itself (exit code 0), and nobody is alarmed.
    await worker.stop();
    expect(worker.process.exitCode).toBe(0);
    expect(commandLineOf(worker.workerPid)).toBeUndefined();

    // Killed behind our back, it is reported with how it died.
    const doomed = await start((exit) => unexpected.push(exit));
    try {
      process.kill(doomed.workerPid, 'SIGKILL');
      await eventually(
        () =>
          expect(unexpected).toEqual([expect.objectContaining({ pid: doomed.workerPid, signal: 'SIGKILL' })]),
        10_000,
      );
    } finally {
      await doomed.stop();
    }
  } finally {
    await worker.stop();
    await connection.close();
  }
}, 90_000);
