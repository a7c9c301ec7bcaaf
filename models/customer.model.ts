import { Schema, type Connection, type InferSchemaType } from 'mongoose';

export const customerSchema = new Schema(
  {
    customerId: { type: String, required: true, unique: true },
    name: { type: String, required: true },
    phone: { type: String },
    email: { type: String },
    language: { type: String, enum: ['zh-CN', 'en'], default: 'zh-CN' },
    consent: {
      email: { type: Boolean, default: true },
      sms: { type: Boolean, default: true },
    },
    tier: { type: String, enum: ['standard', 'silver', 'gold', 'vip'], default: 'standard' },
    cancellationCount: { type: Number, default: 0, min: 0 },
    /** The cancellations counted, so that a retried count changes nothing. */
    cancellationIds: { type: [String], default: [] },
  },
  { timestamps: true },
);

export type Customer = InferSchemaType<typeof customerSchema>;
export const customerModel = (db: Connection) => db.model('Customer', customerSchema);
