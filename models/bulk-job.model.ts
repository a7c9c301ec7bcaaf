// Bulk cancellation jobs (issue #16): the job as it was asked for, and one document per order of its selection.
// The job's workflow is the source of truth for its state; these are the queryable copy its activities keep,
// which the API's progress, the console and the CSV report read.
import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { REQUEST_CHANNELS } from '../contracts/analytics.contract';
import { BULK_ITEM_STATUSES, BULK_JOB_STATES } from '../contracts/bulk-cancellation.contract';
import { REASON_CODES } from '../contracts/cancellation.contract';

export const bulkJobSchema = new Schema(
  {
    jobId: { type: String, required: true, unique: true },
    workflowId: { type: String, required: true },
    /** The caller's Idempotency-Key: a repeated start answers with the job it already created. */
    requestKey: { type: String, unique: true, sparse: true },
    /** Who started it: every cancellation of the job is requested as this person (R3, R26). */
    requestedBy: { type: String, required: true },
    channel: { type: String, enum: REQUEST_CHANNELS },
    selection: { type: Schema.Types.Mixed, required: true },
    reasonCode: { type: String, enum: REASON_CODES, required: true },
    note: { type: String },
    confirm: { type: [String], default: [] },
    concurrency: { type: Number, required: true },
    state: { type: String, enum: BULK_JOB_STATES, required: true },
    /** How many orders the selection found (known once selected). */
    total: { type: Number },
    control: {
      // `key`: the recording activity's (see stateChanges), so a retry adds its entry once.
      type: [new Schema({ action: String, by: String, note: String, at: Date, key: String }, { _id: false })],
      default: [],
    },
    endedAt: { type: Date },
    /** Why it ended `failed`: how its workflow ended, and the failure's own message (bulk-job-watcher.ts). */
    failureReason: { type: String },
    /**
     * Each change of its state its workflow recorded, in order: the key of the activity that recorded it (its
     * run and activity id, the same on every retry of it), the state before and after, and when. A change's
     * place in this list is the sequence of the webhook event it makes (activities/bulk-job-events.ts), so a
     * retried activity finds its change here and names the same event.
     */
    stateChanges: {
      type: [new Schema({ key: String, from: String, to: String, at: Date }, { _id: false })],
      default: [],
    },
    /**
     * Where in its workflow the state now held was decided (models/bulk-jobs.ts `BulkStateVersion`): a write
     * decided earlier that arrives later (two recording activities in flight at once) does not replace it.
     */
    stateVersion: { runId: String, seq: Number, scheduledAt: Date },
  },
  { timestamps: true },
);
bulkJobSchema.index({ createdAt: -1, jobId: -1 });

export const bulkJobItemSchema = new Schema(
  {
    jobId: { type: String, required: true },
    /** The order's place in the job (0-based, in order-number order): the job starts them in this order. */
    seq: { type: Number, required: true },
    orderNumber: { type: String, required: true },
    status: { type: String, enum: BULK_ITEM_STATUSES, required: true, default: 'pending' },
    /** pending | active | waiting | done (contracts/bulk-cancellation.contract.ts `BulkItemPhase`). */
    phase: { type: String, required: true, default: 'pending' },
    /** Why it was not started, or why its cancellation was refused or failed. */
    reason: { type: String },
    /** The cancellation: this job's, or, for `being_cancelled`, the one already running for the order. */
    cancellationId: { type: String },
    /** Its cancellation's state, outcome and refund as the books last showed them. */
    state: { type: String },
    outcome: { type: String },
    refundedMinor: { type: Number, default: 0 },
    currency: { type: String },
  },
  { timestamps: true },
);
bulkJobItemSchema.index({ jobId: 1, seq: 1 }, { unique: true });
bulkJobItemSchema.index({ jobId: 1, orderNumber: 1 }, { unique: true });
// The job's pace counts and reads its items by phase: the embedded database answers a filter from an index only
// when the filter names exactly that index's fields (issue #13), hence both.
bulkJobItemSchema.index({ jobId: 1, phase: 1 });
bulkJobItemSchema.index({ jobId: 1, phase: 1, seq: 1 });

export type BulkJobRecord = InferSchemaType<typeof bulkJobSchema>;
export type BulkJobItemRecord = InferSchemaType<typeof bulkJobItemSchema>;
export const bulkJobModel = (db: Connection) => db.model('BulkJob', bulkJobSchema);
export const bulkJobItemModel = (db: Connection) => db.model('BulkJobItem', bulkJobItemSchema);
