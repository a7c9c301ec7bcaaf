// The analytics' rollups (issue #14, models/analytics-rollups.ts): one document per UTC day of cancellations,
// each section the aggregate of that day's records for one kind of figure, per hour and reason; and the state
// of the rollups (their version, the watermark of the last refresh) and of the summaries' backfill.
import { Schema, type Connection } from 'mongoose';

/** The sections of a day (models/analytics-rollups.ts says what each holds). */
export const ROLLUP_SECTION_NAMES = [
  'outcomes',
  'channels',
  'departments',
  'refunds',
  'products',
  'customers',
  'states',
  'approvals',
  'restocked',
] as const;
export type RollupSectionName = (typeof ROLLUP_SECTION_NAMES)[number];
/** A section per hour of the day, for the days a window starts or ends in, and for local days. */
export const byHour = <Name extends RollupSectionName>(name: Name) => `${name}ByHour` as const;

// Each section twice, as JSON text: the whole day (what a window's inner days read), and per hour. Text,
// because the embedded mongo-java-server costs microseconds per value it stores or sends, and a section is
// thousands of values that are only ever read whole (measured at 10,000 records: 0.7 s for a year of the
// state times as arrays of values).
const sectionFields = Object.fromEntries(
  ROLLUP_SECTION_NAMES.flatMap((name) => [
    [name, { type: String, required: true }],
    [byHour(name), { type: String, required: true }],
  ]),
);

export const analyticsRollupSchema = new Schema(
  {
    /** The UTC day, `2025-03-01`: the unique key a build upserts, so two builders of a day never add up. */
    _id: { type: String, required: true },
    /** The rollups' version (models/analytics-rollups.ts): a document of another one is built again. */
    v: { type: Number, required: true },
    /** When the records it was computed from were read: a build from an older read never replaces it. */
    sourceAt: { type: Date, required: true },
    ...sectionFields,
  },
  { versionKey: false },
);

export const analyticsStateSchema = new Schema(
  {
    /** `rollups` or `summaries`. */
    _id: { type: String, required: true },
    v: { type: Number, required: true },
    /** Rollups: the start of the last refresh; records changed from a margin before it are read again. */
    watermark: { type: Date },
    /** Rollups: the first moment a cancellation was asked, as far as they know; no day before it is built. */
    firstAt: { type: Date },
  },
  { versionKey: false, timestamps: true },
);

export const analyticsRollupModel = (db: Connection) =>
  db.model('AnalyticsRollup', analyticsRollupSchema, 'analyticsrollups');
export const analyticsStateModel = (db: Connection) =>
  db.model('AnalyticsState', analyticsStateSchema, 'analyticsstates');
