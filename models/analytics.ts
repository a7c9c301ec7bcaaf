// Learning from cancellations (R22, R23, R29): each figure is one aggregation pipeline, run by the database,
// over the cancellations' records, the stock ledger or the purchase orders. Only what a pipeline returns
// (a row per group) crosses the wire; the names of the few products and people it names are read after, by key.
// The API answers the cancellations' figures from daily rollups (./analytics-rollups.ts); these pipelines are
// the reference they are tested against, and both turn groups into rows with the same functions below.
//
// The embedded mongo-java-server implements part of the aggregation language: every stage and operator used
// here is one it implements the way MongoDB does ($dayOfWeek is not: it counts from Monday there, so weeks are
// computed from the day number instead). test/analytics.test.ts runs them all on it, and MongoDB when given.
import type { Aggregate, PipelineStage } from 'mongoose';
import {
  REQUEST_CHANNELS,
  type AnalyticsGranularity,
  type AnalyticsWindow,
  type ApprovalRow,
  type ChannelRow,
  type CustomerRow,
  type DepartmentRow,
  type OutcomeCounts,
  type PeriodRow,
  type ProductRow,
  type ReasonRow,
  type RefundRow,
  type RepeatCancellerRow,
  type RepeatCancellersSummary,
  type RestockedRow,
  type StateTimeRow,
  type SupplierRow,
} from '../contracts/analytics.contract';
import {
  DEPARTMENTS,
  REASON_CODES,
  type Department,
  type ReasonCode,
  type RiskLevel,
} from '../contracts/cancellation.contract';
import { CancelflowError } from '../lib/errors';
import { APPROVAL_STATE, fromProductKey } from './analytics-summary';
import { customerRequester } from './cancellation-requests';
import type { Models } from './index';
import { WITH_SUPPLIER } from './purchasing';

const DAY_MS = 86_400_000;
const EPOCH = new Date(0);
/** A figure is a report, not a page: it may take longer than a lookup, but never hold the database for long. */
const MAX_TIME_MS = 30_000;
/** The over-time figure's longest series: a wider window takes a coarser granularity. */
const MAX_PERIODS = 1_000;
/** The window when none is given: the last 90 days. */
export const DEFAULT_WINDOW_DAYS = 90;

// ---- The window: what the caller asked for, as instants.

export interface WindowRequest {
  /** An ISO date (midnight at `utcOffset`) or a date-time with its offset. */
  from?: string;
  /** Inclusive: a date-time, or a date for the whole of that day. */
  to?: string;
  /** `+08:00`: where days, weeks and months start, and how dates without a time are read. */
  utcOffset: string;
  reasonCode?: ReasonCode;
}

export interface ResolvedWindow extends AnalyticsWindow {
  offsetMs: number;
}

/** `+08:00` (or ` 08:00`: an unencoded "+" in a query string arrives as a space) in milliseconds. */
export function offsetMsOf(utcOffset: string): number {
  const match = /^([+ -])(\d\d):([0-5]\d)$/.exec(utcOffset);
  const minutes = match ? Number(match[2]) * 60 + Number(match[3]) : Number.NaN;
  // Offsets in use run from -12:00 to +14:00.
  if (!match || !(minutes <= 14 * 60)) {
    throw new CancelflowError('validation_failed', 'utcOffset: an offset from UTC such as +08:00', {
      field: 'utcOffset',
    });
  }
  return (match[1] === '-' ? -minutes : minutes) * 60_000;
}

/** The offset as it is written: `+08:00`. */
export const normalisedOffset = (utcOffset: string) => utcOffset.replace(/^ /, '+');

const isDateOnly = (value: string) => !value.includes('T');

