// Bulk cancellation in the books (issue #16): which orders a selection finds, what each of them is (one a bulk
// job may start a cancellation for, or one to report and leave alone), the dry run's figures, and a job's
// progress and report from its items. Shared by the API (dry run, progress, report) and the job's activities
// (selection, the check before each order's cancellation is asked for, and the job's view its webhook events
// carry).
import type { QueryFilter } from 'mongoose';
import {
  BULK_FINAL_STATES,
  type BulkControlEntry,
  type BulkItemPhase,
  type BulkItemStatus,
  type BulkJobState,
  type BulkPhaseCounts,
  type BulkRequest,
  type BulkSelection,
} from '../contracts/bulk-cancellation.contract';
import { CancelflowError } from '../lib/errors';
import { normalizeText } from '../lib/text-normalize';
import { reviewOrder, type ReviewRules } from '../rules/review.rules';
import type { BulkJobItemRecord, BulkJobRecord } from './bulk-job.model';
import type { Models } from './index';
import { paymentsOf, shipmentsOf } from './order-links';
import type { SalesOrder } from './sales-order.model';

/** How many orders are read at once while a selection is judged. */
const READ_BATCH = 16;

function createdRange(from: string | undefined, to: string | undefined) {
  if (!from && !to) return undefined;
  const range: Record<string, Date> = {};
  if (from) range.$gte = new Date(from);
  if (to) {
    const at = new Date(to);
    if (to.includes('T')) range.$lte = at;
    else {
      at.setUTCDate(at.getUTCDate() + 1);
      range.$lt = at;
    }
  }
  return range;
}

/**
 * The order numbers a selection finds, in order-number order, at most `max` of them (more is a 400 that says
 * to narrow it). A list of order numbers is taken as given (unknown ones are reported as such, not dropped).
 */
export async function selectOrderNumbers(
  models: Models,
  selection: BulkSelection,
  max: number,
): Promise<string[]> {
  const tooMany = () =>
    new CancelflowError(
      'validation_failed',
      `selection: it finds more than ${max} orders (BULK_MAX_ORDERS); narrow it, or split the job`,
      { field: 'selection' },
    );
  const filter: QueryFilter<SalesOrder> = {};
  if (selection.orderNumbers) {
    const listed = [...new Set(selection.orderNumbers.map((orderNumber) => orderNumber.trim()))].sort();
    if (listed.length > max) throw tooMany();
    const hasFilter = Object.keys(selection).some((key) => key !== 'orderNumbers');
    if (!hasFilter) return listed;
    filter.orderNumber = { $in: listed };
  }
  if (selection.skus?.length) filter.skus = { $in: selection.skus.map((sku) => normalizeText(sku)) };
  if (selection.customerIds?.length) filter.customerId = { $in: selection.customerIds };
  if (selection.status?.length) filter.status = { $in: selection.status };
  const created = createdRange(selection.createdFrom, selection.createdTo);
  if (created) filter.createdAt = created;
  if (selection.supplierId) {
    const purchaseOrders = await models.PurchaseOrder.find(
      { 'supplier.supplierId': selection.supplierId },
      { lines: 1 },
    ).lean();
    const forSupplier = [
      ...new Set(
        purchaseOrders.flatMap((po) =>
          po.lines.flatMap((line) => line.raisedFor.map((link) => link.orderNumber)),
        ),
      ),
    ];
    const listed = filter.orderNumber as { $in: string[] } | undefined;
    filter.orderNumber = {
      $in: listed ? forSupplier.filter((orderNumber) => listed.$in.includes(orderNumber)) : forSupplier,
    };
  }
  const found = await models.SalesOrder.find(filter, { orderNumber: 1 })
    .limit(max + 1)
    .lean();
  if (found.length > max) throw tooMany();
  return found.map((order) => order.orderNumber).sort();
}

