import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { LANGUAGES, PERSON_ROLES } from '../contracts/books.contract';
import { DEPARTMENTS } from '../contracts/cancellation.contract';

/** 0: may not approve; 1..3: may approve cancellations up to that risk or amount band (policy decides). */
export const MAX_APPROVAL_LEVEL = 3;

/** A text in each language cancelflow writes in. */
export const localisedName = new Schema(
  {
    'zh-CN': { type: String, required: true, trim: true },
    en: { type: String, required: true, trim: true },
  },
  { _id: false },
);

export const departmentSchema = new Schema(
  {
    code: { type: String, enum: DEPARTMENTS, required: true, unique: true },
    name: { type: localisedName, required: true },
    /** The department's shared mailbox: where mail goes when no one person is named. */
    email: { type: String, required: true, trim: true, lowercase: true },
  },
  { timestamps: true },
);

export const personSchema = new Schema(
  {
    personId: { type: String, required: true, unique: true },
    name: { type: String, required: true, trim: true },
    email: { type: String, trim: true, lowercase: true },
    phone: { type: String, trim: true },
    language: { type: String, enum: LANGUAGES, required: true, default: 'zh-CN' },
    department: { type: String, enum: DEPARTMENTS, required: true },
    roles: { type: [{ type: String, enum: PERSON_ROLES }], default: [] },
    approvalLevel: {
      type: Number,
      required: true,
      default: 0,
      min: 0,
      max: MAX_APPROVAL_LEVEL,
      validate: { validator: Number.isInteger, message: '{PATH} must be a whole number' },
    },
    /** People who left keep their record (approvals and messages refer to them) but receive nothing new. */
    active: { type: Boolean, required: true, default: true },
  },
  { timestamps: true },
);
// Who in a department gets its messages; who may approve at a level.
personSchema.index({ department: 1, active: 1 });
personSchema.index({ roles: 1, approvalLevel: 1, active: 1 });

export type Department = InferSchemaType<typeof departmentSchema>;
export type Person = InferSchemaType<typeof personSchema>;
export const departmentModel = (db: Connection) => db.model('Department', departmentSchema);
export const personModel = (db: Connection) => db.model('Person', personSchema);
