// Issue #13: while Temporal or the database is down, the API answers 503 with the reason and Retry-After at
// once (it used to hang about 20 s on the Temporal client's retries), and loses nothing: a request refused
// for that reason goes through when repeated with its Idempotency-Key once the server is back.
//
// Each case runs the whole API (buildApp) over one working server and one that is down: Temporal at a port
// where nothing listens, or a MongoDB of its own that the test stops.
import { TEST_DATA_CONVERTER } from './support/data-converter';
import { Client, Connection } from '@temporalio/client';
import { apiSettingsFrom, buildApp } from '../api/app';
import { seedDemoData } from '../generators/demo-data';
import { parseConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { loadPolicyFile } from '../lib/policy';
import { connectModels, type Models } from '../models';
import { issueApiKey } from '../models/credentials';
import { freePort, startMongoServer } from '../scripts/servers';
import { eventually } from './support/eventually';
import { startTestStack, type TestStack } from './support/stack';

/** Longer than any deadline the API has: a request still open by then hangs, and fails the test. */
const HANG = 15_000;

const config = parseConfig({ LOG_LEVEL: 'silent' });

async function startApi(models: Models, temporal: Client, taskQueue: string) {
  const app = buildApp({
    models,
    temporal,
    taskQueue,
    policy: await loadPolicyFile(config.CANCELLATION_POLICY_FILE),
    ...apiSettingsFrom(config),
    logger: createLogger(config, 'deadlines'),
  });
  const port = await freePort();
  await app.listen({ host: '127.0.0.1', port });
  return { app, url: `http://127.0.0.1:${port}` };
}

async function call(url: string, init: RequestInit = {}) {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(HANG) });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack('deadlines');
  await seedDemoData(stack.models);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('Temporal is down', () => {
  let api: Awaited<ReturnType<typeof startApi>>;
  let connection: Connection;
  let token: string;

  beforeAll(async () => {
    // The API came up while Temporal was there; now nothing answers at its address.
    connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
    api = await startApi(
      stack.models,
      new Client({ connection, dataConverter: TEST_DATA_CONVERTER }),
      stack.taskQueue,
    );
    ({ token } = await issueApiKey(stack.models, {
      name: 'deadlines',
      personId: 'clerk-1',
      scopes: ['requester'],
      createdBy: 'test',
    }));
  });

  afterAll(async () => {
    await api?.app.close();
    await connection?.close();
  });

  test('/health answers 503 naming Temporal, with Retry-After', async () => {
    const answer = await call(`${api.url}/health`);
    expect(answer).toMatchObject({
      status: 503,
      retryAfter: expect.stringMatching(/^\d+$/),
      body: { status: 'unavailable', database: 'ok', temporal: expect.stringContaining('within 2 s') },
    });
  });

  test('a cancellation asked for answers 503 with the reason; repeated with its key once Temporal is back, it runs', async () => {
    const request = {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'idempotency-key': 'deadlines-temporal-down-1',
      },
      body: JSON.stringify({
        orderNumber: 'SO-2026-0001',
        reasonCode: 'customer_changed_mind',
        confirm: ['awaiting_shipment'],
      }),
    };
    const refused = await call(`${api.url}/v1/cancellations`, request);
    expect(refused).toMatchObject({
      status: 503,
      retryAfter: expect.stringMatching(/^\d+$/),
      body: {
        error: 'unavailable',
        message: expect.stringContaining('retry with the same Idempotency-Key'),
      },
    });

    // The same request to an API whose Temporal answers: the recorded cancellation starts, and completes.
    const accepted = await call(`${stack.apiUrl}/v1/cancellations`, request);
    expect(accepted).toMatchObject({ status: 202, body: { existing: true, orderNumber: 'SO-2026-0001' } });
    const client = await stack.as('clerk-1');
    await eventually(async () =>
      expect(await client.getCancellation(String(accepted.body.cancellationId))).toMatchObject({
        outcome: 'completed',
      }),
    );
    expect(await stack.models.Cancellation.countDocuments({ orderNumber: 'SO-2026-0001' })).toBe(1);
  });

  test("a person's action answers 503 naming the cancellation", async () => {
    const ops = await issueApiKey(stack.models, {
      name: 'deadlines ops',
      personId: 'ops-1',
      scopes: ['ops'],
      createdBy: 'test',
    });
    const [running] = await stack.models.Cancellation.find({}, { cancellationId: 1 }).limit(1).lean();
    const answer = await call(`${api.url}/v1/cancellations/${running?.cancellationId}/resumption`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ops.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(answer).toMatchObject({ status: 503, body: { error: 'unavailable' } });
  });
});

describe('the database is down', () => {
  test('a request and /health answer 503 naming the database, with Retry-After', async () => {
    const mongo = await startMongoServer({ port: await freePort() });
    let stopped = false;
    const models = await connectModels(mongo.uri, 'deadlines', { timeoutMs: config.MONGODB_TIMEOUT_MS });
    const api = await startApi(models, stack.temporal, stack.taskQueue);
    try {
      await seedDemoData(models);
      const { token } = await issueApiKey(models, {
        name: 'deadlines',
        personId: 'clerk-1',
        scopes: ['requester'],
        createdBy: 'test',
      });
      await mongo.stop();
      stopped = true;

      const listed = await call(`${api.url}/v1/cancellations`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(listed).toMatchObject({
        status: 503,
        retryAfter: expect.stringMatching(/^\d+$/),
        body: { error: 'unavailable', message: expect.stringContaining('the database did not answer') },
      });
      const health = await call(`${api.url}/health`);
      expect(health).toMatchObject({
        status: 503,
        body: { database: expect.stringMatching(/^down: /), temporal: 'ok' },
      });
    } finally {
      await api.app.close();
      await models.db.close(true);
      if (!stopped) await mongo.stop();
    }
  });
});

describe('/health and the worker', () => {
  test('with a worker polling the task queue: ok', async () => {
    const answer = await call(`${stack.apiUrl}/health`);
    expect(answer).toMatchObject({
      status: 200,
      body: { status: 'ok', database: 'ok', temporal: 'ok', worker: 'ok' },
    });
  });

  test('with none: still 200 (the API takes cancellations, which wait in Temporal), but degraded, and why', async () => {
    const api = await startApi(stack.models, stack.temporal, `nobody-polls-${Date.now()}`);
    try {
      const answer = await call(`${api.url}/health`);
      expect(answer).toMatchObject({
        status: 200,
        retryAfter: null,
        body: {
          status: 'degraded',
          database: 'ok',
          temporal: 'ok',
          worker: expect.stringContaining('no worker has polled nobody-polls-'),
        },
      });
    } finally {
      await api.app.close();
    }
  });
});