/** What one order of a selection is, before anything is asked for it. */
export type OrderVerdict =
  | {
      orderNumber: string;
      status: 'eligible';
      lines: number;
      currency: string;
      refundableMinor: number;
    }
  | { orderNumber: string; status: Exclude<BulkItemStatus, 'pending' | 'started'>; reason: string };

type Payment = { capturedMinor: number; refundedMinor: number };

/**
 * The reasons a bulk job leaves an order alone without asking, whatever the rules would say: it is cancelled
 * already, or every payment of it was given back already. Undefined: ask (the rules then decide).
 */
export function alreadyDone(
  order: Pick<SalesOrder, 'orderNumber' | 'status' | 'lines'>,
  payments: readonly Payment[],
): { status: 'already_cancelled' | 'already_refunded'; reason: string } | undefined {
  const everyLineCancelled = order.lines.every((line) => line.cancelledQuantity >= line.quantity);
  if (order.status === 'cancelled' || everyLineCancelled)
    return { status: 'already_cancelled', reason: `${order.orderNumber} is already cancelled` };
  const captured = payments.reduce((sum, payment) => sum + payment.capturedMinor, 0);
  if (captured > 0 && payments.every((payment) => payment.refundedMinor >= payment.capturedMinor))
    return {
      status: 'already_refunded',
      reason: `every payment of ${order.orderNumber} was refunded already`,
    };
  return undefined;
}

/** The verdict on one order: what a bulk job would do with it now (the dry run's answer, order by order). */
export async function judgeOrder(
  models: Models,
  policy: ReviewRules,
  orderNumber: string,
  request: Pick<BulkRequest, 'confirm'>,
): Promise<OrderVerdict> {
  const order = await models.SalesOrder.findOne({ orderNumber }).lean();
  if (!order) return { orderNumber, status: 'refused', reason: `order ${orderNumber} does not exist` };
  const [payments, shipments, running] = await Promise.all([
    paymentsOf(models, order),
    shipmentsOf(models, order),
    models.Cancellation.findOne(
      { activeForOrder: orderNumber },
      { cancellationId: 1, requestedBy: 1 },
    ).lean(),
  ]);
  const done = alreadyDone(order, payments);
  if (done) return { orderNumber, ...done };
  if (running)
    return {
      orderNumber,
      status: 'being_cancelled',
      reason: `cancellation ${running.cancellationId} by ${running.requestedBy} is running for it`,
    };
  const review = reviewOrder(order, payments, { confirmed: request.confirm }, policy, shipments);
  if (!review.ok) return { orderNumber, status: 'refused', reason: review.reason };
  return {
    orderNumber,
    status: 'eligible',
    lines: review.review.lines.length,
    currency: review.review.currency,
    refundableMinor: review.review.refundableMinor,
  };
}

export interface BulkDryRunFigures {
  /** Orders the selection finds. */
  found: number;
  /** What the job would cancel: orders, order lines, and the money refunded per currency (minor units). */
  toCancel: { orders: number; lines: number; money: { currency: string; amountMinor: number }[] };
  /** Orders it would leave alone, by why. */
  leftAlone: Record<Exclude<BulkItemStatus, 'pending' | 'started' | 'not_started'>, number>;
  /** The first orders it would leave alone, each with its reason. */
  examples: { orderNumber: string; status: string; reason: string }[];
}

const MAX_EXAMPLES = 50;

