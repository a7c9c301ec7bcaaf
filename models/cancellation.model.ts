import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { REQUEST_CHANNELS } from '../contracts/analytics.contract';
import { DEPARTMENTS, REASON_CODES } from '../contracts/cancellation.contract';

/**
 * The queryable copy of a cancellation: lists, reports and reads after the workflow closed come from here,
 * never from Temporal's eventually consistent search. The workflow stays the source of truth while it runs.
 */
export const cancellationSchema = new Schema(
  {
    cancellationId: { type: String, required: true, unique: true },
    workflowId: { type: String, required: true },
    orderNumber: { type: String, required: true },
    customerId: { type: String, required: true },
    policyVersion: { type: String },
    /** Approval progress (steps, levels, escalations, decisions) as the workflow last reported it. */
    approval: { type: Schema.Types.Mixed },
    /** Purchase-order lines reduced, and those left because the supplier had shipped (R27, R29). */
    purchasing: { type: Schema.Types.Mixed },
    settlement: { type: Schema.Types.Mixed },
    /** R9, R12: the carrier's answers, the customer's choice and the returns, for goods that had left. */
    goods: { type: Schema.Types.Mixed },
    /** Why the cancellation waits for ops, and which step resumes: visible to ops in lists. */
    attention: { type: Schema.Types.Mixed },
    /**
     * Set to the order number while this cancellation runs and removed when it ends: a unique (sparse) index
     * makes "one running cancellation per order" hold even when two requests race.
     */
    activeForOrder: { type: String, unique: true, sparse: true },
    /** The caller's Idempotency-Key, so a repeated request finds the cancellation it already created. */
    requestKey: { type: String, unique: true, sparse: true },
    /** A digest of the request the key came with: the same key with a different request is refused. */
    requestHash: { type: String },
    reasonCode: { type: String, enum: REASON_CODES, required: true },
    note: { type: String },
    requestedBy: { type: String, required: true },
    /** R24: the requester's department when they asked (the analytics group by it; people move). */
    requesterDepartment: { type: String, enum: DEPARTMENTS },
    /** How it was asked for: the console, the API with a person's session, or a system's API key. */
    channel: { type: String, enum: REQUEST_CHANNELS },
    confirmed: { type: [String], default: [] },
    requestedLines: {
      type: [new Schema({ lineId: String, quantity: Number }, { _id: false })],
      default: undefined,
    },
    state: { type: String, required: true },
    outcome: { type: String, enum: ['completed', 'refused', 'rejected', 'withdrawn', 'redelivered'] },
    refusal: { type: String },
    risk: { level: { type: String }, reasons: { type: [String], default: undefined } },
    refundedMinor: { type: Number, default: 0 },
    currency: { type: String },
    lines: {
      type: [
        new Schema(
          { lineId: String, sku: String, warehouse: String, quantity: Number, amountMinor: Number },
          { _id: false },
        ),
      ],
      default: [],
    },
    notifications: {
      type: [new Schema({ channel: String, status: String, detail: String }, { _id: false })],
      default: [],
    },
    /**
     * What the analytics read of the timeline and lines (models/analytics-summary.ts), written with them by
     * the same update; absent or of an older version until the backfill at start-up computes it.
     */
    analytics: { type: Schema.Types.Mixed },
    timeline: {
      // `note`: who decided, and on whose behalf when a delegate did (R15).
      type: [new Schema({ step: Number, at: Date, state: String, note: String }, { _id: false })],
      default: [],
    },
  },
  { timestamps: true },
);

// Lists (GET /v1/cancellations) page newest first on (createdAt, cancellationId), the keyset of their cursor;
// each selective filter leads an index that then follows that order, so a page is an index range, not a sort.
cancellationSchema.index({ createdAt: -1, cancellationId: -1 });
/** An order's cancellations (the order resource, lists by order number). */
cancellationSchema.index({ orderNumber: 1, createdAt: -1, cancellationId: -1 });
/** A requester's own cancellations: all a requester may list. */
cancellationSchema.index({ requestedBy: 1, createdAt: -1, cancellationId: -1 });
cancellationSchema.index({ customerId: 1, createdAt: -1, cancellationId: -1 });
/** By state, or the start of it (an anchored prefix is an index range): what waits for finance, ops, the warehouse. */
cancellationSchema.index({ state: 1, createdAt: -1, cancellationId: -1 });
/** The API's metrics (api/metrics.ts): counts by state and outcome, and the oldest in each, from this index alone. */
cancellationSchema.index({ state: 1, outcome: 1, createdAt: 1 });
/** The analytics of one reason (R22): its cancellations in a window (the others range on createdAt above). */
cancellationSchema.index({ reasonCode: 1, createdAt: 1 });
/** The analytics' rollups (models/analytics-rollups.ts): the records changed since their last refresh. */
cancellationSchema.index({ updatedAt: 1 });
/** What waits for an approver: the approvals they may decide (multikey on the list). */
cancellationSchema.index({ 'approval.eligibleApprovers': 1, state: 1 });
/** What waits for a delegate (R15): the steps that found them as someone's delegate. */
cancellationSchema.index({ 'approval.delegates.delegate': 1, state: 1 });

// Issue #13: a guarded write goes by the unique key and the revision read (`updatedAt`, bumped by every
// mongoose write), so it is served by this index (unique because its first field is) rather than by a scan:
// the embedded mongo-java-server answers a filter from an index only when it names exactly that index's fields.
cancellationSchema.index({ cancellationId: 1, updatedAt: 1 }, { unique: true });

export type CancellationRecord = InferSchemaType<typeof cancellationSchema>;
export const cancellationModel = (db: Connection) => db.model('Cancellation', cancellationSchema);
