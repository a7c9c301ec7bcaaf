// Prometheus metrics (issue #15), scraped over HTTP from the real endpoints while real cancellations run: the
// API's own (requests by route and status, cancellations by state and outcome from the database, the outbox's
// backlog, the oldest waiting approval), and the worker's, the Temporal SDK's runtime metrics, from a worker
// process of its own (the runtime, and its metrics server, is one per process) started as `npm start` starts it.
import { apiSettingsFrom, buildApp } from '../api/app';
import { CancelflowClient } from '../client/cancelflow-client';
import { addCustomer, addPeople, addProduct, placePaidOrder, receiveStock } from '../generators/demo-data';
import { parseConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { loadPolicyFile } from '../lib/policy';
import { connectModels } from '../models';
import { issueApiKey } from '../models/credentials';
import { markOutboxSent, recordOutboxEntry } from '../models/outbox';
import { configEnvironment, freePort, startWorkerProcess, type WorkerProcess } from '../scripts/servers';
import { testEnvironment } from './support/environment';
import { eventually } from './support/eventually';
import { startTestStack, type TestStack } from './support/stack';

let stack: TestStack;
let apiMetricsUrl: string;
let orders = 0;

/** The value of one series (summed over the series matching these labels); 0 when there is none. */
function valueOf(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample || sample[1] !== name) continue;
    const found = new Map(
      [...(sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, value]) => [key, value]),
    );
    if (Object.entries(labels).every(([key, value]) => found.get(key) === value)) total += Number(sample[3]);
  }
  return total;
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return response.text();
}

/** A paid order of a VIP (medium risk: one approval by manager-1), or of an ordinary customer (none). */
async function placeOrder(customerId: 'C-VIP' | 'C-PLAIN'): Promise<string> {
  orders += 1;
  const orderNumber = `SO-OBS-${orders}`;
  await placePaidOrder(stack.models, {
    orderNumber,
    customerId,
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'POT-O', quantity: 1, unitPriceMinor: 38800 }],
  });
  return orderNumber;
}

