// Actions: commands resolved to concrete calls, carried out through the books' own operations (the stock
// ledger, stock operations, the refund ledger, demo-data's paid orders), stopping where a crashed worker would
// when asked to, and told apart from the refusals each operation may answer with.
import { isCancelflowError, type ErrorCode } from '../../lib/errors';
import type { Models } from '../../models';
import { linkToOrder } from '../../models/order-links';
import { completeRefund, failRefund, reserveRefund } from '../../models/refund-ledger';
import { applyStockMovement, type StockMovementResult } from '../../models/stock-ledger';
import { correctStockByHand, releaseReservedStock, returnShippedStock } from '../../models/stock-operations';
import { placePaidOrder } from '../demo-data';
import { CUSTOMER_ID, ORDER_WAREHOUSE, type Currency, type RefundOutcome } from './commands';

type StockLine = { lineId: string; sku: string; warehouse: string; quantity: number };
/** A payment in another currency than its order's, and what it settled of the order in the order's. */
export interface ForeignPayment {
  paymentId: string;
  currency: Currency;
  capturedMinor: number;
  orderCurrencyMinor: number;
}
/** What a payment counts as refunded, in its own currency and (foreign payments) in the order's. */
export type RefundedCounts = { refundedMinor: number; refundedOrderCurrencyMinor: number };
export const NOTHING_REFUNDED: RefundedCounts = { refundedMinor: 0, refundedOrderCurrencyMinor: 0 };
export const sameCounts = (a: RefundedCounts, b: RefundedCounts) =>
  a.refundedMinor === b.refundedMinor && a.refundedOrderCurrencyMinor === b.refundedOrderCurrencyMinor;

export type OrderLine = { lineId: string; sku: string; quantity: number; unitPriceMinor: number };
export type Action =
  | { kind: 'receive'; key: string; sku: string; warehouse: string; quantity: number }
  | {
      kind: 'order';
      orderNumber: string;
      currency: Currency;
      lines: OrderLine[];
      foreign: ForeignPayment | null;
    }
  | {
      kind: 'ship';
      shipmentId: string;
      orderNumber: string;
      lineId: string;
      sku: string;
      quantity: number;
      crash: boolean;
    }
  | { kind: 'cancel'; key: string; orderNumber: string; whole: boolean; lines: StockLine[] }
  | {
      kind: 'return';
      key: string;
      shipmentId: string;
      lineId: string;
      sku: string;
      warehouse: string;
      quantity: number;
    }
  | { kind: 'correct'; key: string; sku: string; warehouse: string; delta: number }
  | {
      kind: 'refund';
      key: string;
      paymentId: string;
      orderNumber: string;
      currency: string;
      amountMinor: number;
      outcome: RefundOutcome;
      crash: boolean;
      /**
       * A foreign payment's share, as the model expects it (foreign-share.ts): its worth in the order's
       * currency, and the counts it was planned from.
       */
      share: { orderCurrencyMinor: number; plannedFrom: RefundedCounts } | null;
    };

/** An action the sequence has run, with whether some run of it finished (neither refused nor cut short). */
export interface Step {
  action: Action;
  completed: boolean;
}

/** The refusals each operation may answer with; any other error fails the property. */
const EXPECTED_REFUSALS: Record<Action['kind'], readonly ErrorCode[]> = {
  receive: [],
  order: ['insufficient_stock'],
  ship: ['insufficient_stock'],
  cancel: ['insufficient_stock'],
  return: ['validation_failed'],
  correct: ['insufficient_stock'],
  refund: ['refund_exceeds_capture'],
};

export type Outcome = { refused: false; results: StockMovementResult[] } | { refused: true; code: ErrorCode };

export const shipKey = (action: { shipmentId: string; lineId: string }) =>
  `${action.shipmentId}:ship:${action.lineId}`;
export const orderTotal = (lines: OrderLine[]) =>
  lines.reduce((sum, line) => sum + line.quantity * line.unitPriceMinor, 0);

