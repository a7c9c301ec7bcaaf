// Outbound webhooks: the outside systems admins subscribe to the events of cancellations and bulk jobs (an ERP, a warehouse system,
// a customer-service tool). Each gets the events of the types it chose, signed with its own secret.
import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { WEBHOOK_EVENT_TYPES } from '../contracts/cancellation-events.contract';

export const webhookSubscriptionSchema = new Schema(
  {
    subscriptionId: { type: String, required: true, unique: true },
    /** Where every event is posted: http or https. */
    url: { type: String, required: true },
    eventTypes: { type: [{ type: String, enum: WEBHOOK_EVENT_TYPES }], required: true },
    /**
     * `whsec_` and 24 random bytes in base64, Standard Webhooks' form: the key of every request's signature.
     * Kept as it is, not as a digest (unlike API keys), since signing needs it; shown once, when created.
     */
    secret: { type: String, required: true },
    /** An inactive subscription gets no new events, and what it has pending waits until it is active again. */
    active: { type: Boolean, required: true, default: true },
    description: { type: String },
    createdBy: { type: String, required: true },
  },
  { timestamps: true },
);
// Every state change reads the active ones: a handful, set by admins (on the embedded database, a short scan).
webhookSubscriptionSchema.index({ active: 1 });

export type WebhookSubscription = InferSchemaType<typeof webhookSubscriptionSchema>;
export const webhookSubscriptionModel = (db: Connection) =>
  db.model('WebhookSubscription', webhookSubscriptionSchema);