/** The instants of a request: `from` inclusive, `to` exclusive (the day after a date; a moment after a time). */
export function resolveWindow(request: WindowRequest, now: Date = new Date()): ResolvedWindow {
  const offsetMs = offsetMsOf(request.utcOffset);
  const instant = (value: string) =>
    isDateOnly(value) ? new Date(Date.parse(`${value}T00:00:00Z`) - offsetMs) : new Date(value);
  const to = request.to
    ? new Date(instant(request.to).getTime() + (isDateOnly(request.to) ? DAY_MS : 1))
    : now;
  const from = request.from ? instant(request.from) : new Date(to.getTime() - DEFAULT_WINDOW_DAYS * DAY_MS);
  if (from.getTime() >= to.getTime()) {
    throw new CancelflowError('validation_failed', 'to: is before from', { field: 'to' });
  }
  return { from, to, offsetMs, ...(request.reasonCode ? { reasonCode: request.reasonCode } : {}) };
}

// ---- Pieces of pipelines.

function requestedIn(window: AnalyticsWindow): PipelineStage.Match {
  return {
    $match: {
      createdAt: { $gte: window.from, $lt: window.to },
      ...(window.reasonCode ? { reasonCode: window.reasonCode } : {}),
    },
  };
}

/** Counters of what became of a group's cancellations (`stopped` is what is left: computed after). */
const OUTCOME_COUNTERS = {
  cancellations: { $sum: 1 },
  completed: { $sum: { $cond: [{ $eq: ['$outcome', 'completed'] }, 1, 0] } },
  // Running: no outcome yet, and not a workflow that ops terminated (its state then reads `workflow …`).
  running: {
    $sum: {
      $cond: [
        {
          $and: [
            { $eq: [{ $ifNull: ['$outcome', 'none'] }, 'none'] },
            { $ne: [{ $substrCP: [{ $ifNull: ['$state', ''] }, 0, 9] }, 'workflow '] },
          ],
        },
        1,
        0,
      ],
    },
  },
};

export interface CountedGroup<Key> {
  _id: Key;
  cancellations: number;
  completed: number;
  running: number;
}

export const outcomesOf = (group: CountedGroup<unknown>): OutcomeCounts => ({
  cancellations: group.cancellations,
  completed: group.completed,
  stopped: group.cancellations - group.completed - group.running,
  running: group.running,
});

interface Aggregating {
  aggregate<T>(pipeline: PipelineStage[]): Aggregate<T[]>;
}

async function aggregate<T>(model: Aggregating, pipeline: PipelineStage[]): Promise<T[]> {
  return model.aggregate<T>(pipeline).option({ maxTimeMS: MAX_TIME_MS }).exec();
}

const NO_CANCELLATIONS: OutcomeCounts = { cancellations: 0, completed: 0, stopped: 0, running: 0 };

/** Every value of a list the books keep, those without cancellations with zeros, most first. */
function everyValue<Value extends string>(
  values: readonly Value[],
  counted: ReadonlyMap<Value, OutcomeCounts>,
): [Value, OutcomeCounts][] {
  const extra = [...counted.keys()].filter((value) => !values.includes(value));
  return [...values, ...extra]
    .map((value): [Value, OutcomeCounts] => [value, counted.get(value) ?? NO_CANCELLATIONS])
    .sort(([a, first], [b, second]) => second.cancellations - first.cancellations || a.localeCompare(b));
}

/** Orders group keys as the database's `$sort` does (by code point for the ASCII keys in use, not by locale). */
export const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Cancellations grouped by `key`, with what became of them, most first. */
async function countedBy<Key>(
  models: Models,
  window: AnalyticsWindow,
  key: unknown,
): Promise<CountedGroup<Key>[]> {
  return aggregate<CountedGroup<Key>>(models.Cancellation, [
    requestedIn(window),
    { $group: { _id: key, ...OUTCOME_COUNTERS } },
    { $sort: { cancellations: -1, _id: 1 } },
  ]);
}

// ---- The figures read from the cancellations (requested in the window).

