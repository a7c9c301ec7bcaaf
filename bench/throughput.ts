// The throughput scenario (issue #13): auto-approved cancellations per second against a no-op workflow of 8
// activities on the same dev server (throughputRatio), and history events per cancellation against a hand-written
// workflow of the same steps and messages (historyRatio). Each slot waits for its cancellation's workflow to
// finish before taking the next; the no-op baseline runs before and after each level.
import { randomUUID } from 'node:crypto';
import { loadPolicyFile } from '../lib/policy';
import { parseConfig } from '../lib/config';
import { seededRandom } from '../generators/books';
import { notificationDeliveryWorkflowId } from '../contracts/delivery.contract';
import type { Models } from '../models';
import { cancelOne, repeats, type Cancelled } from './cancelling';
import { fixed, median, progress, runSlots } from './common';
import { cpuSpent, perItemMs, readCpu } from './cpu';
import type { Stack } from './stack';

export const NOOP_STEPS = 8;
/** Activities that keep cancelflow's own books rather than doing a business step (not in the hand-written one). */
const BOOKKEEPING_ACTIVITIES = new Set([
  'recordCancellationState',
  'recordCancellationSteps',
  'startDeliveryWorkflows',
]);

export interface ThroughputOptions {
  concurrency: number[];
  count: number;
  durationMs: number;
  baselineCount?: number;
  historySample: number;
  timeoutMs: number;
  seed: number;
}

function baselineQueueOf(stack: Stack): string {
  if (!stack.baselineQueue) throw new Error('the throughput scenario needs the baseline worker');
  return stack.baselineQueue;
}

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

async function noopRate(
  stack: Stack,
  concurrency: number,
  count: number,
  options: ThroughputOptions,
  tag: string,
): Promise<{ rate: number; cpuMs: Record<string, number> }> {
  const cpuBefore = readCpu(await stack.processes());
  const run = await runSlots(`no-op ${tag}`, count, concurrency, options.durationMs, (index) =>
    stack.plainTemporal.withAbortSignal(AbortSignal.timeout(options.timeoutMs), () =>
      stack.plainTemporal.workflow.execute('noopActivitiesWorkflow', {
        taskQueue: baselineQueueOf(stack),
        workflowId: `bench-noop-${tag}-${randomUUID()}-${index}`,
        args: [NOOP_STEPS],
      }),
    ),
  );
  if (run.failures.length > 0)
    progress(`    ${run.failures.length} no-op workflows failed: ${run.failures[0]}`);
  const cpuMs = perItemMs(cpuSpent(cpuBefore, readCpu(await stack.processes())), run.results.length);
  const rate = run.results.length / run.seconds;
  progress(
    `    no-op ${NOOP_STEPS} activities (${tag}): ${run.results.length} in ${run.seconds.toFixed(1)} s = ${rate.toFixed(2)}/s`,
  );
  return { rate, cpuMs };
}

/** Two accounts of CPU ms per item by process, averaged (a process missing from one counts as in the other). */
function meanCpu(first: Record<string, number>, second: Record<string, number>): Record<string, number> {
  const roles = new Set([...Object.keys(first), ...Object.keys(second)]);
  return Object.fromEntries(
    [...roles].map((role) => {
      const values = [first[role], second[role]].filter((value) => value !== undefined);
      return [role, Math.round(values.reduce((sum, value) => sum + value, 0) / values.length)];
    }),
  );
}

interface HistoryCount {
  events: number;
  ownEvents: number;
  workflows: number;
  activities: Map<string, number>;
  deliveries: number;
  deliveriesOpen: number;
  /** Outbox entries: the messages the hand-written workflow sends one delivery activity each for. */
  messages: number;
}

async function eventsOf(stack: Stack, workflowId: string) {
  const history = await stack.temporal.withDeadline(Date.now() + 30_000, () =>
    stack.temporal.workflow.getHandle(workflowId).fetchHistory(),
  );
  return history.events ?? [];
}

