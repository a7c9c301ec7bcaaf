// The books as callers see them: the orders' statuses, the languages cancelflow writes in, and the order lookup
// API's wire types (R1, R13). Plain constants and types, so the models, the API, the client and scripts share
// them without reaching into a mongoose model.

export const ORDER_STATUSES = [
  'draft',
  'confirmed',
  'allocated',
  'picking',
  'shipped',
  'delivered',
  'completed',
  'cancelled',
  'partially_cancelled',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const ORDER_LINE_STATUSES = ['open', 'partially_cancelled', 'cancelled'] as const;
export type OrderLineStatus = (typeof ORDER_LINE_STATUSES)[number];

/**
 * What a person may do (R3, R26). Approvals check `approver` together with the person's approval level;
 * `admin` manages people and API keys.
 */
export const PERSON_ROLES = [
  'requester',
  'approver',
  'finance_clerk',
  'warehouse_clerk',
  'ops',
  'admin',
] as const;
export type PersonRole = (typeof PERSON_ROLES)[number];

export const LANGUAGES = ['zh-CN', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

/** One line of a sales order, as stored (models/sales-order.model.ts declares its schema with this type). */
export interface SalesOrderLine {
  lineId: string;
  sku: string;
  warehouse: string;
  quantity: number;
  /** Units of this line still reserved in the warehouse (allocated but not shipped). */
  reservedQuantity: number;
  cancelledQuantity: number;
  unitPriceMinor: number;
  status: OrderLineStatus;
}

/** Sort orders of an order search; newest first by default. */
export const ORDER_SORTS = ['-createdAt', 'createdAt', 'orderNumber', '-orderNumber'] as const;
export type OrderSort = (typeof ORDER_SORTS)[number];

/**
 * `GET /v1/orders`: every criterion given must match (AND). Text matches are case-insensitive prefixes.
 * Pages are read with `cursor`, the `nextCursor` of the page before.
 */
export interface OrderSearchQuery {
  /** The whole order number (case-insensitive). */
  orderNumber?: string;
  orderNumberPrefix?: string;
  /** Start of the customer's name (王 finds 王芳, emi finds Emily Carter, car finds Emily Carter), its pinyin (wangf) or initials (wf). */
  customer?: string;
  /** The phone number in any format (+86 138-0013-8000, 13800138000) or its last digits (4 or more). */
  phone?: string;
  /** Start of the e-mail address. */
  email?: string;
  /** Start of a SKU on one of the order's lines. */
  sku?: string;
  /** One status or several (any of them); in a query string repeated or comma-separated. */
  status?: OrderStatus | OrderStatus[];
  /** Created at or after: an ISO date (midnight UTC) or date-time. */
  createdFrom?: string;
  /** Created at or before: an ISO date-time, or an ISO date for the whole of that day (UTC). */
  createdTo?: string;
  sort?: OrderSort;
  /** Page size, 1 to 100; 20 by default. */
  limit?: number;
  cursor?: string;
  /** Also count every match (costs a scan of the matches). */
  count?: boolean;
}

export interface OrderSummary {
  orderNumber: string;
  customerId: string;
  customerName?: string;
  status: OrderStatus;
  totalMinor: number;
  currency: string;
  lineCount: number;
  createdAt: string;
}

export interface OrderSearchPage {
  items: OrderSummary[];
  hasMore: boolean;
  /** Pass as `cursor` for the next page; present when `hasMore`. */
  nextCursor?: string;
  /** Every match, when `count` was asked for. */
  total?: number;
}

/** `GET /v1/orders/{orderNumber}`: the order with its lines, payments, refunds and cancellations. */
export interface OrderResource {
  orderNumber: string;
  customerId: string;
  customerName?: string;
  status: OrderStatus;
  currency: string;
  totalMinor: number;
  lines: SalesOrderLine[];
  payments: {
    paymentId: string;
    capturedMinor: number;
    refundedMinor: number;
    currency: string;
    method: string;
    providerReference: string;
  }[];
  refunds: {
    idempotencyKey: string;
    paymentId: string;
    cancellationId: string;
    amountMinor: number;
    currency: string;
    status: string;
    createdAt: string;
  }[];
  cancellation?: { reasonCode?: string; note?: string; cancellationIds: string[] };
  /** The order's own history: each change of status, with who made it. */
  history: { at: string; status: OrderStatus; actor: string; note?: string }[];
  /** Every cancellation asked for this order, oldest first. */
  cancellations: {
    cancellationId: string;
    state: string;
    outcome?: string;
    refusal?: string;
    reasonCode: string;
    requestedBy: string;
    refundedMinor: number;
    createdAt: string;
    updatedAt: string;
  }[];
  createdAt: string;
  updatedAt: string;
}