/** R22: why customers and staff cancel. */
export async function cancellationsByReason(models: Models, window: AnalyticsWindow): Promise<ReasonRow[]> {
  return reasonRows(await countedBy<ReasonCode>(models, window, '$reasonCode'));
}

export function reasonRows(groups: readonly CountedGroup<ReasonCode>[]): ReasonRow[] {
  const counted = new Map(groups.map((group) => [group._id, outcomesOf(group)]));
  return everyValue(REASON_CODES, counted).map(([reasonCode, counts]) => ({ reasonCode, ...counts }));
}

/** The first day (UTC midnight of the local date) of the period holding local day number `day`. */
function periodStart(granularity: AnalyticsGranularity, localMs: number): number {
  const day = Math.floor(localMs / DAY_MS);
  if (granularity === 'day') return day * DAY_MS;
  // Day 0 (1970-01-01) was a Thursday: (day + 3) mod 7 is the days since Monday.
  if (granularity === 'week') return (day - ((((day + 3) % 7) + 7) % 7)) * DAY_MS;
  const date = new Date(day * DAY_MS);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}

function nextPeriod(granularity: AnalyticsGranularity, start: number): number {
  if (granularity === 'day') return start + DAY_MS;
  if (granularity === 'week') return start + 7 * DAY_MS;
  const date = new Date(start);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}

/** The periods the window spans, each as its first day; a 400 past MAX_PERIODS. */
export function periodsOf(window: ResolvedWindow, granularity: AnalyticsGranularity): string[] {
  const last = periodStart(granularity, window.to.getTime() - 1 + window.offsetMs);
  const periods: string[] = [];
  for (
    let start = periodStart(granularity, window.from.getTime() + window.offsetMs);
    start <= last;
    start = nextPeriod(granularity, start)
  ) {
    if (periods.length === MAX_PERIODS) {
      throw new CancelflowError(
        'validation_failed',
        `granularity: the window holds more than ${MAX_PERIODS} periods of a ${granularity}: choose a coarser one or a shorter window`,
        { field: 'granularity' },
      );
    }
    periods.push(new Date(start).toISOString().slice(0, 10));
  }
  return periods;
}

/** R22: how often, period by period; every period of the window is there, empty ones with zeros. */
export async function cancellationsOverTime(
  models: Models,
  window: ResolvedWindow,
  granularity: AnalyticsGranularity,
): Promise<PeriodRow[]> {
  const periods = periodsOf(window, granularity);
  // The local day number; weeks start on Monday, months are read from the local date.
  const local = { $add: ['$createdAt', window.offsetMs] };
  const day = { $floor: { $divide: [{ $subtract: [local, EPOCH] }, DAY_MS] } };
  const key =
    granularity === 'day'
      ? day
      : granularity === 'week'
        ? { $subtract: [day, { $mod: [{ $add: [day, 3] }, 7] }] }
        : { $add: [{ $multiply: [{ $year: local }, 100] }, { $month: local }] };
  return periodRows(periods, granularity, await countedBy<number>(models, window, key));
}

/**
 * The rows of the periods from groups keyed as the pipeline keys them: the local day number for days and
 * weeks (a week by its Monday's), year × 100 + month for months.
 */
export function periodRows(
  periods: readonly string[],
  granularity: AnalyticsGranularity,
  groups: readonly CountedGroup<number>[],
): PeriodRow[] {
  const byPeriod = new Map(
    groups.map((group) => {
      const start =
        granularity === 'month'
          ? Date.UTC(Math.floor(group._id / 100), (group._id % 100) - 1, 1)
          : group._id * DAY_MS;
      return [new Date(start).toISOString().slice(0, 10), outcomesOf(group)];
    }),
  );
  return periods.map((period) => ({ period, ...(byPeriod.get(period) ?? NO_CANCELLATIONS) }));
}