beforeAll(async () => {
  const port = await freePort();
  stack = await startTestStack('observability', undefined, {
    // Figures read from the database on every scrape, so a test sees a change at once.
    settings: { API_METRICS_PORT: String(port), METRICS_REFRESH_SECONDS: '0' },
  });
  apiMetricsUrl = `http://127.0.0.1:${port}/metrics`;
  await addPeople(stack.models);
  await addCustomer(stack.models, {
    customerId: 'C-VIP',
    name: '诸葛亮',
    email: 'zhuge.liang@example.cn',
    phone: '+8613612345678',
    language: 'zh-CN',
    tier: 'vip',
  });
  await addCustomer(stack.models, {
    customerId: 'C-PLAIN',
    name: 'Ada Byron',
    email: 'ada@example.com',
    phone: '+14155550199',
    language: 'en',
  });
  await addProduct(stack.models, {
    sku: 'POT-O',
    name: 'Yixing teapot',
    unitPriceMinor: 38800,
    currency: 'CNY',
  });
  await receiveStock(stack.models, 'POT-O', 50);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe("the API's /metrics", () => {
  test('requests are counted by route pattern and status, never by path', async () => {
    const before = await scrape(apiMetricsUrl);
    const route = { method: 'GET', route: '/v1/cancellations/:id', status_code: '404' };
    const ops = await stack.as('ops-1');
    await expect(ops.getCancellation('observability-no-such-id')).rejects.toThrow();
    await fetch(`${stack.apiUrl}/no/such/route`);
    const after = await scrape(apiMetricsUrl);
    const count = 'cancelflow_http_request_duration_seconds_count';
    expect(valueOf(after, count, route) - valueOf(before, count, route)).toBe(1);
    expect(valueOf(after, count, { route: 'unmatched', status_code: '404' })).toBeGreaterThan(
      valueOf(before, count, { route: 'unmatched', status_code: '404' }),
    );
    expect(after).not.toContain('observability-no-such-id');
    // A latency histogram: buckets up to +Inf.
    expect(valueOf(after, 'cancelflow_http_request_duration_seconds_bucket', { ...route, le: '+Inf' })).toBe(
      valueOf(after, count, route),
    );
  });

  test('cancellations by state and outcome and the oldest waiting approval follow real cancellations', async () => {
    const cancellations = (text: string, state: string, outcome: string) =>
      valueOf(text, 'cancelflow_cancellations', { state, outcome });
    const before = await scrape(apiMetricsUrl);
    expect(valueOf(before, 'cancelflow_oldest_waiting_approval_seconds')).toBe(0);
    const clerk = await stack.as('clerk-1');

    // One that runs to the end by itself (low risk), one that waits for an approver (a VIP's: medium).
    const plain = await clerk.createCancellation({
      orderNumber: await placeOrder('C-PLAIN'),
      reasonCode: 'customer_changed_mind',
      confirm: ['awaiting_shipment'],
    });
    await stack.temporal.workflow.getHandle(plain.workflowId).result();
    const waiting = await clerk.createCancellation({
      orderNumber: await placeOrder('C-VIP'),
      reasonCode: 'customer_changed_mind',
      confirm: ['awaiting_shipment'],
    });
    const whileWaiting = await eventually(async () => {
      const text = await scrape(apiMetricsUrl);
      expect(cancellations(text, 'awaitingApproval', 'none')).toBe(1);
      return text;
    }, 30_000);
    expect(cancellations(whileWaiting, 'completed', 'completed')).toBe(
      cancellations(before, 'completed', 'completed') + 1,
    );
    expect(valueOf(whileWaiting, 'cancelflow_oldest_waiting_approval_seconds')).toBeGreaterThan(0);
    await new Promise((wait) => setTimeout(wait, 1_100));
    const later = await scrape(apiMetricsUrl);
    expect(valueOf(later, 'cancelflow_oldest_waiting_approval_seconds')).toBeGreaterThan(
      valueOf(whileWaiting, 'cancelflow_oldest_waiting_approval_seconds') + 1,
    );
    // The POST that asked for them, counted with its status.
    expect(
      valueOf(later, 'cancelflow_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/v1/cancellations',
        status_code: '202',
      }),
    ).toBeGreaterThanOrEqual(2);

    // The approver decides: nothing waits any more, and the approval state shows 0 rather than vanishing.
    await (await stack.as('manager-1')).decide(waiting.cancellationId, { approved: true });
    await stack.temporal.workflow.getHandle(waiting.workflowId).result();
    const after = await scrape(apiMetricsUrl);
    expect(cancellations(after, 'awaitingApproval', 'none')).toBe(0);
    expect(after).toMatch(/^cancelflow_cancellations\{state="awaitingApproval",outcome="none"\} 0$/m);
    expect(cancellations(after, 'completed', 'completed')).toBe(
      cancellations(before, 'completed', 'completed') + 2,
    );
    expect(valueOf(after, 'cancelflow_oldest_waiting_approval_seconds')).toBe(0);

    // Nothing a person could be found by: no ids, order numbers, customers or people in any label.
    for (const secret of [
      plain.cancellationId,
      waiting.orderNumber,
      'C-VIP',
      '诸葛亮',
      'clerk-1',
      'manager-1',
    ])
      expect(after).not.toContain(secret);
  }, 120_000);

  test("the outbox's backlog counts messages recorded and not yet sent", async () => {
    const pending = async () => valueOf(await scrape(apiMetricsUrl), 'cancelflow_outbox_pending_messages');
    // The file's earlier cancellations may still be sending their messages: the gauge is read against the
    // outbox as it stands at that moment, not against a count taken before (CI saw one go out in between).
    const queued = () => stack.models.Notification.countDocuments({ status: 'queued' });
    const gaugeMatchesOutbox = () => eventually(async () => expect(await pending()).toBe(await queued()));
    const key = `observability-backlog-${Date.now()}`;
    await recordOutboxEntry(stack.models, {
      idempotencyKey: key,
      cancellationId: 'observability-backlog',
      channel: 'email',
      recipient: 'ops@cancelflow.local',
      template: 'received',
      language: 'en',
    });
    expect(await stack.models.Notification.countDocuments({ idempotencyKey: key, status: 'queued' })).toBe(1);
    await gaugeMatchesOutbox();
    await markOutboxSent(stack.models, key, 'provider-message-1');
    expect(await stack.models.Notification.countDocuments({ idempotencyKey: key, status: 'queued' })).toBe(0);
    await gaugeMatchesOutbox();
    expect(await scrape(apiMetricsUrl)).toMatch(/^cancelflow_metrics_database_read_seconds [\d.e-]+$/m);
  });

  test('a scrape while the database is away still answers, and counts the failed read', async () => {
    const port = await freePort();
    const config = parseConfig({ API_METRICS_PORT: String(port), METRICS_REFRESH_SECONDS: '0' });
    const models = await connectModels(testEnvironment().mongoUri, `${stack.models.db.name}_away`);
    await models.db.close(); // every read now fails at once
    const app = buildApp({
      models,
      temporal: stack.temporal,
      taskQueue: stack.taskQueue,
      policy: await loadPolicyFile(config.CANCELLATION_POLICY_FILE),
      ...apiSettingsFrom(config),
      logger: createLogger({ LOG_LEVEL: 'silent' }, 'observability-away'),
    });
    await app.ready();
    try {
      const url = `http://127.0.0.1:${port}/metrics`;
      const errors = (text: string) => valueOf(text, 'cancelflow_metrics_database_read_errors_total');
      const first = await scrape(url);
      expect(errors(first)).toBe(1); // one read for every gauge of the scrape
      expect(first).toContain('process_cpu_seconds_total');
      expect(errors(await scrape(url))).toBe(2);
    } finally {
      await app.close();
    }
  });
});

describe("the worker's /metrics (the Temporal SDK's runtime metrics)", () => {
  let worker: WorkerProcess | undefined;
  let app: ReturnType<typeof buildApp> | undefined;

  afterAll(async () => {
    await app?.close();
    await worker?.stop();
  });

  test('a worker process started with WORKER_METRICS_PORT serves them, and they move as it works', async () => {
    const env = testEnvironment();
    const [metricsPort, apiPort] = [await freePort(), await freePort()];
    const taskQueue = `${stack.taskQueue}-own-worker`;
    const config = parseConfig({
      LOG_LEVEL: 'warn',
      TEMPORAL_ADDRESS: env.temporalAddress,
      TEMPORAL_TASK_QUEUE: taskQueue,
      MONGODB_URI: env.mongoUri,
      MONGODB_DATABASE: stack.models.db.name,
      SMTP_PORT: String(stack.mail.smtpPort),
      TWILIO_API_BASE_URL: stack.sms.url,
      PAYMENT_GATEWAY_URL: stack.gateway.url,
      CARRIER_URL: stack.carrier.url,
      PUBLIC_BASE_URL: `http://127.0.0.1:${apiPort}`,
      WORKER_METRICS_PORT: String(metricsPort),
    });
    worker = await startWorkerProcess({
      env: configEnvironment(config),
      temporalAddress: env.temporalAddress,
      namespace: 'default',
      taskQueue,
      name: 'observability worker',
    });
    const workerMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    const completed = (text: string) =>
      valueOf(text, 'temporal_workflow_completed', {
        workflow_type: 'cancellationWorkflow',
        task_queue: taskQueue,
      });
    const before = await scrape(workerMetricsUrl);
    expect(completed(before)).toBe(0);
    expect(valueOf(before, 'temporal_num_pollers', { task_queue: taskQueue })).toBeGreaterThan(0);

    // An API on that worker's task queue, over the same books; a cancellation through it.
    app = buildApp({
      models: stack.models,
      temporal: stack.temporal,
      taskQueue,
      policy: await loadPolicyFile(config.CANCELLATION_POLICY_FILE),
      ...apiSettingsFrom(config),
      logger: createLogger({ LOG_LEVEL: 'silent' }, 'observability-api'),
    });
    await app.listen({ host: '127.0.0.1', port: apiPort });
    const { token } = await issueApiKey(stack.models, {
      name: 'observability clerk',
      personId: 'clerk-1',
      scopes: ['requester'],
      createdBy: 'test',
    });
    const clerk = new CancelflowClient({ baseUrl: `http://127.0.0.1:${apiPort}`, apiKey: token });
    const accepted = await clerk.createCancellation({
      orderNumber: await placeOrder('C-PLAIN'),
      reasonCode: 'customer_changed_mind',
      confirm: ['awaiting_shipment'],
    });
    await stack.temporal.workflow.getHandle(accepted.workflowId).result();

    // The client hears of the end from the server, a moment before the worker counts it (CI saw 0 once).
    const after = await eventually(async () => {
      const text = await scrape(workerMetricsUrl);
      expect(completed(text)).toBe(1);
      return text;
    });
    const latencies = (text: string) =>
      valueOf(text, 'temporal_workflow_task_execution_latency_count', { task_queue: taskQueue });
    expect(latencies(after)).toBeGreaterThan(latencies(before));
    expect(after).not.toContain(accepted.cancellationId);
  }, 240_000);
});
