// What the analytics read of one cancellation's timeline and lines, computed once when its database copy is
// written (issue #14), so that a figure's aggregation reads a few numbers per record instead of walking the
// timeline ($map/$reduce over $arrayElemAt) or merging lines per SKU ($unwind, then a $group per cancellation).
//
// Why per record, and computed here: the embedded mongo-java-server runs every pipeline in Java over every
// document, and at 100,000 cancellations the per-document expression work of those stages was what cost (45 s
// for the time in each state, 20 s for the products: bench/results/…-analytics.md). The summary rides on the
// write that already brings the copy up to date (activities/record.activities.ts: same update, no extra round
// trip, issue #13); records written before it existed get it from `backfillAnalyticsSummaries`, which the API
// runs when it starts (api/main.ts), so `npm start` on an existing database answers the same figures.
//
// This is the one home of these rules: the stays of each state, the approval wait, a cancellation's units per
// SKU. models/analytics.ts groups what this computes; the bench's generator and the backfill call it too.
import type { Models } from './index';
import { nextRevision } from './revision';

/** Bumped when what the summary holds changes: the backfill then recomputes every record's. */
export const ANALYTICS_SUMMARY_VERSION = 2;

/** The awaiting-approval states all start with this (`awaitingApproval.waitingForDecision`, …). */
export const APPROVAL_STATE = 'awaitingApproval';

/** A cancellation's stays in one state (its top level) that ended: the next timeline entry came. */
interface StateStays {
  state: string;
  stays: number;
  totalMs: number;
  maxMs: number;
}

/**
 * The units and sales value of one SKU across the cancellation's lines (a cancellation counts once per SKU,
 * however many of its lines carry it). `key` is what the products figure groups and breaks ties by: the SKU,
 * U+0001, the order's currency. A string because mongo-java-server groups by a string key several times faster
 * than by a document ({sku, currency}); U+0001 sorts before any character of a SKU, so the keys sort as the
 * SKUs, then the currencies, do.
 */
interface ProductSummary {
  key: string;
  sku: string;
  units: number;
  amountMinor: number;
}

/**
 * As stored: each list as parallel arrays of plain values (entry i of each is one state's, or one SKU's), not
 * an array of sub-documents. The figures $unwind the first array with its index and read the others at that
 * index: mongo-java-server copies the unwound array into every document $unwind makes, and copying an array of
 * sub-documents cost several times what copying one of strings and numbers does (measured at 30,000 records:
 * 3.4–11.6 s against 2.4–2.7 s for the time in each state, on a loaded machine).
 */
export interface AnalyticsSummary {
  v: number;
  stays: { states: string[]; counts: number[]; totalMs: number[]; maxMs: number[] };
  /** Time spent in the approval states; absent for a cancellation that never awaited approval. */
  approvalWaitMs?: number;
  products: { keys: string[]; units: number[]; amountMinor: number[] };
}

interface TimelineEntry {
  state?: string | null;
  at?: Date | string | null;
}
interface Line {
  sku?: string | null;
  quantity?: number | null;
  amountMinor?: number | null;
}

/** What a record holds that the summary is computed from. */
export interface SummarySource {
  timeline?: readonly TimelineEntry[] | null;
  lines?: readonly Line[] | null;
  currency?: string | null;
}

/** The top level of a state: awaitingApproval.waitingForDecision counts as awaitingApproval. */
const topLevel = (state: string) => state.split('.')[0] ?? state;

const KEY_SEPARATOR = '\u0001';
export const productKey = (sku: string, currency: string) => `${sku}${KEY_SEPARATOR}${currency}`;

/** The product key's SKU and currency. */
export function fromProductKey(key: string): { sku: string; currency: string } {
  const separator = key.lastIndexOf(KEY_SEPARATOR);
  return { sku: key.slice(0, separator), currency: key.slice(separator + 1) };
}

