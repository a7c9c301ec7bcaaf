// Stock: the products and their opening stock, reservations for sales lines, and replenishment: a purchase
// order received in full just before a reservation would take more than is available, so the ledger never
// takes a level below zero or reserves more than is on hand. (Purchase orders raised for a sales line are in
// purchase-orders.ts.)
import { SKUS } from './catalogue';
import type { Books, SalesOrderLine } from './documents';
import { DAY, FIRST_ORDER_AT, HOUR, ID_KINDS, yearOf } from './numbering';
import { WAREHOUSES } from './organisation';
import { between, mix, seededRandom, STREAMS } from './random';
import type { RunState } from './state';

/** The products, and their opening stock in every warehouse (a stock take the day before trading). */
export function openShop(state: RunState, books: Books): void {
  const at = new Date(FIRST_ORDER_AT - DAY);
  for (const item of state.catalogue) {
    books.products.push({
      _id: state.id(ID_KINDS.product, at),
      sku: item.sku,
      name: `${item.names['zh-CN']} / ${item.names.en}`,
      unitPriceMinor: item.unitPriceMinor,
      unitCostMinor: item.unitCostMinor,
      currency: 'CNY',
      createdAt: at,
      updatedAt: at,
    });
    const random = seededRandom(mix(state.seed, STREAMS.product, SKUS.indexOf(item.sku), 1));
    for (const warehouse of WAREHOUSES) {
      // Some lines are nearly sold out from the start, so replenishment comes early even in a small run.
      const quantity =
        random() < 0.15
          ? between(random, 1, 3)
          : warehouse.market === 'US'
            ? between(random, 4, 30)
            : between(random, 10, 120);
      state.move(books, at, {
        idempotencyKey: `opening-stock:${item.sku}:${warehouse.code}`,
        type: 'adjust',
        sku: item.sku,
        warehouse: warehouse.code,
        onHandDelta: quantity,
        reservedDelta: 0,
        document: { kind: 'stock_take', id: `ST-${yearOf(at)}-OPENING` },
        actor: 'warehouse',
        reason: 'opening stock',
      });
    }
  }
}

/** Reserves units for a line, first receiving a replenishment when what is available falls short. */
export function reserve(
  state: RunState,
  books: Books,
  at: Date,
  order: string,
  line: SalesOrderLine,
  units: number,
  key: string,
): void {
  if (units <= 0) return;
  const shortBy = units - state.available(line.sku, line.warehouse);
  if (shortBy > 0) replenish(state, books, new Date(at.getTime() - HOUR), line.sku, line.warehouse, shortBy);
  state.move(books, at, {
    idempotencyKey: key,
    type: 'reserve',
    sku: line.sku,
    warehouse: line.warehouse,
    onHandDelta: 0,
    reservedDelta: units,
    document: { kind: 'sales_order', id: order, lineId: line.lineId },
    actor: 'wms',
  });
}

/** A purchase order to the product's supplier, received in full an hour before the stock is needed. */
export function replenish(
  state: RunState,
  books: Books,
  receivedAt: Date,
  sku: string,
  warehouse: string,
  shortBy: number,
): void {
  const item = state.item(sku);
  const quantity = Math.ceil((shortBy + item.reorderQuantity) / 6) * 6;
  const createdAt = new Date(receivedAt.getTime() - 6 * DAY);
  const poNumber = state.nextPoNumber(createdAt);
  books.purchaseOrders.push({
    _id: state.id(ID_KINDS.purchaseOrder, createdAt),
    poNumber,
    supplier: state.supplier(item),
    status: 'received',
    currency: 'CNY',
    warehouse,
    dropShip: false,
    lines: [
      {
        lineId: 'P1',
        sku,
        unitCostMinor: item.unitCostMinor,
        orderedQuantity: quantity,
        cancelledQuantity: 0,
        supplierShippedQuantity: quantity,
        receivedQuantity: quantity,
        raisedFor: [],
      },
    ],
    expectedAt: receivedAt,
    sentAt: new Date(createdAt.getTime() + HOUR),
    confirmedAt: new Date(createdAt.getTime() + DAY),
    adjustments: [],
    revision: 0,
    createdAt,
    updatedAt: receivedAt,
  });
  state.move(books, receivedAt, {
    idempotencyKey: `${poNumber}:receive:P1`,
    type: 'adjust',
    sku,
    warehouse,
    onHandDelta: quantity,
    reservedDelta: 0,
    document: { kind: 'purchase_order', id: poNumber, lineId: 'P1' },
    actor: 'warehouse',
    reason: 'purchase receipt',
  });
}
