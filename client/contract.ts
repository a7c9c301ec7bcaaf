// The HTTP API's contract: request schemas (validated by the API) and response types (read by the client).
import { z } from 'zod';
import {
  CONFIRMABLE_STAGES,
  REASON_CODES,
  type ApprovalProgress,
  type CancellationOutcome,
  type GoodsView,
  type RiskAssessment,
} from '../contracts/cancellation.contract';
import type { OrderStatus } from '../models/sales-order.model';

export const createCancellationBody = z.strictObject({
  orderNumber: z.string().trim().min(1).max(64),
  lines: z
    .array(z.strictObject({ lineId: z.string().min(1), quantity: z.number().int().positive() }))
    .min(1)
    .optional(),
  reasonCode: z.enum(REASON_CODES),
  note: z.string().max(2000).optional(),
  requestedBy: z.string().trim().min(1).max(128),
  /** R2: the order stages the requester confirms cancelling in, e.g. ["awaiting_shipment"]. */
  confirm: z.array(z.enum(CONFIRMABLE_STAGES)).default([]),
});
export type CreateCancellationRequest = z.input<typeof createCancellationBody>;

export const idempotencyKeyHeader = z.string().trim().min(8).max(255);

export interface CancellationAccepted {
  cancellationId: string;
  workflowId: string;
  orderNumber: string;
  /** True when this answer repeats an earlier request's cancellation. */
  existing: boolean;
}

export interface CancellationResource {
  cancellationId: string;
  workflowId: string;
  orderNumber: string;
  reasonCode: string;
  note?: string;
  requestedBy: string;
  state: string;
  outcome?: CancellationOutcome;
  refusal?: string;
  policyVersion?: string;
  approval?: ApprovalProgress;
  risk?: RiskAssessment;
  /** R9, R12: for goods that had left the warehouse: recalls, the offer and choice, returns. */
  goods?: GoodsView;
  /** In the order's currency, whatever currencies the payments were in. */
  refundedMinor: number;
  currency?: string;
  /**
   * R11: each refund of this cancellation as the books hold it, one per payment, in that payment's currency;
   * `orderCurrencyMinor` is its worth in the order's currency when the currencies differ.
   */
  refunds: CancellationRefund[];
  lines: { lineId: string; sku: string; warehouse: string; quantity: number; amountMinor: number }[];
  notifications: { channel: string; status: string; detail?: string }[];
  timeline: { step: number; state: string; at: string }[];
  /** 'workflow' while it runs (a live query), 'database' once it ended or when the workflow cannot answer. */
  source: 'workflow' | 'database';
  createdAt: string;
  updatedAt: string;
}

export interface CancellationRefund {
  paymentId: string;
  amountMinor: number;
  currency: string;
  orderCurrencyMinor?: number;
  /** `pending`, `succeeded`, `failed` (given back to the payment) or `settled_manually` (finance, by hand). */
  status: string;
  /** The gateway's id of the refund, or `manual:<reference>` for one finance settled by hand. */
  reference?: string;
}

export interface ApiErrorBody {
  error: string;
  message: string;
  details?: Record<string, unknown>;
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
  lines: {
    lineId: string;
    sku: string;
    warehouse: string;
    quantity: number;
    reservedQuantity: number;
    cancelledQuantity: number;
    unitPriceMinor: number;
    status: string;
  }[];
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
