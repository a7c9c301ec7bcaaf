// What one step may change: the figures a step can move (stock levels, applied movements, payments' refunded
// counts, vouchers, orders, shipments), read before and after it, and exactly the change each action makes
// when it completes on its first attempt, so a step that changes anything else is caught at once.
import type { Models } from '../../models';
import { NOTHING_REFUNDED, shipKey, type Action, type RefundedCounts } from './actions';
import { ORDER_WAREHOUSE } from './commands';
import { startingWith, type RunScope } from './scope';

export interface Figures {
  /** `sku@warehouse` → on hand and reserved. */
  levels: Map<string, { onHand: number; reserved: number }>;
  appliedMovements: Set<string>;
  payments: Map<string, RefundedCounts & { pendingRefunds: string[] }>;
  vouchers: Set<string>;
  orders: Set<string>;
  /** The shipments' lines and the keys of their returns, as one comparable text. */
  shipments: string;
}

export const emptyFigures = (): Figures => ({
  levels: new Map(),
  appliedMovements: new Set(),
  payments: new Map(),
  vouchers: new Set(),
  orders: new Set(),
  shipments: '[]',
});

export async function readFigures(models: Models, run: RunScope): Promise<Figures> {
  const bySku = { sku: { $in: run.skus } };
  const ofRun = startingWith(`${run.prefix}-`);
  const [levels, movements, payments, vouchers, orders, shipments] = await Promise.all([
    models.StockLevel.find(bySku).lean(),
    models.StockMovement.find({ ...bySku, state: 'applied' }, { idempotencyKey: 1 }).lean(),
    models.Payment.find({ orderNumber: ofRun }).lean(),
    models.Voucher.find({ idempotencyKey: startingWith(`${run.prefix}:`) }, { idempotencyKey: 1 }).lean(),
    models.SalesOrder.find({ orderNumber: ofRun }, { orderNumber: 1 }).lean(),
    models.Shipment.find({ shipmentId: ofRun }).sort({ shipmentId: 1 }).lean(),
  ]);
  return {
    levels: new Map(
      levels.map((level) => [
        `${level.sku}@${level.warehouse}`,
        { onHand: level.onHand, reserved: level.reserved },
      ]),
    ),
    appliedMovements: new Set(movements.map((movement) => movement.idempotencyKey)),
    payments: new Map(
      payments.map((payment) => [
        payment.paymentId,
        {
          refundedMinor: payment.refundedMinor,
          refundedOrderCurrencyMinor: payment.refundedOrderCurrencyMinor ?? 0,
          pendingRefunds: [...payment.pendingRefunds].sort(),
        },
      ]),
    ),
    vouchers: new Set(vouchers.map((voucher) => voucher.idempotencyKey)),
    orders: new Set(orders.map((order) => order.orderNumber)),
    shipments: JSON.stringify(
      shipments.map((shipment) => [
        shipment.shipmentId,
        shipment.lines.map((line) => [line.lineId, line.sku, line.quantity, line.returnedQuantity]),
        shipment.returns.map((entry) => entry.key),
      ]),
    ),
  };
}

interface Change {
  stock: { sku: string; warehouse: string; onHand: number; reserved: number }[];
  movements: string[];
  /** Payment → change of its refunded counts, and keys it newly holds as pending. */
  payments: Map<string, RefundedCounts & { pending: string[] }>;
  vouchers: string[];
  orders: string[];
  shipmentsChange: boolean;
}

export const NOTHING: Change = {
  stock: [],
  movements: [],
  payments: new Map(),
  vouchers: [],
  orders: [],
  shipmentsChange: false,
};

/** What an action that completed on its first attempt changes, exactly. */
export function expectedChange(action: Action, crash: boolean): Change {
  const change = (part: Partial<Change>): Change => ({ ...NOTHING, ...part });
  switch (action.kind) {
    case 'receive':
    case 'correct':
      return change({
        stock: [
          {
            sku: action.sku,
            warehouse: action.warehouse,
            onHand: action.kind === 'receive' ? action.quantity : action.delta,
            reserved: 0,
          },
        ],
        movements: [action.key],
      });
    case 'order':
      return change({
        stock: action.lines.map((line) => ({
          sku: line.sku,
          warehouse: ORDER_WAREHOUSE,
          onHand: 0,
          reserved: line.quantity,
        })),
        movements: action.lines.map((line) => `${action.orderNumber}:reserve:${line.lineId}`),
        orders: [action.orderNumber],
      });
    case 'ship':
      return change({
        stock: [
          {
            sku: action.sku,
            warehouse: ORDER_WAREHOUSE,
            onHand: -action.quantity,
            reserved: -action.quantity,
          },
        ],
        movements: [shipKey(action)],
        shipmentsChange: !crash,
      });
    case 'cancel':
      return change({
        stock: action.lines.map((line) => ({
          sku: line.sku,
          warehouse: line.warehouse,
          onHand: 0,
          reserved: -line.quantity,
        })),
        movements: action.lines.map((line) => `${action.key}:${line.lineId}`),
      });
    case 'return':
      return change({
        stock: [{ sku: action.sku, warehouse: action.warehouse, onHand: action.quantity, reserved: 0 }],
        movements: [`${action.key}:${action.lineId}`],
        shipmentsChange: true,
      });
    case 'refund': {
      const refunded: RefundedCounts = {
        refundedMinor: action.amountMinor,
        refundedOrderCurrencyMinor: action.share?.orderCurrencyMinor ?? 0,
      };
      if (crash) {
        return change({ payments: new Map([[action.paymentId, { ...refunded, pending: [action.key] }]]) });
      }
      if (action.outcome === 'failed') return NOTHING;
      return change({
        payments: new Map([[action.paymentId, { ...refunded, pending: [] }]]),
        vouchers: [`${action.key}:voucher`],
      });
    }
  }
}