export function analyticsSummaryOf(record: SummarySource): AnalyticsSummary {
  const timeline = record.timeline ?? [];
  const stays = new Map<string, StateStays>();
  let approvalWaitMs: number | undefined;
  timeline.forEach((entry, index) => {
    const state = entry.state ?? '';
    const approval = state.startsWith(APPROVAL_STATE);
    if (approval) approvalWaitMs ??= 0;
    const next = timeline[index + 1];
    // Each stay lasts until the next entry of the timeline; the last one has not ended.
    if (!next || entry.at == null || next.at == null) return;
    const ms = new Date(next.at).getTime() - new Date(entry.at).getTime();
    const top = topLevel(state);
    const before = stays.get(top);
    stays.set(top, {
      state: top,
      stays: (before?.stays ?? 0) + 1,
      totalMs: (before?.totalMs ?? 0) + ms,
      maxMs: Math.max(before?.maxMs ?? ms, ms),
    });
    if (approval) approvalWaitMs = (approvalWaitMs ?? 0) + ms;
  });
  const currency = record.currency ?? '';
  const products = new Map<string, ProductSummary>();
  for (const line of record.lines ?? []) {
    const sku = line.sku ?? '';
    const before = products.get(sku);
    products.set(sku, {
      key: productKey(sku, currency),
      sku,
      units: (before?.units ?? 0) + (line.quantity ?? 0),
      amountMinor: (before?.amountMinor ?? 0) + (line.amountMinor ?? 0),
    });
  }
  const stayList = [...stays.values()];
  const productList = [...products.values()];
  return {
    v: ANALYTICS_SUMMARY_VERSION,
    stays: {
      states: stayList.map((stay) => stay.state),
      counts: stayList.map((stay) => stay.stays),
      totalMs: stayList.map((stay) => stay.totalMs),
      maxMs: stayList.map((stay) => stay.maxMs),
    },
    ...(approvalWaitMs === undefined ? {} : { approvalWaitMs }),
    products: {
      keys: productList.map((product) => product.key),
      units: productList.map((product) => product.units),
      amountMinor: productList.map((product) => product.amountMinor),
    },
  };
}

/** The backfill's marker (models/analytics-rollup.model.ts): every record had this version's summary. */
const SUMMARIES_STATE_ID = 'summaries';

/**
 * The migration of records written before the summary existed, or with an older version of it: each gets
 * its summary computed from what it holds. Run by the API when it starts (api/main.ts), so `npm start` on an
 * existing database answers the figures as before. Once a pass finds every record current it leaves a marker
 * of the version, and later starts read only the marker instead of every record (issue #14): records are
 * written with the summary of the code that writes them, so run the worker of a new version before its API.
 *
 * Each write is guarded by the revision read (`updatedAt`, the unique index with `cancellationId`): a record the
 * flow wrote meanwhile already carries its own, newer summary. It moves the revision forward like any write,
 * so the analytics' rollups (models/analytics-rollups.ts) compute that record's day again.
 */
export async function backfillAnalyticsSummaries(models: Models, batchSize = 1_000): Promise<number> {
  const marker = await models.AnalyticsState.findById(SUMMARIES_STATE_ID).lean();
  if (marker?.v === ANALYTICS_SUMMARY_VERSION) return 0;
  let written = 0;
  for (;;) {
    const records = await models.Cancellation.find(
      { 'analytics.v': { $ne: ANALYTICS_SUMMARY_VERSION } },
      { cancellationId: 1, updatedAt: 1, timeline: 1, lines: 1, currency: 1 },
    )
      .limit(batchSize)
      .lean();
    if (records.length === 0) break;
    const result = await models.Cancellation.bulkWrite(
      records.map((record) => ({
        updateOne: {
          filter: { cancellationId: record.cancellationId, updatedAt: record.updatedAt },
          update: {
            $set: { analytics: analyticsSummaryOf(record), updatedAt: nextRevision(record.updatedAt) },
          },
          timestamps: false,
        },
      })),
      { ordered: false },
    );
    written += result.modifiedCount;
    // Nothing matched: every record of the batch changed as it was read; the next start takes them up.
    if (result.matchedCount === 0) return written;
  }
  await models.AnalyticsState.updateOne(
    { _id: SUMMARIES_STATE_ID },
    { $set: { v: ANALYTICS_SUMMARY_VERSION } },
    { upsert: true },
  );
  return written;
}
