// Smoke tests of the real servers the suite stands on: if one of these fails, nothing else can pass.
import { randomUUID } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { connectModels } from '../models';
import { temporalTestServerPath } from '../scripts/servers';
import { testEnvironment } from './support/environment';

const env = testEnvironment();

test('the Temporal dev server answers', async () => {
  const connection = await Connection.connect({ address: env.temporalAddress });
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
