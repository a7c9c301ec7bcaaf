// Order lookup (R1, R13): every criterion is matched on a normalised, indexed field of the orders collection
// (see sales-order.model.ts), as an equality or an anchored, escaped prefix regex, so a real MongoDB answers
// from an index without a $lookup. Pages are read with a keyset cursor rather than page numbers: a page costs
// the same however deep it is (no skip), and orders created while someone pages cause neither duplicates nor
// gaps.
import { Types, type QueryFilter } from 'mongoose';
import { withoutControlCharacters } from '../contracts/text.contract';
import { z } from 'zod';
import {
  ORDER_SORTS,
  ORDER_STATUSES,
  type OrderResource,
  type OrderSearchPage,
  type OrderSearchQuery,
  type OrderSort,
  type OrderSummary,
} from '../contracts/books.contract';
import { CancelflowError } from '../lib/errors';
import { normalizeText, phoneQueryKey, pinyinQueryOf, prefixPattern } from '../lib/text-normalize';
import type { Models } from './index';
import type { SalesOrder } from './sales-order.model';

const MAX_PAGE_SIZE = 100;

const text = (max: number) =>
  z.string().trim().min(1).max(max).refine(withoutControlCharacters, 'no control characters');
const dateBound = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  error: 'an ISO date (2026-03-31) or date-time with offset (2026-03-31T08:00:00+08:00)',
});
/** A query string repeats a key (status=a&status=b) or separates values by commas (status=a,b). */
const listOf = (value: unknown) =>
  [value]
    .flat()
    .flatMap((item) => (typeof item === 'string' ? item.split(',').map((part) => part.trim()) : [item]));

export const orderSearchQuery = z
  .strictObject({
    orderNumber: text(64).optional(),
    orderNumberPrefix: text(64).optional(),
    customer: text(100).optional(),
    phone: z
      .string()
      .trim()
      .max(32)
      .regex(/^[+\d\s().-]+$/, 'digits, spaces and + - ( ) . only')
      .refine((phone) => phone.replace(/\D/g, '').length >= 4, 'at least 4 digits')
      .optional(),
    email: text(254).optional(),
    sku: text(64).optional(),
    status: z
      .preprocess(listOf, z.array(z.enum(ORDER_STATUSES)).min(1).max(ORDER_STATUSES.length))
      .optional(),
    createdFrom: dateBound.optional(),
    createdTo: dateBound.optional(),
    sort: z.enum(ORDER_SORTS).default('-createdAt'),
    limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(20),
    cursor: z.string().min(1).max(512).optional(),
    count: z.union([z.boolean(), z.stringbool()]).default(false),
  })
  .refine(
    (query) =>
      !query.createdFrom || !query.createdTo || new Date(query.createdFrom) <= upperBound(query.createdTo).at,
    {
      path: ['createdTo'],
      message: 'createdTo is before createdFrom',
    },
  );

/** A date-time bound is inclusive; a date includes the whole of that day (up to the next midnight UTC). */
function upperBound(value: string): { at: Date; inclusive: boolean } {
  const at = new Date(value);
  if (value.includes('T')) return { at, inclusive: true };
  at.setUTCDate(at.getUTCDate() + 1);
  return { at, inclusive: false };
}

/** A zod issue path as the API names fields: lines[0].quantity. */
function fieldName(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (name, part) =>
      typeof part === 'number' ? `${name}[${part}]` : name ? `${name}.${String(part)}` : String(part),
    '',
  );
}

export function parseOrderSearchQuery(input: unknown): z.output<typeof orderSearchQuery> {
  const parsed = orderSearchQuery.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field =
    (issue?.code === 'unrecognized_keys' ? issue.keys[0] : issue ? fieldName(issue.path) : undefined) ||
    'query';
  const message =
    issue?.code === 'unrecognized_keys' ? 'is not a search criterion' : (issue?.message ?? 'invalid');
  throw new CancelflowError('validation_failed', `${field}: ${message}`, { field });
}

// A cursor holds the sort it belongs to and the sort key of the last order of its page.
const cursorSchema = z.object({ sort: z.enum(ORDER_SORTS), after: z.array(z.string()).min(1).max(2) });
type Cursor =
  { sort: OrderSort; createdAt: Date; id: Types.ObjectId } | { sort: OrderSort; orderNumber: string };

function encodeCursor(sort: OrderSort, last: { createdAt: Date; _id: Types.ObjectId; orderNumber: string }) {
  const after = sort.endsWith('createdAt')
    ? [last.createdAt.toISOString(), last._id.toHexString()]
    : [last.orderNumber];
  return Buffer.from(JSON.stringify({ sort, after })).toString('base64url');
}