/** A refused order: the reservations of its lines that were applied before the refusal, nothing else. */
export function reservationsKept(
  action: Extract<Action, { kind: 'order' }>,
  before: Figures,
  after: Figures,
): Change {
  const kept = action.lines.filter((line) => {
    const key = `${action.orderNumber}:reserve:${line.lineId}`;
    return after.appliedMovements.has(key) && !before.appliedMovements.has(key);
  });
  return {
    ...NOTHING,
    stock: kept.map((line) => ({
      sku: line.sku,
      warehouse: ORDER_WAREHOUSE,
      onHand: 0,
      reserved: line.quantity,
    })),
    movements: kept.map((line) => `${action.orderNumber}:reserve:${line.lineId}`),
  };
}

function setDifference(a: Set<string>, b: Set<string>): string[] {
  return [...a].filter((item) => !b.has(item)).sort();
}

export function compareFigures(before: Figures, after: Figures, expected: Change): string[] {
  const problems: string[] = [];
  const wanted = new Map<string, { onHand: number; reserved: number }>();
  for (const entry of expected.stock) {
    const place = `${entry.sku}@${entry.warehouse}`;
    const sum = wanted.get(place) ?? { onHand: 0, reserved: 0 };
    wanted.set(place, { onHand: sum.onHand + entry.onHand, reserved: sum.reserved + entry.reserved });
  }
  for (const place of new Set([...before.levels.keys(), ...after.levels.keys(), ...wanted.keys()])) {
    const was = before.levels.get(place) ?? { onHand: 0, reserved: 0 };
    const now = after.levels.get(place) ?? { onHand: 0, reserved: 0 };
    const delta = wanted.get(place) ?? { onHand: 0, reserved: 0 };
    if (now.onHand - was.onHand !== delta.onHand || now.reserved - was.reserved !== delta.reserved) {
      problems.push(
        `${place} went from ${JSON.stringify(was)} to ${JSON.stringify(now)}, expected a change of ${JSON.stringify(delta)}`,
      );
    }
  }
  const sets: [string, Set<string>, Set<string>, string[]][] = [
    ['applied movements', before.appliedMovements, after.appliedMovements, expected.movements],
    ['vouchers', before.vouchers, after.vouchers, expected.vouchers],
    ['sales orders', before.orders, after.orders, expected.orders],
  ];
  for (const [name, was, now, added] of sets) {
    const gained = setDifference(now, was);
    const lost = setDifference(was, now);
    if (JSON.stringify(gained) !== JSON.stringify([...added].sort()) || lost.length > 0) {
      problems.push(
        `${name}: gained ${JSON.stringify(gained)} and lost ${JSON.stringify(lost)}, expected to gain ${JSON.stringify(added)}`,
      );
    }
  }
  for (const paymentId of new Set([...before.payments.keys(), ...after.payments.keys()])) {
    const was = before.payments.get(paymentId) ?? { ...NOTHING_REFUNDED, pendingRefunds: [] };
    const now = after.payments.get(paymentId) ?? { ...NOTHING_REFUNDED, pendingRefunds: [] };
    const change = expected.payments.get(paymentId) ?? { ...NOTHING_REFUNDED, pending: [] };
    const pending = [...was.pendingRefunds, ...change.pending].sort();
    if (
      now.refundedMinor - was.refundedMinor !== change.refundedMinor ||
      now.refundedOrderCurrencyMinor - was.refundedOrderCurrencyMinor !== change.refundedOrderCurrencyMinor ||
      JSON.stringify(now.pendingRefunds) !== JSON.stringify(pending)
    ) {
      problems.push(
        `payment ${paymentId} went from ${JSON.stringify(was)} to ${JSON.stringify(now)}, expected refunded +${change.refundedMinor} (+${change.refundedOrderCurrencyMinor} of the order) and pending ${JSON.stringify(pending)}`,
      );
    }
  }
  if (!expected.shipmentsChange && before.shipments !== after.shipments) {
    problems.push(`shipments changed from ${before.shipments} to ${after.shipments}`);
  }
  return problems;
}
