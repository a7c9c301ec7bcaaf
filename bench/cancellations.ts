// Cancellation throughput and history volume against the engine's own limit (issue #13): `npm run bench
// [-- --orders 100000 --concurrency 20,50 --count 200 --stacks file,memory]`.
//
// For each stack (the embedded MongoDB on its default file storage, as `npm start` runs it, and/or in memory)
// it starts everything itself on free ports and a temporary data directory: the embedded MongoDB, Temporal's
// dev server (SQLite file, as `npm start`), the simulators, a worker and the API in this process (as `npm
// start` does), and a second worker on a task queue of its own for the engine's baselines
// (bench/baseline.workflows.ts). It loads the generator's books, the demo people and a requester's API key,
// then at each concurrency: no-op workflows of 8 sequential activities (before), auto-approved cancellations
// of paid, unshipped, low-risk orders through `POST /v1/cancellations`, each slot waiting for its
// cancellation's workflow to finish before taking the next, and the no-op workflows again (after). It then
// counts the history events of a sample of the cancellations, their delivery workflows included, against a
// hand-written workflow of the same steps and messages. A table goes to stdout; Markdown and JSON to
// bench/results/<date>-<commit>.{md,json}.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { apiSettingsFrom, buildApp } from '../api/app';
import { CancelflowApiError, CancelflowClient, type CancellationAccepted } from '../client/cancelflow-client';
import type { CancellationView } from '../contracts/cancellation.contract';
import { CANCELFLOW_SEARCH_ATTRIBUTES } from '../contracts/search-attributes';
import { notificationDeliveryWorkflowId } from '../contracts/delivery.contract';
import { seededRandom } from '../generators/books';
import { issueDemoCredentials, seedDemoData } from '../generators/demo-data';
import { CancelflowError, isCancelflowError } from '../lib/errors';
import { parseConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { loadPolicyFile } from '../lib/policy';
import { connectModels, type Models } from '../models';
import { loadBooks } from '../scripts/load-books';
import {
  freePort,
  javaAvailable,
  projectRoot,
  startMongoServer,
  startTemporalDevServer,
} from '../scripts/servers';
import {
  startCarrierSimulator,
  startMailCatcher,
  startPaymentGatewaySimulator,
  startSmsSimulator,
} from '../simulators';
import { createActivityDeps, createWorker } from '../worker/worker';
import { baselineActivities } from './baseline.activities';

const STACKS = ['file', 'memory'] as const;
type StackKind = (typeof STACKS)[number];
const STACK_NAMES: Record<StackKind, string> = {
  file: '`npm start` as is (embedded database, file storage)',
  memory: 'same, embedded database in memory',
};
const NOOP_STEPS = 8;
const BASELINE_QUEUE = 'bench-baseline';
/** Activities that keep cancelflow's own books rather than doing a business step (not in the hand-written one). */
const BOOKKEEPING_ACTIVITIES = new Set(['recordCancellationState', 'startDeliveryWorkflows']);

const usage = `usage: npm run bench -- [--orders 100000] [--concurrency 20,50] [--count 100] [options]
  --orders          generated orders loaded before measuring (default 100000; e.g. 2000 for a quick run)
  --concurrency     cancellations in flight, one level after another (default 20,50)
  --count           cancellations per level (default 100); a level also stops taking new ones after --duration
  --duration        seconds after which a level takes no new cancellations (default 900)
  --baseline-count  no-op workflows per baseline measurement (default: the larger of --count and 4 x concurrency)
  --stacks          file, memory or file,memory: the embedded database's storage (default file, as npm start)
  --memory          the same as --stacks memory
  --history-sample  cancellations per level whose histories are counted (default 5)
  --timeout         seconds one cancellation (or no-op workflow) may take before it counts as timed out (default 600)
  --heap            the embedded database's Java heap (default 512m on file storage, as npm start; 6g in memory)
  --seed            the generated books' seed (default 1, as npm start)
  --keep            keep the temporary data directory (default: removed)
  --help            this text

Not done yet: --api/--temporal (measuring a stack already running); the bench always starts its own.`;

class UsageError extends CancelflowError {
  constructor(message: string) {
    super('validation_failed', `${message}\n${usage}`);
  }
}

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value <= 0)
    throw new UsageError(`--${name} must be a positive whole number, not "${text}"`);
  return value;
}

