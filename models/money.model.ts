import { Schema, type Connection, type InferSchemaType } from 'mongoose';

// Money is kept in integer minor units (fen, cents) with its ISO 4217 currency: exact, and cheap to guard.
const minorUnits = { validator: Number.isInteger, message: '{PATH} must be whole minor units' };
const currency = { type: String, required: true, minlength: 3, maxlength: 3 } as const;

/**
 * A captured payment. `refundedMinor` counts refunds reserved against it (in flight or succeeded); a refund is
 * reserved by one update that applies only to the revision its guard `refundedMinor + amount <= capturedMinor`
 * was checked on, so the guard holds without a transaction.
 */
export const paymentSchema = new Schema(
  {
    paymentId: { type: String, required: true, unique: true },
    orderNumber: { type: String, required: true, index: true },
    capturedMinor: { type: Number, required: true, min: 0, validate: minorUnits },
    refundedMinor: { type: Number, required: true, min: 0, default: 0, validate: minorUnits },
    currency,
    /**
     * R11: what the payment settled of the order, in the order's currency, when the customer paid in another
     * (the rate at capture); absent when they paid in the order's own. Refunds give back shares at that rate.
     */
    orderCurrencyMinor: { type: Number, min: 1, validate: minorUnits },
    /**
     * With `orderCurrencyMinor`: what the refunds reserved against it give back of the order, in the order's
     * currency. Moves with `refundedMinor` in the same updates, so shares never drift from the capture's rate.
     */
    refundedOrderCurrencyMinor: { type: Number, min: 0, validate: minorUnits },
    method: { type: String, required: true },
    providerReference: { type: String, required: true },
    pendingRefunds: { type: [String], default: [] },
    /** Bumped by every write: a guarded write applies only to the revision it read (models/refund-ledger.ts). */
    revision: { type: Number, required: true, default: 0 },
  },
  { timestamps: true },
);
// Issue #13: the guarded write's filter is the key and the revision, which this index serves (the embedded
// database scans for any filter that does not name exactly a unique index's fields).
paymentSchema.index({ paymentId: 1, revision: 1 }, { unique: true });

export const REFUND_STATUSES = ['pending', 'succeeded', 'failed', 'retrying', 'settled_manually'] as const;

export const refundSchema = new Schema(
  {
    idempotencyKey: { type: String, required: true, unique: true },
    paymentId: { type: String, required: true },
    orderNumber: { type: String, required: true },
    cancellationId: { type: String, required: true, index: true },
    amountMinor: { type: Number, required: true, min: 1, validate: minorUnits },
    currency,
    /** What the refund gives back of the order, in the order's currency; absent when it is the payment's. */
    orderCurrencyMinor: { type: Number, min: 0, validate: minorUnits },
    status: { type: String, enum: REFUND_STATUSES, required: true, default: 'pending' },
    providerRefundId: { type: String },
    failure: { type: String },
  },
  { timestamps: true },
);

/** A double-entry finance voucher (R11, R27): its debits equal its credits. */
export const voucherSchema = new Schema(
  {
    idempotencyKey: { type: String, required: true, unique: true },
    kind: { type: String, enum: ['refund'], required: true },
    currency,
    document: { kind: { type: String, required: true }, id: { type: String, required: true } },
    lines: {
      type: [
        new Schema(
          {
            account: { type: String, required: true },
            debitMinor: { type: Number, required: true, min: 0, validate: minorUnits },
            creditMinor: { type: Number, required: true, min: 0, validate: minorUnits },
          },
          { _id: false },
        ),
      ],
      validate: {
        validator: (lines: { debitMinor: number; creditMinor: number }[]) =>
          lines.length >= 2 && lines.reduce((sum, line) => sum + line.debitMinor - line.creditMinor, 0) === 0,
        message: 'a voucher needs two or more lines whose debits equal their credits',
      },
    },
    memo: { type: String },
  },
  { timestamps: true },
);

export type Payment = InferSchemaType<typeof paymentSchema>;
export type Refund = InferSchemaType<typeof refundSchema>;
export type Voucher = InferSchemaType<typeof voucherSchema>;
export const paymentModel = (db: Connection) => db.model('Payment', paymentSchema);
export const refundModel = (db: Connection) => db.model('Refund', refundSchema);
export const voucherModel = (db: Connection) => db.model('Voucher', voucherSchema);