/** The activity a local activity's marker records (its details' `data`, JSON written by the SDK's core). */
function localActivityType(event: { markerRecordedEventAttributes?: unknown }): string | undefined {
  const marker = event.markerRecordedEventAttributes as
    | {
        markerName?: string | null;
        details?: Record<string, { payloads?: { data?: Uint8Array | null }[] | null }> | null;
      }
    | null
    | undefined;
  if (marker?.markerName !== 'core_local_activity') return undefined;
  const data = marker.details?.data?.payloads?.[0]?.data;
  if (!data) return undefined;
  return (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string }).activity_type;
}

/**
 * All the history one cancellation made: its own workflow's and that of every delivery workflow it started,
 * named on its outbox entries (one per notice; entries without a name are delivered one workflow per key, as
 * cancellations before the lean-history patch did). Activities count both kinds: scheduled on the task queue,
 * and run locally (a marker each). Waits up to a minute for deliveries to close.
 */
async function countHistory(stack: Stack, cancelled: Cancelled): Promise<HistoryCount> {
  const own = await eventsOf(stack, cancelled.workflowId);
  const activities = new Map<string, number>();
  for (const event of own) {
    const type = event.activityTaskScheduledEventAttributes?.activityType?.name ?? localActivityType(event);
    if (type) activities.set(type, (activities.get(type) ?? 0) + 1);
  }
  const entries = await stack.models.Notification.find(
    { cancellationId: cancelled.cancellationId },
    { idempotencyKey: 1, deliveryWorkflowId: 1 },
  ).lean();
  const deliveryIds = new Set(
    entries.map((entry) => entry.deliveryWorkflowId ?? notificationDeliveryWorkflowId(entry.idempotencyKey)),
  );
  let events = own.length;
  let deliveries = 0;
  let deliveriesOpen = 0;
  for (const workflowId of deliveryIds) {
    const handle = stack.temporal.workflow.getHandle(workflowId);
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
    events += (await eventsOf(stack, workflowId)).length;
  }
  return {
    events,
    ownEvents: own.length,
    workflows: 1 + deliveries,
    activities,
    deliveries,
    deliveriesOpen,
    messages: entries.length,
  };
}

async function handWrittenEvents(stack: Stack, steps: number, messages: number): Promise<number> {
  const workflowId = `bench-hand-written-${randomUUID()}`;
  await stack.plainTemporal.withAbortSignal(AbortSignal.timeout(120_000), () =>
    stack.plainTemporal.workflow.execute('handWrittenCancellationWorkflow', {
      taskQueue: baselineQueueOf(stack),
      workflowId,
      args: [steps, messages],
    }),
  );
  return (await eventsOf(stack, workflowId)).length;
}

