import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * The life of a parcel: `recalled` is a shipment stopped at the carrier's on request (R9), `returned` one
 * that came back (refused or sent back by the customer).
 */
export const SHIPMENT_STATUSES = [
  'pending',
  'picked_up',
  'in_transit',
  'delivered',
  'returned',
  'recalled',
] as const;
export type ShipmentStatus = (typeof SHIPMENT_STATUSES)[number];

const wholeUnits = { validator: Number.isInteger, message: '{PATH} must be a whole number of units' };

const shipmentLineSchema = new Schema(
  {
    /** The sales-order line these units belong to. */
    lineId: { type: String, required: true },
    sku: { type: String, required: true },
    quantity: { type: Number, required: true, min: 1, validate: wholeUnits },
    /** Units of this line taken back into a warehouse: never more than `quantity`. */
    returnedQuantity: { type: Number, required: true, min: 0, default: 0, validate: wholeUnits },
  },
  { _id: false },
);

/** One return of stock from this shipment, under the key of the operation that recorded it. */
const shipmentReturnSchema = new Schema(
  {
    key: { type: String, required: true },
    at: { type: Date, required: true },
    warehouse: { type: String, required: true },
    actor: { type: String, required: true },
    reason: { type: String },
    lines: {
      type: [new Schema({ lineId: String, sku: String, quantity: Number }, { _id: false })],
      required: true,
    },
  },
  { _id: false },
);

const statusChangeSchema = new Schema(
  {
    key: { type: String, required: true },
    at: { type: Date, required: true },
    status: { type: String, enum: SHIPMENT_STATUSES, required: true },
    note: { type: String },
  },
  { _id: false },
);

export const shipmentSchema = new Schema(
  {
    shipmentId: { type: String, required: true, unique: true },
    orderNumber: { type: String, required: true, index: true },
    /** The warehouse the parcel left from. */
    warehouse: { type: String, required: true },
    carrier: { type: String, required: true },
    /** Given by the carrier at pick-up; absent while pending. */
    trackingNumber: { type: String, index: true },
    status: { type: String, enum: SHIPMENT_STATUSES, required: true, default: 'pending' },
    lines: { type: [shipmentLineSchema], required: true },
    shippedAt: { type: Date },
    deliveredAt: { type: Date },
    history: { type: [statusChangeSchema], default: [] },
    returns: { type: [shipmentReturnSchema], default: [] },
    /** Bumped by every change, so read-then-write changes apply only to what they read. */
    revision: { type: Number, required: true, default: 0 },
  },
  { timestamps: true },
);
// Issue #13: a change applies to the parcel by its id and the revision read, a filter this index serves (the
// embedded database scans for any filter that does not name exactly a unique index's fields).
shipmentSchema.index({ shipmentId: 1, revision: 1 }, { unique: true });

export type Shipment = InferSchemaType<typeof shipmentSchema>;
export const shipmentModel = (db: Connection) => db.model('Shipment', shipmentSchema);
