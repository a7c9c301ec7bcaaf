// Purchase orders and cancellation (R27, R29): the units bought for a sales line that is cancelled come off
// the purchase orders raised for it, unless the supplier already shipped them or we received them; those stay
// on order, and the report says where and why.
//
// The purchase orders of a sales order are those it lists (models/order-links.ts). Each changes by one update
// guarded by the revision it was read at, once the operation's key was not found in its adjustments as read
// (the change notes it there, with what it did); every change bumps the revision, so the number and the
// revision are the filter, served by their unique index (issue #13). Several orders change one after the
// other, without a transaction: a retry after a crash part-way, or a repeat, counts what the orders noted
// under the key first and plans only what is left, so units come off once. A concurrent change to an order
// makes the update miss, and the operation plans again from fresh reads.
import { z } from 'zod';
import { CancelflowError } from '../lib/errors';
import {
  distinctLineIds,
  idempotencyKey,
  invalid,
  parseInput,
  requiredText,
  wholeUnits,
} from './books-validation';
import type { Models } from './index';
import { purchaseOrdersOf } from './order-links';
import type {
  PurchaseLine,
  PurchaseOrder,
  PurchaseOrderStatus,
  ReductionRefusal,
} from './purchase-order.model';

type StoredPurchaseOrder = Omit<PurchaseOrder, 'lines'> & { lines: PurchaseLine[]; revision: number };

export interface PurchaseLineReduction {
  poNumber: string;
  poLineId: string;
  salesLineId: string;
  quantity: number;
  statusAfter: PurchaseOrderStatus;
  /** The order was already with the supplier: they must be told of the change. */
  supplierMustBeTold: boolean;
}

export interface PurchaseLineRefusal {
  poNumber: string;
  poLineId: string;
  salesLineId: string;
  /** Units that stay on order. */
  quantity: number;
  reason: ReductionRefusal;
}

export interface PurchaseReductionReport {
  reduced: PurchaseLineReduction[];
  notReduced: PurchaseLineRefusal[];
}

/** Units of a purchase line that can still be cancelled: on order, neither shipped by the supplier nor received. */
export function openQuantity(line: PurchaseLine): number {
  return (
    line.orderedQuantity -
    line.cancelledQuantity -
    Math.max(line.receivedQuantity, line.supplierShippedQuantity)
  );
}

/** The status an order's lines imply; an order still fully open keeps the one it has. */
export function purchaseOrderStatusFor(
  status: PurchaseOrderStatus,
  lines: PurchaseLine[],
): PurchaseOrderStatus {
  if (status === 'cancelled') return status;
  if (lines.every((line) => line.cancelledQuantity >= line.orderedQuantity)) return 'cancelled';
  if (lines.every((line) => line.receivedQuantity + line.cancelledQuantity >= line.orderedQuantity)) {
    return 'received';
  }
  if (lines.some((line) => line.receivedQuantity > 0)) return 'partially_received';
  return status;
}

/** The supplier has the order: a change to it is one they must be told about. */
export const WITH_SUPPLIER: readonly PurchaseOrderStatus[] = ['sent', 'confirmed', 'partially_received'];
// Cheapest to change first: orders not yet with the supplier, then the least advanced.
const PREFERENCE: readonly PurchaseOrderStatus[] = ['draft', 'sent', 'confirmed', 'partially_received'];

function refusalReason(line: PurchaseLine): ReductionRefusal {
  if (line.receivedQuantity === 0 && line.supplierShippedQuantity === 0) return 'purchase_order_closed';
  return line.receivedQuantity >= line.supplierShippedQuantity ? 'received' : 'supplier_shipped';
}

interface PlannedChange {
  po: StoredPurchaseOrder;
  lines: PurchaseLine[];
  changes: { lineId: string; salesLineId: string; quantity: number }[];
  refusals: { lineId: string; salesLineId: string; quantity: number; reason: ReductionRefusal }[];
}

/**
 * Plans the reduction over the orders in preference order: first every unit that can come off, then, for
 * what is left, the units that stay on order and why. Mutates nothing it is given.
 */