/** R22, R23: the products cancelled most (by cancellations, then units), with what the completed ones took back. */
export async function cancellationsByProduct(
  models: Models,
  window: AnalyticsWindow,
  limit: number,
): Promise<ProductRow[]> {
  const groups = await aggregate<ProductGroup>(models.Cancellation, [
    requestedIn(window),
    // Only what the figure reads: $unwind copies the document once per SKU. The summary has merged the lines
    // per SKU already (a cancellation counts once per SKU), so one $group by its string key does the rest.
    {
      $project: {
        _id: 0,
        done: { $cond: [{ $eq: ['$outcome', 'completed'] }, 1, 0] },
        key: '$analytics.products.keys',
        units: '$analytics.products.units',
        amount: '$analytics.products.amountMinor',
      },
    },
    { $unwind: { path: '$key', includeArrayIndex: 'at' } },
    {
      $group: {
        _id: '$key',
        cancellations: { $sum: 1 },
        completed: { $sum: '$done' },
        unitsCancelled: { $sum: { $multiply: ['$done', { $arrayElemAt: ['$units', '$at'] }] } },
        amountMinor: { $sum: { $multiply: ['$done', { $arrayElemAt: ['$amount', '$at'] }] } },
      },
    },
    { $sort: { cancellations: -1, unitsCancelled: -1, _id: 1 } },
    { $limit: limit },
  ]);
  return productRows(models, groups);
}

/** A product's group: its key (SKU and currency, models/analytics-summary.ts) and what it adds up. */
export interface ProductGroup {
  _id: string;
  cancellations: number;
  completed: number;
  unitsCancelled: number;
  amountMinor: number;
}

/** The rows of the product groups (sorted and cut to the limit already), with the products' names. */
export async function productRows(models: Models, groups: readonly ProductGroup[]): Promise<ProductRow[]> {
  const rows = groups.map((group) => ({ ...group, ...fromProductKey(group._id) }));
  const names = await productNames(
    models,
    rows.map((row) => row.sku),
  );
  return rows.map((row) => ({
    sku: row.sku,
    ...(names.has(row.sku) ? { name: names.get(row.sku) } : {}),
    cancellations: row.cancellations,
    completed: row.completed,
    unitsCancelled: row.unitsCancelled,
    amountMinor: row.amountMinor,
    currency: row.currency,
  }));
}

async function productNames(models: Models, skus: readonly string[]): Promise<Map<string, string>> {
  const products = await models.Product.find(
    { sku: { $in: [...new Set(skus)] } },
    { sku: 1, name: 1 },
  ).lean();
  return new Map(products.map((product) => [product.sku, product.name]));
}

/** The customers who cancelled most. */
export async function cancellationsByCustomer(
  models: Models,
  window: AnalyticsWindow,
  limit: number,
): Promise<CustomerRow[]> {
  const groups = await aggregate<CountedGroup<string>>(models.Cancellation, [
    requestedIn(window),
    { $group: { _id: '$customerId', ...OUTCOME_COUNTERS } },
    { $sort: { cancellations: -1, _id: 1 } },
    { $limit: limit },
  ]);
  return groups.map(customerRow);
}

export const customerRow = (group: CountedGroup<string>): CustomerRow => ({
  customerId: group._id,
  ...outcomesOf(group),
});

/** One customer's cancellations in the window, as the repeat cancellers' pipeline groups them. */
export interface CustomerGroup {
  _id: string;
  cancellations: number;
  completed: number;
  firstAt: Date;
  lastAt: Date;
  reasons: ReasonCode[];
}

export function repeatCancellerRow(customer: CustomerGroup): RepeatCancellerRow {
  return {
    customerId: customer._id,
    cancellations: customer.cancellations,
    completed: customer.completed,
    firstAt: new Date(customer.firstAt).toISOString(),
    lastAt: new Date(customer.lastAt).toISOString(),
    reasons: [...customer.reasons].sort(),
  };
}

