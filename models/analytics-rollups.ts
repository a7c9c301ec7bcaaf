// The analytics' rollups (issue #14): each UTC day's cancellations aggregated once, per reason and what a
// figure groups by (channel, department, currency, product, customer, state, risk level), for the whole day and
// per hour, and stored as one document per day (models/analytics-rollup.model.ts). A figure over a window then
// reads a document per day (365 for a year) instead of every record of the window: the embedded
// mongo-java-server pays per document and per accumulator, so the per-record pipelines (models/analytics.ts)
// took 0.3–4.4 s at 100,000 records.
//
// The per-record pipelines stay the reference: test/analytics-rollups.test.ts checks that every figure here
// equals theirs on generated records, after changes, and for windows that do not start on a whole hour.
//
// - Windows keep their meaning: the days wholly inside a window are read whole, the days it starts and ends in
//   hour by hour (so a window of local days at any whole-hour offset from UTC needs no records); the parts of an
//   hour at its edges (an offset such as +05:30, a date-time window) are computed from the records of those
//   minutes by the same code. The over-time figure groups by local day: at an offset that is not a whole number
//   of hours a local day splits an hour, so that one figure then takes the per-record path.
// - Built on read: the days of a window that have no rollup of this version are computed from their records
//   and stored; nothing is added to the cancellation's own writes.
// - Kept current from the records changed since the last refresh (`updatedAt`, which every write of a record
//   moves forward: models/revision.ts): the days those records were asked on are computed again. The
//   watermark is the start of the last refresh, read back with a margin for writers' clocks and for writes that
//   land after the moment they carry. A figure sees every write made before it was asked for, except that
//   figures asked for together (the console's page) share one refresh started up to a second before.
// - Idempotent: a day is always computed whole from its records and replaces the stored one (its unique key
//   is the day), never incremented; a computation from an older read never replaces a newer one (`sourceAt`),
//   so two API instances, or two requests, building the same day store the same thing.
// - Medians and distinct customers do not add up across days: the approvals section keeps every ended
//   approval's wait (there are few), the customers section each customer's counts per day, summed per customer
//   over the window here.
//
// The stock restocked comes from the stock ledger's movements of the day, in the same documents (their
// `updatedAt` read by the same refresh). The purchase orders' figure (suppliers) stays on its pipeline: a few
// thousand documents, 0.4 s at 100,000 cancellations.
import type {
  AnalyticsGranularity,
  AnalyticsWindow,
  ApprovalRow,
  ChannelRow,
  CustomerRow,
  DepartmentRow,
  PeriodRow,
  ProductRow,
  ReasonRow,
  RefundRow,
  RepeatCancellerRow,
  RepeatCancellersSummary,
  RestockedRow,
  StateTimeRow,
} from '../contracts/analytics.contract';
import type { ReasonCode, RiskLevel } from '../contracts/cancellation.contract';
import {
  approvalRows,
  byKey,
  cancellationsOverTime as perRecordOverTime,
  channelRows,
  customerRow,
  departmentRows,
  periodRows,
  periodsOf,
  productRows,
  reasonRows,
  refundRow,
  repeatCancellerRow,
  restockedRows,
  stateTimeRow,
  type ApprovalGroup,
  type CountedGroup,
  type CustomerGroup,
  type DepartmentKey,
  type ProductGroup,
  type RefundGroup,
  type ResolvedWindow,
  type RestockedGroup,
  type StateGroup,
} from './analytics';
import { ANALYTICS_SUMMARY_VERSION, APPROVAL_STATE, type AnalyticsSummary } from './analytics-summary';
import { byHour, ROLLUP_SECTION_NAMES, type RollupSectionName } from './analytics-rollup.model';
import { customerRequester } from './cancellation-requests';
import type { Models } from './index';

/** Bumped when what a rollup holds changes; a new summary (its version) makes new rollups too. */
const ROLLUPS_VERSION = 3;
export const ROLLUP_VERSION = ROLLUPS_VERSION * 1_000 + ANALYTICS_SUMMARY_VERSION;
/** The rollups' state document, one per version: instances of two versions side by side keep their own. */
const STATE_ID = `rollups-${ROLLUP_VERSION}`;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/**
 * Records changed up to this long before the last refresh started are read again: a writer's clock may lag the
 * API's, and a write may land a moment after the `updatedAt` it carries.
 */
const CHANGE_MARGIN_MS = 60_000;
/**
 * Figures asked for together (the console's page asks for all at once) share the refresh one of them started
 * this recently, rather than each reading the changed records again.
 */
const JOIN_REFRESH_MS = 1_000;
/** Days stored per bulk write: a day's document is tens of kilobytes. */
const WRITE_BATCH = 50;