/** The card in the other currency: `share` thousandths of the order, converted at `rate` (CNY per USD, ×100). */
export function foreignPayment(
  orderNumber: string,
  orderCurrency: Currency,
  totalMinor: number,
  { share, rate }: { share: number; rate: number },
): ForeignPayment {
  const currency = orderCurrency === 'CNY' ? 'USD' : 'CNY';
  // Below the total (at least 99, share at most 999‰), so the order's own payment keeps a part.
  const orderCurrencyMinor = Math.max(1, Math.floor((totalMinor * share) / 1000));
  const converted =
    orderCurrency === 'CNY' ? (orderCurrencyMinor * 100) / rate : (orderCurrencyMinor * rate) / 100;
  return {
    paymentId: `PAY-${orderNumber}-${currency}`,
    currency,
    capturedMinor: Math.max(1, Math.round(converted)),
    orderCurrencyMinor,
  };
}

/** Carries out an action through the books' own operations; `crash` stops where a crashed worker would. */
async function carryOut(models: Models, action: Action, crash: boolean): Promise<StockMovementResult[]> {
  const actor = 'property-test';
  switch (action.kind) {
    case 'receive':
      return [
        await applyStockMovement(models, {
          idempotencyKey: action.key,
          type: 'adjust',
          sku: action.sku,
          warehouse: action.warehouse,
          onHandDelta: action.quantity,
          reservedDelta: 0,
          document: { kind: 'goods_receipt', id: action.key },
          actor,
          reason: 'goods received',
        }),
      ];
    case 'order': {
      await placePaidOrder(models, {
        orderNumber: action.orderNumber,
        customerId: CUSTOMER_ID,
        currency: action.currency,
        lines: action.lines,
      });
      const { foreign } = action;
      if (!foreign) return [];
      // The card settled part of the order, so the order's own payment captured only the rest. Nothing can
      // refund the order before it is registered, so lowering the capture here races with no refund.
      await models.Payment.updateOne(
        { paymentId: `PAY-${action.orderNumber}` },
        {
          $set: { capturedMinor: orderTotal(action.lines) - foreign.orderCurrencyMinor },
          $inc: { revision: 1 },
        },
      );
      await linkToOrder(models, action.orderNumber, { paymentIds: [foreign.paymentId] });
      await models.Payment.updateOne(
        { paymentId: foreign.paymentId },
        {
          $setOnInsert: {
            orderNumber: action.orderNumber,
            capturedMinor: foreign.capturedMinor,
            currency: foreign.currency,
            orderCurrencyMinor: foreign.orderCurrencyMinor,
            method: 'card',
            providerReference: `ch_${foreign.paymentId.toLowerCase()}`,
          },
        },
        { upsert: true, runValidators: true },
      ).catch((error: unknown) => {
        // A repeat running alongside inserted it first: the same payment.
        if ((error as { code?: unknown }).code !== 11000) throw error;
      });
      return [];
    }
    case 'ship': {
      const result = await applyStockMovement(models, {
        idempotencyKey: shipKey(action),
        type: 'ship',
        sku: action.sku,
        warehouse: ORDER_WAREHOUSE,
        onHandDelta: -action.quantity,
        reservedDelta: -action.quantity,
        document: { kind: 'shipment', id: action.shipmentId, lineId: action.lineId },
        actor,
      });
      if (crash) return [result];
      await linkToOrder(models, action.orderNumber, { shipmentIds: [action.shipmentId] });
      await models.Shipment.updateOne(
        { shipmentId: action.shipmentId },
        {
          $setOnInsert: {
            shipmentId: action.shipmentId,
            orderNumber: action.orderNumber,
            warehouse: ORDER_WAREHOUSE,
            carrier: 'SF',
            trackingNumber: `SF-${action.shipmentId}`,
            status: 'recalled',
            revision: 0,
            lines: [
              { lineId: action.lineId, sku: action.sku, quantity: action.quantity, returnedQuantity: 0 },
            ],
          },
        },
        { upsert: true, runValidators: true },
      ).catch((error: unknown) => {
        // A repeat running alongside inserted it first: the same shipment.
        if ((error as { code?: unknown }).code !== 11000) throw error;
      });
      return [result];
    }
    case 'cancel':
      return (
        await releaseReservedStock(models, {
          idempotencyKey: action.key,
          document: { kind: 'sales_order', id: action.orderNumber },
          actor,
          reason: action.whole ? 'order cancelled' : 'lines cancelled',
          lines: action.lines,
        })
      ).map((line) => line.result);
    case 'return':
      return (
        await returnShippedStock(models, {
          idempotencyKey: action.key,
          shipmentId: action.shipmentId,
          warehouse: action.warehouse,
          actor,
          reason: 'parcel recalled',
          lines: [{ lineId: action.lineId, sku: action.sku, quantity: action.quantity }],
        })
      ).map((line) => line.result);
    case 'correct':
      return [
        await correctStockByHand(models, {
          idempotencyKey: action.key,
          sku: action.sku,
          warehouse: action.warehouse,
          quantityDelta: action.delta,
          reason: 'stock take',
          actor,
        }),
      ];
    case 'refund': {
      // As the refund activity does: reserve, then record the gateway's answer (or finish a recorded one).
      const refund = await reserveRefund(models, {
        idempotencyKey: action.key,
        paymentId: action.paymentId,
        orderNumber: action.orderNumber,
        cancellationId: `${action.key}:cancellation`,
        amountMinor: action.amountMinor,
        currency: action.currency,
        ...(action.share ? { orderCurrencyMinor: action.share.orderCurrencyMinor } : {}),
      });
      if (crash) return [];
      const recorded =
        refund.status === 'succeeded' || refund.status === 'settled_manually' ? refund.status : undefined;
      if (recorded) await completeRefund(models, action.key, refund.providerRefundId ?? action.key, recorded);
      else if (action.outcome === 'failed') await failRefund(models, action.key, 'the card issuer refused');
      else await completeRefund(models, action.key, `gw-${action.key}`, action.outcome);
      return [];
    }
  }
}

