// Purchase orders raised for a sales line: a back-order (units stock could not cover) or a drop-shipped line,
// as far as the supplier got with it, and the part of a back-order already received and reserved.
import type { PurchaseLine, PurchaseOrderStatus } from '../../models/purchase-order.model';
import type { Books, PurchaseOrderDocument, SalesOrderLine } from './documents';
import { DAY, HOUR, ID_KINDS } from './numbering';
import { between, weighted, type Random } from './random';
import type { Stage } from './stages';
import type { RunState } from './state';
import { reserve } from './stock';

/** Units of a sales line awaited from a supplier, and the purchase order they are on. */
export interface SupplyLink {
  lineId: string;
  kind: 'back_order' | 'drop_ship';
  quantity: number;
  purchaseOrder: PurchaseOrderDocument;
}

/** The purchase order raised for a back-ordered or drop-shipped line, as far as the supplier got with it. */
export function raisePurchaseOrder(
  state: RunState,
  books: Books,
  random: Random,
  orderNumber: string,
  line: SalesOrderLine,
  kind: 'back_order' | 'drop_ship',
  stage: Stage,
  at: Date,
): SupplyLink {
  const item = state.item(line.sku);
  // A confirmed order has nothing reserved yet: the whole line is awaited. Once allocated, only what stock
  // could not cover.
  const quantity =
    kind === 'drop_ship' || stage === 'confirmed' ? line.quantity : between(random, 1, line.quantity);
  const createdAt = new Date(at.getTime() + between(random, 1, 3) * HOUR);
  const status: PurchaseOrderStatus = weighted(random, [
    ['draft', 25],
    ['sent', 35],
    ['confirmed', 30],
    // Part received: only for units that stock then reserves, so only for an allocated back-order.
    ['partially_received', kind === 'back_order' && stage !== 'confirmed' && quantity >= 2 ? 25 : 0],
  ]);
  const sentAt =
    status === 'draft' ? undefined : new Date(createdAt.getTime() + between(random, 1, 6) * HOUR);
  const confirmedAt =
    status === 'confirmed' || status === 'partially_received'
      ? new Date(createdAt.getTime() + between(random, 1, 2) * DAY)
      : undefined;
  const poNumber = state.nextPoNumber(createdAt);
  const purchaseOrder: PurchaseOrderDocument = {
    _id: state.id(ID_KINDS.purchaseOrder, createdAt),
    poNumber,
    supplier: state.supplier(item),
    status,
    currency: 'CNY',
    ...(kind === 'back_order' ? { warehouse: line.warehouse } : {}),
    dropShip: kind === 'drop_ship',
    lines: [
      {
        lineId: 'P1',
        sku: line.sku,
        unitCostMinor: item.unitCostMinor,
        orderedQuantity: quantity,
        cancelledQuantity: 0,
        // Some suppliers confirm and send an advance shipping notice for part of the line.
        supplierShippedQuantity: status === 'confirmed' && random() < 0.3 ? between(random, 1, quantity) : 0,
        receivedQuantity: 0,
        raisedFor: [{ orderNumber, lineId: line.lineId, kind, quantity, cancelledQuantity: 0 }],
      },
    ],
    expectedAt: new Date(createdAt.getTime() + between(random, 7, 21) * DAY),
    ...(sentAt ? { sentAt } : {}),
    ...(confirmedAt ? { confirmedAt } : {}),
    adjustments: [],
    revision: 0,
    createdAt,
    updatedAt: confirmedAt ?? sentAt ?? createdAt,
  };
  books.purchaseOrders.push(purchaseOrder);
  return { lineId: line.lineId, kind, quantity, purchaseOrder };
}

/** Part of a back-order arrived: received into stock and reserved for the line it was bought for. */
export function receivePart(
  state: RunState,
  books: Books,
  random: Random,
  orderNumber: string,
  lines: SalesOrderLine[],
  link: SupplyLink,
  at: Date,
): void {
  const po = link.purchaseOrder;
  const poLine = po.lines[0] as PurchaseLine;
  if (po.status !== 'partially_received') return;
  const line = lines.find((candidate) => candidate.lineId === link.lineId) as SalesOrderLine;
  const received = between(random, 1, poLine.orderedQuantity - 1);
  poLine.receivedQuantity = received;
  poLine.supplierShippedQuantity = received;
  const receivedAt = new Date(Math.max(at.getTime(), (po.confirmedAt ?? po.createdAt).getTime()) + DAY);
  po.updatedAt = receivedAt;
  state.move(books, receivedAt, {
    idempotencyKey: `${po.poNumber}:receive:P1`,
    type: 'adjust',
    sku: line.sku,
    warehouse: line.warehouse,
    onHandDelta: received,
    reservedDelta: 0,
    document: { kind: 'purchase_order', id: po.poNumber, lineId: 'P1' },
    actor: 'warehouse',
    reason: 'purchase receipt',
  });
  reserve(
    state,
    books,
    receivedAt,
    orderNumber,
    line,
    received,
    `${orderNumber}:reserve:${line.lineId}:${po.poNumber}`,
  );
  line.reservedQuantity += received;
}