/**
 * One section of a day: entry i is the records of hour `h[i]` (0–23, UTC; the whole day when there is no `h`),
 * reason `r[i]` and key `k[i]`, with values `n[0][i]`, `n[1][i]`, … (what each column is: SECTIONS).
 */
export interface RollupSection {
  h?: number[];
  r: string[];
  k: string[];
  n: number[][];
}

/** How each section's columns combine when two records share an entry; `list`: one entry per record. */
const SECTIONS = {
  /** The reasons and over-time figures: cancellations, completed, running. */
  outcomes: ['sum', 'sum', 'sum'],
  /** Key: the channel. */
  channels: ['sum', 'sum', 'sum'],
  /** Key: the department recorded and the requester (DepartmentKey as JSON). */
  departments: ['sum', 'sum', 'sum'],
  /** Key: the currency. Cancellations with a refund, the amount refunded. */
  refunds: ['sum', 'sum'],
  /** Key: the product key. Cancellations, completed, units and amount of the completed. */
  products: ['sum', 'sum', 'sum', 'sum'],
  /** Key: the customer. Cancellations, completed, running, first and last asked (ms into the day). */
  customers: ['sum', 'sum', 'sum', 'min', 'max'],
  /** Key: the state. Stays, their total and longest (ms). */
  states: ['sum', 'sum', 'max'],
  /** Key: the risk level. One entry per ended approval: rejected (0 or 1), escalations, the wait (ms). */
  approvals: 'list',
  /**
   * From the stock ledger: movements of the day back from cancellations (no reason of theirs: `r` is empty).
   * Key: the SKU. Units released from reservations, units returned.
   */
  restocked: ['sum', 'sum'],
} as const satisfies Record<RollupSectionName, readonly ('sum' | 'min' | 'max')[] | 'list'>;
type SectionName = RollupSectionName;
type StoredName = SectionName | ReturnType<typeof byHour<SectionName>>;

/** A day as stored: each section as JSON text, whole and by hour (models/analytics-rollup.model.ts). */
type DayRollup = { _id: string; v: number; sourceAt: Date } & Record<StoredName, string>;

/** What a rollup reads of a record: the fields the per-record pipelines read. */
interface RolledRecord {
  createdAt: Date;
  reasonCode?: string | null;
  outcome?: string | null;
  state?: string | null;
  customerId?: string | null;
  requesterDepartment?: string | null;
  requestedBy?: string | null;
  channel?: string | null;
  currency?: string | null;
  refundedMinor?: number | null;
  risk?: { level?: string | null } | null;
  approval?: { escalations?: number | null } | null;
  analytics?: Partial<AnalyticsSummary> | null;
}

const RECORD_FIELDS = {
  _id: 0,
  createdAt: 1,
  reasonCode: 1,
  outcome: 1,
  state: 1,
  customerId: 1,
  requesterDepartment: 1,
  requestedBy: 1,
  channel: 1,
  currency: 1,
  refundedMinor: 1,
  'risk.level': 1,
  'approval.escalations': 1,
  analytics: 1,
};

/** What the restocked figure reads of a stock movement, and which movements it reads (as restockedStock). */
interface RolledMovement {
  createdAt: Date;
  type: string;
  sku: string;
  onHandDelta: number;
  reservedDelta: number;
}
const MOVEMENT_FIELDS = { _id: 0, createdAt: 1, type: 1, sku: 1, onHandDelta: 1, reservedDelta: 1 };
const RESTOCKING = {
  type: { $in: ['release' as const, 'return' as const] },
  state: 'applied' as const,
  reason: { $regex: '^cancellation ' },
};

const dayOf = (ms: number) => new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);

// ---- Computing a day (or the edge of a window) from its records.

class SectionBuilder {
  readonly section: RollupSection & { h: number[] };
  private readonly at = new Map<string, number>();

  constructor(private readonly combine: (typeof SECTIONS)[SectionName]) {
    const columns = combine === 'list' ? 3 : combine.length;
    this.section = { h: [], r: [], k: [], n: Array.from({ length: columns }, () => []) };
  }

  add(h: number, r: string, k: string, values: readonly number[]): void {
    const id = `${h}\u0000${r}\u0000${k}`;
    const index = this.combine === 'list' ? undefined : this.at.get(id);
    if (index === undefined || this.combine === 'list') {
      if (this.combine !== 'list') this.at.set(id, this.section.h.length);
      this.section.h.push(h);
      this.section.r.push(r);
      this.section.k.push(k);
      values.forEach((value, column) => this.section.n[column]?.push(value));
      return;
    }
    this.combine.forEach((how, column) => {
      const list = this.section.n[column];
      const value = values[column] ?? 0;
      if (!list) return;
      const before = list[index] ?? 0;
      list[index] =
        how === 'sum' ? before + value : how === 'min' ? Math.min(before, value) : Math.max(before, value);
    });
  }
}

