// Resolving commands against what the sequence has created so far: which order, line, shipment or payment a
// command's index names, the action it becomes, and what a completed action created for later commands to aim
// at. A foreign payment's refund is planned by the product (shareOf) and checked against the model's own
// expectation (foreign-share.ts) here, before it runs.
import type { Models } from '../../models';
import { shareOf } from '../../rules/refund-plan.rules';
import {
  foreignPayment,
  NOTHING_REFUNDED,
  orderTotal,
  type Action,
  type ForeignPayment,
  type RefundedCounts,
  type Step,
} from './actions';
import {
  ORDER_WAREHOUSE,
  UNIT_PRICES_MINOR,
  WAREHOUSES,
  type Currency,
  type RefundCommand,
  type RetryCommand,
  type StockCommand,
} from './commands';
import type { Figures } from './figures';
import { expectedForeignShare } from './foreign-share';
import type { RunScope } from './scope';

interface PlacedOrder {
  orderNumber: string;
  paymentId: string;
  currency: Currency;
  /** Of the order's own payment. */
  capturedMinor: number;
  foreign: ForeignPayment | null;
  /** `outstanding`: what this sequence believes is still reserved for the line, to cancel an order whole. */
  lines: { lineId: string; sku: string; quantity: number; outstanding: number }[];
}

export interface Run extends RunScope {
  offPlan: Set<string>;
  nextId: number;
  orders: PlacedOrder[];
  shipments: { shipmentId: string; lineId: string; sku: string }[];
  history: Step[];
  registered: Set<Step>;
  figures: Figures;
  trace: string[];
}

const pickFrom = <T>(items: readonly T[], index: number): T | undefined =>
  items[index % Math.max(1, items.length)];

export interface Planned {
  step: Step;
  /** A repeat of an action already run (or running) with the same key. */
  repeat: boolean;
  crash: boolean;
}

/**
 * Turns a command into an action on what the sequence has created so far; undefined when it has no target.
 * Alone, a command takes any order line (shipment) while none has its SKU, so that few go without a target;
 * in a concurrent group it keeps to its SKU (`sameSku`), so that the group's commands meet on it.
 */