/** R29: customers who cancel again and again (at least `minimum` times in the window), most first. */
export async function repeatCancellers(
  models: Models,
  window: AnalyticsWindow,
  options: { minimum: number; limit: number },
): Promise<{ rows: RepeatCancellerRow[]; summary: RepeatCancellersSummary }> {
  const [answer] = await aggregate<{
    summary: { customers: number; repeatCustomers: number }[];
    rows: CustomerGroup[];
  }>(models.Cancellation, [
    requestedIn(window),
    {
      $group: {
        _id: '$customerId',
        cancellations: { $sum: 1 },
        completed: OUTCOME_COUNTERS.completed,
        firstAt: { $min: '$createdAt' },
        lastAt: { $max: '$createdAt' },
        reasons: { $addToSet: '$reasonCode' },
      },
    },
    {
      $facet: {
        summary: [
          {
            $group: {
              _id: null,
              customers: { $sum: 1 },
              repeatCustomers: { $sum: { $cond: [{ $gte: ['$cancellations', options.minimum] }, 1, 0] } },
            },
          },
        ],
        rows: [
          { $match: { cancellations: { $gte: options.minimum } } },
          { $sort: { cancellations: -1, _id: 1 } },
          { $limit: options.limit },
        ],
      },
    },
  ]);
  const [summary] = answer?.summary ?? [];
  return {
    summary: { customers: summary?.customers ?? 0, repeatCustomers: summary?.repeatCustomers ?? 0 },
    rows: (answer?.rows ?? []).map(repeatCancellerRow),
  };
}

const isDepartment = (value: unknown): value is Department =>
  typeof value === 'string' && (DEPARTMENTS as readonly string[]).includes(value);

/**
 * R24: by the requester's department when they asked. Records from before the department was recorded take
 * the department the books give their requester now (grouped by requester too: there are few of them).
 * Customers who asked themselves (requester `customer:<id>`, models/cancellation-requests.ts) have no
 * department of ours: they count as `customer`, grouped as one requester (they are many).
 */
export async function cancellationsByDepartment(
  models: Models,
  window: AnalyticsWindow,
): Promise<DepartmentRow[]> {
  const customers = customerRequester('');
  const groups = await countedBy<DepartmentKey>(models, window, {
    department: '$requesterDepartment',
    requester: {
      $cond: [
        { $eq: [{ $substrCP: [{ $ifNull: ['$requestedBy', ''] }, 0, customers.length] }, customers] },
        customers,
        '$requestedBy',
      ],
    },
  });
  return departmentRows(models, groups);
}

/** The department recorded with a cancellation, and who asked (all customers as one requester). */
export interface DepartmentKey {
  department?: string;
  requester?: string;
}

/** The departments' rows from groups by department and requester: unrecorded ones from the books. */
export async function departmentRows(
  models: Models,
  groups: readonly CountedGroup<DepartmentKey>[],
): Promise<DepartmentRow[]> {
  const customers = customerRequester('');
  const unrecorded = groups.flatMap((group) =>
    group._id.department === undefined && group._id.requester && group._id.requester !== customers
      ? [group._id.requester]
      : [],
  );
  const people = unrecorded.length
    ? await models.Person.find({ personId: { $in: unrecorded } }, { personId: 1, department: 1 }).lean()
    : [];
  const departmentOf = new Map(people.map((person) => [person.personId, person.department]));
  const counted = new Map<DepartmentRow['department'], OutcomeCounts>();
  for (const group of groups) {
    const found = group._id.department ?? departmentOf.get(group._id.requester ?? '');
    const department: DepartmentRow['department'] = isDepartment(found)
      ? found
      : group._id.requester === customers
        ? 'customer'
        : 'unknown';
    const before = counted.get(department) ?? NO_CANCELLATIONS;
    const counts = outcomesOf(group);
    counted.set(department, {
      cancellations: before.cancellations + counts.cancellations,
      completed: before.completed + counts.completed,
      stopped: before.stopped + counts.stopped,
      running: before.running + counts.running,
    });
  }
  return everyValue<DepartmentRow['department']>(DEPARTMENTS, counted).map(([department, counts]) => ({
    department,
    ...counts,
  }));
}