/** The same running test as the pipelines' OUTCOME_COUNTERS. */
const isRunning = (record: RolledRecord) =>
  (record.outcome ?? 'none') === 'none' && (record.state ?? '').slice(0, 9) !== 'workflow ';

const CUSTOMERS = customerRequester('');

/** The department pipeline's group key, as the database writes it (a missing field is left out). */
function departmentKeyOf(record: RolledRecord): string {
  const requestedBy = record.requestedBy;
  const requester = (requestedBy ?? '').slice(0, CUSTOMERS.length) === CUSTOMERS ? CUSTOMERS : requestedBy;
  const key: { department?: string | null; requester?: string | null } = {};
  if (record.requesterDepartment !== undefined) key.department = record.requesterDepartment;
  if (requester !== undefined) key.requester = requester;
  return JSON.stringify(key);
}

class DayBuilder {
  private readonly sections = Object.fromEntries(
    ROLLUP_SECTION_NAMES.map((name) => [name, new SectionBuilder(SECTIONS[name])]),
  ) as Record<SectionName, SectionBuilder>;

  constructor(
    readonly dayStart: number,
    restocked?: SectionBuilder,
  ) {
    if (restocked) this.sections.restocked = restocked;
  }

  add(record: RolledRecord): void {
    const at = new Date(record.createdAt).getTime();
    const h = Math.floor((at - this.dayStart) / HOUR_MS);
    const r = record.reasonCode ?? '';
    const done = record.outcome === 'completed' ? 1 : 0;
    const outcome = [1, done, isRunning(record) ? 1 : 0];
    const s = this.sections;
    s.outcomes.add(h, r, '', outcome);
    s.channels.add(h, r, record.channel ?? 'unrecorded', outcome);
    s.departments.add(h, r, departmentKeyOf(record), outcome);
    const refunded = record.refundedMinor;
    if (typeof refunded === 'number' && refunded > 0)
      s.refunds.add(h, r, record.currency ?? '', [1, refunded]);
    // When in the day (ms), shorter to store than the instant.
    s.customers.add(h, r, record.customerId ?? '', [...outcome, at - this.dayStart, at - this.dayStart]);
    const summary = record.analytics;
    const products = summary?.products;
    products?.keys.forEach((key, i) => {
      s.products.add(h, r, key, [
        1,
        done,
        done * (products.units[i] ?? 0),
        done * (products.amountMinor[i] ?? 0),
      ]);
    });
    const stays = summary?.stays;
    stays?.states.forEach((state, i) => {
      s.states.add(h, r, state, [stays.counts[i] ?? 0, stays.totalMs[i] ?? 0, stays.maxMs[i] ?? 0]);
    });
    // An approval still under way has not ended: its time is not known yet (as approvalTimes reads it).
    const waitMs = summary?.approvalWaitMs;
    if (waitMs !== undefined && !(record.state ?? '').startsWith(APPROVAL_STATE)) {
      s.approvals.add(h, r, record.risk?.level ?? 'unknown', [
        record.outcome === 'rejected' ? 1 : 0,
        record.approval?.escalations ?? 0,
        waitMs,
      ]);
    }
  }

  rollup(sourceAt: Date): DayRollup {
    const sections = ROLLUP_SECTION_NAMES.flatMap((name) => {
      const hours = this.sections[name].section;
      // The whole day: the hours' entries merged as records are.
      const day = new SectionBuilder(SECTIONS[name]);
      hours.h.forEach((_hour, i) => {
        day.add(
          0,
          hours.r[i] ?? '',
          hours.k[i] ?? '',
          hours.n.map((column) => column[i] ?? 0),
        );
      });
      const { h: _hours, ...whole } = day.section;
      return [
        [name, encode(whole)],
        [byHour(name), encode(hours)],
      ];
    });
    return {
      _id: dayOf(this.dayStart),
      v: ROLLUP_VERSION,
      sourceAt,
      ...(Object.fromEntries(sections) as Record<StoredName, string>),
    };
  }
}

/**
 * A section as stored: its reasons as numbers into a list of the day's (a few), the rest as it is. What costs
 * in reading a year is the text the embedded database sends and JSON.parse reads, mostly the customers' and
 * products' entries (a quarter of their text was the reason's name).
 */
interface StoredSection {
  h?: number[];
  r: number[];
  reasons: string[];
  k: string[];
  n: number[][];
}