function decodeCursor(cursor: string, sort: OrderSort): Cursor {
  const invalid = (why: string) =>
    new CancelflowError('validation_failed', `cursor: ${why}`, { field: 'cursor' });
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('not a cursor this API returned');
  }
  const parsed = cursorSchema.safeParse(decoded);
  if (!parsed.success) throw invalid('not a cursor this API returned');
  if (parsed.data.sort !== sort) throw invalid(`it belongs to sort ${parsed.data.sort}, not ${sort}`);
  const [first, second] = parsed.data.after;
  if (!sort.endsWith('createdAt')) return { sort, orderNumber: first as string };
  const createdAt = new Date(first as string);
  if (Number.isNaN(createdAt.getTime()) || !second || !Types.ObjectId.isValid(second))
    throw invalid('not a cursor this API returned');
  return { sort, createdAt, id: new Types.ObjectId(second) };
}

type OrderFilter = QueryFilter<SalesOrder>;

const SORTS: Record<OrderSort, Record<string, 1 | -1>> = {
  '-createdAt': { createdAt: -1, _id: -1 },
  createdAt: { createdAt: 1, _id: 1 },
  orderNumber: { orderNumber: 1 },
  '-orderNumber': { orderNumber: -1 },
};

/** Orders after the cursor in the sort order: the keyset condition of the next page. */
function afterCursor(cursor: Cursor): OrderFilter {
  const next = cursor.sort.startsWith('-') ? '$lt' : '$gt';
  if ('orderNumber' in cursor) return { orderNumber: { [next]: cursor.orderNumber } };
  return {
    $or: [
      { createdAt: { [next]: cursor.createdAt } },
      { createdAt: cursor.createdAt, _id: { [next]: cursor.id } },
    ],
  };
}

/** The conditions as one filter: one flat object when they name different fields (simplest for a planner). */
function allOf(conditions: OrderFilter[]): OrderFilter {
  const keys = conditions.flatMap((condition) => Object.keys(condition));
  if (new Set(keys).size === keys.length) return Object.assign({}, ...conditions) as OrderFilter;
  return { $and: conditions };
}

export type OrderSearchModels = Pick<Models, 'SalesOrder'>;

/** Validates `query` (it may come straight from a query string) and returns one page of matching orders. */
export async function searchOrders(
  models: OrderSearchModels,
  query: OrderSearchQuery,
): Promise<OrderSearchPage> {
  const criteria = parseOrderSearchQuery(query);
  const conditions: OrderFilter[] = [];
  if (criteria.orderNumber) conditions.push({ orderNumberNormalized: normalizeText(criteria.orderNumber) });
  if (criteria.orderNumberPrefix)
    conditions.push({ orderNumberNormalized: prefixPattern(normalizeText(criteria.orderNumberPrefix)) });
  if (criteria.customer) {
    // The name as typed, and as pinyin when it can be pinyin ("Wang Fang" → wangfang).
    const keys = [...new Set([normalizeText(criteria.customer), pinyinQueryOf(criteria.customer)])].filter(
      (key): key is string => Boolean(key),
    );
    const patterns = keys.map(prefixPattern);
    conditions.push({ 'customerSearch.nameKeys': patterns.length === 1 ? patterns[0] : { $in: patterns } });
  }
  if (criteria.phone)
    conditions.push({ 'customerSearch.phoneKey': prefixPattern(phoneQueryKey(criteria.phone)) });
  if (criteria.email)
    conditions.push({ 'customerSearch.email': prefixPattern(normalizeText(criteria.email)) });
  if (criteria.sku) conditions.push({ skus: prefixPattern(normalizeText(criteria.sku)) });
  if (criteria.status)
    conditions.push({ status: criteria.status.length === 1 ? criteria.status[0] : { $in: criteria.status } });
  if (criteria.createdFrom || criteria.createdTo) {
    const range: Record<string, Date> = {};
    if (criteria.createdFrom) range.$gte = new Date(criteria.createdFrom);
    if (criteria.createdTo) {
      const upper = upperBound(criteria.createdTo);
      range[upper.inclusive ? '$lte' : '$lt'] = upper.at;
    }
    conditions.push({ createdAt: range });
  }
  const cursor = criteria.cursor ? decodeCursor(criteria.cursor, criteria.sort) : undefined;
  const filter = allOf(cursor ? [...conditions, afterCursor(cursor)] : conditions);

  const [found, total] = await Promise.all([
    models.SalesOrder.find(filter, {
      orderNumber: 1,
      customerId: 1,
      customerName: 1,
      status: 1,
      totalMinor: 1,
      currency: 1,
      createdAt: 1,
      'lines.lineId': 1,
    })
      .sort(SORTS[criteria.sort])
      .limit(criteria.limit + 1)
      .lean<
        (Pick<
          SalesOrder,
          'orderNumber' | 'customerId' | 'customerName' | 'status' | 'totalMinor' | 'currency'
        > & {
          _id: Types.ObjectId;
          createdAt: Date;
          lines?: unknown[];
        })[]
      >(),
    criteria.count ? models.SalesOrder.countDocuments(allOf(conditions)) : undefined,
  ]);
  const hasMore = found.length > criteria.limit;
  const page = found.slice(0, criteria.limit);
  const items = page.map((order): OrderSummary => ({
    orderNumber: order.orderNumber,
    customerId: order.customerId,
    customerName: order.customerName ?? undefined,
    status: order.status,
    totalMinor: order.totalMinor,
    currency: order.currency,
    lineCount: order.lines?.length ?? 0,
    createdAt: order.createdAt.toISOString(),
  }));
  const last = page[page.length - 1];
  return {
    items,
    hasMore,
    ...(hasMore && last ? { nextCursor: encodeCursor(criteria.sort, last) } : {}),
    ...(total === undefined ? {} : { total }),
  };
}