/** How cancellations were asked for: the console, the API as a person, a system's key. */
export async function cancellationsByChannel(models: Models, window: AnalyticsWindow): Promise<ChannelRow[]> {
  return channelRows(
    await countedBy<ChannelRow['channel']>(models, window, { $ifNull: ['$channel', 'unrecorded'] }),
  );
}

export function channelRows(groups: readonly CountedGroup<ChannelRow['channel']>[]): ChannelRow[] {
  const counted = new Map(groups.map((group) => [group._id, outcomesOf(group)]));
  return everyValue<ChannelRow['channel']>(REQUEST_CHANNELS, counted).map(([channel, counts]) => ({
    channel,
    ...counts,
  }));
}

/** R20, R29: money given back, per currency (the order's, whatever currency each payment was in). */
export async function refundsByCurrency(models: Models, window: AnalyticsWindow): Promise<RefundRow[]> {
  const groups = await aggregate<RefundGroup>(models.Cancellation, [
    { $match: { ...requestedIn(window).$match, refundedMinor: { $gt: 0 } } },
    {
      $group: {
        _id: { $ifNull: ['$currency', ''] },
        cancellations: { $sum: 1 },
        refundedMinor: { $sum: '$refundedMinor' },
      },
    },
    { $sort: { _id: 1 } },
  ]);
  return groups.map(refundRow);
}

export interface RefundGroup {
  _id: string;
  cancellations: number;
  refundedMinor: number;
}

export const refundRow = (group: RefundGroup): RefundRow => ({
  currency: group._id,
  cancellations: group.cancellations,
  refundedMinor: group.refundedMinor,
});

/** R15: how long approvals took, per risk level, from the timeline: the time spent in the approval states. */
export async function approvalTimes(models: Models, window: AnalyticsWindow): Promise<ApprovalRow[]> {
  const groups = await aggregate<ApprovalGroup>(models.Cancellation, [
    // Those that awaited approval (the summary's wait is there), and no longer do: an approval still under way
    // has not ended, its time is not known yet.
    {
      $match: {
        ...requestedIn(window).$match,
        'analytics.approvalWaitMs': { $exists: true },
        state: { $not: { $regex: `^${APPROVAL_STATE}` } },
      },
    },
    {
      $group: {
        _id: { $ifNull: ['$risk.level', 'unknown'] },
        approvals: { $sum: 1 },
        rejected: { $sum: { $cond: [{ $eq: ['$outcome', 'rejected'] }, 1, 0] } },
        escalations: { $sum: { $ifNull: ['$approval.escalations', 0] } },
        averageMs: { $avg: '$analytics.approvalWaitMs' },
        maxMs: { $max: '$analytics.approvalWaitMs' },
        // Medians need every value; there are far fewer approvals than cancellations.
        durations: { $push: '$analytics.approvalWaitMs' },
      },
    },
  ]);
  return approvalRows(groups);
}

/** The ended approvals of one risk level: counts, the average and longest wait, and every wait (for medians). */
export interface ApprovalGroup {
  _id: RiskLevel | 'unknown';
  approvals: number;
  rejected: number;
  escalations: number;
  averageMs: number;
  maxMs: number;
  durations: number[];
}

export function approvalRows(groups: readonly ApprovalGroup[]): ApprovalRow[] {
  const order: readonly string[] = ['low', 'medium', 'high', 'unknown'];
  return groups
    .map((group) => {
      const sorted = [...group.durations].sort((a, b) => a - b);
      return {
        riskLevel: group._id,
        approvals: group.approvals,
        rejected: group.rejected,
        escalations: group.escalations,
        averageMs: Math.round(group.averageMs),
        medianMs: Math.round(percentile(sorted, 50)),
        p90Ms: Math.round(percentile(sorted, 90)),
        maxMs: group.maxMs,
      };
    })
    .sort((a, b) => order.indexOf(a.riskLevel) - order.indexOf(b.riskLevel));
}

