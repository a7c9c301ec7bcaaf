import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { localisedName } from './organisation.model';

/**
 * A warehouse goods leave from and come back to (R9, R12). Its return address is what a customer who sends goods
 * back writes on the parcel, in their language; the offer of options tells it them.
 */
export const warehouseSchema = new Schema(
  {
    code: { type: String, required: true, unique: true, trim: true },
    name: { type: localisedName, required: true },
    /** As written on a parcel, one line (with the recipient, e.g. "Returns desk"). */
    returnAddress: { type: localisedName, required: true },
  },
  { timestamps: true },
);

export type Warehouse = InferSchemaType<typeof warehouseSchema>;
export const warehouseModel = (db: Connection) => db.model('Warehouse', warehouseSchema);
