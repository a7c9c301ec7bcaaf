// What one sequence owns: its prefix and SKUs, by which every document it writes is found, checked and removed.
import type { Models } from '../../models';

/** The SKUs and the prefix of every document one sequence writes. */
export interface RunScope {
  prefix: string;
  skus: string[];
  /**
   * Foreign payments that may hold a share planned from other counts than it was reserved on (a retry, or
   * refunds racing in a group): their two counts need not reach the top together (see checkBooks).
   */
  offPlan: ReadonlySet<string>;
  /**
   * The keys of its vouchers, when they do not start with the prefix: the engine keys a refund's voucher by its
   * cancellation (`<cancellationId>:refund:<paymentId>:voucher`), which `npm run chaos` checks the books of.
   */
  voucherKeys?: readonly string[];
}

export const startingWith = (prefix: string) => ({ $gte: prefix, $lt: `${prefix}\uffff` });

export async function removeRun(models: Models, run: RunScope): Promise<void> {
  const bySku = { sku: { $in: run.skus } };
  const order = startingWith(`${run.prefix}-`);
  await Promise.all([
    models.Product.deleteMany(bySku),
    models.StockLevel.deleteMany(bySku),
    models.StockMovement.deleteMany(bySku),
    models.SalesOrder.deleteMany({ orderNumber: order }),
    models.Payment.deleteMany({ orderNumber: order }),
    models.Refund.deleteMany({ orderNumber: order }),
    models.Voucher.deleteMany({ idempotencyKey: startingWith(`${run.prefix}:`) }),
    models.Shipment.deleteMany({ shipmentId: order }),
  ]);
}