export function describeAction(action: Action): string {
  switch (action.kind) {
    case 'receive':
    case 'correct': {
      const quantity = action.kind === 'receive' ? action.quantity : action.delta;
      return `${action.kind} ${action.key} ${action.sku}@${action.warehouse} ${quantity > 0 ? '+' : ''}${quantity}`;
    }
    case 'order':
      return `order ${action.orderNumber} ${action.currency} [${action.lines.map((line) => `${line.lineId} ${line.sku}×${line.quantity}`).join(', ')}]${action.foreign ? `, ${action.foreign.orderCurrencyMinor} of it paid ${action.foreign.capturedMinor} ${action.foreign.currency}` : ''}`;
    case 'ship':
      return `ship ${action.shipmentId} ${action.orderNumber}/${action.lineId} ${action.sku}×${action.quantity}`;
    case 'cancel':
      return `cancel${action.whole ? '' : ' part of'} ${action.orderNumber} ${action.key} [${action.lines.map((line) => `${line.lineId} ${line.sku}×${line.quantity}`).join(', ')}]`;
    case 'return':
      return `return ${action.key} ${action.shipmentId}/${action.lineId} ${action.sku}×${action.quantity} to ${action.warehouse}`;
    case 'refund':
      return `refund ${action.key} ${action.paymentId} ${action.amountMinor} ${action.currency}${action.share ? ` (worth ${action.share.orderCurrencyMinor} of the order, planned on ${JSON.stringify(action.share.plannedFrom)})` : ''}, gateway: ${action.outcome}`;
  }
}

export async function perform(models: Models, action: Action, crash: boolean): Promise<Outcome> {
  try {
    return { refused: false, results: await carryOut(models, action, crash) };
  } catch (error) {
    if (isCancelflowError(error) && EXPECTED_REFUSALS[action.kind].includes(error.code)) {
      return { refused: true, code: error.code };
    }
    throw new Error(`${describeAction(action)} failed unexpectedly: ${String(error)}`, { cause: error });
  }
}
