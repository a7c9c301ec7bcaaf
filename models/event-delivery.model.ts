// The events of cancellations and of bulk jobs, and their deliveries to subscribers (outbound webhooks). An event
// is recorded once, with the very body every delivery of it sends; a delivery is that event for one
// subscription, and carries its own attempts, retry schedule and claim. Each event is about one subject, a
// cancellation (`cancellationId`) or a bulk job (`bulkJobId`), never both: its sequence counts within that
// subject, and deliveries go in that order. Operations: models/event-deliveries.ts.
import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { EVENT_DELIVERY_STATUSES, WEBHOOK_EVENT_TYPES } from '../contracts/cancellation-events.contract';

export const cancellationEventSchema = new Schema(
  {
    /** Derived from the subject and the sequence (eventIdOf), so a retry names the same event. */
    eventId: { type: String, required: true, unique: true },
    /** The cancellation it tells of; or, for a bulk job's event, `bulkJobId`. */
    cancellationId: { type: String },
    bulkJobId: { type: String },
    /** The cancellation's step (0, 1, 2… as in its timeline), or the bulk job's recorded change (0, 1, 2…). */
    sequence: { type: Number, required: true },
    type: { type: String, enum: WEBHOOK_EVENT_TYPES, required: true },
    occurredAt: { type: Date, required: true },
    /** The JSON every delivery sends, byte for byte: what the signatures cover. */
    body: { type: String, required: true },
  },
  { timestamps: true },
);

export const eventDeliveryAttemptSchema = new Schema(
  {
    at: { type: Date, required: true },
    durationMs: { type: Number, required: true },
    /** The receiver's HTTP status, when it answered. */
    statusCode: { type: Number },
    /** Why it did not count as delivered: a status other than 2xx, a timeout, a refused connection. */
    error: { type: String },
  },
  { _id: false },
);

export const eventDeliverySchema = new Schema(
  {
    /** Derived from the subscription and the event (eventDeliveryId): one delivery per pair, ever. */
    deliveryId: { type: String, required: true, unique: true },
    subscriptionId: { type: String, required: true },
    eventId: { type: String, required: true },
    eventType: { type: String, enum: WEBHOOK_EVENT_TYPES, required: true },
    /** Its event's subject: a cancellation, or a bulk job. */
    cancellationId: { type: String },
    bulkJobId: { type: String },
    sequence: { type: Number, required: true },
    status: { type: String, enum: EVENT_DELIVERY_STATUSES, required: true },
    /** When it may be tried next; absent once delivered or failed. */
    nextAttemptAt: { type: Date },
    /** The first attempt since it was recorded or redelivered: the retry window counts from here. */
    firstAttemptAt: { type: Date },
    /** Every claim counts one, so two dispatchers that read the same count cannot both claim it. */
    attemptCount: { type: Number, required: true, default: 0 },
    /** The latest attempts (MAX_KEPT_ATTEMPTS), oldest first. */
    attempts: { type: [eventDeliveryAttemptSchema], default: [] },
    /** The dispatcher sending it, and until when: no other sends it meanwhile. */
    claimedBy: { type: String },
    claimedUntil: { type: Date },
    lastError: { type: String },
    deliveredAt: { type: Date },
    failedAt: { type: Date },
    redeliveredAt: { type: Date },
    redeliveredBy: { type: String },
  },
  { timestamps: true },
);
// Issue #13: the guarded writes name the key with the status (and, to claim, the attempts counted so far), so
// these indexes (unique because their first field is) serve them on the embedded server too, which answers a
// filter from an index only when it names exactly that index's fields.
eventDeliverySchema.index({ deliveryId: 1, status: 1 }, { unique: true });
eventDeliverySchema.index({ deliveryId: 1, status: 1, attemptCount: 1 }, { unique: true });
/** The dispatcher's due work. Off the cancellation's path; on the embedded server, a scan. */
eventDeliverySchema.index({ status: 1, nextAttemptAt: 1 });
/** A subscription's deliveries, newest first, for admins: all, by status (the parked ones), by cancellation. */
eventDeliverySchema.index({ subscriptionId: 1, createdAt: -1 });
eventDeliverySchema.index({ subscriptionId: 1, status: 1, createdAt: -1 });
eventDeliverySchema.index({ subscriptionId: 1, cancellationId: 1, sequence: 1 });
eventDeliverySchema.index({ subscriptionId: 1, bulkJobId: 1, sequence: 1 });

export type CancellationEventRecord = InferSchemaType<typeof cancellationEventSchema>;
export type EventDeliveryRecord = InferSchemaType<typeof eventDeliverySchema>;
export const cancellationEventModel = (db: Connection) =>
  db.model('CancellationEvent', cancellationEventSchema);
export const eventDeliveryModel = (db: Connection) => db.model('EventDelivery', eventDeliverySchema);
