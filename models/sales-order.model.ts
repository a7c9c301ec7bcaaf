import { Schema, type Connection, type InferSchemaType } from 'mongoose';

export const ORDER_STATUSES = [
  'draft',
  'confirmed',
  'allocated',
  'picking',
  'shipped',
  'delivered',
  'completed',
  'cancelled',
  'partially_cancelled',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

const orderLineSchema = new Schema(
  {
    lineId: { type: String, required: true },
    sku: { type: String, required: true },
    warehouse: { type: String, required: true },
    quantity: { type: Number, required: true, min: 1 },
    /** Units of this line still reserved in the warehouse (allocated but not shipped). */
    reservedQuantity: { type: Number, required: true, min: 0, default: 0 },
    cancelledQuantity: { type: Number, required: true, min: 0, default: 0 },
    unitPriceMinor: { type: Number, required: true, min: 0 },
    status: { type: String, enum: ['open', 'partially_cancelled', 'cancelled'], default: 'open' },
  },
  { _id: false },
);

const historyEntrySchema = new Schema(
  {
    /** Idempotency key of the change, so that a retried change is recorded once. */
    key: { type: String, required: true },
    at: { type: Date, required: true },
    status: { type: String, enum: ORDER_STATUSES, required: true },
    actor: { type: String, required: true },
    note: { type: String },
  },
  { _id: false },
);

export const salesOrderSchema = new Schema(
  {
    orderNumber: { type: String, required: true, unique: true },
    customerId: { type: String, required: true },
    status: { type: String, enum: ORDER_STATUSES, required: true },
    currency: { type: String, required: true, minlength: 3, maxlength: 3 },
    lines: { type: [orderLineSchema], required: true },
    totalMinor: { type: Number, required: true, min: 0 },
    cancellation: {
      reasonCode: { type: String },
      note: { type: String },
      cancellationIds: { type: [String], default: [] },
    },
    history: { type: [historyEntrySchema], default: [] },
  },
  { timestamps: true },
);
salesOrderSchema.index({ customerId: 1, createdAt: -1 });

export type SalesOrder = InferSchemaType<typeof salesOrderSchema>;
export const salesOrderModel = (db: Connection) => db.model('SalesOrder', salesOrderSchema);
