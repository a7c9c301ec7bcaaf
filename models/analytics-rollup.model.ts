// The analytics' rollups (issue #14, models/analytics-rollups.ts): one document per UTC day of cancellations,
// each section the aggregate of that day's records for one kind of figure, per hour and reason; and the state
// of the rollups (their version, the watermark of the last refresh) and of the summaries' backfill.
import { Schema, type Connection } from 'mongoose';

export const analyticsRollupSchema = new Schema(
  {
    /** The UTC day, `2025-03-01`: the unique key a build upserts, so two builders of a day never add up. */
    _id: { type: String, required: true },
    /** The rollups' version (models/analytics-rollups.ts): a document of another one is built again. */
    v: { type: Number, required: true },
    /** When the records it was computed from were read: a build from an older read never replaces it. */
    sourceAt: { type: Date, required: true },
    // The sections, as parallel arrays (models/analytics-rollups.ts); plain values, not sub-documents, for
    // the same reason as the summary's (models/analytics-summary.ts).
    outcomes: { type: Schema.Types.Mixed },
    channels: { type: Schema.Types.Mixed },
    departments: { type: Schema.Types.Mixed },
    refunds: { type: Schema.Types.Mixed },
    products: { type: Schema.Types.Mixed },
    customers: { type: Schema.Types.Mixed },
    states: { type: Schema.Types.Mixed },
    approvals: { type: Schema.Types.Mixed },
  },
  { versionKey: false, minimize: false },
);

export const analyticsStateSchema = new Schema(
  {
    /** `rollups` or `summaries`. */
    _id: { type: String, required: true },
    v: { type: Number, required: true },
    /** Rollups: the start of the last refresh; records changed from a margin before it are read again. */
    watermark: { type: Date },
  },
  { versionKey: false, timestamps: true },
);

export const analyticsRollupModel = (db: Connection) =>
  db.model('AnalyticsRollup', analyticsRollupSchema, 'analyticsrollups');
export const analyticsStateModel = (db: Connection) =>
  db.model('AnalyticsState', analyticsStateSchema, 'analyticsstates');