function planReduction(
  orders: StoredPurchaseOrder[],
  orderNumber: string,
  remaining: Map<string, number>,
): PlannedChange[] {
  const plans = orders.map<PlannedChange>((po) => ({
    po,
    lines: po.lines.map((line) => ({ ...line, raisedFor: line.raisedFor.map((link) => ({ ...link })) })),
    changes: [],
    refusals: [],
  }));
  const linksTo = (salesLineId: string) =>
    plans.flatMap((plan) =>
      plan.lines.flatMap((line) =>
        line.raisedFor
          .filter((link) => link.orderNumber === orderNumber && link.lineId === salesLineId)
          .map((link) => ({ plan, line, link })),
      ),
    );

  for (const [salesLineId, wanted] of remaining) {
    let left = wanted;
    for (const { plan, line, link } of linksTo(salesLineId)) {
      const quantity = Math.min(left, link.quantity - link.cancelledQuantity, openQuantity(line));
      if (quantity <= 0) continue;
      link.cancelledQuantity += quantity;
      line.cancelledQuantity += quantity;
      plan.changes.push({ lineId: line.lineId, salesLineId, quantity });
      left -= quantity;
    }
    for (const { plan, line, link } of linksTo(salesLineId)) {
      const quantity = Math.min(left, link.quantity - link.cancelledQuantity);
      if (quantity <= 0) continue;
      plan.refusals.push({ lineId: line.lineId, salesLineId, quantity, reason: refusalReason(line) });
      left -= quantity;
    }
  }
  return plans.filter((plan) => plan.changes.length > 0 || plan.refusals.length > 0);
}

const reduceInput = z.object({
  idempotencyKey,
  orderNumber: requiredText,
  /** The cancelled sales lines, each with the units of it no longer wanted from suppliers. */
  lines: z
    .array(z.object({ lineId: requiredText, quantity: wholeUnits }))
    .min(1, 'name at least one line')
    .superRefine(distinctLineIds),
  actor: requiredText,
  reason: requiredText.optional(),
});
export type ReducePurchaseOrdersInput = z.input<typeof reduceInput>;

/**
 * Reduces, or cancels when nothing is left, the purchase-order lines raised for the given cancelled sales
 * lines. Never takes a line below what the supplier shipped or we received. Returns what came off and what
 * stayed; a repeat with the same key changes nothing and returns the same report.
 */
export async function reducePurchaseOrdersForCancelledLines(
  models: Models,
  input: ReducePurchaseOrdersInput,
): Promise<PurchaseReductionReport> {
  const request = parseInput(reduceInput, input);
  const { PurchaseOrder, SalesOrder } = models;
  const order = await SalesOrder.findOne(
    { orderNumber: request.orderNumber },
    { lines: 1, purchaseOrderNumbers: 1 },
  ).lean();
  if (!order) {
    throw new CancelflowError('not_found', `order ${request.orderNumber} does not exist`, {
      field: 'orderNumber',
    });
  }
  for (const [index, wanted] of request.lines.entries()) {
    const line = order.lines.find((candidate) => candidate.lineId === wanted.lineId);
    if (!line)
      throw invalid(`lines[${index}].lineId`, `line ${wanted.lineId} is not on ${request.orderNumber}`);
    if (wanted.quantity > line.quantity) {
      throw invalid(
        `lines[${index}].quantity`,
        `line ${wanted.lineId} has ${line.quantity} units, not ${wanted.quantity}`,
      );
    }
  }

  for (;;) {
    // Those the order lists, by key (issue #13); their lines say which are raised for which sales line.
    const orders = (await purchaseOrdersOf(models, order, {
      createdAt: -1,
      poNumber: 1,
    })) as StoredPurchaseOrder[];
    const report: PurchaseReductionReport = { reduced: [], notReduced: [] };
    const remaining = new Map(request.lines.map((line) => [line.lineId, line.quantity]));
    const record = (
      po: StoredPurchaseOrder,
      done: Pick<PlannedChange, 'changes' | 'refusals'>,
      statusBefore: PurchaseOrderStatus,
      statusAfter: PurchaseOrderStatus,
    ) => {
      for (const change of done.changes) {
        report.reduced.push({
          poNumber: po.poNumber,
          poLineId: change.lineId,
          salesLineId: change.salesLineId,
          quantity: change.quantity,
          statusAfter,
          supplierMustBeTold: WITH_SUPPLIER.includes(statusBefore),
        });
      }
      for (const refusal of done.refusals) {
        report.notReduced.push({
          poNumber: po.poNumber,
          poLineId: refusal.lineId,
          salesLineId: refusal.salesLineId,
          quantity: refusal.quantity,
          reason: refusal.reason,
        });
      }
      for (const entry of [...done.changes, ...done.refusals]) {
        remaining.set(entry.salesLineId, (remaining.get(entry.salesLineId) ?? 0) - entry.quantity);
      }
    };

    // What this key already did counts first.
    const untouched: StoredPurchaseOrder[] = [];
    for (const po of orders) {
      const done = po.adjustments.find((adjustment) => adjustment.key === request.idempotencyKey);
      if (!done) {
        untouched.push(po);
        continue;
      }
      const sameRequest =
        done.kind === 'reduce_for_cancellation' &&
        done.orderNumber === request.orderNumber &&
        done.requested?.length === request.lines.length &&
        request.lines.every((line) =>
          done.requested?.some((asked) => asked.lineId === line.lineId && asked.quantity === line.quantity),
        );
      if (!sameRequest) {
        throw new CancelflowError(
          'conflict',
          `idempotency key ${request.idempotencyKey} was already used for another change to ${po.poNumber}`,
          { field: 'idempotencyKey' },
        );
      }
      record(
        po,
        {
          changes: done.changes.map((change) => ({ ...change, salesLineId: change.salesLineId ?? '' })),
          refusals: done.refusals,
        },
        done.statusBefore,
        done.statusAfter,
      );
    }
    const preference = (po: StoredPurchaseOrder) => {
      const rank = PREFERENCE.indexOf(po.status);
      return rank === -1 ? PREFERENCE.length : rank;
    };
    untouched.sort((a, b) => preference(a) - preference(b));

    let missed = false;
    for (const plan of planReduction(untouched, request.orderNumber, remaining)) {
      const statusAfter = purchaseOrderStatusFor(plan.po.status, plan.lines);
      // The key was looked for on the order as read, and every change bumps the revision: by the two alone,
      // which their unique index serves (issue #13).
      const written = await PurchaseOrder.updateOne(
        { poNumber: plan.po.poNumber, revision: plan.po.revision },
        {
          $set: { lines: plan.lines, status: statusAfter },
          $inc: { revision: 1 },
          $push: {
            adjustments: {
              key: request.idempotencyKey,
              kind: 'reduce_for_cancellation',
              at: new Date(),
              actor: request.actor,
              reason: request.reason,
              orderNumber: request.orderNumber,
              requested: request.lines,
              changes: plan.changes,
              refusals: plan.refusals,
              statusBefore: plan.po.status,
              statusAfter,
            },
          },
        },
      );
      if (written.modifiedCount === 0) {
        missed = true; // changed since it was read: plan again from what is there now
        break;
      }
      record(plan.po, plan, plan.po.status, statusAfter);
    }
    if (!missed) return report;
  }
}