function encode(section: RollupSection): string {
  const reasons: string[] = [];
  const index = new Map<string, number>();
  const r = section.r.map((reason) => {
    let at = index.get(reason);
    if (at === undefined) index.set(reason, (at = reasons.push(reason) - 1));
    return at;
  });
  return JSON.stringify({ ...section, r, reasons } satisfies StoredSection);
}

/** The records asked for in the ranges (`[from, to)`, ms), of one reason if given, day by day. */
async function rollupsOfRecords(
  models: Models,
  ranges: readonly [number, number][],
  sourceAt: Date,
  reasonCode?: ReasonCode,
): Promise<Map<string, DayRollup>> {
  const inRanges = ranges.map(([from, to]) => ({ createdAt: { $gte: new Date(from), $lt: new Date(to) } }));
  // The stock ledger's first, kept per day until the cancellations' pass reaches the day (a few hundred SKUs a
  // day); not for one reason's edges, which the restocked figure (it has no reason) never asks for.
  const restocked = new Map<number, SectionBuilder>();
  if (!reasonCode) {
    const movements = models.StockMovement.find({ $or: inRanges, ...RESTOCKING }, MOVEMENT_FIELDS)
      .lean<RolledMovement[]>()
      .batchSize(5_000)
      .cursor();
    for await (const movement of movements) {
      const at = new Date(movement.createdAt).getTime();
      const day = Math.floor(at / DAY_MS) * DAY_MS;
      let section = restocked.get(day);
      if (!section) restocked.set(day, (section = new SectionBuilder(SECTIONS.restocked)));
      // A release lowers `reserved` (back to available); a return raises `onHand`.
      section.add(Math.floor((at - day) / HOUR_MS), '', movement.sku, [
        movement.type === 'release' ? -movement.reservedDelta : 0,
        movement.type === 'return' ? movement.onHandDelta : 0,
      ]);
    }
  }
  const rollups = new Map<string, DayRollup>();
  let open: DayBuilder | undefined;
  // In the order they were asked: each day is done, and its builder let go, once the next begins.
  const cursor = models.Cancellation.find(
    { $or: inRanges, ...(reasonCode ? { reasonCode } : {}) },
    RECORD_FIELDS,
  )
    .sort({ createdAt: 1 })
    .lean<RolledRecord[]>()
    .batchSize(5_000)
    .cursor();
  for await (const record of cursor) {
    const day = Math.floor(new Date(record.createdAt).getTime() / DAY_MS) * DAY_MS;
    if (open && open.dayStart !== day) {
      rollups.set(dayOf(open.dayStart), open.rollup(sourceAt));
      open = undefined;
    }
    open ??= new DayBuilder(day, restocked.get(day));
    open.add(record);
  }
  if (open) rollups.set(dayOf(open.dayStart), open.rollup(sourceAt));
  // Days without records are stored too: empty, and built.
  for (const [from, to] of ranges) {
    for (let day = Math.floor(from / DAY_MS) * DAY_MS; day < to; day += DAY_MS) {
      if (!rollups.has(dayOf(day)))
        rollups.set(dayOf(day), new DayBuilder(day, restocked.get(day)).rollup(sourceAt));
    }
  }
  return rollups;
}

/** The ranges of whole days, contiguous ones merged: one query for a year. */
function rangesOf(days: readonly string[]): [number, number][] {
  const starts = [...new Set(days)].map((day) => Date.parse(`${day}T00:00:00Z`)).sort((a, b) => a - b);
  const ranges: [number, number][] = [];
  for (const start of starts) {
    const last = ranges[ranges.length - 1];
    if (last && last[1] === start) last[1] = start + DAY_MS;
    else ranges.push([start, start + DAY_MS]);
  }
  return ranges;
}

const isDuplicateKey = (error: unknown) =>
  typeof error === 'object' && error !== null && 'code' in error && error.code === 11000;

/** Computes the days from their records and stores them; a stored day read later than this one stays. */
async function buildDays(models: Models, days: readonly string[]): Promise<Map<string, DayRollup>> {
  // Taken before the read: a change after it carries a later `updatedAt`, which the next refresh finds.
  const sourceAt = new Date();
  const rollups = await rollupsOfRecords(models, rangesOf(days), sourceAt);
  const documents = [...rollups.values()];
  for (let start = 0; start < documents.length; start += WRITE_BATCH) {
    try {
      await models.AnalyticsRollup.bulkWrite(
        documents.slice(start, start + WRITE_BATCH).map((rollup) => ({
          replaceOne: {
            // Only over an older computation: a newer one's filter does not match, the upsert then finds its
            // key taken (a duplicate-key error), and it stays.
            filter: { _id: rollup._id, sourceAt: { $lte: sourceAt } },
            replacement: rollup,
            upsert: true,
          },
        })),
        { ordered: false },
      );
    } catch (error) {
      const writeErrors = (error as { writeErrors?: unknown[] }).writeErrors;
      const expected = isDuplicateKey(error) || (writeErrors?.length && writeErrors.every(isDuplicateKey));
      if (!expected) throw error;
    }
  }
  return rollups;
}