function wholeNumber(name: string, text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) > 0xffffffff)
    throw new UsageError(`--${name} must be a whole number from 0 to 4294967295, not "${text}"`);
  return Number(text);
}

const OPTIONS = {
  orders: { type: 'string', default: '100000' },
  concurrency: { type: 'string', default: '20,50' },
  count: { type: 'string', default: '100' },
  duration: { type: 'string', default: '900' },
  'baseline-count': { type: 'string' },
  stacks: { type: 'string' },
  memory: { type: 'boolean', default: false },
  'history-sample': { type: 'string', default: '5' },
  timeout: { type: 'string', default: '600' },
  heap: { type: 'string' },
  seed: { type: 'string', default: '1' },
  keep: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

type Options = ReturnType<typeof readOptions>;

function readOptions() {
  let parsed;
  try {
    parsed = parseArgs({ options: OPTIONS });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  if (values.memory && values.stacks !== undefined)
    throw new UsageError('--memory and --stacks exclude each other');
  const stacks = (values.memory ? 'memory' : (values.stacks ?? 'file'))
    .split(',')
    .map((stack) => stack.trim());
  for (const stack of stacks)
    if (!(STACKS as readonly string[]).includes(stack))
      throw new UsageError(`--stacks takes ${STACKS.join(', ')}, not "${stack}"`);
  if (values.heap !== undefined && !/^\d+[mg]$/.test(values.heap))
    throw new UsageError(`--heap must be a size such as 512m or 6g, not "${values.heap}"`);
  const concurrency = values.concurrency.split(',').map((level) => positiveInteger('concurrency', level));
  const count = positiveInteger('count', values.count);
  return {
    orders: positiveInteger('orders', values.orders),
    concurrency,
    count,
    durationMs: positiveInteger('duration', values.duration) * 1000,
    baselineCount: values['baseline-count']
      ? positiveInteger('baseline-count', values['baseline-count'])
      : undefined,
    stacks: [...new Set(stacks)] as StackKind[],
    historySample: positiveInteger('history-sample', values['history-sample']),
    timeoutMs: positiveInteger('timeout', values.timeout) * 1000,
    heap: values.heap,
    seed: wholeNumber('seed', values.seed),
    keep: values.keep,
  };
}

const elapsed = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
const progress = (message: string) => process.stderr.write(`${message}\n`);

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Rejects after `ms` with a message naming what was waited for; the work itself is abandoned, not stopped. */
async function withTimeout<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${(ms / 1000).toFixed(0)} s`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The stack

interface Stack {
  kind: StackKind;
  models: Models;
  temporal: Client;
  api: CancelflowClient;
  taskQueue: string;
  stop(): Promise<void>;
}

async function startStack(kind: StackKind, options: Options, dataDir: string): Promise<Stack> {
  const stoppers: { name: string; stop: () => Promise<unknown> }[] = [];
  const stop = async () => {
    for (const { name, stop: stopOne } of stoppers.splice(0).reverse()) {
      await withTimeout(`stopping ${name}`, 60_000, stopOne()).catch((error: unknown) =>
        progress(`  could not stop ${name}: ${String(error)}`),
      );
    }
  };
  try {
    const heap = options.heap ?? (kind === 'file' ? '512m' : '6g');
    let started = performance.now();
    progress(`• starting the embedded MongoDB (${kind} storage, ${heap} heap)…`);
    const mongo = await startMongoServer({
      port: await freePort(),
      maxHeap: heap,
      ...(kind === 'file' ? { h2File: join(dataDir, 'mongodb', 'cancelflow.mv') } : {}),
      logFile: join(dataDir, 'logs', 'mongodb.log'),
    });
    stoppers.push(mongo);
    progress(`  ready on ${mongo.uri} (${elapsed(started)})`);

    started = performance.now();
    progress('• starting the Temporal dev server (SQLite file, as npm start)…');
    const temporalServer = await startTemporalDevServer({
      port: await freePort(),
      dbFile: join(dataDir, 'temporal.db'),
      searchAttributes: CANCELFLOW_SEARCH_ATTRIBUTES,
      logFile: join(dataDir, 'logs', 'temporal.log'),
    });
    stoppers.push(temporalServer);
    progress(`  ready on ${temporalServer.address} (${elapsed(started)})`);

    const apiPort = await freePort();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    // As npm start runs, but with a rate limit no run of this bench reaches: it measures cancellations, not
    // the limiter (600 a minute by default, which 10 cancellations a second would reach).
    const baseConfig = parseConfig({
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '1000000',
      PUBLIC_BASE_URL: apiUrl,
    });
    const [mail, sms, gateway, carrier] = await Promise.all([
      startMailCatcher({ smtpPort: 0, httpPort: 0, logger: false }),
      startSmsSimulator({
        port: 0,
        accountSid: baseConfig.TWILIO_ACCOUNT_SID,
        authToken: baseConfig.TWILIO_AUTH_TOKEN,
        deliverAfterMs: 2000, // as npm start: delivery reports come back to the API
        logger: false,
      }),
      startPaymentGatewaySimulator({ port: 0, logger: false }),
      startCarrierSimulator({
        port: 0,
        webhookUrl: `${apiUrl}/v1/webhooks/carrier`,
        webhookSecret: baseConfig.CARRIER_WEBHOOK_SECRET,
        apiKey: baseConfig.CARRIER_API_KEY,
        logger: false,
      }),
    ]);
    stoppers.push(
      { name: 'mail catcher', stop: () => mail.close() },
      { name: 'SMS simulator', stop: () => sms.close() },
      { name: 'payment gateway', stop: () => gateway.close() },
      { name: 'carrier simulator', stop: () => carrier.close() },
    );
    const config = {
      ...baseConfig,
      TEMPORAL_ADDRESS: temporalServer.address,
      SMTP_PORT: mail.smtpPort,
      TWILIO_API_BASE_URL: sms.url,
      PAYMENT_GATEWAY_URL: gateway.url,
      CARRIER_URL: carrier.url,
    };

    const models = await connectModels(mongo.uri, 'cancelflow', { timeoutMs: 30_000 });
    stoppers.push({ name: 'database connection', stop: () => models.db.close() });
    started = performance.now();
    progress('• seeding demo data and people…');
    await seedDemoData(models);
    const { apiKey } = await issueDemoCredentials(models);
    progress(`• loading ${options.orders.toLocaleString('en')} generated orders (seed ${options.seed})…`);
    await loadBooks(models, {
      seed: options.seed,
      orders: options.orders,
      onProgress: (written) =>
        process.stderr.write(
          `\r  ${written.toLocaleString('en')} of ${options.orders.toLocaleString('en')} orders (${elapsed(started)})`,
        ),
    });
    process.stderr.write('\n');

    started = performance.now();
    progress('• starting the worker (bundling workflow code), the baseline worker and the API…');
    const logger = createLogger({ LOG_LEVEL: 'error' }, 'bench');
    const workerConnection = await NativeConnection.connect({ address: temporalServer.address });
    const clientConnection = await Connection.connect({ address: temporalServer.address });
    const temporal = new Client({ connection: clientConnection, namespace: 'default' });
    stoppers.push({
      name: 'Temporal connections',
      stop: () => Promise.all([clientConnection.close(), workerConnection.close()]),
    });
    const deps = await createActivityDeps(config, logger, models, temporal);
    const taskQueue = `bench-${randomUUID().slice(0, 8)}`;
    const worker = await createWorker({
      connection: workerConnection,
      namespace: 'default',
      taskQueue,
      deps,
    });
    const baselineWorker = await Worker.create({
      connection: workerConnection,
      namespace: 'default',
      taskQueue: BASELINE_QUEUE,
      workflowsPath: require.resolve('./baseline.workflows'),
      activities: baselineActivities,
    });
    for (const [name, running] of [
      ['worker', worker],
      ['baseline worker', baselineWorker],
    ] as const) {
      const run = running.run();
      stoppers.push({
        name,
        stop: async () => {
          if (running.getState() === 'RUNNING') running.shutdown();
          await run;
        },
      });
    }
    stoppers.push({ name: 'mailer', stop: () => Promise.resolve(deps.mailer.close()) });
    const app = buildApp({
      models,
      temporal,
      taskQueue,
      policy: await loadPolicyFile(config.CANCELLATION_POLICY_FILE),
      logger,
      ...apiSettingsFrom(config),
    });
    await app.listen({ host: '127.0.0.1', port: apiPort });
    stoppers.push({ name: 'API', stop: () => app.close() });
    progress(`  ready (${elapsed(started)})`);

    return {
      kind,
      models,
      temporal,
      taskQueue,
      api: new CancelflowClient({ baseUrl: apiUrl, apiKey }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Which orders to cancel

/**
 * Paid, unshipped orders the policy rates low risk, so they are approved at once: allocated or picking, paid
 * in the order's currency, refund and fees under the medium threshold, not a VIP's, no purchase order with a
 * supplier raised for them, and no customer taken so often that they would become a frequent canceller.
 * Shuffled with the seed, so the SKUs and customers spread as a shop's would.
 */
async function lowRiskOrders(models: Models, seed: number): Promise<string[]> {
  const policy = await loadPolicyFile(parseConfig({}).CANCELLATION_POLICY_FILE);
  const risk = policy.risk;
  const [orders, payments, customers, purchaseOrders] = await Promise.all([
    models.SalesOrder.find(
      { status: { $in: ['allocated', 'picking'] } },
      { orderNumber: 1, customerId: 1, currency: 1, lines: 1 },
    ).lean(),
    models.Payment.find({}, { orderNumber: 1, capturedMinor: 1, refundedMinor: 1, currency: 1 }).lean(),
    models.Customer.find({}, { customerId: 1, tier: 1, cancellationCount: 1 }).lean(),
    models.PurchaseOrder.find(
      { status: { $in: ['sent', 'confirmed', 'partially_received'] } },
      { lines: 1 },
    ).lean(),
  ]);
  const paymentsOf = new Map<string, typeof payments>();
  for (const payment of payments)
    paymentsOf.set(payment.orderNumber, [...(paymentsOf.get(payment.orderNumber) ?? []), payment]);
  const customerOf = new Map(customers.map((customer) => [customer.customerId, customer]));
  const withSuppliers = new Set(
    purchaseOrders.flatMap((order) =>
      order.lines.flatMap((line) => line.raisedFor.map((link) => link.orderNumber)),
    ),
  );
  const eligible = orders.filter((order) => {
    const paid = paymentsOf.get(order.orderNumber) ?? [];
    if (
      paid.length === 0 ||
      paid.some((payment) => payment.currency !== order.currency || payment.refundedMinor > 0)
    )
      return false;
    const refundable = paid.reduce((sum, payment) => sum + payment.capturedMinor, 0);
    const exposure = refundable + Math.ceil((refundable * risk.paymentFeePercent) / 100);
    return (
      refundable > 0 &&
      exposure < risk.mediumRefundMinor * 0.95 &&
      order.lines.every((line) => (line.cancelledQuantity ?? 0) === 0) &&
      !withSuppliers.has(order.orderNumber)
    );
  });
  const random = seededRandom(seed * 7919 + 13);
  for (let index = eligible.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [eligible[index], eligible[other]] = [
      eligible[other] as (typeof eligible)[number],
      eligible[index] as (typeof eligible)[number],
    ];
  }
  const taken = new Map<string, number>();
  const chosen: string[] = [];
  for (const order of eligible) {
    const customer = customerOf.get(order.customerId);
    if (!customer || risk.relationshipTiers.includes(customer.tier)) continue;
    const count = (customer.cancellationCount ?? 0) + (taken.get(order.customerId) ?? 0);
    if (count + 1 >= risk.frequentCancellerCount) continue; // the next one must still see fewer than the limit
    taken.set(order.customerId, (taken.get(order.customerId) ?? 0) + 1);
    chosen.push(order.orderNumber);
  }
  return chosen;
}

// ---------------------------------------------------------------------------------------------------------
// Measuring

interface SlotRun<T> {
  results: T[];
  failures: string[];
  seconds: number;
}

/** Runs up to `count` tasks, `concurrency` at a time, each slot taking the next when its task ends. */
async function runSlots<T>(
  label: string,
  count: number,
  concurrency: number,
  durationMs: number,
  task: (index: number) => Promise<T>,
): Promise<SlotRun<T>> {
  const results: T[] = [];
  const failures: string[] = [];
  let next = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const ticker = setInterval(
    () =>
      progress(
        `    ${label}: ${results.length} done, ${failures.length} failed, ${next - results.length - failures.length} in flight (${elapsed(started)})`,
      ),
    15_000,
  );
  try {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, count) }, async () => {
        while (next < count && performance.now() < deadline) {
          const index = next;
          next += 1;
          try {
            results.push(await task(index));
          } catch (error) {
            failures.push(error instanceof Error ? error.message : String(error));
          }
        }
      }),
    );
  } finally {
    clearInterval(ticker);
  }
  return { results, failures, seconds: (performance.now() - started) / 1000 };
}

async function noopRate(
  stack: Stack,
  concurrency: number,
  count: number,
  options: Options,
  tag: string,
): Promise<number> {
  const run = await runSlots(`no-op ${tag}`, count, concurrency, options.durationMs, (index) =>
    stack.temporal.withAbortSignal(AbortSignal.timeout(options.timeoutMs), () =>
      stack.temporal.workflow.execute('noopActivitiesWorkflow', {
        taskQueue: BASELINE_QUEUE,
        workflowId: `bench-noop-${tag}-${randomUUID()}-${index}`,
        args: [NOOP_STEPS],
      }),
    ),
  );
  if (run.failures.length > 0)
    progress(`    ${run.failures.length} no-op workflows failed: ${run.failures[0]}`);
  const rate = run.results.length / run.seconds;
  progress(
    `    no-op ${NOOP_STEPS} activities (${tag}): ${run.results.length} in ${run.seconds.toFixed(1)} s = ${rate.toFixed(2)}/s`,
  );
  return rate;
}

interface Cancelled {
  cancellationId: string;
  workflowId: string;
  seconds: number;
  view: CancellationView;
}

/** Answers the API gives when it cannot take a request now, to be repeated with the same key (issue #13). */
function worthRepeating(error: unknown): boolean {
  if (error instanceof CancelflowApiError) return error.status === 503 || error.status === 429;
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/** Requests counted across the run: repeats of a POST the API refused for now (503, 429) or did not answer. */
const postRepeats = { count: 0 };

async function cancelOne(stack: Stack, orderNumber: string, timeoutMs: number): Promise<Cancelled> {
  const started = performance.now();
  const idempotencyKey = `bench-${orderNumber}-${randomUUID()}`;
  let accepted: CancellationAccepted | undefined;
  while (!accepted) {
    try {
      accepted = await withTimeout(
        `POST /v1/cancellations ${orderNumber}`,
        timeoutMs,
        stack.api.createCancellation(
          { orderNumber, reasonCode: 'customer_changed_mind', confirm: ['awaiting_shipment'] },
          { idempotencyKey },
        ),
      );
    } catch (error) {
      // As a client should: the same request with the same key, after a pause, until the deadline.
      if (!worthRepeating(error) || performance.now() - started > timeoutMs - 2_000) throw error;
      postRepeats.count += 1;
      await new Promise((wait) => setTimeout(wait, 1_000));
    }
  }
  const remaining = Math.max(1_000, timeoutMs - (performance.now() - started));
  const handle: WorkflowHandle = stack.temporal.workflow.getHandle(accepted.workflowId);
  const view = (await stack.temporal
    .withAbortSignal(AbortSignal.timeout(Math.ceil(remaining)), () => handle.result())
    .catch((error: unknown) => {
      throw new Error(
        `${orderNumber}: cancellation did not finish within ${timeoutMs / 1000} s (${String(error)})`,
      );
    })) as CancellationView;
  if (view.outcome !== 'completed' || view.risk?.level !== 'low')
    throw new Error(
      `${orderNumber}: ended ${view.outcome ?? view.state} at ${view.risk?.level ?? '?'} risk${view.refusal ? ` (${view.refusal})` : ''}`,
    );
  return {
    cancellationId: accepted.cancellationId,
    workflowId: accepted.workflowId,
    seconds: (performance.now() - started) / 1000,
    view,
  };
}

interface HistoryCount {
  events: number;
  ownEvents: number;
  workflows: number;
  activities: Map<string, number>;
  deliveries: number;
  deliveriesOpen: number;
}

async function eventsOf(stack: Stack, workflowId: string) {
  const history = await stack.temporal.withDeadline(Date.now() + 30_000, () =>
    stack.temporal.workflow.getHandle(workflowId).fetchHistory(),
  );
  return history.events ?? [];
}

/**
 * All the history one cancellation made: its own workflow's and that of every delivery workflow it started,
 * found by the outbox's keys (one delivery workflow per key). Waits up to a minute for deliveries to close.
 */
async function countHistory(stack: Stack, cancelled: Cancelled): Promise<HistoryCount> {
  const own = await eventsOf(stack, cancelled.workflowId);
  const activities = new Map<string, number>();
  for (const event of own) {
    const type = event.activityTaskScheduledEventAttributes?.activityType?.name;
    if (type) activities.set(type, (activities.get(type) ?? 0) + 1);
  }
  const keys = (
    await stack.models.Notification.find(
      { cancellationId: cancelled.cancellationId },
      { idempotencyKey: 1 },
    ).lean()
  ).map((entry) => entry.idempotencyKey);
  let events = own.length;
  let deliveries = 0;
  let deliveriesOpen = 0;
  for (const key of keys) {
    const handle = stack.temporal.workflow.getHandle(notificationDeliveryWorkflowId(key));
    const deadline = Date.now() + 60_000;
    let status: string | undefined;
    while (Date.now() < deadline) {
      status = await stack.temporal
        .withDeadline(Date.now() + 10_000, () => handle.describe())
        .then((description) => description.status.name)
        .catch(() => undefined); // none started for this key (a notice skipped)
      if (status !== 'RUNNING') break;
      await new Promise((wait) => setTimeout(wait, 1_000));
    }
    if (status === undefined) continue;
    deliveries += 1;
    if (status === 'RUNNING') deliveriesOpen += 1;
    events += (await eventsOf(stack, notificationDeliveryWorkflowId(key))).length;
  }
  return { events, ownEvents: own.length, workflows: 1 + deliveries, activities, deliveries, deliveriesOpen };
}

async function handWrittenEvents(stack: Stack, steps: number, messages: number): Promise<number> {
  const workflowId = `bench-hand-written-${randomUUID()}`;
  await stack.temporal.withAbortSignal(AbortSignal.timeout(120_000), () =>
    stack.temporal.workflow.execute('handWrittenCancellationWorkflow', {
      taskQueue: BASELINE_QUEUE,
      workflowId,
      args: [steps, messages],
    }),
  );
  return (await eventsOf(stack, workflowId)).length;
}

interface Entry {
  stack: StackKind;
  stackName: string;
  orders: number;
  concurrency: number;
  cancellations: {
    attempted: number;
    completed: number;
    failed: number;
    seconds: number;
    perSecond: number;
    medianSeconds: number;
    /** POSTs repeated with their key after a 503, a 429 or no answer within the client's timeout. */
    postRepeats: number;
  };
  noop: { before: number; after: number; mean: number };
  throughputRatio: number;
  history: {
    sampled: number;
    eventsPerCancellation: number;
    ownWorkflowEvents: number;
    workflowsPerCancellation: number;
    deliveryWorkflowsStillOpen: number;
    activities: Record<string, number>;
    handWritten: { steps: number; messages: number; events: number };
  };
  historyRatio: number;
  failures: string[];
}

async function measureLevel(
  stack: Stack,
  concurrency: number,
  orders: string[],
  options: Options,
): Promise<Entry> {
  const baselineCount = options.baselineCount ?? Math.max(options.count, 4 * concurrency);
  progress(`  • ${concurrency} in flight: no-op baseline before…`);
  const before = await noopRate(stack, concurrency, baselineCount, options, `before-${concurrency}`);
  const count = Math.min(options.count, orders.length);
  if (count < options.count)
    progress(
      `    only ${orders.length} low-risk unshipped orders left: ${count} cancellations (load more --orders)`,
    );
  progress(`  • ${concurrency} in flight: ${count} auto-approved cancellations…`);
  const level = orders.splice(0, count);
  const repeatsBefore = postRepeats.count;
  const run = await runSlots(
    `cancellations at ${concurrency}`,
    count,
    concurrency,
    options.durationMs,
    (index) => cancelOne(stack, level[index] as string, options.timeoutMs),
  );
  const perSecond = run.results.length / run.seconds;
  progress(
    `    ${run.results.length} completed, ${run.failures.length} failed in ${run.seconds.toFixed(1)} s = ${perSecond.toFixed(3)}/s; ${postRepeats.count - repeatsBefore} POSTs repeated`,
  );
  for (const failure of run.failures.slice(0, 5)) progress(`      ${failure}`);
  progress(`  • ${concurrency} in flight: no-op baseline after…`);
  const after = await noopRate(stack, concurrency, baselineCount, options, `after-${concurrency}`);

  progress(
    `  • counting the histories of ${Math.min(options.historySample, run.results.length)} cancellations…`,
  );
  const counts: HistoryCount[] = [];
  for (const cancelled of run.results.slice(0, options.historySample))
    counts.push(await countHistory(stack, cancelled));
  const activities: Record<string, number> = {};
  for (const count of counts)
    for (const [type, times] of count.activities)
      activities[type] = (activities[type] ?? 0) + times / counts.length;
  // Every run of a business activity is a step (queueDepartmentNotifications runs twice: received, completed).
  const steps =
    Math.round(
      Object.entries(activities)
        .filter(([type]) => !BOOKKEEPING_ACTIVITIES.has(type))
        .reduce((sum, [, times]) => sum + times, 0),
    ) || NOOP_STEPS;
  const messages = Math.round(median(counts.map((count) => count.deliveries))) || 0;
  const handWritten = await handWrittenEvents(stack, steps, messages);
  const eventsPerCancellation = median(counts.map((count) => count.events));
  const noopMean = (before + after) / 2;
  return {
    stack: stack.kind,
    stackName: STACK_NAMES[stack.kind],
    orders: options.orders,
    concurrency,
    cancellations: {
      attempted: run.results.length + run.failures.length,
      completed: run.results.length,
      failed: run.failures.length,
      seconds: run.seconds,
      perSecond,
      medianSeconds: median(run.results.map((result) => result.seconds)),
      postRepeats: postRepeats.count - repeatsBefore,
    },
    noop: { before, after, mean: noopMean },
    throughputRatio: perSecond / noopMean,
    history: {
      sampled: counts.length,
      eventsPerCancellation,
      ownWorkflowEvents: median(counts.map((count) => count.ownEvents)),
      workflowsPerCancellation: median(counts.map((count) => count.workflows)),
      deliveryWorkflowsStillOpen: counts.reduce((sum, count) => sum + count.deliveriesOpen, 0),
      activities: Object.fromEntries(
        Object.entries(activities).map(([type, times]) => [type, Number(times.toFixed(1))]),
      ),
      handWritten: { steps, messages, events: handWritten },
    },
    historyRatio: eventsPerCancellation / handWritten,
    failures: run.failures.slice(0, 20),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Reporting

function commitMeasured(): { commit: string; dirty: boolean } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: projectRoot, encoding: 'utf8' }).trim();
  try {
    return { commit: git('rev-parse', '--short=12', 'HEAD'), dirty: git('status', '--porcelain').length > 0 };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

function table(entries: readonly Entry[]): string {
  const lines = [
    '| stack | orders | in flight | cancellations/s (done/failed in s) | median s each | no-op 8 activities/s before–after | throughputRatio | events per cancellation (workflows) | hand-written (steps + messages) | historyRatio |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const entry of entries) {
    const { cancellations: c, noop, history: h } = entry;
    lines.push(
      `| ${entry.stackName} | ${entry.orders.toLocaleString('en')} | ${entry.concurrency} | ${fixed(c.perSecond, 3)} (${c.completed}/${c.failed} in ${c.seconds.toFixed(0)} s) | ${fixed(c.medianSeconds, 1)} | ${fixed(noop.before, 2)}–${fixed(noop.after, 2)} | ${fixed(entry.throughputRatio, 3)} | ${fixed(h.eventsPerCancellation, 0)} (${fixed(h.workflowsPerCancellation, 0)}) | ${h.handWritten.events} (${h.handWritten.steps} + ${h.handWritten.messages}) | ${fixed(entry.historyRatio, 2)} |`,
    );
  }
  return lines.join('\n');
}

function writeResults(entries: readonly Entry[], options: Options, startedAt: Date): string {
  const { commit, dirty } = commitMeasured();
  // The date with the time (UTC) the run started, so two runs of a day on one commit keep both results.
  const date = startedAt
    .toISOString()
    .slice(0, 16)
    .replace(/[T:]/g, (mark) => (mark === 'T' ? '-' : ''));
  const dir = join(projectRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${date}-${commit}${dirty ? '-dirty' : ''}`);
  const machine = { cpus: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version };
  const json = {
    benchmark: 'cancellations',
    issue: 13,
    commit,
    dirty,
    startedAt: startedAt.toISOString(),
    machine,
    options: { ...options, durationMs: options.durationMs, timeoutMs: options.timeoutMs },
    baseline: {
      throughput: `${NOOP_STEPS} sequential no-op activities in one workflow (bench/baseline.workflows.ts), same dev server, same concurrency, measured before and after; throughputRatio divides by their mean`,
      history:
        'handWrittenCancellationWorkflow: one no-op activity per run of a business activity in the sampled cancellations (activities other than recordCancellationState and startDeliveryWorkflows), then one delivery activity per delivery workflow they started, all in the same workflow',
    },
    entries,
  };
  writeFileSync(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
  const activityLines = entries.map(
    (entry) =>
      `- ${entry.stack}, ${entry.concurrency} in flight: ${Object.entries(entry.history.activities)
        .map(([type, times]) => `${type} ×${times}`)
        .join(
          ', ',
        )}${entry.history.deliveryWorkflowsStillOpen ? ` (${entry.history.deliveryWorkflowsStillOpen} delivery workflows still open when counted)` : ''}`,
  );
  const failures = entries.flatMap((entry) =>
    entry.failures.slice(0, 3).map((failure) => `- ${entry.stack}/${entry.concurrency}: ${failure}`),
  );
  const markdown = [
    `# Cancellations against the engine's limit (issue #13)`,
    '',
    `Commit ${commit}${dirty ? ' (with uncommitted changes in the tree)' : ''}, ${startedAt.toISOString()}; ${machine.cpus} cores, ${machine.memoryGb} GB, Node ${machine.node}. ` +
      `\`npm run bench -- --orders ${options.orders} --concurrency ${options.concurrency.join(',')} --count ${options.count} --stacks ${options.stacks.join(',')}\`.`,
    '',
    table(entries),
    '',
    `throughputRatio = cancellations/s ÷ the mean of the no-op ${NOOP_STEPS}-activity workflows/s before and after (goal ≥ 0.8). ` +
      'Each slot waits for its cancellation workflow to finish (auto-approved, low risk, paid and unshipped orders, through POST /v1/cancellations) before taking the next.',
    '',
    `historyRatio = median history events per cancellation, its delivery workflows included (found by the outbox's keys), over ${options.historySample} sampled ones ÷ the events of a hand-written workflow with one no-op activity per business activity they ran (all but recordCancellationState and startDeliveryWorkflows) and one delivery activity per message (goal ≤ 1.2).`,
    '',
    'Activities per cancellation (mean over the sample):',
    '',
    ...activityLines,
    ...(failures.length ? ['', 'Failures (first three per level):', '', ...failures] : []),
    '',
  ].join('\n');
  writeFileSync(`${base}.md`, markdown);
  return base;
}

async function main(): Promise<void> {
  const options = readOptions();
  if (!javaAvailable()) throw new Error('the embedded database needs Java 17+');
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const startedAt = new Date();
  const entries: Entry[] = [];
  for (const kind of options.stacks) {
    const dataDir = mkdtempSync(join(tmpdir(), `cancelflow-bench-${kind}-`));
    progress(`\n# Stack: ${STACK_NAMES[kind]} (data in ${dataDir})`);
    const stack = await startStack(kind, options, dataDir);
    try {
      const orders = await lowRiskOrders(stack.models, options.seed);
      progress(`• ${orders.length.toLocaleString('en')} low-risk, paid, unshipped orders to cancel`);
      if (orders.length === 0)
        throw new Error('no low-risk unshipped orders in the books: load more --orders');
      progress('• warming up (a round of no-op workflows and one cancellation)…');
      await noopRate(
        stack,
        Math.max(...options.concurrency),
        Math.max(...options.concurrency),
        options,
        'warm-up',
      );
      await cancelOne(stack, orders.shift() as string, options.timeoutMs).catch((error: unknown) =>
        progress(`  the warm-up cancellation failed: ${String(error)}`),
      );
      for (const concurrency of options.concurrency) {
        const entry = await measureLevel(stack, concurrency, orders, options);
        entries.push(entry);
        progress(`\n${table([entry])}\n`);
      }
    } finally {
      progress('• stopping the stack…');
      await stack.stop();
      if (options.keep) progress(`  data kept in ${dataDir}`);
      else rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const base = writeResults(entries, options, startedAt);
  // A level where no cancellation completed measured nothing: say so by the exit code too.
  if (entries.some((entry) => entry.cancellations.completed === 0)) process.exitCode = 1;
  console.log(`\n${table(entries)}\n`);
  console.log(`Written: ${base}.md and ${base}.json`);
}

main()
  .then(() => process.exit(process.exitCode ?? 0))
  .catch((error: unknown) => {
    console.error(isCancelflowError(error) ? error.message : error);
    process.exit(1);
  });
