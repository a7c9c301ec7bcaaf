// R2, R5: whether an order can be cancelled, and what cancelling it means. A pure function of the order and
// its payments, so the API (to answer bad requests at once) and the workflow's review agree by construction.
import type {
  CancelledLine,
  ConfirmableStage,
  GoodsOutside,
  OrderReview,
  RequestedLine,
  ShippedParcel,
} from '../contracts/cancellation.contract';
import { isCancelflowError } from '../lib/errors';
import type { CancellationPolicy } from '../contracts/policy.contract';
import { leftInOrderCurrency, type RefundablePayment } from './refund-plan.rules';
import type { OrderStatus, SalesOrderLine } from '../contracts/books.contract';

export interface ReviewableOrder {
  orderNumber: string;
  customerId: string;
  status: OrderStatus;
  currency: string;
  lines: Omit<SalesOrderLine, 'status'>[];
}

export interface ReviewableShipment {
  shipmentId: string;
  carrier: string;
  trackingNumber?: string | null;
  warehouse: string;
  status: string;
  lines: { lineId: string; sku: string; quantity: number; returnedQuantity: number }[];
}

export type ReviewablePayment = RefundablePayment;

export type ReviewOutcome =
  | { ok: true; review: OrderReview }
  /** `field` names the part of the request at fault, when the request (not the order) is the problem. */
  | {
      ok: false;
      code: 'not_cancellable' | 'confirmation_required' | 'validation_failed';
      reason: string;
      field?: string;
    };

/** Which confirmation (R2) an order in this status needs, if any. */
export function confirmationNeeded(status: OrderStatus): ConfirmableStage | undefined {
  // A partially cancelled order has not shipped either (a shipment moves it on to shipped).
  if (['confirmed', 'allocated', 'picking', 'partially_cancelled'].includes(status))
    return 'awaiting_shipment';
  if (status === 'shipped' || status === 'delivered') return 'shipped';
  return undefined;
}

const refusedStatuses: Partial<Record<OrderStatus, string>> = {
  completed: 'a completed order cannot be cancelled',
  cancelled: 'the order is already cancelled',
};

/** Parcels that came back or were stopped carry nothing to recall or return any more. */
const PARCELS_GONE_BACK = ['returned', 'recalled'];

/**
 * R5, R9: where the shipped units of the cancelled lines are. Units not reserved in the warehouse any more are
 * in parcels; they are taken from the order's parcels in order. A parcel is recalled whole, so a recall is
 * asked for only when every unit still in the parcels is being cancelled.
 */
function goodsOutside(
  order: ReviewableOrder,
  lines: CancelledLine[],
  shipments: ReviewableShipment[],
): { ok: true; goods?: GoodsOutside } | { ok: false; reason: string } {
  if (order.status !== 'shipped' && order.status !== 'delivered') return { ok: true };
  const open = shipments.filter((shipment) => !PARCELS_GONE_BACK.includes(shipment.status));
  const parcels: ShippedParcel[] = [];
  for (const line of lines) {
    let outside = line.quantity - line.reservedQuantity;
    for (const shipment of open) {
      for (const shipped of shipment.lines.filter((candidate) => candidate.lineId === line.lineId)) {
        const inParcel = shipped.quantity - shipped.returnedQuantity;
        const taken = Math.min(outside, inParcel);
        if (taken === 0) continue;
        outside -= taken;
        let parcel = parcels.find((candidate) => candidate.shipmentId === shipment.shipmentId);
        if (!parcel) {
          parcel = {
            shipmentId: shipment.shipmentId,
            carrier: shipment.carrier,
            trackingNumber: shipment.trackingNumber ?? undefined,
            warehouse: shipment.warehouse,
            lines: [],
          };
          parcels.push(parcel);
        }
        parcel.lines.push({ lineId: line.lineId, sku: line.sku, quantity: taken });
      }
    }
    if (outside > 0) {
      return {
        ok: false,
        reason: `${order.orderNumber} is ${order.status}, but no open shipment carries ${outside} of line ${line.lineId}`,
      };
    }
  }
  if (parcels.length === 0) return { ok: true };
  // Other lines' units in the same parcels would come back with a recall too.
  const inParcels = (shipmentId: string) =>
    open
      .find((shipment) => shipment.shipmentId === shipmentId)
      ?.lines.reduce((sum, line) => sum + line.quantity - line.returnedQuantity, 0) ?? 0;
  const taken = (parcel: ShippedParcel) => parcel.lines.reduce((sum, line) => sum + line.quantity, 0);
  const wholeParcels = parcels.every((parcel) => taken(parcel) === inParcels(parcel.shipmentId));
  const delivered =
    order.status === 'delivered' ||
    parcels.every(
      (parcel) => open.find((shipment) => shipment.shipmentId === parcel.shipmentId)?.status === 'delivered',
    );
  return {
    ok: true,
    goods: {
      stage: delivered ? 'delivered' : 'in_transit',
      recall: !delivered && wholeParcels,
      parcels,
    },
  };
}