// ---- Keeping them current: per process, one refresh at a time, one build per day in flight.

interface Refresh {
  startedAt: number;
  running: boolean;
  done: Promise<Date>;
}
const refreshes = new WeakMap<Models, Refresh>();
const buildsInFlight = new WeakMap<Models, Map<string, Promise<DayRollup>>>();

/**
 * Reads the records changed since the last refresh (less the margin) and computes their days again. Answers
 * the first moment a record was asked: days before it hold nothing, and are neither stored nor read (a window
 * from 1900 builds no days).
 */
async function refreshOnce(models: Models, startedAt: Date): Promise<Date> {
  const state = await models.AnalyticsState.findById(STATE_ID).lean();
  if (!state?.watermark || !state.firstAt) {
    // The first refresh of this version: no rollup of it was built before (builds follow a refresh).
    const [first] = await models.Cancellation.find({}, { _id: 0, createdAt: 1 })
      .sort({ createdAt: 1 })
      .limit(1)
      .lean<{ createdAt: Date }[]>();
    const firstAt = first ? new Date(first.createdAt) : startedAt;
    await models.AnalyticsState.updateOne(
      { _id: STATE_ID },
      { $set: { v: ROLLUP_VERSION, watermark: startedAt, firstAt } },
      { upsert: true },
    );
    return firstAt;
  }
  const since = { updatedAt: { $gte: new Date(state.watermark.getTime() - CHANGE_MARGIN_MS) } };
  const [changedRecords, changedMovements] = await Promise.all([
    models.Cancellation.find(since, { _id: 0, createdAt: 1 }).lean<{ createdAt: Date }[]>(),
    models.StockMovement.find(since, { _id: 0, createdAt: 1 }).lean<{ createdAt: Date }[]>(),
  ]);
  const changed = [...changedRecords, ...changedMovements];
  const asked = changed.map((record) => new Date(record.createdAt).getTime());
  // Every day with a change, built or not: a build of it may be under way from a read before the change.
  const days = [...new Set(asked.map(dayOf))];
  if (days.length) await buildDays(models, days);
  let firstAt = state.firstAt;
  // Not Math.min(...asked): after a backfill every record has changed, too many arguments for a call.
  const earliest = asked.reduce((min, at) => Math.min(min, at), Infinity);
  if (earliest < firstAt.getTime()) {
    firstAt = new Date(earliest);
    await models.AnalyticsState.updateOne(
      { _id: STATE_ID, firstAt: { $gt: firstAt } },
      { $set: { firstAt } },
    );
  }
  // Forward only: a refresh that started later may have finished first.
  await models.AnalyticsState.updateOne(
    { _id: STATE_ID, watermark: { $lt: startedAt } },
    { $set: { watermark: startedAt } },
  );
  return firstAt;
}

/** Refreshes the rollups, or joins the refresh that started a moment ago; the first moment a record was asked. */
async function refresh(models: Models): Promise<Date> {
  const now = Date.now();
  const current = refreshes.get(models);
  if (current?.running && now - current.startedAt <= JOIN_REFRESH_MS) return current.done;
  const next: Refresh = { startedAt: now, running: true, done: Promise.resolve(new Date(now)) };
  next.done = refreshOnce(models, new Date(now)).finally(() => {
    next.running = false;
  });
  refreshes.set(models, next);
  return next.done;
}

/** The days' rollups not stored yet: built once however many figures ask for them at once. */
async function buildMissing(models: Models, days: readonly string[]): Promise<DayRollup[]> {
  let inFlight = buildsInFlight.get(models);
  if (!inFlight) buildsInFlight.set(models, (inFlight = new Map<string, Promise<DayRollup>>()));
  const flights = inFlight;
  const toBuild = days.filter((day) => !flights.has(day));
  if (toBuild.length) {
    const built = buildDays(models, toBuild);
    for (const day of toBuild) {
      const one = built.then((rollups) => {
        const rollup = rollups.get(day);
        if (!rollup) throw new Error(`analytics rollup of ${day} was not built`);
        return rollup;
      });
      // Whoever asked sees a failure; this copy only keeps it from being reported as unhandled.
      one.catch(() => undefined);
      flights.set(day, one);
      void one
        .finally(() => {
          if (flights.get(day) === one) flights.delete(day);
        })
        .catch(() => undefined);
    }
  }
  return Promise.all(days.map((day) => flights.get(day) as Promise<DayRollup>));
}