const shipmentNoticeInput = z.object({
  idempotencyKey,
  poNumber: requiredText,
  lineId: requiredText,
  quantity: wholeUnits,
  actor: requiredText,
  reason: requiredText.optional(),
});
export type SupplierShipmentInput = z.input<typeof shipmentNoticeInput>;

/**
 * Records the supplier's notice that units of a line were dispatched: from then on they cannot be cancelled.
 * A notice for more than is still on order (the supplier shipped what we had cancelled) is refused with
 * `conflict`, for a person to settle with the supplier.
 */
export async function recordSupplierShipment(
  models: Models,
  input: SupplierShipmentInput,
): Promise<'recorded' | 'already_recorded'> {
  const notice = parseInput(shipmentNoticeInput, input);
  const { PurchaseOrder } = models;
  for (;;) {
    const po = await PurchaseOrder.findOne({ poNumber: notice.poNumber }).lean<StoredPurchaseOrder>();
    if (!po)
      throw new CancelflowError('not_found', `no purchase order ${notice.poNumber}`, { field: 'poNumber' });
    const earlier = po.adjustments.find((adjustment) => adjustment.key === notice.idempotencyKey);
    if (earlier) {
      const change = earlier.changes[0];
      if (
        earlier.kind === 'supplier_shipped' &&
        change?.lineId === notice.lineId &&
        change.quantity === notice.quantity
      ) {
        return 'already_recorded';
      }
      throw new CancelflowError(
        'conflict',
        `idempotency key ${notice.idempotencyKey} was already used for another change to ${po.poNumber}`,
        { field: 'idempotencyKey' },
      );
    }
    const lines = po.lines.map((line) => ({ ...line }));
    const line = lines.find((candidate) => candidate.lineId === notice.lineId);
    if (!line) throw invalid('lineId', `line ${notice.lineId} is not on ${po.poNumber}`);
    const onOrder = line.orderedQuantity - line.cancelledQuantity;
    if (line.supplierShippedQuantity + notice.quantity > onOrder) {
      throw new CancelflowError(
        'conflict',
        `${po.poNumber} line ${line.lineId}: ${onOrder} on order, ${line.supplierShippedQuantity} already shipped; ` +
          `a notice of ${notice.quantity} more needs settling with the supplier`,
        { field: 'quantity' },
      );
    }
    line.supplierShippedQuantity += notice.quantity;
    const written = await PurchaseOrder.updateOne(
      { poNumber: po.poNumber, revision: po.revision },
      {
        $set: { lines },
        $inc: { revision: 1 },
        $push: {
          adjustments: {
            key: notice.idempotencyKey,
            kind: 'supplier_shipped',
            at: new Date(),
            actor: notice.actor,
            reason: notice.reason,
            changes: [{ lineId: line.lineId, quantity: notice.quantity }],
            statusBefore: po.status,
            statusAfter: po.status,
          },
        },
      },
    );
    if (written.modifiedCount === 1) return 'recorded';
  }
}