/** The parts of the cancellation policy (contracts/policy.contract.ts) that decide a review. */
export type ReviewRules = Pick<CancellationPolicy, 'cancellableStatuses' | 'refund'>;

export function reviewOrder(
  order: ReviewableOrder,
  payments: ReviewablePayment[],
  request: { lines?: RequestedLine[]; confirmed: ConfirmableStage[] },
  rules: ReviewRules,
  shipments: ReviewableShipment[] = [],
): ReviewOutcome {
  const refusal = refusedStatuses[order.status];
  if (refusal) return { ok: false, code: 'not_cancellable', reason: `${order.orderNumber}: ${refusal}` };
  if (!rules.cancellableStatuses.includes(order.status)) {
    return {
      ok: false,
      code: 'not_cancellable',
      reason: `${order.orderNumber}: the cancellation policy does not allow cancelling ${order.status} orders`,
    };
  }

  const stage = confirmationNeeded(order.status);
  if (stage && !request.confirmed.includes(stage)) {
    return {
      ok: false,
      code: 'confirmation_required',
      field: 'confirm',
      reason: `${order.orderNumber} is ${stage.replace('_', ' ')} (status ${order.status}): confirm "${stage}" to cancel it`,
    };
  }

  const remaining = (line: ReviewableOrder['lines'][number]) => line.quantity - line.cancelledQuantity;
  const requested =
    request.lines ??
    order.lines
      .filter((line) => remaining(line) > 0)
      .map((line) => ({
        lineId: line.lineId,
        quantity: remaining(line),
      }));
  if (requested.length === 0) {
    return {
      ok: false,
      code: 'not_cancellable',
      reason: `${order.orderNumber}: every line is already cancelled`,
    };
  }

  const seen = new Set<string>();
  const lines: CancelledLine[] = [];
  for (const [index, want] of requested.entries()) {
    const field = `lines[${index}]`;
    const line = order.lines.find((candidate) => candidate.lineId === want.lineId);
    if (!line) {
      return {
        ok: false,
        code: 'validation_failed',
        field: `${field}.lineId`,
        reason: `line ${want.lineId} is not on order ${order.orderNumber}`,
      };
    }
    if (seen.has(want.lineId)) {
      return {
        ok: false,
        code: 'validation_failed',
        field: `${field}.lineId`,
        reason: `line ${want.lineId} is named twice`,
      };
    }
    seen.add(want.lineId);
    if (!Number.isInteger(want.quantity) || want.quantity < 1) {
      return {
        ok: false,
        code: 'validation_failed',
        field: `${field}.quantity`,
        reason: 'quantity must be a whole number of at least 1',
      };
    }
    if (want.quantity > remaining(line)) {
      return {
        ok: false,
        code: 'validation_failed',
        field: `${field}.quantity`,
        reason: `line ${line.lineId} has ${remaining(line)} left to cancel, not ${want.quantity}`,
      };
    }
    lines.push({
      lineId: line.lineId,
      sku: line.sku,
      warehouse: line.warehouse,
      quantity: want.quantity,
      reservedQuantity: Math.min(want.quantity, line.reservedQuantity),
      amountMinor: want.quantity * line.unitPriceMinor,
    });
  }

  const outside = goodsOutside(order, lines, shipments);
  if (!outside.ok) return { ok: false, code: 'not_cancellable', reason: outside.reason };

  const cancelsWholeOrder = order.lines.every(
    (line) =>
      remaining(line) === (lines.find((cancelled) => cancelled.lineId === line.lineId)?.quantity ?? 0),
  );
  let refundLeft = 0;
  try {
    for (const payment of payments) refundLeft += leftInOrderCurrency(payment, order.currency);
  } catch (error) {
    // A payment in another currency whose worth in the order's is unknown: refunding would be a guess.
    if (isCancelflowError(error)) return { ok: false, code: 'not_cancellable', reason: error.message };
    throw error;
  }
  const linesAmount = lines.reduce((sum, line) => sum + line.amountMinor, 0);
  // Per policy: a whole cancellation usually gives back all that is left of the money (shipping fees
  // included); a partial one what the cancelled lines cost.
  const rule = cancelsWholeOrder ? rules.refund.wholeCancellation : rules.refund.partialCancellation;
  const wanted = rule === 'all_captured' ? refundLeft : rule === 'lines_amount' ? linesAmount : 0;
  const refundableMinor = Math.max(0, Math.min(refundLeft, wanted));

  return {
    ok: true,
    review: {
      orderNumber: order.orderNumber,
      customerId: order.customerId,
      currency: order.currency,
      lines,
      cancelsWholeOrder,
      refundableMinor,
      ...(outside.goods ? { goods: outside.goods } : {}),
    },
  };
}
