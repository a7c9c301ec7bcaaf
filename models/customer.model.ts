import { Schema, type Connection, type InferSchemaType, type Query } from 'mongoose';
import { CancelflowError } from '../lib/errors';
import { readPhone } from '../lib/phone';
import {
  emailSearchOf,
  keepDerivedFields,
  customerSearchSchema,
  nameSearchOf,
  phoneSearchOf,
  REPLACEMENTS,
  syncCustomerCopies,
  UPDATES,
  updateChangesSources,
  type DerivedFieldRules,
  type Fields,
} from './search-fields';

export const customerSchema = new Schema(
  {
    customerId: { type: String, required: true, unique: true },
    name: { type: String, required: true },
    /** As the customer wrote it ("+1 (512) 555-0534", "138-0013-8000"): what people see and search by. */
    phone: { type: String },
    /**
     * The phone in E.164 ("+15125550534"), read from `phone` with `country` when it is written, and refused
     * there when it cannot be read (`customerPhoneE164`): what an SMS is sent to.
     */
    phoneE164: { type: String, match: /^\+[1-9]\d{6,14}$/ },
    /** ISO 3166-1 alpha-2 ("CN", "US"): reads a phone written without its country code. */
    country: { type: String, match: /^[A-Z]{2}$/ },
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
    search: { type: customerSearchSchema },
  },
  { timestamps: true },
);

// Issue #13: a guarded write goes by the unique key and the revision read (`updatedAt`, bumped by every
// mongoose write), so it is served by this index (unique because its first field is) rather than by a scan:
// the embedded mongo-java-server answers a filter from an index only when it names exactly that index's fields.
customerSchema.index({ customerId: 1, updatedAt: 1 }, { unique: true });

const prefixed = (fields: Fields) =>
  Object.fromEntries(Object.entries(fields).map(([path, value]) => [`search.${path}`, value]));

const CONTACT_FIELDS = ['name', 'phone', 'email'] as const;

/**
 * A customer's phone in E.164, read with their country when it is written without a country code. A number
 * that cannot be read is refused (`validation_failed`, field `phone`): entered in the books, it would fail
 * every SMS for good (Twilio error 21211).
 */
export function customerPhoneE164(phone: string, country?: string | null): string {
  const reading = readPhone(phone, country);
  if (reading.ok) return reading.e164;
  const read = country ? ` (country ${country})` : '';
  throw new CancelflowError('validation_failed', `phone "${phone}"${read} ${reading.problem}`, {
    field: 'phone',
  });
}

/** Each contact field derives only its own search fields, so an update of one needs no read of the others. */
export const customerSearchRules: DerivedFieldRules = {
  sources: CONTACT_FIELDS,
  // The phone is read with the country written along with it (a whole document, a saved document, the same
  // update). Writing only the country reads nothing again: the number was read when it was written, and
  // the line the customer gave stays the same line.
  alsoReads: ['country'],
  derive(written) {
    const derived: Fields = {};
    if ('name' in written) {
      const name = written.name;
      Object.assign(
        derived,
        prefixed(
          typeof name === 'string'
            ? nameSearchOf(name)
            : { name: undefined, pinyin: undefined, initials: undefined, nameKeys: undefined },
        ),
      );
    }
    if ('phone' in written) {
      const phone = typeof written.phone === 'string' ? written.phone : undefined;
      const country = typeof written.country === 'string' ? written.country : undefined;
      derived.phoneE164 = phone ? customerPhoneE164(phone, country) : undefined;
      Object.assign(derived, prefixed({ phone: undefined, phoneKey: undefined, ...phoneSearchOf(phone) }));
    }
    if ('email' in written) {
      const email = typeof written.email === 'string' ? written.email : undefined;
      Object.assign(derived, prefixed({ email: undefined, ...emailSearchOf(email) }));
    }
    return derived;
  },
};
keepDerivedFields(customerSchema, customerSearchRules);

// Orders keep a copy of their customer's contact for search: a change to an existing customer's name,
// phone or e-mail is carried to its orders after the write. A crash in between leaves copies that the next
// such write, or `syncCustomerCopies`, repairs.
const customersToSync = new WeakMap<object, string[]>();
customerSchema.pre([...UPDATES, ...REPLACEMENTS], { document: false, query: true }, async function () {
  const query = this as Query<unknown, unknown>;
  if (!updateChangesSources(query.getUpdate(), CONTACT_FIELDS)) return;
  customersToSync.set(query, (await query.model.distinct('customerId', query.getFilter())) as string[]);
});
customerSchema.post([...UPDATES, ...REPLACEMENTS], { document: false, query: true }, async function () {
  const query = this as Query<unknown, unknown>;
  await syncCustomerCopies(query.model.db, customersToSync.get(query) ?? []);
});
customerSchema.pre('save', function () {
  this.$locals.syncOrderCopies = !this.isNew && CONTACT_FIELDS.some((field) => this.isModified(field));
});
customerSchema.post('save', async function () {
  if (this.$locals.syncOrderCopies) await syncCustomerCopies(this.db, [this.customerId]);
});
customerSchema.pre('bulkWrite', function (operations) {
  for (const operation of operations) {
    const change =
      'updateOne' in operation
        ? operation.updateOne.update
        : 'updateMany' in operation
          ? operation.updateMany.update
          : 'replaceOne' in operation
            ? operation.replaceOne.replacement
            : undefined;
    if (updateChangesSources(change, CONTACT_FIELDS)) {
      throw new CancelflowError(
        'internal',
        "change a customer's name, phone or e-mail with updateOne, so that its orders' copies follow",
        { field: 'name' },
      );
    }
  }
});

export type Customer = InferSchemaType<typeof customerSchema>;
export const customerModel = (db: Connection) => db.model('Customer', customerSchema);
