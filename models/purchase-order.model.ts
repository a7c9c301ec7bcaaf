import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * `sent`: the supplier has it; `confirmed`: the supplier accepted it. From `sent` on, a change to the order is
 * a change the supplier must be told about (R29: frequent changes cost supplier goodwill).
 */
export const PURCHASE_ORDER_STATUSES = [
  'draft',
  'sent',
  'confirmed',
  'partially_received',
  'received',
  'cancelled',
] as const;
export type PurchaseOrderStatus = (typeof PURCHASE_ORDER_STATUSES)[number];

/** Why a purchase line exists for a sales line: bought to fill it from our stock, or sent straight to the customer. */
export const SALES_LINK_KINDS = ['back_order', 'drop_ship'] as const;

export const PURCHASE_ADJUSTMENT_KINDS = ['reduce_for_cancellation', 'supplier_shipped'] as const;

/** Why units linked to a cancelled sales line stay on a purchase order. */
export const REDUCTION_REFUSALS = ['supplier_shipped', 'received', 'purchase_order_closed'] as const;
export type ReductionRefusal = (typeof REDUCTION_REFUSALS)[number];

const wholeUnits = { validator: Number.isInteger, message: '{PATH} must be a whole number of units' };
const units = (min: number) => ({ type: Number, required: true, min, validate: wholeUnits });

const salesLinkSchema = new Schema(
  {
    orderNumber: { type: String, required: true },
    lineId: { type: String, required: true },
    kind: { type: String, enum: SALES_LINK_KINDS, required: true },
    /** Units of the purchase line raised for this sales line. */
    quantity: units(1),
    /** Of those, units taken off the purchase order because the sales line was cancelled. */
    cancelledQuantity: { ...units(0), default: 0 },
  },
  { _id: false },
);

/**
 * Units of a line: `orderedQuantity` as first ordered (kept, for the record), less `cancelledQuantity`, is what
 * is still on order; of that, what the supplier shipped or we received can no longer be cancelled.
 */
const purchaseLineSchema = new Schema(
  {
    lineId: { type: String, required: true },
    sku: { type: String, required: true },
    unitCostMinor: units(0),
    orderedQuantity: units(1),
    cancelledQuantity: { ...units(0), default: 0 },
    /** Units the supplier reports as dispatched (advance shipping notice). */
    supplierShippedQuantity: { ...units(0), default: 0 },
    receivedQuantity: { ...units(0), default: 0 },
    raisedFor: { type: [salesLinkSchema], default: [] },
  },
  { _id: false },
);

/** One change to the order, under the key of the operation that made it: its history, and its idempotency. */
const purchaseAdjustmentSchema = new Schema(
  {
    key: { type: String, required: true },
    kind: { type: String, enum: PURCHASE_ADJUSTMENT_KINDS, required: true },
    at: { type: Date, required: true },
    actor: { type: String, required: true },
    reason: { type: String },
    /** The sales order whose cancellation caused a reduction, and the units of its lines asked to come off. */
    orderNumber: { type: String },
    requested: {
      type: [new Schema({ lineId: String, quantity: Number }, { _id: false })],
      default: undefined,
    },
    /** Units taken off (reduction) or reported dispatched (supplier notice), per purchase line. */
    changes: {
      type: [
        new Schema(
          {
            lineId: { type: String, required: true },
            salesLineId: { type: String },
            quantity: units(1),
          },
          { _id: false },
        ),
      ],
      default: [],
    },
    /** Units a reduction asked for but left on the order, and why. */
    refusals: {
      type: [
        new Schema(
          {
            lineId: { type: String, required: true },
            salesLineId: { type: String, required: true },
            quantity: units(1),
            reason: { type: String, enum: REDUCTION_REFUSALS, required: true },
          },
          { _id: false },
        ),
      ],
      default: [],
    },
    /** From `sent` on before a reduction, the supplier has to be told about it. */
    statusBefore: { type: String, enum: PURCHASE_ORDER_STATUSES, required: true },
    statusAfter: { type: String, enum: PURCHASE_ORDER_STATUSES, required: true },
  },
  { _id: false },
);

export const purchaseOrderSchema = new Schema(
  {
    poNumber: { type: String, required: true, unique: true },
    supplier: {
      supplierId: { type: String, required: true },
      name: { type: String, required: true },
      email: { type: String },
      phone: { type: String },
    },
    status: { type: String, enum: PURCHASE_ORDER_STATUSES, required: true, default: 'draft' },
    currency: { type: String, required: true, minlength: 3, maxlength: 3 },
    /** Where the goods are received; a drop-shipped order goes to the sales order's customer instead. */
    warehouse: { type: String },
    dropShip: { type: Boolean, required: true, default: false },
    lines: { type: [purchaseLineSchema], required: true },
    expectedAt: { type: Date },
    sentAt: { type: Date },
    confirmedAt: { type: Date },
    adjustments: { type: [purchaseAdjustmentSchema], default: [] },
    /** Bumped by every change to lines or status: writers apply their change only to the revision they read. */
    revision: { type: Number, required: true, default: 0 },
  },
  { timestamps: true },
);
// The purchase orders raised for a sales order; a supplier's orders. (A cancellation finds them by the numbers
// its order lists, models/order-links.ts.)
purchaseOrderSchema.index({ 'lines.raisedFor.orderNumber': 1 });
// Issue #13: a change applies to the order by its number and the revision read, a filter this index serves (the
// embedded database scans for any filter that does not name exactly a unique index's fields).
purchaseOrderSchema.index({ poNumber: 1, revision: 1 }, { unique: true });
purchaseOrderSchema.index({ 'supplier.supplierId': 1, createdAt: -1 });
purchaseOrderSchema.index({ status: 1, expectedAt: 1 });
// The analytics' reductions for cancellations in a window (R29), matched with $elemMatch so that both fields
// bound the scan of this multikey index.
purchaseOrderSchema.index({ 'adjustments.kind': 1, 'adjustments.at': 1 });

export type PurchaseOrder = InferSchemaType<typeof purchaseOrderSchema>;

/** A purchase line as read with `lean()`: plain values, to compute a change on and write back whole. */
export interface PurchaseLine {
  lineId: string;
  sku: string;
  unitCostMinor: number;
  orderedQuantity: number;
  cancelledQuantity: number;
  supplierShippedQuantity: number;
  receivedQuantity: number;
  raisedFor: {
    orderNumber: string;
    lineId: string;
    kind: (typeof SALES_LINK_KINDS)[number];
    quantity: number;
    cancelledQuantity: number;
  }[];
}
export const purchaseOrderModel = (db: Connection) => db.model('PurchaseOrder', purchaseOrderSchema);
