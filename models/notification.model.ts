import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * The notification outbox: a message is recorded before it is sent and marked sent once the provider took
 * it, so a retry never sends a recorded-as-sent message again. The one window for a duplicate is a crash
 * between the provider accepting the message and this record being marked sent.
 */
export const notificationSchema = new Schema(
  {
    idempotencyKey: { type: String, required: true, unique: true },
    cancellationId: { type: String, required: true, index: true },
    channel: { type: String, enum: ['email', 'sms'], required: true },
    recipient: { type: String, required: true },
    template: { type: String, required: true },
    language: { type: String, required: true },
    status: { type: String, enum: ['queued', 'sent', 'failed', 'delivered'], required: true },
    providerMessageId: { type: String },
    error: { type: String },
    attempts: { type: Number, default: 0 },
  },
  { timestamps: true },
);

export type NotificationRecord = InferSchemaType<typeof notificationSchema>;
export const notificationModel = (db: Connection) => db.model('Notification', notificationSchema);