/** What a job would touch, order by order, without asking for anything. */
export async function dryRunFigures(
  models: Models,
  policy: ReviewRules,
  orderNumbers: readonly string[],
  request: Pick<BulkRequest, 'confirm'>,
): Promise<BulkDryRunFigures> {
  const figures: BulkDryRunFigures = {
    found: orderNumbers.length,
    toCancel: { orders: 0, lines: 0, money: [] },
    leftAlone: { already_cancelled: 0, already_refunded: 0, being_cancelled: 0, refused: 0 },
    examples: [],
  };
  const money = new Map<string, number>();
  for (let start = 0; start < orderNumbers.length; start += READ_BATCH) {
    const verdicts = await Promise.all(
      orderNumbers
        .slice(start, start + READ_BATCH)
        .map((orderNumber) => judgeOrder(models, policy, orderNumber, request)),
    );
    for (const verdict of verdicts) {
      if (verdict.status === 'eligible') {
        figures.toCancel.orders += 1;
        figures.toCancel.lines += verdict.lines;
        money.set(verdict.currency, (money.get(verdict.currency) ?? 0) + verdict.refundableMinor);
      } else {
        if (verdict.status !== 'not_started') figures.leftAlone[verdict.status] += 1;
        if (figures.examples.length < MAX_EXAMPLES)
          figures.examples.push({
            orderNumber: verdict.orderNumber,
            status: verdict.status,
            reason: verdict.reason,
          });
      }
    }
  }
  figures.toCancel.money = [...money.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, amountMinor]) => ({ currency, amountMinor }));
  return figures;
}

/** The states of a cancellation that wait for a person: the job's slot is free while they wait. */
const WAITING_FOR_PEOPLE = [
  'awaitingApproval',
  'awaitingSettlement',
  'needsAttention',
  'awaitingReturn',
  'agreeingWithCustomer',
];

/** The phase of a started order from its cancellation's database copy. */
export function phaseOfCancellation(cancellation: { state: string; outcome?: string | null }): BulkItemPhase {
  if (cancellation.outcome) return 'done';
  if (cancellation.state.startsWith('workflow ')) return 'done'; // failed or terminated: no longer runs
  return WAITING_FOR_PEOPLE.some((state) => cancellation.state.startsWith(state)) ? 'waiting' : 'active';
}

export async function phaseCounts(models: Models, jobId: string): Promise<BulkPhaseCounts> {
  const phases: BulkItemPhase[] = ['pending', 'active', 'waiting', 'done'];
  const counts = await Promise.all(
    phases.map((phase) => models.BulkJobItem.countDocuments({ jobId, phase })),
  );
  return { pending: counts[0] ?? 0, active: counts[1] ?? 0, waiting: counts[2] ?? 0, done: counts[3] ?? 0 };
}

export type BulkJobItemRow = BulkJobItemRecord & { createdAt: Date; updatedAt: Date };

/** Where an order of a job stands, in one word: why it was left alone, or its cancellation's outcome or state. */
export function itemStanding(item: Pick<BulkJobItemRecord, 'status' | 'state' | 'outcome'>): string {
  if (item.status !== 'started') return item.status;
  return item.outcome ?? (item.state ? (item.state.split('.')[0] ?? item.state) : 'requested');
}

/** Every item of a job, in its order. */
export function itemsOfJob(models: Models, jobId: string) {
  return models.BulkJobItem.find({ jobId }).sort({ seq: 1 }).lean<BulkJobItemRow[]>();
}

export type StoredJob = BulkJobRecord & { createdAt: Date; updatedAt: Date };

const MAX_FAILURES_SHOWN = 100;

/** Not cancelled: left alone, refused, or a cancellation that ended otherwise or whose workflow failed. */
const FAILED_ITEMS: QueryFilter<BulkJobItemRecord> = {
  $or: [
    { status: { $nin: ['pending', 'started'] as BulkItemStatus[] } },
    { outcome: { $in: ['refused', 'rejected', 'withdrawn', 'redelivered'] } },
    { state: /^workflow / },
  ],
};

/** A job's summary, as its list shows it (client/bulk.contract.ts `bulkJobSummary`). */
export function bulkJobSummaryOf(job: StoredJob) {
  return {
    jobId: job.jobId,
    workflowId: job.workflowId,
    state: job.state,
    requestedBy: job.requestedBy,
    channel: job.channel ?? undefined,
    reasonCode: job.reasonCode,
    note: job.note ?? undefined,
    total: job.total ?? undefined,
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
    endedAt: job.endedAt?.toISOString(),
    failureReason: job.failureReason ?? undefined,
  };
}