export async function resolve(
  models: Models,
  run: Run,
  command: StockCommand | RefundCommand | RetryCommand,
  sameSku = false,
): Promise<Planned | undefined> {
  if (command.kind === 'retry') {
    const step = run.history[run.history.length - 1 - (command.pick % Math.max(1, run.history.length))];
    // A retry finishes what a crash cut short.
    return step && { step, repeat: true, crash: false };
  }
  const id = (run.nextId += 1);
  const fresh = (action: Action, crash = false): Planned => {
    const step = { action, completed: false };
    run.history.push(step);
    return { step, repeat: false, crash };
  };
  const sku = command.kind === 'refund' ? '' : (run.skus[command.sku] ?? '');
  const preferSku = <T>(items: T[], skuOf: (item: T) => string): T[] => {
    const matching = items.filter((item) => skuOf(item) === sku);
    return matching.length > 0 || sameSku ? matching : items;
  };
  const orderLines = preferSku(
    run.orders.flatMap((order) => order.lines.map((line) => ({ order, line }))),
    (entry) => entry.line.sku,
  );
  switch (command.kind) {
    case 'receive':
      return fresh({
        kind: 'receive',
        key: `${run.prefix}:receive:${id}`,
        sku,
        warehouse: WAREHOUSES[command.warehouse] ?? ORDER_WAREHOUSE,
        quantity: command.quantity,
      });
    case 'correct':
      return fresh({
        kind: 'correct',
        key: `${run.prefix}:count:${id}`,
        sku,
        warehouse: WAREHOUSES[command.warehouse] ?? ORDER_WAREHOUSE,
        delta: command.delta,
      });
    case 'order': {
      const lines = [
        { sku: command.sku, quantity: command.quantity },
        ...(command.secondLine ? [command.secondLine] : []),
      ];
      const orderNumber = `${run.prefix}-SO-${id}`;
      const priced = lines.map((line, index) => ({
        lineId: `L${index + 1}`,
        sku: run.skus[line.sku] ?? '',
        quantity: line.quantity,
        unitPriceMinor: UNIT_PRICES_MINOR[line.sku] ?? 1,
      }));
      return fresh({
        kind: 'order',
        orderNumber,
        currency: command.currency,
        lines: priced,
        foreign:
          command.foreign &&
          foreignPayment(orderNumber, command.currency, orderTotal(priced), command.foreign),
      });
    }
    case 'ship': {
      const chosen = pickFrom(orderLines, command.target);
      if (!chosen) return undefined;
      return fresh(
        {
          kind: 'ship',
          shipmentId: `${run.prefix}-SH-${id}`,
          orderNumber: chosen.order.orderNumber,
          lineId: chosen.line.lineId,
          sku: chosen.line.sku,
          quantity: command.quantity,
          crash: command.crash,
        },
        command.crash,
      );
    }
    case 'cancel': {
      const chosen = pickFrom(orderLines, command.target);
      if (!chosen) return undefined;
      const lines = command.whole
        ? chosen.order.lines
            .filter((line) => line.outstanding > 0)
            .map((line) => ({
              lineId: line.lineId,
              sku: line.sku,
              warehouse: ORDER_WAREHOUSE,
              quantity: line.outstanding,
            }))
        : [
            {
              lineId: chosen.line.lineId,
              sku: chosen.line.sku,
              warehouse: ORDER_WAREHOUSE,
              quantity: command.quantity,
            },
          ];
      if (lines.length === 0) return undefined;
      return fresh({
        kind: 'cancel',
        key: `${run.prefix}:cancel:${id}`,
        orderNumber: chosen.order.orderNumber,
        whole: command.whole,
        lines,
      });
    }
    case 'return': {
      const shipment = pickFrom(
        preferSku(run.shipments, (entry) => entry.sku),
        command.target,
      );
      if (!shipment) return undefined;
      return fresh({
        kind: 'return',
        key: `${run.prefix}:return:${id}`,
        shipmentId: shipment.shipmentId,
        lineId: shipment.lineId,
        sku: shipment.sku,
        warehouse: WAREHOUSES[command.warehouse] ?? ORDER_WAREHOUSE,
        quantity: command.quantity,
      });
    }
    case 'refund': {
      const order = pickFrom(run.orders, command.target);
      if (!order) return undefined;
      const foreign = command.foreign ? order.foreign : null;
      if (foreign) {
        // Planned from the payment as it is now; 'all' plans the whole payment as if none of it had gone back,
        // as 'all' does for the order's own payment, and is refused once some has.
        const payment = await models.Payment.findOne({ paymentId: foreign.paymentId }).lean().orFail();
        const plannedFrom: RefundedCounts =
          command.amount === 'all'
            ? NOTHING_REFUNDED
            : {
                refundedMinor: payment.refundedMinor,
                refundedOrderCurrencyMinor: payment.refundedOrderCurrencyMinor ?? 0,
              };
        const settled = foreign.orderCurrencyMinor;
        const asked =
          typeof command.amount === 'number'
            ? Math.max(1, Math.floor((settled * command.amount) / 1000))
            : settled;
        // The product plans the share (shareOf, under test); the model expects it from the capture alone, as
        // the model made it, not from the product's code. A plan that differs fails the sequence.
        const planned = shareOf({ ...payment, ...plannedFrom }, order.currency, asked);
        const share = expectedForeignShare(
          { capturedMinor: foreign.capturedMinor, settledMinor: settled, ...plannedFrom },
          asked,
        );
        if (
          planned.amountMinor !== share.amountMinor ||
          planned.orderCurrencyMinor !== share.orderCurrencyMinor
        ) {
          throw failure(
            `the product's share of ${foreign.paymentId} is not the model's`,
            [
              `asked for ${asked} ${order.currency} of the ${settled} it settled, planned on ${JSON.stringify(plannedFrom)}: ` +
                `shareOf gives back ${planned.amountMinor} ${foreign.currency} worth ${planned.orderCurrencyMinor}, ` +
                `the model expects ${share.amountMinor} ${foreign.currency} worth ${share.orderCurrencyMinor} ` +
                `(captured ${foreign.capturedMinor} ${foreign.currency})`,
            ],
            run,
          );
        }
        if (share.amountMinor <= 0) return undefined;
        return fresh(
          {
            kind: 'refund',
            key: `${run.prefix}:refund:${id}`,
            paymentId: foreign.paymentId,
            orderNumber: order.orderNumber,
            currency: foreign.currency,
            amountMinor: share.amountMinor,
            outcome: command.outcome,
            crash: command.crash,
            share: { orderCurrencyMinor: share.orderCurrencyMinor, plannedFrom },
          },
          command.crash,
        );
      }
      let amountMinor: number;
      if (command.amount === 'all') amountMinor = order.capturedMinor;
      else if (command.amount === 'rest') {
        const payment = await models.Payment.findOne({ paymentId: order.paymentId }).lean().orFail();
        amountMinor = payment.capturedMinor - payment.refundedMinor;
      } else amountMinor = Math.max(1, Math.floor((order.capturedMinor * command.amount) / 1000));
      if (amountMinor <= 0) return undefined;
      return fresh(
        {
          kind: 'refund',
          key: `${run.prefix}:refund:${id}`,
          paymentId: order.paymentId,
          orderNumber: order.orderNumber,
          currency: order.currency,
          amountMinor,
          outcome: command.outcome,
          crash: command.crash,
          share: null,
        },
        command.crash,
      );
    }
  }
}

/** Notes what an action created, the first time a run of it completes, so later commands can aim at it. */
export function register(run: Run, step: Step): void {
  if (run.registered.has(step)) return;
  run.registered.add(step);
  const { action } = step;
  const lineOf = (orderNumber: string, lineId: string) =>
    run.orders
      .find((order) => order.orderNumber === orderNumber)
      ?.lines.find((line) => line.lineId === lineId);
  if (action.kind === 'order') {
    run.orders.push({
      orderNumber: action.orderNumber,
      paymentId: `PAY-${action.orderNumber}`,
      currency: action.currency,
      capturedMinor: orderTotal(action.lines) - (action.foreign?.orderCurrencyMinor ?? 0),
      foreign: action.foreign,
      lines: action.lines.map((line) => ({ ...line, outstanding: line.quantity })),
    });
  } else if (action.kind === 'ship') {
    run.shipments.push({ shipmentId: action.shipmentId, lineId: action.lineId, sku: action.sku });
    const line = lineOf(action.orderNumber, action.lineId);
    if (line) line.outstanding = Math.max(0, line.outstanding - action.quantity);
  } else if (action.kind === 'cancel') {
    for (const cancelled of action.lines) {
      const line = lineOf(action.orderNumber, cancelled.lineId);
      if (line) line.outstanding = Math.max(0, line.outstanding - cancelled.quantity);
    }
  }
}

/** The property's failure: what is wrong, then the sequence so far, to see how it got there. */
export function failure(title: string, problems: string[], run: Run): Error {
  return new Error(
    `${title}:\n  ${problems.join('\n  ')}\nsequence ${run.prefix} so far:\n  ${run.trace.join('\n  ')}`,
  );
}