export interface Entry {
  stack: string;
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
  /** CPU ms each process spent per completed cancellation, and per no-op workflow (before and after, averaged). */
  cpu: { perCancellationMs: Record<string, number>; perNoopMs: Record<string, number> };
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
  options: ThroughputOptions,
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
  const repeatsBefore = repeats.count;
  const cpuBefore = readCpu(await stack.processes());
  const run = await runSlots(
    `cancellations at ${concurrency}`,
    count,
    concurrency,
    options.durationMs,
    (index) => cancelOne(stack, level[index] as string, options.timeoutMs),
  );
  const cpuOfRun = cpuSpent(cpuBefore, readCpu(await stack.processes()));
  const perSecond = run.results.length / run.seconds;
  progress(
    `    ${run.results.length} completed, ${run.failures.length} failed in ${run.seconds.toFixed(1)} s = ${perSecond.toFixed(3)}/s; ${repeats.count - repeatsBefore} POSTs repeated`,
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
  const messages = Math.round(median(counts.map((count) => count.messages))) || 0;
  const handWritten = await handWrittenEvents(stack, steps, messages);
  const eventsPerCancellation = median(counts.map((count) => count.events));
  const noopMean = (before.rate + after.rate) / 2;
  return {
    stack: stack.kind,
    stackName: stack.name,
    orders: stack.ordersLoaded,
    concurrency,
    cancellations: {
      attempted: run.results.length + run.failures.length,
      completed: run.results.length,
      failed: run.failures.length,
      seconds: run.seconds,
      perSecond,
      medianSeconds: median(run.results.map((result) => result.seconds)),
      postRepeats: repeats.count - repeatsBefore,
    },
    noop: { before: before.rate, after: after.rate, mean: noopMean },
    throughputRatio: perSecond / noopMean,
    cpu: {
      perCancellationMs: perItemMs(cpuOfRun, run.results.length),
      perNoopMs: meanCpu(before.cpuMs, after.cpuMs),
    },
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

export function throughputTable(entries: readonly Entry[]): string {
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

/** CPU per cancellation and per no-op workflow, by process, one block of rows a level. */
export function cpuTable(entries: readonly Entry[]): string {
  const lines = [
    '| stack, in flight | process | CPU ms per cancellation | CPU ms per no-op workflow |',
    '| --- | --- | ---: | ---: |',
  ];
  for (const entry of entries) {
    const { perCancellationMs, perNoopMs } = entry.cpu;
    const roles = [...new Set([...Object.keys(perCancellationMs), ...Object.keys(perNoopMs)])];
    const total = (account: Record<string, number>) =>
      Object.values(account).reduce((sum, value) => sum + value, 0);
    const cell = (value: number | undefined) => (value === undefined ? '–' : value.toLocaleString('en'));
    for (const role of roles)
      lines.push(
        `| ${entry.stack}, ${entry.concurrency} | ${role} | ${cell(perCancellationMs[role])} | ${cell(perNoopMs[role])} |`,
      );
    lines.push(
      `| ${entry.stack}, ${entry.concurrency} | **all** | **${cell(total(perCancellationMs))}** | **${cell(total(perNoopMs))}** |`,
    );
  }
  return lines.join('\n');
}

/** Every level of --concurrency on one stack, after a warm-up: one entry a level. */
export async function runThroughput(stack: Stack, options: ThroughputOptions): Promise<Entry[]> {
  const orders = await lowRiskOrders(stack.models, options.seed);
  progress(`• ${orders.length.toLocaleString('en')} low-risk, paid, unshipped orders to cancel`);
  if (orders.length === 0) throw new Error('no low-risk unshipped orders in the books: load more --orders');
  progress('• warming up (a round of no-op workflows and one cancellation)…');
  const widest = Math.max(...options.concurrency);
  await noopRate(stack, widest, widest, options, 'warm-up');
  await cancelOne(stack, orders.shift() as string, options.timeoutMs).catch((error: unknown) =>
    progress(`  the warm-up cancellation failed: ${String(error)}`),
  );
  const entries: Entry[] = [];
  for (const concurrency of options.concurrency) {
    const entry = await measureLevel(stack, concurrency, orders, options);
    entries.push(entry);
    progress(`\n${throughputTable([entry])}\n\n${cpuTable([entry])}\n`);
  }
  return entries;
}

/** The Markdown section of the results. */
export function throughputMarkdown(entries: readonly Entry[], historySample: number): string[] {
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
  return [
    '## Throughput and history',
    '',
    throughputTable(entries),
    '',
    `throughputRatio = cancellations/s ÷ the mean of the no-op ${NOOP_STEPS}-activity workflows/s before and after (goal ≥ 0.8). ` +
      'Each slot waits for its cancellation workflow to finish (auto-approved, low risk, paid and unshipped orders, through POST /v1/cancellations) before taking the next. ' +
      'The cancellation worker and the baseline worker each run in a process of their own, as `npm start` runs its worker.',
    '',
    `historyRatio = median history events per cancellation, its delivery workflows included (named on its outbox entries), over ${historySample} sampled ones ÷ the events of a hand-written workflow with one no-op activity per business activity they ran, local ones included (all but recordCancellationState, recordCancellationSteps and startDeliveryWorkflows) and one delivery activity per message (goal ≤ 1.2).`,
    '',
    "Where the CPU went: the processor time each process spent while the cancellations ran, per completed cancellation, beside the same for the no-op workflows (read from /proc; the baseline worker runs only the no-op workflows, the worker only the cancellations). On two busy cores the rates are bounded by CPU, so the totals' ratio is about the throughputRatio the work itself allows.",
    '',
    cpuTable(entries),
    '',
    'Activities per cancellation (mean over the sample):',
    '',
    ...activityLines,
    ...(failures.length ? ['', 'Failures (first three per level):', '', ...failures] : []),
    '',
  ];
}
