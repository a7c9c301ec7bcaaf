// The HTTP API's contract: request schemas (validated by the API) and response types (read by the client).
import { z } from 'zod';
import { PERSON_ROLES } from '../contracts/books.contract';
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

// Signing in, and who the caller is (R25, R26).

export const signInBody = z.strictObject({
  /** The person's id in the books (`clerk-1`) or their e-mail address. */
  login: z.string().trim().min(1).max(254),
  password: z.string().min(1).max(1024),
});
export type SignInRequest = z.infer<typeof signInBody>;

export const whoAmI = z.object({
  personId: z.string(),
  name: z.string(),
  roles: z.array(z.enum(PERSON_ROLES)),
  approvalLevel: z.number().int(),
  language: z.enum(['zh-CN', 'en']),
  via: z.enum(['session', 'api_key']),
});
export type WhoAmI = z.infer<typeof whoAmI>;

export const sessionAnswer = z.object({
  person: whoAmI,
  /** Send it as `x-csrf-token` with every write made with the session cookie. Absent for API keys. */
  csrfToken: z.string().optional(),
});
export type SessionAnswer = z.infer<typeof sessionAnswer>;

// API keys for back-end systems: created, listed and revoked by ops or admins.

export const createApiKeyBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  /** The person whose identity the key carries: what it requests is requested by them. */
  personId: z.string().trim().min(1).max(128),
  /** Which of that person's roles the key acts in. */
  scopes: z.array(z.enum(PERSON_ROLES)).min(1),
});
export type CreateApiKeyRequest = z.infer<typeof createApiKeyBody>;

export const apiKeyView = z.object({
  keyId: z.string(),
  name: z.string(),
  personId: z.string(),
  scopes: z.array(z.enum(PERSON_ROLES)),
  createdBy: z.string(),
  createdAt: z.string(),
  revokedAt: z.string().optional(),
  lastUsedAt: z.string().optional(),
});
export type ApiKeyView = z.infer<typeof apiKeyView>;

export const issuedApiKey = z.object({
  key: apiKeyView,
  /** The bearer token, shown this once: only its digest is kept. */
  token: z.string(),
});
export type IssuedApiKey = z.infer<typeof issuedApiKey>;

export const apiErrorBody = z.object({
  error: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