/** One job's progress from the books' copy (client/bulk.contract.ts `bulkJobView`). */
export type BulkJobResource = ReturnType<typeof bulkJobSummaryOf> & {
  selection: Record<string, unknown>;
  confirm: string[];
  concurrency: number;
  control: BulkControlEntry[];
  phases: BulkPhaseCounts;
  byState: Record<string, number>;
  refunded: { currency: string; amountMinor: number }[];
  failures: { orderNumber: string; status: string; reason?: string; cancellationId?: string }[];
  failureCount: number;
};

/**
 * A job as GET /v1/bulk-cancellations/:id shows it: its state, its orders by phase and by where they stand,
 * money refunded per currency and the orders not cancelled with why. The API answers with it, and each of the
 * job's webhook events carries it as it was right after that change.
 */
export async function bulkJobViewOf(models: Models, jobId: string): Promise<BulkJobResource> {
  const job = await models.BulkJob.findOne({ jobId }).lean<StoredJob>();
  if (!job) throw new CancelflowError('not_found', `bulk job ${jobId} does not exist`);
  const [phases, groups, refunded, failures, failureCount] = await Promise.all([
    phaseCounts(models, jobId),
    models.BulkJobItem.aggregate<{
      _id: { status: string; state?: string; outcome?: string };
      count: number;
    }>([
      { $match: { jobId } },
      { $group: { _id: { status: '$status', state: '$state', outcome: '$outcome' }, count: { $sum: 1 } } },
    ]),
    models.BulkJobItem.aggregate<{ _id: string; amountMinor: number }>([
      { $match: { jobId, refundedMinor: { $gt: 0 } } },
      { $group: { _id: '$currency', amountMinor: { $sum: '$refundedMinor' } } },
    ]),
    models.BulkJobItem.find({ jobId, ...FAILED_ITEMS })
      .sort({ seq: 1 })
      .limit(MAX_FAILURES_SHOWN)
      .lean(),
    models.BulkJobItem.countDocuments({ jobId, ...FAILED_ITEMS }),
  ]);
  const byState: Record<string, number> = {};
  for (const group of groups) {
    const standing = itemStanding({
      status: group._id.status as never,
      state: group._id.state ?? undefined,
      outcome: group._id.outcome ?? undefined,
    });
    byState[standing] = (byState[standing] ?? 0) + group.count;
  }
  return {
    ...bulkJobSummaryOf(job),
    selection: job.selection as Record<string, unknown>,
    confirm: job.confirm,
    concurrency: job.concurrency,
    // By when each was decided: an overtaken change's entry is kept after the change that overtook it.
    control: [...job.control]
      .sort((a, b) => (a.at?.getTime() ?? 0) - (b.at?.getTime() ?? 0))
      .map((entry) => ({
        action: entry.action as 'pause' | 'resume' | 'stop',
        by: entry.by ?? '',
        ...(entry.note ? { note: entry.note } : {}),
        at: entry.at?.toISOString() ?? '',
      })),
    phases,
    byState,
    refunded: refunded
      .map((group) => ({ currency: group._id, amountMinor: group.amountMinor }))
      .sort((a, b) => a.currency.localeCompare(b.currency)),
    failures: failures.map((item) => ({
      orderNumber: item.orderNumber,
      status: itemStanding(item),
      ...(item.reason ? { reason: item.reason } : {}),
      ...(item.cancellationId ? { cancellationId: item.cancellationId } : {}),
    })),
    failureCount,
  };
}

/** A change of a job's state, as its record keeps it: its place (the event's sequence), before, after, when. */
export interface BulkJobChange {
  sequence: number;
  from: BulkJobState;
  to: BulkJobState;
  at: Date;
}

/**
 * Where in its workflow a state was decided, from the recording activity's own info: its run, the activity's
 * sequence number in that run (the SDK's default activity id, taken in the very synchronous step in which the
 * workflow reads the state it sends: a higher one was decided later), and when Temporal scheduled it.
 */
export interface BulkStateVersion {
  runId: string;
  seq: number;
  scheduledAt: Date;
}

