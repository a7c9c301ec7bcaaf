// The in-system message centre (R19, R24): what each person sees about the cancellations that concern them.
//
// One document per message and recipient, in the recipient's language. A message to a department is written
// once for each of its active members, so a person's unread count is one indexed count
// (`recipientId`, `readAt: null`) and marking read is one guarded update of one document that a repeat
// cannot change again. Each document is keyed by the writer's idempotency key and the recipient, so a
// retried delivery completes what a crash left half-done and never shows a message twice.
import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { LANGUAGES } from '../contracts/books.contract';
import { DEPARTMENTS } from '../contracts/cancellation.contract';

export const MESSAGE_CATEGORIES = [
  /** A cancellation moved on: requested, completed, refused. */
  'cancellation_progress',
  /** Someone must approve or decide before the cancellation goes on. */
  'action_required',
  'stock',
  'purchasing',
  'logistics',
  'refund',
] as const;
export type MessageCategory = (typeof MESSAGE_CATEGORIES)[number];

export const messageCentreEntrySchema = new Schema(
  {
    /** `<idempotency key>:<recipient>`: the same on every retry, so the unique index stops a second copy. */
    messageId: { type: String, required: true, unique: true },
    idempotencyKey: { type: String, required: true },
    recipientId: { type: String, required: true },
    /** The department the message was addressed to, when it went to a department rather than a person. */
    department: { type: String, enum: DEPARTMENTS },
    cancellationId: { type: String, required: true },
    orderNumber: { type: String, required: true },
    category: { type: String, enum: MESSAGE_CATEGORIES, required: true },
    language: { type: String, enum: LANGUAGES, required: true },
    title: { type: String, required: true },
    body: { type: String, required: true },
    /** Null until the recipient reads it; set once, never moved. */
    readAt: { type: Date, default: null },
  },
  { timestamps: true },
);
// Unread counts and a person's inbox, newest first.
messageCentreEntrySchema.index({ recipientId: 1, readAt: 1, createdAt: -1 });
messageCentreEntrySchema.index({ cancellationId: 1 });

export type MessageCentreEntry = InferSchemaType<typeof messageCentreEntrySchema>;
export const messageCentreEntryModel = (db: Connection) =>
  db.model('MessageCentreEntry', messageCentreEntrySchema);