/** The nearest-rank percentile of sorted values (0 for none). */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1] ?? 0;
}

/** Where cancellations spend their time: each state's stays that ended (the next timeline entry came). */
export async function stateTimes(models: Models, window: AnalyticsWindow): Promise<StateTimeRow[]> {
  const groups = await aggregate<StateGroup>(models.Cancellation, [
    requestedIn(window),
    // Each record's stays per state, summed when it was written: a few entries, not its whole timeline.
    {
      $project: {
        _id: 0,
        state: '$analytics.stays.states',
        counts: '$analytics.stays.counts',
        totalMs: '$analytics.stays.totalMs',
        maxMs: '$analytics.stays.maxMs',
      },
    },
    { $unwind: { path: '$state', includeArrayIndex: 'at' } },
    {
      $group: {
        _id: '$state',
        stays: { $sum: { $arrayElemAt: ['$counts', '$at'] } },
        totalMs: { $sum: { $arrayElemAt: ['$totalMs', '$at'] } },
        maxMs: { $max: { $arrayElemAt: ['$maxMs', '$at'] } },
      },
    },
    { $sort: { totalMs: -1, _id: 1 } },
  ]);
  return groups.map(stateTimeRow);
}

export interface StateGroup {
  _id: string;
  stays: number;
  totalMs: number;
  maxMs: number;
}

export const stateTimeRow = (group: StateGroup): StateTimeRow => ({
  state: group._id,
  stays: group.stays,
  totalMs: group.totalMs,
  averageMs: Math.round(group.totalMs / group.stays),
  maxMs: group.maxMs,
});

// ---- The figures read from the stock ledger and the purchase orders (what happened in the window).

/**
 * R27, R29: stock that came back because of cancellations in the window, per SKU: reservations released
 * (`release` movements) and parcels returned (`return` movements), both written by the stock activities with
 * the reason `cancellation <id>`; valued at the product's purchase cost.
 */
export async function restockedStock(models: Models, window: AnalyticsWindow): Promise<RestockedRow[]> {
  const groups = await aggregate<RestockedGroup>(models.StockMovement, [
    {
      $match: {
        type: { $in: ['release', 'return'] },
        state: 'applied',
        createdAt: { $gte: window.from, $lt: window.to },
        reason: { $regex: '^cancellation ' },
      },
    },
    {
      $group: {
        _id: '$sku',
        // A release lowers `reserved` (back to available); a return raises `onHand`.
        releasedUnits: {
          $sum: { $cond: [{ $eq: ['$type', 'release'] }, { $subtract: [0, '$reservedDelta'] }, 0] },
        },
        returnedUnits: { $sum: { $cond: [{ $eq: ['$type', 'return'] }, '$onHandDelta', 0] } },
      },
    },
  ]);
  return restockedRows(models, groups);
}

/** A SKU's units back from cancellations: reservations released, parcels returned. */
export interface RestockedGroup {
  _id: string;
  releasedUnits: number;
  returnedUnits: number;
}

/** The rows of the SKUs' groups, valued at their purchase cost, most value first. */
export async function restockedRows(
  models: Models,
  groups: readonly RestockedGroup[],
): Promise<RestockedRow[]> {
  const products = await models.Product.find(
    { sku: { $in: groups.map((group) => group._id) } },
    { sku: 1, name: 1, unitCostMinor: 1, currency: 1 },
  ).lean();
  const productOf = new Map(products.map((product) => [product.sku, product]));
  return groups
    .map((group): RestockedRow => {
      const product = productOf.get(group._id);
      const units = group.releasedUnits + group.returnedUnits;
      const cost = product?.unitCostMinor ?? undefined;
      return {
        sku: group._id,
        ...(product ? { name: product.name } : {}),
        releasedUnits: group.releasedUnits,
        returnedUnits: group.returnedUnits,
        units,
        ...(cost !== undefined && product
          ? { unitCostMinor: cost, valueMinor: cost * units, currency: product.currency }
          : {}),
      };
    })
    .sort(
      (a, b) =>
        (b.valueMinor ?? -1) - (a.valueMinor ?? -1) || b.units - a.units || a.sku.localeCompare(b.sku),
    );
}

