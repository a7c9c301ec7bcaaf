// The queues of the people who act on a stopped cancellation (issue #14): finance's refunds to settle by hand,
// the warehouse's goods expected back, ops' cancellations needing attention. Each is the list the API gives
// (`GET /v1/cancellations?state=…`, the same service), with what the page adds: since when each has waited, by
// when it is due, and whether that is past.
//
// The due dates: the goods' return deadline is the policy's (`afterShipment.returnDeadlineMs`, from when the
// wait for the goods began) and the workflow's own `returnOverdue` says when it passed; a refund to settle and a
// cancellation needing attention wait for a person without a deadline in the workflow, so their due dates are
// the console's service targets (QUEUE_TARGETS), for the people to see what is late, not rules of the workflow.
import { cancellationListQuery, goodsView, type CancellationSummary } from '../../client/contract';
import type { PersonRole } from '../../contracts/books.contract';
import type { CancellationPolicy } from '../../contracts/policy.contract';
import type { Models } from '../../models';
import { shipmentsOf } from '../../models/order-links';
import type { CancellationService, Lister } from '../cancellation.service';

export const QUEUE_NAMES = ['settlements', 'returns', 'attention'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** Each queue: the state its cancellations wait in, and the role that works it. */
export const QUEUES: Record<QueueName, { state: string; role: PersonRole }> = {
  settlements: { state: 'awaitingSettlement', role: 'finance_clerk' },
  returns: { state: 'awaitingReturn', role: 'warehouse_clerk' },
  attention: { state: 'needsAttention', role: 'ops' },
};

/** How long finance and ops should take, from when a cancellation started waiting for them. */
export interface QueueTargets {
  settlementMs: number;
  attentionMs: number;
}

export const QUEUE_TARGETS: QueueTargets = {
  settlementMs: 2 * 24 * 3_600_000,
  attentionMs: 4 * 3_600_000,
};

/** How many a queue page shows (the count says how many wait in all). */
export const QUEUE_PAGE = 100;

/** A parcel the warehouse expects back, as the books know it. */
export interface ExpectedParcel {
  shipmentId: string;
  carrier: string;
  trackingNumber?: string;
  status: string;
  warehouse: string;
  lines: { lineId: string; sku: string; quantity: number }[];
}

export interface QueueItem {
  summary: CancellationSummary;
  /** When it started waiting in this queue's state (this time: it may have been there before). */
  since: Date;
  dueBy: Date;
  overdue: boolean;
  /** Returns: the parcels still expected, and those the warehouse confirmed. */
  parcels?: ExpectedParcel[];
  returned?: { shipmentId: string; by: string }[];
}

type TimelineEntry = { state?: string | null; at?: Date | null };

/**
 * When the cancellation entered the state it is in now (its top level), this time: the first entry of the
 * timeline's last run of that state; `exactly` prefers the entry of that very sub-state within the run.
 */
export function waitingSince(
  timeline: readonly TimelineEntry[],
  state: string,
  fallback: Date,
  exactly?: string,
): Date {
  const top = (entry: TimelineEntry) => (entry.state ?? '').split('.')[0];
  let start = timeline.length;
  while (start > 0 && top(timeline[start - 1] ?? {}) === state) start -= 1;
  const run = timeline.slice(start);
  const entry = (exactly && run.find((candidate) => candidate.state === exactly)) || run[0];
  return entry?.at ?? fallback;
}

export async function loadQueue(
  deps: {
    models: Models;
    cancellations: Pick<CancellationService, 'list'>;
    policy: CancellationPolicy;
    targets: QueueTargets;
  },
  name: QueueName,
  lister: Lister,
  now: Date = new Date(),
): Promise<{ items: QueueItem[]; total: number }> {
  const { models, policy, targets } = deps;
  const queue = QUEUES[name];
  // The list route's service and filter: the database copy, by state.
  const page = await deps.cancellations.list(
    cancellationListQuery.parse({ state: queue.state, limit: QUEUE_PAGE }),
    lister,
  );
  const ids = page.items.map((item) => item.cancellationId);
  // Their timelines and goods, by the unique key ($in on a single-field unique index is a lookup, #13).
  const records = ids.length
    ? await models.Cancellation.find(
        { cancellationId: { $in: ids } },
        { cancellationId: 1, timeline: 1, goods: 1, lines: 1 },
      ).lean()
    : [];
  const byId = new Map(records.map((record) => [record.cancellationId, record]));

  const items = await Promise.all(
    page.items.map(async (summary): Promise<QueueItem> => {
      const record = byId.get(summary.cancellationId);
      const timeline = record?.timeline ?? [];
      const fallback = new Date(summary.updatedAt);
      if (name === 'returns') {
        const since = waitingSince(timeline, queue.state, fallback, 'awaitingReturn.waitingForGoods');
        const dueBy = new Date(since.getTime() + policy.afterShipment.returnDeadlineMs);
        const goods = goodsView.safeParse(record?.goods);
        const returned = goods.success ? goods.data.returned : [];
        return {
          summary,
          since,
          dueBy,
          // The workflow's deadline is the truth once it passed; the date is what the policy says now.
          overdue: (goods.success && goods.data.returnOverdue) || dueBy.getTime() < now.getTime(),
          parcels: await expectedParcels(
            models,
            summary.orderNumber,
            (record?.lines ?? []).map((line) => line.lineId ?? ''),
            returned.map((entry) => entry.shipmentId),
          ),
          returned,
        };
      }
      const since = waitingSince(timeline, queue.state, fallback);
      const within = name === 'settlements' ? targets.settlementMs : targets.attentionMs;
      const dueBy = new Date(since.getTime() + within);
      return { summary, since, dueBy, overdue: dueBy.getTime() < now.getTime() };
    }),
  );
  // What is due first comes first.
  items.sort((a, b) => a.dueBy.getTime() - b.dueBy.getTime());
  return { items, total: page.total };
}

/**
 * The parcels of the order that carry the cancelled lines and are not back yet, read through the order by their
 * keys (#13). What the warehouse sees to confirm; the workflow's validator decides which it takes.
 */
async function expectedParcels(
  models: Models,
  orderNumber: string,
  lineIds: string[],
  returned: string[],
): Promise<ExpectedParcel[]> {
  const order = await models.SalesOrder.findOne({ orderNumber }, { shipmentIds: 1 }).lean();
  if (!order) return [];
  const lines = new Set(lineIds);
  const back = new Set(returned);
  const shipments = await shipmentsOf(models, order);
  return shipments
    .filter(
      (shipment) =>
        !back.has(shipment.shipmentId) &&
        shipment.status !== 'returned' &&
        shipment.lines.some((line) => lines.has(line.lineId)),
    )
    .map((shipment) => ({
      shipmentId: shipment.shipmentId,
      carrier: shipment.carrier,
      trackingNumber: shipment.trackingNumber ?? undefined,
      status: shipment.status,
      warehouse: shipment.warehouse,
      lines: shipment.lines.map((line) => ({ lineId: line.lineId, sku: line.sku, quantity: line.quantity })),
    }));
}