// ---- Reading a section over a window.

interface Part {
  dayStart: number;
  /** The section as stored (JSON text). */
  text: string;
  /** The hours read from this part: whole hours of the window; an edge's records are all inside it. */
  from: number;
  to: number;
}

/** An entry of a section inside the window: the start of its hour (or day) in ms, its reason, key and values. */
type Visit = (hourAt: number, r: string, k: string, column: (j: number) => number, dayStart: number) => void;

/**
 * The section's entries over the window, from the rollups (refreshed, and built where missing, first) and the
 * records of its edges: the days inside the window whole, the days it starts or ends in (or every day, with
 * `hours`) by hour.
 */
async function visitSection(
  models: Models,
  window: AnalyticsWindow,
  name: SectionName,
  visit: Visit,
  options: { hours?: boolean } = {},
): Promise<void> {
  const from = window.from.getTime();
  const to = window.to.getTime();
  const fromHour = Math.ceil(from / HOUR_MS) * HOUR_MS;
  const toHour = Math.floor(to / HOUR_MS) * HOUR_MS;
  const edges: [number, number][] =
    fromHour >= toHour
      ? [[from, to]]
      : [
          ...(from < fromHour ? [[from, fromHour] as [number, number]] : []),
          ...(toHour < to ? [[toHour, to] as [number, number]] : []),
        ];
  const parts: Part[] = [];
  if (fromHour < toHour) {
    const firstAt = (await refresh(models)).getTime();
    const whole: string[] = [];
    const split: string[] = [];
    // Only days that can hold records: none before the first was asked, none yet after now (a record asked
    // in a day to come is a change the refresh then finds, and builds).
    const first = Math.max(Math.floor(fromHour / DAY_MS), Math.floor(firstAt / DAY_MS)) * DAY_MS;
    const last = Math.min(toHour, Date.now() + CHANGE_MARGIN_MS);
    for (let day = first; day < last; day += DAY_MS) {
      const inside = day >= fromHour && day + DAY_MS <= toHour && !options.hours;
      (inside ? whole : split).push(dayOf(day));
    }
    const hourly = byHour(name);
    const read = async (days: string[], field: StoredName) =>
      days.length === 0
        ? []
        : models.AnalyticsRollup.find({ _id: { $in: days }, v: ROLLUP_VERSION }, { [field]: 1 }).lean<
            ({ _id: string } & Partial<Record<StoredName, string>>)[]
          >();
    const [wholeDays, splitDays] = await Promise.all([read(whole, name), read(split, hourly)]);
    const found = new Set([...wholeDays, ...splitDays].map((rollup) => rollup._id));
    const built = await buildMissing(
      models,
      [...whole, ...split].filter((day) => !found.has(day)),
    );
    const wholeSet = new Set(whole);
    for (const rollup of [...wholeDays, ...splitDays, ...built]) {
      const text = rollup[wholeSet.has(rollup._id) ? name : hourly];
      if (text)
        parts.push({ dayStart: Date.parse(`${rollup._id}T00:00:00Z`), text, from: fromHour, to: toHour });
    }
  }
  if (edges.length) {
    const rollups = await rollupsOfRecords(models, edges, new Date(), window.reasonCode);
    for (const rollup of rollups.values()) {
      parts.push({
        dayStart: Date.parse(`${rollup._id}T00:00:00Z`),
        text: rollup[byHour(name)],
        from: -Infinity,
        to: Infinity,
      });
    }
  }
  for (const { dayStart, text, from: partFrom, to: partTo } of parts) {
    const section = JSON.parse(text) as StoredSection;
    const { h, k, n, reasons } = section;
    section.r.forEach((at, i) => {
      const r = reasons[at] ?? '';
      const hourAt = dayStart + (h?.[i] ?? 0) * HOUR_MS;
      if (hourAt < partFrom || hourAt >= partTo || (window.reasonCode && r !== window.reasonCode)) return;
      visit(hourAt, r, k[i] ?? '', (j) => n[j]?.[i] ?? 0, dayStart);
    });
  }
}