/**
 * R27, R29: purchase orders reduced for cancellations in the window, per supplier: the orders and units taken
 * off (at their unit cost), the units that stayed, and how many changes reached a supplier who had the order.
 */
export async function supplierReductions(models: Models, window: AnalyticsWindow): Promise<SupplierRow[]> {
  type Group = {
    _id: { supplierId: string; currency: string };
    supplierName: string;
    purchaseOrders: number;
    reductions: number;
    unitsReduced: number;
    valueReducedMinor: number;
    unitsNotReduced: number;
    supplierToldOfChanges: number;
  };
  const reduction = { kind: 'reduce_for_cancellation', at: { $gte: window.from, $lt: window.to } };
  const sumOf = (list: string, value: unknown) => ({
    $reduce: { input: { $ifNull: [list, []] }, initialValue: 0, in: { $add: ['$$value', value] } },
  });
  const groups = await aggregate<Group>(models.PurchaseOrder, [
    { $match: { adjustments: { $elemMatch: reduction } } },
    { $unwind: '$adjustments' },
    { $match: { 'adjustments.kind': reduction.kind, 'adjustments.at': reduction.at } },
    {
      $project: {
        poNumber: 1,
        supplier: 1,
        currency: 1,
        withSupplier: { $in: ['$adjustments.statusBefore', [...WITH_SUPPLIER]] },
        unitsReduced: sumOf('$adjustments.changes', '$$this.quantity'),
        // Each change at the unit cost of the purchase line it took units off.
        valueReducedMinor: sumOf('$adjustments.changes', {
          $multiply: [
            '$$this.quantity',
            {
              $ifNull: [
                {
                  $arrayElemAt: [
                    '$lines.unitCostMinor',
                    { $indexOfArray: ['$lines.lineId', '$$this.lineId'] },
                  ],
                },
                0,
              ],
            },
          ],
        }),
        unitsNotReduced: sumOf('$adjustments.refusals', '$$this.quantity'),
      },
    },
    { $addFields: { reduced: { $gt: ['$unitsReduced', 0] } } },
    {
      $group: {
        _id: { supplierId: '$supplier.supplierId', currency: '$currency' },
        supplierName: { $first: '$supplier.name' },
        purchaseOrders: { $addToSet: { $cond: ['$reduced', '$poNumber', null] } },
        reductions: { $sum: { $cond: ['$reduced', 1, 0] } },
        unitsReduced: { $sum: '$unitsReduced' },
        valueReducedMinor: { $sum: '$valueReducedMinor' },
        unitsNotReduced: { $sum: '$unitsNotReduced' },
        supplierToldOfChanges: { $sum: { $cond: [{ $and: ['$reduced', '$withSupplier'] }, 1, 0] } },
      },
    },
    { $addFields: { purchaseOrders: { $size: { $setDifference: ['$purchaseOrders', [null]] } } } },
    { $sort: { unitsReduced: -1, '_id.supplierId': 1, '_id.currency': 1 } },
  ]);
  return groups.map((group) => ({
    supplierId: group._id.supplierId,
    supplierName: group.supplierName,
    currency: group._id.currency,
    purchaseOrders: group.purchaseOrders,
    reductions: group.reductions,
    unitsReduced: group.unitsReduced,
    valueReducedMinor: group.valueReducedMinor,
    unitsNotReduced: group.unitsNotReduced,
    supplierToldOfChanges: group.supplierToldOfChanges,
  }));
}
