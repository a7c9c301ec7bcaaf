import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { DEPARTMENTS } from '../contracts/cancellation.contract';

export const NOTIFICATION_CHANNELS = ['email', 'sms'] as const;
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];

/**
 * `queued` until a provider accepts the message, then `sent`; `delivered` once the provider reports it
 * reached the recipient. `failed` is final: retries gave up, the provider refused the message for good, or
 * it reported the message undeliverable; `error` then holds the provider's own words.
 */
export const NOTIFICATION_STATUSES = ['queued', 'sent', 'failed', 'delivered'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/**
 * The notification outbox: a message is recorded, rendered, before anything is sent, and marked sent once
 * the provider took it, so a retry never sends a recorded-as-sent message again. The one window for a
 * duplicate is a crash between the provider accepting the message and this record being marked sent
 * (docs/notifications.md).
 */
export const notificationSchema = new Schema(
  {
    idempotencyKey: { type: String, required: true, unique: true },
    cancellationId: { type: String, required: true, index: true },
    channel: { type: String, enum: NOTIFICATION_CHANNELS, required: true },
    recipient: { type: String, required: true },
    /** Who it is for: the customer, a department's mailbox, or one person (approvers). */
    audience: { type: String, enum: ['customer', 'department', 'person'] },
    department: { type: String, enum: DEPARTMENTS },
    /** The moment of the cancellation it tells about: received, rejected, withdrawn, completed… */
    moment: { type: String },
    template: { type: String, required: true },
    language: { type: String, required: true },
    /** The template's variables, as rendered. */
    payload: { type: Schema.Types.Mixed },
    /** What is sent, rendered once when recorded, so every retry sends the very same message. */
    content: {
      type: new Schema({ subject: String, text: String, html: String, body: String }, { _id: false }),
    },
    /** Mail's Message-ID header, the same on every attempt, so receivers can drop a copy. */
    messageId: { type: String },
    status: { type: String, enum: NOTIFICATION_STATUSES, required: true },
    /** The provider's id for it (Twilio's MessageSid, the mail's Message-ID), set when marked sent. */
    providerMessageId: { type: String },
    /** The last status the provider reported (Twilio: queued, sent, delivered, undelivered…). */
    providerStatus: { type: String },
    /** The provider's last error: the one that made delivery fail for good, or the last attempt's. */
    error: { type: String },
    attempts: { type: Number, default: 0 },
    lastAttemptAt: { type: Date },
    /** Set while an attempt sends it: another attempt waits until then rather than send it a second time. */
    claimedUntil: { type: Date },
    /** Which attempt holds it: a batch claims several entries in one write, then knows which it won. */
    claimToken: { type: String },
    sentAt: { type: Date },
    deliveredAt: { type: Date },
    failedAt: { type: Date },
    /** The Temporal workflow delivering it, for ops to look up its attempts (a batch delivers several). */
    deliveryWorkflowId: { type: String },
  },
  { timestamps: true },
);
// Delivery reports name the provider's id. Unique: two entries never share a provider message.
notificationSchema.index({ providerMessageId: 1 }, { unique: true, sparse: true });
// Issue #13: the outbox's guarded writes name the key with the status (and, to claim, the attempts counted so
// far, which every claim increments), so these indexes (unique because their first field is) serve them: the
// embedded mongo-java-server answers a filter from an index only when it names exactly that index's fields.
notificationSchema.index({ idempotencyKey: 1, status: 1 }, { unique: true });
notificationSchema.index({ idempotencyKey: 1, status: 1, attempts: 1 }, { unique: true });
/** The API's metrics (api/metrics.ts): the outbox's backlog, counted from this index alone. */
notificationSchema.index({ status: 1 });

export type NotificationRecord = InferSchemaType<typeof notificationSchema>;
export const notificationModel = (db: Connection) => db.model('Notification', notificationSchema);
