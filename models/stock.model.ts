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
     * Counts the movements applied here; whatever else changes on-hand or reserved bumps it too (the books
     * loader does). A movement applies only to the level as it read it, guard checked on that revision, so it
     * neither repeats what another attempt finished meanwhile nor overdraws what another movement took.
     */
    revision: { type: Number, required: true, default: 0 },
  },
  { timestamps: true },
);
stockLevelSchema.index({ sku: 1, warehouse: 1 }, { unique: true });
// Issue #13: a movement applies to the level by its key and the revision read (models/stock-ledger.ts), a
// filter this index serves; the embedded database scans for any filter not naming exactly a unique index's fields.
stockLevelSchema.index({ sku: 1, warehouse: 1, revision: 1 }, { unique: true });
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
// The analytics' restocked stock (R29): the release and return movements applied in a window.
stockMovementSchema.index({ type: 1, state: 1, createdAt: 1 });
/** The analytics' rollups (models/analytics-rollups.ts): the movements changed since their last refresh. */
stockMovementSchema.index({ updatedAt: 1 });
// A movement changes state only from the state it was read in: by key and state, which this index serves (#13).
stockMovementSchema.index({ idempotencyKey: 1, state: 1 }, { unique: true });

export type StockLevel = InferSchemaType<typeof stockLevelSchema>;
export type StockMovement = InferSchemaType<typeof stockMovementSchema>;
export const productModel = (db: Connection) => db.model('Product', productSchema);
export const stockLevelModel = (db: Connection) => db.model('StockLevel', stockLevelSchema);
export const stockMovementModel = (db: Connection) => db.model('StockMovement', stockMovementSchema);