/** Sums a section's columns per key over the window. */
async function summed(
  models: Models,
  window: AnalyticsWindow,
  name: Exclude<SectionName, 'approvals'>,
  keyOf: (r: string, k: string) => string = (_r, k) => k,
): Promise<Map<string, number[]>> {
  const sums = new Map<string, number[]>();
  const columns = SECTIONS[name].length;
  await visitSection(models, window, name, (_hourAt, r, k, column) => {
    const key = keyOf(r, k);
    let sum = sums.get(key);
    if (!sum) sums.set(key, (sum = new Array<number>(columns).fill(0)));
    for (let j = 0; j < columns; j += 1) sum[j] = (sum[j] ?? 0) + column(j);
  });
  return sums;
}

const counted = <Key>(
  _id: Key,
  [cancellations = 0, completed = 0, running = 0]: number[],
): CountedGroup<Key> => ({
  _id,
  cancellations,
  completed,
  running,
});

// ---- The figures, as models/analytics.ts computes them per record.

export async function cancellationsByReason(models: Models, window: AnalyticsWindow): Promise<ReasonRow[]> {
  const sums = await summed(models, window, 'outcomes', (r) => r);
  return reasonRows([...sums].map(([reason, sum]) => counted(reason as ReasonCode, sum)));
}

export async function cancellationsOverTime(
  models: Models,
  window: ResolvedWindow,
  granularity: AnalyticsGranularity,
): Promise<PeriodRow[]> {
  // A local day that starts inside an hour splits that hour's entries: only the records know which side.
  if (window.offsetMs % HOUR_MS !== 0) return perRecordOverTime(models, window, granularity);
  const periods = periodsOf(window, granularity);
  const sums = new Map<number, number[]>();
  // Days from midnight UTC can be read whole; other local days need the hours.
  const hours = window.offsetMs !== 0;
  await visitSection(
    models,
    window,
    'outcomes',
    (hourAt, _r, _k, column) => {
      const local = hourAt + window.offsetMs;
      const day = Math.floor(local / DAY_MS);
      const date = new Date(local);
      const key =
        granularity === 'day'
          ? day
          : granularity === 'week'
            ? day - ((day + 3) % 7)
            : date.getUTCFullYear() * 100 + date.getUTCMonth() + 1;
      const sum = sums.get(key) ?? [0, 0, 0];
      sums.set(
        key,
        [0, 1, 2].map((j) => (sum[j] ?? 0) + column(j)),
      );
    },
    { hours },
  );
  return periodRows(
    periods,
    granularity,
    [...sums].map(([key, sum]) => counted(key, sum)),
  );
}

export async function cancellationsByProduct(
  models: Models,
  window: AnalyticsWindow,
  limit: number,
): Promise<ProductRow[]> {
  const sums = await summed(models, window, 'products');
  const groups: ProductGroup[] = [...sums].map(
    ([key, [cancellations = 0, completed = 0, units = 0, amount = 0]]) => ({
      _id: key,
      cancellations,
      completed,
      unitsCancelled: units,
      amountMinor: amount,
    }),
  );
  groups.sort(
    (a, b) => b.cancellations - a.cancellations || b.unitsCancelled - a.unitsCancelled || byKey(a._id, b._id),
  );
  return productRows(models, groups.slice(0, limit));
}

export async function cancellationsByCustomer(
  models: Models,
  window: AnalyticsWindow,
  limit: number,
): Promise<CustomerRow[]> {
  const sums = await summed(models, window, 'customers');
  return [...sums]
    .map(([customerId, sum]) => counted(customerId, sum))
    .sort((a, b) => b.cancellations - a.cancellations || byKey(a._id, b._id))
    .slice(0, limit)
    .map(customerRow);
}

export async function repeatCancellers(
  models: Models,
  window: AnalyticsWindow,
  options: { minimum: number; limit: number },
): Promise<{ rows: RepeatCancellerRow[]; summary: RepeatCancellersSummary }> {
  // Instants as numbers while summing: tens of thousands of customers over a year, Dates only for the rows.
  type Customer = Omit<CustomerGroup, 'firstAt' | 'lastAt'> & { firstAt: number; lastAt: number };
  const customers = new Map<string, Customer>();
  await visitSection(models, window, 'customers', (_hourAt, r, k, column, dayStart) => {
    const firstAt = dayStart + column(3);
    const lastAt = dayStart + column(4);
    const before = customers.get(k);
    if (!before) {
      customers.set(k, {
        _id: k,
        cancellations: column(0),
        completed: column(1),
        firstAt,
        lastAt,
        reasons: [r as ReasonCode],
      });
      return;
    }
    before.cancellations += column(0);
    before.completed += column(1);
    before.firstAt = Math.min(before.firstAt, firstAt);
    before.lastAt = Math.max(before.lastAt, lastAt);
    if (!before.reasons.includes(r as ReasonCode)) before.reasons.push(r as ReasonCode);
  });
  const repeat = [...customers.values()].filter((customer) => customer.cancellations >= options.minimum);
  return {
    summary: { customers: customers.size, repeatCustomers: repeat.length },
    rows: repeat
      .sort((a, b) => b.cancellations - a.cancellations || byKey(a._id, b._id))
      .slice(0, options.limit)
      .map((customer) =>
        repeatCancellerRow({
          ...customer,
          firstAt: new Date(customer.firstAt),
          lastAt: new Date(customer.lastAt),
        }),
      ),
  };
}

