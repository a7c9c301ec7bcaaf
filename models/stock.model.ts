import { Schema, type Connection, type InferSchemaType } from 'mongoose';

const wholeUnits = { validator: Number.isInteger, message: '{PATH} must be a whole number of units' };

export const productSchema = new Schema(
  {
    sku: { type: String, required: true, unique: true },
    name: { type: String, required: true },
    unitPriceMinor: { type: Number, required: true, min: 0, validate: wholeUnits },
    /** What a unit costs the shop (its purchase price), in the same currency; absent where not known. */
    unitCostMinor: { type: Number, min: 0, validate: wholeUnits },
    currency: { type: String, required: true, minlength: 3, maxlength: 3 },
  },
  { timestamps: true },
);

/**
 * Stock of one SKU in one warehouse. `pendingMovements` holds the keys of ledger movements applied here but
 * not yet marked applied in the ledger: it is what lets a retried movement tell "done" from "not done"
 * without a multi-document transaction, and it only ever holds the movements in flight.
 */
export const stockLevelSchema = new Schema(
  {
    sku: { type: String, required: true },
    warehouse: { type: String, required: true },
    onHand: { type: Number, required: true, min: 0, validate: wholeUnits },
    reserved: { type: Number, required: true, min: 0, validate: wholeUnits },
    pendingMovements: { type: [String], default: [] },
    /**
     * Counts the movements applied here. A retry that finds its movement recorded by another attempt applies
     * it only if the level is still as it read it, so it cannot repeat what that attempt finished meanwhile.
     */
    revision: { type: Number, required: true, default: 0 },
  },
  { timestamps: true },
);
stockLevelSchema.index({ sku: 1, warehouse: 1 }, { unique: true });
stockLevelSchema.virtual('available').get(function available() {
  return this.onHand - this.reserved;
});

export const STOCK_MOVEMENT_TYPES = ['reserve', 'release', 'ship', 'return', 'adjust'] as const;
export type StockMovementType = (typeof STOCK_MOVEMENT_TYPES)[number];

/** The append-only stock ledger (R10): stock levels are always the sum of its applied movements. */
export const stockMovementSchema = new Schema(
  {
    idempotencyKey: { type: String, required: true, unique: true },
    type: { type: String, enum: STOCK_MOVEMENT_TYPES, required: true },
    sku: { type: String, required: true },
    warehouse: { type: String, required: true },
    /** Signed changes this movement makes to the stock level. */
    onHandDelta: { type: Number, required: true, validate: wholeUnits },
    reservedDelta: { type: Number, required: true, validate: wholeUnits },
    document: {
      kind: { type: String, required: true },
      id: { type: String, required: true },
      lineId: { type: String },
    },
    actor: { type: String, required: true },
    reason: { type: String },
    state: { type: String, enum: ['pending', 'applied', 'rejected'], required: true, default: 'pending' },
    rejection: { type: String },
  },
  { timestamps: true },
);
stockMovementSchema.index({ sku: 1, warehouse: 1, createdAt: 1 });

export type StockLevel = InferSchemaType<typeof stockLevelSchema>;
export type StockMovement = InferSchemaType<typeof stockMovementSchema>;
export const productModel = (db: Connection) => db.model('Product', productSchema);
export const stockLevelModel = (db: Connection) => db.model('StockLevel', stockLevelSchema);
export const stockMovementModel = (db: Connection) => db.model('StockMovement', stockMovementSchema);