const orderNumberParam = text(64);

/** One order with everything a clerk reviews before cancelling it (R2): lines, money, earlier cancellations. */
export async function getOrder(
  models: Pick<Models, 'SalesOrder' | 'Payment' | 'Refund' | 'Cancellation'>,
  orderNumberInput: string,
): Promise<OrderResource> {
  const parsed = orderNumberParam.safeParse(orderNumberInput);
  if (!parsed.success)
    throw new CancelflowError('validation_failed', 'orderNumber: 1 to 64 characters', {
      field: 'orderNumber',
    });
  const order =
    (await models.SalesOrder.findOne({ orderNumber: parsed.data }).lean()) ??
    (await models.SalesOrder.findOne({ orderNumberNormalized: normalizeText(parsed.data) }).lean());
  if (!order)
    throw new CancelflowError('not_found', `order ${parsed.data} does not exist`, { field: 'orderNumber' });
  const { orderNumber } = order;
  const [payments, refunds, cancellations] = await Promise.all([
    models.Payment.find({ orderNumber }).sort({ createdAt: 1 }).lean(),
    models.Refund.find({ orderNumber }).sort({ createdAt: 1 }).lean(),
    models.Cancellation.find({ orderNumber }).sort({ createdAt: 1 }).lean(),
  ]);
  return {
    orderNumber,
    customerId: order.customerId,
    customerName: order.customerName ?? undefined,
    status: order.status,
    currency: order.currency,
    totalMinor: order.totalMinor,
    lines: order.lines.map((line) => ({
      lineId: line.lineId,
      sku: line.sku,
      warehouse: line.warehouse,
      quantity: line.quantity,
      reservedQuantity: line.reservedQuantity,
      cancelledQuantity: line.cancelledQuantity,
      unitPriceMinor: line.unitPriceMinor,
      status: line.status,
    })),
    payments: payments.map((payment) => ({
      paymentId: payment.paymentId,
      capturedMinor: payment.capturedMinor,
      refundedMinor: payment.refundedMinor,
      currency: payment.currency,
      method: payment.method,
      providerReference: payment.providerReference,
    })),
    refunds: refunds.map((refund) => ({
      idempotencyKey: refund.idempotencyKey,
      paymentId: refund.paymentId,
      cancellationId: refund.cancellationId,
      amountMinor: refund.amountMinor,
      currency: refund.currency,
      status: refund.status,
      createdAt: refund.createdAt.toISOString(),
    })),
    cancellation: order.cancellation
      ? {
          reasonCode: order.cancellation.reasonCode ?? undefined,
          note: order.cancellation.note ?? undefined,
          cancellationIds: order.cancellation.cancellationIds,
        }
      : undefined,
    history: order.history.map((entry) => ({
      at: entry.at.toISOString(),
      status: entry.status,
      actor: entry.actor,
      note: entry.note ?? undefined,
    })),
    cancellations: cancellations.map((cancellation) => ({
      cancellationId: cancellation.cancellationId,
      state: cancellation.state,
      outcome: cancellation.outcome ?? undefined,
      refusal: cancellation.refusal ?? undefined,
      reasonCode: cancellation.reasonCode,
      requestedBy: cancellation.requestedBy,
      refundedMinor: cancellation.refundedMinor,
      createdAt: cancellation.createdAt.toISOString(),
      updatedAt: cancellation.updatedAt.toISOString(),
    })),
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
  };
}
