// Customers' feedback on how a cancellation was handled (R16). The customer's "cancelled" message carries a
// code; through it they rate the service from 1 to 5, once, with an optional comment, stored with the
// cancellation. The code is issued once per cancellation (unique), so a retried notification carries the
// same code; it is random, so nobody rates a cancellation that is not theirs by guessing.
import { Schema, type Connection, type InferSchemaType } from 'mongoose';

export const feedbackSchema = new Schema(
  {
    code: { type: String, required: true, unique: true },
    cancellationId: { type: String, required: true, unique: true },
    orderNumber: { type: String, required: true },
    customerId: { type: String, required: true },
    /** 1 (poor) to 5 (excellent); null until the customer rates. */
    rating: { type: Number, min: 1, max: 5, default: null },
    comment: { type: String },
    submittedAt: { type: Date, default: null },
  },
  { timestamps: true },
);

export type Feedback = InferSchemaType<typeof feedbackSchema>;
export const feedbackModel = (db: Connection) => db.model('Feedback', feedbackSchema);
