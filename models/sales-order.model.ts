import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { ORDER_LINE_STATUSES, ORDER_STATUSES, type SalesOrderLine } from '../contracts/books.contract';
import { normalizeText } from '../lib/text-normalize';
import {
  customerSearchSchema,
  keepDerivedFields,
  orderCustomerCopy,
  type CustomerContact,
  type DerivedFieldRules,
  type Fields,
} from './search-fields';

const orderLineSchema = new Schema<SalesOrderLine>(
  {
    lineId: { type: String, required: true },
    sku: { type: String, required: true },
    warehouse: { type: String, required: true },
    quantity: { type: Number, required: true, min: 1 },
    /** Units of this line still reserved in the warehouse (allocated but not shipped). */
    reservedQuantity: { type: Number, required: true, min: 0, default: 0 },
    cancelledQuantity: { type: Number, required: true, min: 0, default: 0 },
    unitPriceMinor: { type: Number, required: true, min: 0 },
    status: { type: String, enum: ORDER_LINE_STATUSES, default: 'open' },
  },
  { _id: false },
);

const historyEntrySchema = new Schema(
  {
    /** Idempotency key of the change, so that a retried change is recorded once. */
    key: { type: String, required: true },
    at: { type: Date, required: true },
    status: { type: String, enum: ORDER_STATUSES, required: true },
    actor: { type: String, required: true },
    note: { type: String },
  },
  { _id: false },
);

export const salesOrderSchema = new Schema(
  {
    orderNumber: { type: String, required: true, unique: true },
    customerId: { type: String, required: true },
    status: { type: String, enum: ORDER_STATUSES, required: true },
    currency: { type: String, required: true, minlength: 3, maxlength: 3 },
    lines: { type: [orderLineSchema], required: true },
    totalMinor: { type: Number, required: true, min: 0 },
    cancellation: {
      reasonCode: { type: String },
      note: { type: String },
      cancellationIds: { type: [String], default: [] },
    },
    history: { type: [historyEntrySchema], default: [] },
    // The unique keys of the documents that belong to the order, so that a cancellation reads them by key
    // (issue #13: the embedded database scans for any other filter). Listed before they are written
    // (models/order-links.ts): a key whose document is not there yet reads as not there yet.
    paymentIds: { type: [String], default: [] },
    shipmentIds: { type: [String], default: [] },
    /** The purchase orders with a line raised for one of the order's lines. */
    purchaseOrderNumbers: { type: [String], default: [] },

    // Search fields (R1, R13), derived on every write (see `orderSearchRules`): normalised so that a
    // case-insensitive or pinyin prefix search is an anchored regex an index answers, and copied from the
    // customer so that one collection answers a search without a $lookup.
    orderNumberNormalized: { type: String },
    /** The lines' SKUs, normalised and distinct. */
    skus: { type: [String], default: undefined },
    /** The customer's name as written, for result lists. */
    customerName: { type: String },
    customerSearch: { type: customerSearchSchema },
  },
  { timestamps: true },
);
salesOrderSchema.index({ customerId: 1, createdAt: -1 });
// Issue #13: a guarded write goes by the unique key and the revision read (`updatedAt`, bumped by every
// mongoose write), so it is served by this index (unique because its first field is) rather than by a scan:
// the embedded mongo-java-server answers a filter from an index only when it names exactly that index's fields.
salesOrderSchema.index({ orderNumber: 1, updatedAt: 1 }, { unique: true });
// Each searchable field with the default sort (newest first, _id breaking ties) behind it: an equality match
// (a status) reads its results already sorted, and a prefix range is narrowed by a date range in one scan.
salesOrderSchema.index({ orderNumberNormalized: 1 }, { unique: true, sparse: true });
salesOrderSchema.index({ createdAt: -1, _id: -1 });
salesOrderSchema.index({ status: 1, createdAt: -1, _id: -1 });
salesOrderSchema.index({ 'customerSearch.nameKeys': 1, createdAt: -1, _id: -1 });
salesOrderSchema.index({ 'customerSearch.phoneKey': 1, createdAt: -1, _id: -1 });
salesOrderSchema.index({ 'customerSearch.email': 1, createdAt: -1, _id: -1 });
salesOrderSchema.index({ skus: 1, createdAt: -1, _id: -1 });

const normalizedSkus = (lines: unknown[]) => [
  ...new Set(
    lines.flatMap((line) => {
      const sku = typeof line === 'object' && line !== null ? (line as { sku?: unknown }).sku : undefined;
      return typeof sku === 'string' ? [normalizeText(sku)] : [];
    }),
  ),
];

export const orderSearchRules: DerivedFieldRules = {
  sources: ['orderNumber', 'lines', 'customerId'],
  async derive(written, db) {
    const derived: Fields = {};
    if ('orderNumber' in written) {
      const orderNumber = written.orderNumber;
      derived.orderNumberNormalized =
        typeof orderNumber === 'string' ? normalizeText(orderNumber) : undefined;
    }
    if ('lines' in written)
      derived.skus = Array.isArray(written.lines) ? normalizedSkus(written.lines) : undefined;
    if ('customerId' in written) {
      const customer =
        typeof written.customerId === 'string'
          ? await db
              .model('Customer')
              .findOne({ customerId: written.customerId }, { name: 1, phone: 1, email: 1 })
              .lean<CustomerContact>()
          : null;
      Object.assign(
        derived,
        customer ? orderCustomerCopy(customer) : { customerName: undefined, customerSearch: undefined },
      );
    }
    return derived;
  },
  providedOnInsert: { customerId: 'customerSearch.name' },
  // One line, or one line's SKU, set through a positional path: set the whole `lines` instead.
  refusesPath: (path) => /^lines\.[^.]+(\.sku)?$/.test(path),
  appended: (_source, lines) => ({ skus: normalizedSkus(lines) }),
};
keepDerivedFields(salesOrderSchema, orderSearchRules);

export type SalesOrder = InferSchemaType<typeof salesOrderSchema>;
export const salesOrderModel = (db: Connection) => db.model('SalesOrder', salesOrderSchema);
