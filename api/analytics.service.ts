// The analytics' figures as the API answers them (R22, R23, R29): a query of client/contract.ts in, the
// figure's answer out, from the daily rollups of models/analytics-rollups.ts (the purchase orders' figure from
// its aggregation in models/analytics.ts); and the same answer as CSV. The
// JSON routes (./analytics.routes.ts) and the console's page (./console/analytics.routes.ts) both use it.
import type { z } from 'zod';
import {
  analyticsRows,
  type analyticsQueries,
  type AnalyticsAnswer,
  type AnalyticsFigure,
} from '../client/contract';
import { toCsv, type CsvValue } from '../lib/csv';
import type { Models } from '../models';
import {
  normalisedOffset,
  offsetMsOf,
  resolveWindow,
  supplierReductions,
  type ResolvedWindow,
} from '../models/analytics';
// The cancellations' and stock ledger's figures from the daily rollups (issue #14); models/analytics.ts
// computes the same per record, the reference the rollups are tested against.
import {
  approvalTimes,
  cancellationsByChannel,
  cancellationsByCustomer,
  cancellationsByDepartment,
  cancellationsByProduct,
  cancellationsByReason,
  cancellationsOverTime,
  refundsByCurrency,
  repeatCancellers,
  restockedStock,
  stateTimes,
} from '../models/analytics-rollups';

export type AnalyticsCriteria<F extends AnalyticsFigure> = z.output<(typeof analyticsQueries)[F]>;

/** What a figure computes beside the window every answer carries. */
type Computed<F extends AnalyticsFigure> = Omit<AnalyticsAnswer<F>, 'from' | 'to' | 'utcOffset'>;

interface FigureDefinition<F extends AnalyticsFigure> {
  /** The endpoint's summary in the OpenAPI document. */
  summary: string;
  compute(models: Models, window: ResolvedWindow, criteria: AnalyticsCriteria<F>): Promise<Computed<F>>;
}

export const FIGURES: { [F in AnalyticsFigure]: FigureDefinition<F> } = {
  reasons: {
    summary: 'Cancellations by reason (R22), every reason, with what became of them',
    compute: async (models, window) => ({ rows: await cancellationsByReason(models, window) }),
  },
  'over-time': {
    summary: 'Cancellations per day, week (from Monday) or month of the window, empty periods included (R22)',
    compute: async (models, window, criteria) => ({
      granularity: criteria.granularity,
      rows: await cancellationsOverTime(models, window, criteria.granularity),
    }),
  },
  products: {
    summary:
      'The SKUs cancelled most: cancellations, and the units and sales value the completed ones took back',
    compute: async (models, window, criteria) => ({
      rows: await cancellationsByProduct(models, window, criteria.limit),
    }),
  },
  customers: {
    summary: 'The customers who cancelled most, with what became of their cancellations',
    compute: async (models, window, criteria) => ({
      rows: await cancellationsByCustomer(models, window, criteria.limit),
    }),
  },
  'repeat-cancellers': {
    summary: 'Customers with at least `minimum` cancellations in the window (R29), and how many there are',
    compute: async (models, window, criteria) =>
      repeatCancellers(models, window, { minimum: criteria.minimum, limit: criteria.limit }),
  },
  departments: {
    summary: "Cancellations by the requester's department when they asked (R24)",
    compute: async (models, window) => ({ rows: await cancellationsByDepartment(models, window) }),
  },
  channels: {
    summary: 'Cancellations by how they were asked for: the console, the API as a person, a system’s API key',
    compute: async (models, window) => ({ rows: await cancellationsByChannel(models, window) }),
  },
  refunds: {
    summary:
      'Money refunded per currency (minor units, in the order’s currency), and by how many cancellations',
    compute: async (models, window) => ({ rows: await refundsByCurrency(models, window) }),
  },
  restocked: {
    summary:
      'Stock back from cancellations in the window per SKU (released reservations, returned parcels), at cost',
    compute: async (models, window) => ({ rows: await restockedStock(models, window) }),
  },
  suppliers: {
    summary:
      'Purchase orders reduced for cancellations in the window, per supplier: units, value, changes told (R29)',
    compute: async (models, window) => ({ rows: await supplierReductions(models, window) }),
  },
  approvals: {
    summary:
      'How long ended approvals waited, per risk level: average, median, 90th percentile, longest (ms)',
    compute: async (models, window) => ({ rows: await approvalTimes(models, window) }),
  },
  'state-times': {
    summary: 'Time spent in each state (its top level), over the stays that ended (ms)',
    compute: async (models, window) => ({ rows: await stateTimes(models, window) }),
  },
};

/** One figure over the window the criteria give (`now`: the end of a window without `to`). */
export async function figureAnswer<F extends AnalyticsFigure>(
  models: Models,
  figure: F,
  criteria: AnalyticsCriteria<F>,
  now: Date = new Date(),
): Promise<AnalyticsAnswer<F>> {
  const window = resolveWindow(criteria, now);
  const definition = FIGURES[figure] as FigureDefinition<F>;
  const computed = await definition.compute(models, window, criteria);
  return {
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    utcOffset: normalisedOffset(criteria.utcOffset),
    ...computed,
  } as AnalyticsAnswer<F>;
}

/** The figure's rows as CSV: one column per field of its rows, in the contract's order. */
export function figureCsv<F extends AnalyticsFigure>(figure: F, answer: AnalyticsAnswer<F>): string {
  const columns = Object.keys(analyticsRows[figure].shape);
  return toCsv(columns, answer.rows as readonly Record<string, CsvValue>[]);
}

/** A file name that says what the CSV holds: cancelflow-reasons-2026-01-01-2026-03-31.csv. */
export function csvFileName(
  figure: AnalyticsFigure,
  answer: { from: string; to: string; utcOffset: string },
): string {
  // The window's first and last days as its own offset writes them.
  const day = (ms: number) => new Date(ms + offsetMsOf(answer.utcOffset)).toISOString().slice(0, 10);
  return `cancelflow-${figure}-${day(Date.parse(answer.from))}-${day(Date.parse(answer.to) - 1)}.csv`;
}
