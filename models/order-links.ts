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

/** The order's payments in the order refunds take them, oldest first. */
export function paymentsOf(models: Models, order: Pick<OrderLinks, 'paymentIds'>) {
  return models.Payment.find({ paymentId: { $in: order.paymentIds } })
    .sort({ createdAt: 1, paymentId: 1 })
    .lean();
}

export function shipmentsOf(models: Models, order: Pick<OrderLinks, 'shipmentIds'>) {
  return models.Shipment.find({ shipmentId: { $in: order.shipmentIds } })
    .sort({ shipmentId: 1 })
    .lean();
}

/** A query, for the caller to sort and read as it needs. */
export function purchaseOrdersOf(models: Models, order: Pick<OrderLinks, 'purchaseOrderNumbers'>) {
  return models.PurchaseOrder.find({ poNumber: { $in: order.purchaseOrderNumbers } });
}
