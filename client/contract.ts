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

// The order lookup's wire types are the books' contract; the client's callers find them here too.
export {
  ORDER_SORTS,
  type OrderResource,
  type OrderSearchPage,
  type OrderSearchQuery,
  type OrderSort,
  type OrderSummary,
} from '../contracts/books.contract';
