// The documents that belong to a sales order (its payments, its parcels, the purchase orders raised for it),
// found by the unique keys the order lists, never by their `orderNumber`: the embedded database answers a
// filter from an index only when it names exactly a unique index's fields, so a lookup by order number reads
// every payment, parcel or purchase order in the books (issue #13).
//
// Whoever writes such a document lists it on its order first (`linkToOrder`), then writes it: a reader who
// comes in between finds a key with no document yet, which is what it would have found a moment earlier.
import { CancelflowError } from '../lib/errors';
import type { Models } from './index';
import type { SalesOrder } from './sales-order.model';

export type OrderLinks = Pick<SalesOrder, 'paymentIds' | 'shipmentIds' | 'purchaseOrderNumbers'>;

/** Lists documents on their order; listing one again changes nothing. */
export async function linkToOrder(
  models: Models,
  orderNumber: string,
  links: Partial<OrderLinks>,
): Promise<void> {
  const listed = await models.SalesOrder.updateOne(
    { orderNumber },
    {
      $addToSet: Object.fromEntries(Object.entries(links).map(([field, keys]) => [field, { $each: keys }])),
      // Guarded writes go by the revision they read (models/revision.ts), and mongoose's own timestamp could
      // move it back after one set it ahead of the clock. None of them sets these lists whole, so one whose
      // revision this write leaves as it was loses nothing.
      $max: { updatedAt: new Date() },
    },
    { timestamps: false },
  );
  if (listed.matchedCount === 0) {
    throw new CancelflowError('not_found', `order ${orderNumber} does not exist`, { field: 'orderNumber' });
  }
}

// An order that lists none of a kind costs no round trip for it: most orders have no parcel and no purchase
// order, and a cancellation read those lists about eight times (issue #13, the bench's CPU by process).

/** The order's payments in the order refunds take them, oldest first. */
export async function paymentsOf(models: Models, order: Pick<OrderLinks, 'paymentIds'>) {
  if (order.paymentIds.length === 0) return [];
  return models.Payment.find({ paymentId: { $in: order.paymentIds } })
    .sort({ createdAt: 1, paymentId: 1 })
    .lean();
}

export async function shipmentsOf(models: Models, order: Pick<OrderLinks, 'shipmentIds'>) {
  if (order.shipmentIds.length === 0) return [];
  return models.Shipment.find({ shipmentId: { $in: order.shipmentIds } })
    .sort({ shipmentId: 1 })
    .lean();
}

/** The purchase orders raised for the order, in `sort` order (by number unless told). */
export async function purchaseOrdersOf(
  models: Models,
  order: Pick<OrderLinks, 'purchaseOrderNumbers'>,
  sort: Record<string, 1 | -1> = { poNumber: 1 },
) {
  if (order.purchaseOrderNumbers.length === 0) return [];
  return models.PurchaseOrder.find({ poNumber: { $in: order.purchaseOrderNumbers } })
    .sort(sort)
    .lean();
}