export async function cancellationsByDepartment(
  models: Models,
  window: AnalyticsWindow,
): Promise<DepartmentRow[]> {
  const sums = await summed(models, window, 'departments');
  return departmentRows(
    models,
    [...sums].map(([key, sum]) => counted(JSON.parse(key) as DepartmentKey, sum)),
  );
}

export async function cancellationsByChannel(models: Models, window: AnalyticsWindow): Promise<ChannelRow[]> {
  const sums = await summed(models, window, 'channels');
  return channelRows([...sums].map(([channel, sum]) => counted(channel as ChannelRow['channel'], sum)));
}

export async function refundsByCurrency(models: Models, window: AnalyticsWindow): Promise<RefundRow[]> {
  const sums = await summed(models, window, 'refunds');
  return [...sums]
    .map(([currency, [cancellations = 0, refundedMinor = 0]]): RefundGroup => ({
      _id: currency,
      cancellations,
      refundedMinor,
    }))
    .sort((a, b) => byKey(a._id, b._id))
    .map(refundRow);
}

export async function approvalTimes(models: Models, window: AnalyticsWindow): Promise<ApprovalRow[]> {
  const groups = new Map<string, ApprovalGroup & { totalMs: number }>();
  await visitSection(models, window, 'approvals', (_hourAt, _r, k, column) => {
    let group = groups.get(k);
    if (!group) {
      group = {
        _id: k as RiskLevel | 'unknown',
        approvals: 0,
        rejected: 0,
        escalations: 0,
        averageMs: 0,
        maxMs: column(2),
        durations: [],
        totalMs: 0,
      };
      groups.set(k, group);
    }
    group.approvals += 1;
    group.rejected += column(0);
    group.escalations += column(1);
    group.totalMs += column(2);
    group.maxMs = Math.max(group.maxMs, column(2));
    group.durations.push(column(2));
  });
  return approvalRows(
    [...groups.values()].map((group) => ({ ...group, averageMs: group.totalMs / group.approvals })),
  );
}

export async function stateTimes(models: Models, window: AnalyticsWindow): Promise<StateTimeRow[]> {
  const groups = new Map<string, StateGroup>();
  await visitSection(models, window, 'states', (_hourAt, _r, k, column) => {
    const group = groups.get(k);
    if (!group) {
      groups.set(k, { _id: k, stays: column(0), totalMs: column(1), maxMs: column(2) });
      return;
    }
    group.stays += column(0);
    group.totalMs += column(1);
    group.maxMs = Math.max(group.maxMs, column(2));
  });
  return [...groups.values()].sort((a, b) => b.totalMs - a.totalMs || byKey(a._id, b._id)).map(stateTimeRow);
}

export async function restockedStock(models: Models, window: AnalyticsWindow): Promise<RestockedRow[]> {
  // Movements have no reason: the figure takes none.
  const sums = await summed(models, { from: window.from, to: window.to }, 'restocked');
  return restockedRows(
    models,
    [...sums].map(([sku, [releasedUnits = 0, returnedUnits = 0]]): RestockedGroup => ({
      _id: sku,
      releasedUnits,
      returnedUnits,
    })),
  );
}

/**
 * Builds every day not stored yet, from the first record asked to today. The API starts it in the background
 * (api/main.ts, scripts/start.ts), so that the first figures read after an upgrade or a load (20 s for a year
 * of 100,000 records on the embedded database) do not wait for it; a figure read meanwhile joins the days
 * under way. Answers how many days it built.
 */
export async function buildAnalyticsRollups(models: Models): Promise<number> {
  const firstAt = (await refresh(models)).getTime();
  const days: string[] = [];
  for (let day = Math.floor(firstAt / DAY_MS) * DAY_MS; day < Date.now(); day += DAY_MS)
    days.push(dayOf(day));
  const stored = await models.AnalyticsRollup.find(
    { _id: { $in: days }, v: ROLLUP_VERSION },
    { _id: 1 },
  ).lean<{ _id: string }[]>();
  const found = new Set(stored.map((rollup) => rollup._id));
  const missing = days.filter((day) => !found.has(day));
  await buildMissing(models, missing);
  return missing.length;
}