/**
 * Whether `incoming` was decided after `held`. Within a run, by sequence. Across runs (continue-as-new), by when
 * each was scheduled: a run begins only after every recording activity of the one before it completed (the
 * workflow awaits them, and its Updates, before it continues), so its writes were all scheduled later.
 */
export function decidedLater(
  incoming: BulkStateVersion,
  held: { runId?: string | null; seq?: number | null; scheduledAt?: Date | null } | null | undefined,
): boolean {
  if (!held?.runId || held.seq == null || !held.scheduledAt) return true;
  if (incoming.runId === held.runId) return incoming.seq > held.seq;
  return incoming.scheduledAt.getTime() >= held.scheduledAt.getTime();
}

/**
 * Records a change of a job's state (and the person's pause, resume or stop with it) once per `key`, the
 * recording activity's own: a retry finds its change recorded and writes nothing again, so neither the state a
 * later change wrote nor the change's place is touched. The change goes at the end of the job's list, guarded
 * by the length read: two changes recorded at once (a person's pause during a step) each get a place of their
 * own, in the order they were written. (On the embedded database the guarded write, naming more than the job's
 * key, is a scan of the jobs: a few hundred documents, once per change of a job's state.)
 *
 * With a `version` (the workflow's writes), a change decided before the state the books hold is not written:
 * two recording activities can be in flight at once (the workflow records `running` after a step while a
 * person's pause records `paused`), and Temporal may run them in either order (a retry, another worker), so
 * the older one arriving last would otherwise put back a state the workflow has left. Nor does one replace a
 * final state: the workflow writes nothing after it. Such a change makes no event (the later one told of the
 * state now held); the person's entry it carries is still kept, once.
 *
 * Answers the change, or undefined when there is none to tell of (the job is not in the books, or the change
 * was overtaken).
 */
export async function recordBulkJobChange(
  models: Models,
  change: {
    jobId: string;
    state: BulkJobState;
    control?: BulkControlEntry;
    key: string;
    version?: BulkStateVersion;
    /** With `failed`: why (kept on the job, shown in its view). */
    failureReason?: string;
  },
  now: Date = new Date(),
): Promise<BulkJobChange | undefined> {
  const { jobId, state, key, version } = change;
  const control = change.control ? { ...change.control, at: new Date(change.control.at), key } : undefined;
  for (;;) {
    const job = await models.BulkJob.findOne(
      { jobId },
      { state: 1, stateChanges: 1, stateVersion: 1 },
    ).lean();
    if (!job) return undefined;
    const changes = job.stateChanges;
    const sequence = changes.findIndex((recorded) => recorded.key === key);
    const earlier = changes[sequence];
    if (earlier)
      return {
        sequence,
        from: earlier.from as BulkJobState,
        to: earlier.to as BulkJobState,
        at: earlier.at ?? now,
      };
    if (version && (BULK_FINAL_STATES.includes(job.state) || !decidedLater(version, job.stateVersion))) {
      // Overtaken: keep the person's entry (once per key), not the state.
      if (control)
        await models.BulkJob.updateOne({ jobId, 'control.key': { $ne: key } }, { $push: { control } });
      return undefined;
    }
    const recorded = { key, from: job.state, to: state, at: now };
    const written = await models.BulkJob.updateOne(
      { jobId, [`stateChanges.${changes.length}`]: { $exists: false } },
      {
        $set: {
          state,
          ...(BULK_FINAL_STATES.includes(state) ? { endedAt: now } : {}),
          ...(change.failureReason ? { failureReason: change.failureReason } : {}),
          ...(version ? { stateVersion: version } : {}),
        },
        $push: { stateChanges: recorded, ...(control ? { control } : {}) },
      },
    );
    if (written.modifiedCount === 1)
      return { sequence: changes.length, from: recorded.from, to: recorded.to, at: recorded.at };
    // Another change was written since the read: read again, and go after it (or learn it overtook this one).
  }
}
