// The HTTP API's contract: request schemas (validated by the API) and response types (read by the client).
import { z } from 'zod';
import {
  LANGUAGES,
  ORDER_LINE_STATUSES,
  ORDER_STATUSES,
  PERSON_ROLES,
  type OrderResource,
  type OrderSearchPage,
} from '../contracts/books.contract';
import {
  ANALYTICS_GRANULARITIES,
  REQUEST_CHANNELS,
  type AnalyticsFigure,
  type AnalyticsRows,
} from '../contracts/analytics.contract';
import {
  CONFIRMABLE_STAGES,
  DEPARTMENTS,
  REASON_CODES,
  RESOLUTION_OPTIONS,
  type ApprovalProgress,
  type CancellationOutcome,
  type CancellationView,
  type GoodsView,
  type RiskAssessment,
} from '../contracts/cancellation.contract';
import {
  BULK_JOB_EVENT_TYPES,
  CANCELLATION_EVENT_TYPES,
  EVENT_DELIVERY_STATUSES,
  WEBHOOK_EVENT_TYPES,
} from '../contracts/cancellation-events.contract';
import { withoutControlCharacters } from '../contracts/text.contract';
import { bulkJobView } from './bulk.contract';

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

// What a running cancellation shows (the workflow's query and Updates answer with it), as zod schemas so the
// API validates its answers and documents them. Each is checked below against the contract's own type.

export const riskLevel = z.enum(['low', 'medium', 'high']);
export const riskAssessment = z.object({ level: riskLevel, reasons: z.array(z.string()) });

export const CANCELLATION_OUTCOMES = [
  'completed',
  'refused',
  'rejected',
  'withdrawn',
  'redelivered',
] as const;
export const cancellationOutcome = z.enum(CANCELLATION_OUTCOMES);

export const approvalProgress = z.object({
  /** The step being decided (0-based) of `steps`, and the level it needs now (after any escalation). */
  step: z.number().int(),
  steps: z.number().int(),
  requiredLevel: z.number().int(),
  escalations: z.number().int(),
  /** Who may decide the step under way: never the requester, never someone who decided an earlier step. */
  eligibleApprovers: z.array(z.string()),
  /**
   * R15: who may decide the step on behalf of one of them: delegations in force when its approvers were found
   * (and still in force when the delegate decides).
   */
  delegates: z.array(z.object({ delegate: z.string(), onBehalfOf: z.string() })).optional(),
  decisions: z.array(
    z.object({
      approver: z.string(),
      approved: z.boolean(),
      reason: z.string().optional(),
      level: z.number().int(),
      /** R15: the approver whose delegate decided. */
      onBehalfOf: z.string().optional(),
    }),
  ),
  /** While the step waits for a decision: when its deadline passes, after which it escalates or ends by policy. */
  decideBy: z.iso.datetime({ offset: true }).optional(),
});

export const resolutionOption = z.enum(RESOLUTION_OPTIONS);

export const parcelRecall = z.object({
  shipmentId: z.string(),
  recallId: z.string().optional(),
  status: z.enum(['accepted', 'pending', 'too_late', 'failed']),
  reason: z.string().optional(),
});

/** R9, R12: what became of goods that had left the warehouse. */
export const goodsView = z.object({
  recalls: z.array(parcelRecall),
  offer: z
    .object({
      options: z.array(resolutionOption),
      defaultOption: resolutionOption,
      refundableMinor: z.number().int(),
      deductionMinor: z.number().int(),
      decideWithinMs: z.number(),
    })
    .optional(),
  choice: z.object({ option: resolutionOption, by: z.string(), defaulted: z.boolean() }).optional(),
  returned: z.array(z.object({ shipmentId: z.string(), by: z.string() })),
  returnOverdue: z.boolean(),
});

const purchasingLine = {
  poNumber: z.string(),
  poLineId: z.string(),
  salesLineId: z.string(),
  quantity: z.number().int(),
};
export const purchasingReport = z.object({
  reduced: z.array(z.object({ ...purchasingLine, supplierMustBeTold: z.boolean() })),
  notReduced: z.array(z.object({ ...purchasingLine, reason: z.string() })),
});

export const cancelledLine = z.object({
  lineId: z.string(),
  sku: z.string(),
  warehouse: z.string(),
  quantity: z.number().int(),
  reservedQuantity: z.number().int(),
  amountMinor: z.number().int(),
});

export const orderReview = z.object({
  orderNumber: z.string(),
  customerId: z.string(),
  currency: z.string(),
  lines: z.array(cancelledLine),
  cancelsWholeOrder: z.boolean(),
  refundableMinor: z.number().int(),
  goods: z
    .object({
      stage: z.enum(['in_transit', 'delivered']),
      recall: z.boolean(),
      parcels: z.array(
        z.object({
          shipmentId: z.string(),
          carrier: z.string(),
          trackingNumber: z.string().optional(),
          warehouse: z.string(),
          lines: z.array(z.object({ lineId: z.string(), sku: z.string(), quantity: z.number().int() })),
        }),
      ),
    })
    .optional(),
});

export const settlementProgress = z.object({
  failure: z.string(),
  outstandingMinor: z.number().int(),
  by: z.string().optional(),
  reference: z.string().optional(),
});

export const attentionNeeded = z.object({ from: z.string(), reason: z.string() });

/** The cancellation as its workflow sees it: what each person's action answers with. */
export const cancellationView = z.object({
  cancellationId: z.string(),
  orderNumber: z.string(),
  state: z.string(),
  outcome: cancellationOutcome.optional(),
  refusal: z.string().optional(),
  policyVersion: z.string().optional(),
  approval: approvalProgress.optional(),
  /** A refund waiting for finance to settle it by hand. */
  settlement: settlementProgress.optional(),
  /** Why the cancellation waits for ops, and which step resumes. */
  attention: attentionNeeded.optional(),
  goods: goodsView.optional(),
  purchasing: purchasingReport.optional(),
  reasonCode: z.enum(REASON_CODES),
  review: orderReview.optional(),
  risk: riskAssessment.optional(),
  refundedMinor: z.number().int(),
  notifications: z.array(
    z.object({
      channel: z.enum(['email', 'sms']),
      status: z.enum(['sent', 'failed', 'skipped', 'queued']),
      detail: z.string().optional(),
    }),
  ),
});
export type { CancellationView };

export const cancellationAccepted = z.object({
  cancellationId: z.string(),
  workflowId: z.string(),
  orderNumber: z.string(),
  /** True when this answer repeats an earlier request's cancellation. */
  existing: z.boolean(),
});
export type CancellationAccepted = z.infer<typeof cancellationAccepted>;

export const cancellationRefund = z.object({
  paymentId: z.string(),
  amountMinor: z.number().int(),
  currency: z.string(),
  orderCurrencyMinor: z.number().int().optional(),
  /** `pending`, `succeeded`, `failed` (given back to the payment) or `settled_manually` (finance, by hand). */
  status: z.string(),
  /** The gateway's id of the refund, or `manual:<reference>` for one finance settled by hand. */
  reference: z.string().optional(),
});
export type CancellationRefund = z.infer<typeof cancellationRefund>;

export const cancellationResource = z.object({
  cancellationId: z.string(),
  workflowId: z.string(),
  orderNumber: z.string(),
  reasonCode: z.string(),
  note: z.string().optional(),
  requestedBy: z.string(),
  state: z.string(),
  outcome: cancellationOutcome.optional(),
  refusal: z.string().optional(),
  policyVersion: z.string().optional(),
  approval: approvalProgress.optional(),
  risk: riskAssessment.optional(),
  /** R9, R12: for goods that had left the warehouse: recalls, the offer and choice, returns. */
  goods: goodsView.optional(),
  /** In the order's currency, whatever currencies the payments were in. */
  refundedMinor: z.number().int(),
  currency: z.string().optional(),
  /**
   * R11: each refund of this cancellation as the books hold it, one per payment, in that payment's currency;
   * `orderCurrencyMinor` is its worth in the order's currency when the currencies differ.
   */
  refunds: z.array(cancellationRefund),
  lines: z.array(
    z.object({
      lineId: z.string(),
      sku: z.string(),
      warehouse: z.string(),
      quantity: z.number().int(),
      amountMinor: z.number().int(),
    }),
  ),
  notifications: z.array(
    z.object({ channel: z.string(), status: z.string(), detail: z.string().optional() }),
  ),
  /** Each change of state; `note` says who decided, and on whose behalf when a delegate did (R15). */
  timeline: z.array(
    z.object({ step: z.number().int(), state: z.string(), at: z.string(), note: z.string().optional() }),
  ),
  /** 'workflow' while it runs (a live query), 'database' once it ended or when the workflow cannot answer. */
  source: z.enum(['workflow', 'database']),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type CancellationResource = z.infer<typeof cancellationResource>;

// Listing cancellations (from the database copy): filters, a keyset cursor, and the count of the filter.

/** An ISO date (midnight UTC; as an upper bound, the whole of that day) or a date-time with offset. */
const dateBound = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  error: 'an ISO date (2026-03-31) or date-time with offset (2026-03-31T08:00:00+08:00)',
});

export const cancellationListQuery = z.strictObject({
  /** The state or the start of it: `awaitingApproval` finds `awaitingApproval.waitingForDecision`. */
  state: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .refine(withoutControlCharacters, 'no control characters')
    .optional(),
  outcome: cancellationOutcome.optional(),
  reasonCode: z.enum(REASON_CODES).optional(),
  /** The risk level assessed. */
  risk: riskLevel.optional(),
  orderNumber: z.string().trim().min(1).max(64).optional(),
  customerId: z.string().trim().min(1).max(128).optional(),
  requestedBy: z.string().trim().min(1).max(128).optional(),
  /** Created at or after. */
  createdFrom: dateBound.optional(),
  /** Created at or before (a date: the whole of that day, UTC). */
  createdTo: dateBound.optional(),
  /**
   * `me`: the cancellations waiting for the caller: an approval they may decide, a refund for finance to
   * settle, one needing ops' attention, goods for the warehouse to take back, a customer's choice to pass on.
   */
  waitingFor: z.literal('me').optional(),
  /** Page size, 1 to 100; 20 by default. */
  limit: z.coerce.number<number>().int().min(1).max(100).default(20),
  /** The `nextCursor` of the page before. */
  cursor: z.string().min(1).max(512).optional(),
});
export type CancellationListQuery = z.input<typeof cancellationListQuery>;

/** One cancellation in a list: what the database copy holds, without the books' refunds and timeline. */
export const cancellationSummary = z.object({
  cancellationId: z.string(),
  workflowId: z.string(),
  orderNumber: z.string(),
  customerId: z.string(),
  reasonCode: z.string(),
  note: z.string().optional(),
  requestedBy: z.string(),
  state: z.string(),
  outcome: cancellationOutcome.optional(),
  refusal: z.string().optional(),
  risk: riskAssessment.optional(),
  approval: approvalProgress.optional(),
  settlement: settlementProgress.optional(),
  attention: attentionNeeded.optional(),
  refundedMinor: z.number().int(),
  currency: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type CancellationSummary = z.infer<typeof cancellationSummary>;

export const cancellationPage = z.object({
  items: z.array(cancellationSummary),
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor: z.string().optional(),
  /** Every cancellation the filter matches (all pages). */
  total: z.number().int(),
});
export type CancellationPage = z.infer<typeof cancellationPage>;

// What people do to a running cancellation. The person is the caller (their session or key), never a name in
// the body: each body is a strict object, so one that names `approver` or `by` is refused with 400.

export const cancellationIdParams = z.object({ id: z.string().trim().min(1).max(128) });

const comment = z.string().trim().min(1).max(2000);

/** R3, R15: approve or reject the step under way. */
export const decisionBody = z.strictObject({ approved: z.boolean(), comment: comment.optional() });
export type DecisionRequest = z.infer<typeof decisionBody>;

/** The requester withdraws their request, until stock or money moves. */
export const withdrawalBody = z.strictObject({ reason: comment.optional() });
export type WithdrawalRequest = z.infer<typeof withdrawalBody>;

/** R11, R28: finance refunded by hand what the gateway refused; the transfer's or voucher's reference. */
export const settlementBody = z.strictObject({ reference: z.string().trim().min(1).max(200) });
export type SettlementRequest = z.infer<typeof settlementBody>;

/** Ops repaired what stopped the cancellation; it resumes the step that stopped. */
export const resumptionBody = z.strictObject({ note: comment.optional() });
export type ResumptionRequest = z.infer<typeof resumptionBody>;

/** R9: a parcel of the cancellation is back in the warehouse. */
export const returnConfirmationBody = z.strictObject({
  shipmentId: z.string().trim().min(1).max(128),
  note: comment.optional(),
});
export type ReturnConfirmationRequest = z.infer<typeof returnConfirmationBody>;

/** R12: the customer's choice, passed on by customer service. */
export const choiceBody = z.strictObject({ option: resolutionOption, note: comment.optional() });
export type ChoiceRequest = z.infer<typeof choiceBody>;

// The message centre of the signed-in person (R19, R24).

export const MESSAGE_CATEGORIES = [
  'cancellation_progress',
  'action_required',
  'stock',
  'purchasing',
  'logistics',
  'refund',
] as const;

export const messageListQuery = z.strictObject({
  /** `true`: only the messages not read yet. */
  unread: z.union([z.boolean(), z.stringbool()]).optional(),
  /** Page size, 1 to 100; 20 by default. */
  limit: z.coerce.number<number>().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(512).optional(),
});
export type MessageListQuery = z.input<typeof messageListQuery>;

export const messageView = z.object({
  messageId: z.string(),
  cancellationId: z.string(),
  orderNumber: z.string(),
  category: z.enum(MESSAGE_CATEGORIES),
  /** The department it went to, when it was addressed to one rather than to the person. */
  department: z.enum(DEPARTMENTS).optional(),
  language: z.enum(LANGUAGES),
  title: z.string(),
  body: z.string(),
  read: z.boolean(),
  readAt: z.string().optional(),
  createdAt: z.string(),
});
export type MessageView = z.infer<typeof messageView>;

export const messagePage = z.object({
  items: z.array(messageView),
  nextCursor: z.string().optional(),
});
export type MessagePage = z.infer<typeof messagePage>;

export const unreadCountAnswer = z.object({ unread: z.number().int() });
export const messageIdParams = z.object({ messageId: z.string().trim().min(1).max(512) });
export const readAllAnswer = z.object({
  /** How many messages this call marked read. */
  marked: z.number().int(),
});

// A cancellation's notifications (R17) and the customer's feedback (R16).

export const notificationEntry = z.object({
  idempotencyKey: z.string(),
  cancellationId: z.string(),
  channel: z.enum(['email', 'sms']),
  recipient: z.string(),
  audience: z.enum(['customer', 'department', 'person']).optional(),
  department: z.enum(DEPARTMENTS).optional(),
  /** The moment of the cancellation it tells about: received, rejected, withdrawn, completed… */
  moment: z.string().optional(),
  template: z.string(),
  language: z.string(),
  messageId: z.string().optional(),
  status: z.enum(['queued', 'sent', 'failed', 'delivered']),
  providerMessageId: z.string().optional(),
  providerStatus: z.string().optional(),
  /** The provider's own words when delivery failed. */
  error: z.string().optional(),
  attempts: z.number().int(),
  lastAttemptAt: z.string().optional(),
  sentAt: z.string().optional(),
  deliveredAt: z.string().optional(),
  failedAt: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type NotificationEntry = z.infer<typeof notificationEntry>;

export const cancellationNotifications = z.object({
  cancellationId: z.string(),
  notifications: z.array(notificationEntry),
});
export type CancellationNotifications = z.infer<typeof cancellationNotifications>;

export const feedbackCodeParams = z.object({ code: z.string().trim().min(1).max(64) });

/** What a feedback page shows before the customer rates. */
export const feedbackCodeView = z.object({
  code: z.string(),
  orderNumber: z.string(),
  rated: z.boolean(),
  submittedAt: z.string().nullable(),
});

export const feedbackView = z.object({
  code: z.string(),
  cancellationId: z.string(),
  orderNumber: z.string(),
  /** 1 (poor) to 5 (excellent); null until the customer rates. */
  rating: z.number().int().nullable(),
  comment: z.string().optional(),
  submittedAt: z.string().nullable(),
});
export type FeedbackView = z.infer<typeof feedbackView>;

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

// R15: delegations. An approver who is away names a delegate of the same or a higher level for a period; the
// delegator is always the caller, never a name in the body.

export const createDelegationBody = z
  .strictObject({
    /** The active approver, of the caller's level or higher, who decides on the caller's behalf. */
    delegateId: z.string().trim().min(1).max(128),
    /** When it starts (a date-time with offset); now when absent. */
    from: z.iso.datetime({ offset: true }).optional(),
    /** When it ends (exclusive), after `from` and in the future. */
    until: z.iso.datetime({ offset: true }),
  })
  .refine((body) => body.from === undefined || Date.parse(body.from) < Date.parse(body.until), {
    message: 'must be after from',
    path: ['until'],
  });
export type CreateDelegationRequest = z.input<typeof createDelegationBody>;

export const DELEGATION_STATUSES = ['scheduled', 'in_force', 'ended', 'revoked'] as const;

export const delegationView = z.object({
  delegationId: z.string(),
  delegatorId: z.string(),
  delegateId: z.string(),
  from: z.string(),
  until: z.string(),
  /** Where it stands now: not started yet, in force, past its end, or ended early. */
  status: z.enum(DELEGATION_STATUSES),
  createdAt: z.string(),
  revokedAt: z.string().optional(),
  revokedBy: z.string().optional(),
});
export type DelegationView = z.infer<typeof delegationView>;

export const delegationAccepted = delegationView.extend({
  /** True when an earlier request with the same Idempotency-Key made it. */
  existing: z.boolean(),
});
export type DelegationAccepted = z.infer<typeof delegationAccepted>;

export const delegationList = z.object({ items: z.array(delegationView) });
export type DelegationList = z.infer<typeof delegationList>;

export const delegationIdParams = z.object({ id: z.string().trim().min(1).max(128) });

// Learning from cancellations (R22, R23, R29): `GET /v1/analytics/<figure>`, JSON or CSV. A figure counts the
// cancellations asked for in the window; `restocked` and `suppliers` count what the stock ledger and the
// purchase orders recorded in it. Money is in minor units with its currency, times in milliseconds.

/** `+08:00`. An unencoded "+" in a query string arrives as a space, which is read as "+". */
const utcOffset = z
  .string()
  .regex(/^[+ -]\d\d:[0-5]\d$/, 'an offset from UTC such as +08:00 (send + as %2B)')
  .default('+00:00')
  .meta({ description: 'Where days, weeks and months start, and how a date without a time is read' });

const analyticsWindowQuery = {
  /** Asked for at or after: an ISO date (midnight at utcOffset) or a date-time; 90 days before `to` by default. */
  from: dateBound.optional(),
  /** Up to: a date-time, or a date for the whole of that day; now by default. */
  to: dateBound.optional(),
  utcOffset,
  /** `csv` answers text/csv, as `Accept: text/csv` does. */
  format: z.enum(['json', 'csv']).optional(),
};
const reasonFilter = { reasonCode: z.enum(REASON_CODES).optional() };
const topRows = (fallback: number) => ({
  limit: z.coerce.number<number>().int().min(1).max(1000).default(fallback),
});

export const analyticsQueries = {
  reasons: z.strictObject(analyticsWindowQuery),
  'over-time': z.strictObject({
    ...analyticsWindowQuery,
    ...reasonFilter,
    granularity: z.enum(ANALYTICS_GRANULARITIES).default('week'),
  }),
  products: z.strictObject({ ...analyticsWindowQuery, ...reasonFilter, ...topRows(20) }),
  customers: z.strictObject({ ...analyticsWindowQuery, ...reasonFilter, ...topRows(20) }),
  'repeat-cancellers': z.strictObject({
    ...analyticsWindowQuery,
    ...reasonFilter,
    ...topRows(50),
    /** Cancellations in the window that make a customer a repeat canceller. */
    minimum: z.coerce.number<number>().int().min(2).max(1000).default(2),
  }),
  departments: z.strictObject({ ...analyticsWindowQuery, ...reasonFilter }),
  channels: z.strictObject({ ...analyticsWindowQuery, ...reasonFilter }),
  refunds: z.strictObject({ ...analyticsWindowQuery, ...reasonFilter }),
  restocked: z.strictObject(analyticsWindowQuery),
  suppliers: z.strictObject(analyticsWindowQuery),
  approvals: z.strictObject({ ...analyticsWindowQuery, ...reasonFilter }),
  'state-times': z.strictObject({ ...analyticsWindowQuery, ...reasonFilter }),
} as const satisfies Record<AnalyticsFigure, z.ZodType>;

const outcomeCounts = {
  cancellations: z.number().int(),
  completed: z.number().int(),
  /** Refused, rejected, withdrawn, delivered after all, or stopped by ops. */
  stopped: z.number().int(),
  running: z.number().int(),
};

export const analyticsRows = {
  reasons: z.object({ reasonCode: z.enum(REASON_CODES), ...outcomeCounts }),
  'over-time': z.object({ period: z.string(), ...outcomeCounts }),
  products: z.object({
    sku: z.string(),
    name: z.string().optional(),
    cancellations: z.number().int(),
    completed: z.number().int(),
    unitsCancelled: z.number().int(),
    amountMinor: z.number().int(),
    currency: z.string(),
  }),
  customers: z.object({ customerId: z.string(), ...outcomeCounts }),
  'repeat-cancellers': z.object({
    customerId: z.string(),
    cancellations: z.number().int(),
    completed: z.number().int(),
    firstAt: z.string(),
    lastAt: z.string(),
    reasons: z.array(z.enum(REASON_CODES)),
  }),
  departments: z.object({ department: z.enum([...DEPARTMENTS, 'customer', 'unknown']), ...outcomeCounts }),
  channels: z.object({ channel: z.enum([...REQUEST_CHANNELS, 'unrecorded']), ...outcomeCounts }),
  refunds: z.object({
    currency: z.string(),
    cancellations: z.number().int(),
    refundedMinor: z.number().int(),
  }),
  restocked: z.object({
    sku: z.string(),
    name: z.string().optional(),
    releasedUnits: z.number().int(),
    returnedUnits: z.number().int(),
    units: z.number().int(),
    unitCostMinor: z.number().int().optional(),
    valueMinor: z.number().int().optional(),
    currency: z.string().optional(),
  }),
  suppliers: z.object({
    supplierId: z.string(),
    supplierName: z.string(),
    currency: z.string(),
    purchaseOrders: z.number().int(),
    reductions: z.number().int(),
    unitsReduced: z.number().int(),
    valueReducedMinor: z.number().int(),
    unitsNotReduced: z.number().int(),
    supplierToldOfChanges: z.number().int(),
  }),
  approvals: z.object({
    riskLevel: z.enum([...(['low', 'medium', 'high'] as const), 'unknown']),
    approvals: z.number().int(),
    rejected: z.number().int(),
    escalations: z.number().int(),
    averageMs: z.number().int(),
    medianMs: z.number().int(),
    p90Ms: z.number().int(),
    maxMs: z.number().int(),
  }),
  'state-times': z.object({
    state: z.string(),
    stays: z.number().int(),
    totalMs: z.number().int(),
    averageMs: z.number().int(),
    maxMs: z.number().int(),
  }),
} as const;

const answerOf = <Row extends z.ZodType, Extra extends z.ZodRawShape = Record<never, never>>(
  row: Row,
  extra?: Extra,
) =>
  z.object({
    /** The window as instants: `from` inclusive, `to` exclusive. */
    from: z.string(),
    to: z.string(),
    utcOffset: z.string(),
    rows: z.array(row),
    ...(extra ?? ({} as Extra)),
  });

export const analyticsAnswers = {
  reasons: answerOf(analyticsRows.reasons),
  'over-time': answerOf(analyticsRows['over-time'], { granularity: z.enum(ANALYTICS_GRANULARITIES) }),
  products: answerOf(analyticsRows.products),
  customers: answerOf(analyticsRows.customers),
  'repeat-cancellers': answerOf(analyticsRows['repeat-cancellers'], {
    summary: z.object({ customers: z.number().int(), repeatCustomers: z.number().int() }),
  }),
  departments: answerOf(analyticsRows.departments),
  channels: answerOf(analyticsRows.channels),
  refunds: answerOf(analyticsRows.refunds),
  restocked: answerOf(analyticsRows.restocked),
  suppliers: answerOf(analyticsRows.suppliers),
  approvals: answerOf(analyticsRows.approvals),
  'state-times': answerOf(analyticsRows['state-times']),
} as const satisfies Record<AnalyticsFigure, z.ZodType>;

export type AnalyticsQuery<F extends AnalyticsFigure> = Omit<z.input<(typeof analyticsQueries)[F]>, 'format'>;
export type AnalyticsAnswer<F extends AnalyticsFigure> = z.infer<(typeof analyticsAnswers)[F]>;
export type { AnalyticsFigure };

// The rows' schemas describe the contract's row types (models/analytics.ts computes those).
type AnalyticsRowsMatch = {
  [F in AnalyticsFigure]: Same<z.infer<(typeof analyticsRows)[F]>, AnalyticsRows[F]>;
}[AnalyticsFigure];
export type _AnalyticsSchemasMatchContracts = Holds<AnalyticsRowsMatch>;

// The order lookup's answers (R1, R13), as schemas of the books' contract types.

const orderStatus = z.enum(ORDER_STATUSES);

export const orderSummary = z.object({
  orderNumber: z.string(),
  customerId: z.string(),
  customerName: z.string().optional(),
  status: orderStatus,
  totalMinor: z.number().int(),
  currency: z.string(),
  lineCount: z.number().int(),
  createdAt: z.string(),
});

export const orderSearchPage = z.object({
  items: z.array(orderSummary),
  hasMore: z.boolean(),
  /** Pass as `cursor` for the next page; present when `hasMore`. */
  nextCursor: z.string().optional(),
  /** Every match, when `count` was asked for. */
  total: z.number().int().optional(),
});

export const orderNumberParams = z.object({ orderNumber: z.string() });

/** The customer's signed link to their order's own page (#14), for the shop's order mail. */
export const orderCustomerLink = z.object({
  orderNumber: z.string(),
  /** The whole link: the public address, `/customer/orders/{orderNumber}`, and the signed `expires` and `sig`. */
  url: z.string(),
  /** Until when it holds (CUSTOMER_LINK_DAYS from now). */
  expiresAt: z.string(),
});
export type OrderCustomerLink = z.output<typeof orderCustomerLink>;

export const orderResource = z.object({
  orderNumber: z.string(),
  customerId: z.string(),
  customerName: z.string().optional(),
  status: orderStatus,
  currency: z.string(),
  totalMinor: z.number().int(),
  lines: z.array(
    z.object({
      lineId: z.string(),
      sku: z.string(),
      warehouse: z.string(),
      quantity: z.number().int(),
      reservedQuantity: z.number().int(),
      cancelledQuantity: z.number().int(),
      unitPriceMinor: z.number().int(),
      status: z.enum(ORDER_LINE_STATUSES),
    }),
  ),
  payments: z.array(
    z.object({
      paymentId: z.string(),
      capturedMinor: z.number().int(),
      refundedMinor: z.number().int(),
      currency: z.string(),
      method: z.string(),
      providerReference: z.string(),
    }),
  ),
  refunds: z.array(
    z.object({
      idempotencyKey: z.string(),
      paymentId: z.string(),
      cancellationId: z.string(),
      amountMinor: z.number().int(),
      currency: z.string(),
      status: z.string(),
      createdAt: z.string(),
    }),
  ),
  cancellation: z
    .object({
      reasonCode: z.string().optional(),
      note: z.string().optional(),
      cancellationIds: z.array(z.string()),
    })
    .optional(),
  /** The order's own history: each change of status, with who made it. */
  history: z.array(
    z.object({ at: z.string(), status: orderStatus, actor: z.string(), note: z.string().optional() }),
  ),
  /** Every cancellation asked for this order, oldest first. */
  cancellations: z.array(
    z.object({
      cancellationId: z.string(),
      state: z.string(),
      outcome: z.string().optional(),
      refusal: z.string().optional(),
      reasonCode: z.string(),
      requestedBy: z.string(),
      refundedMinor: z.number(),
      createdAt: z.string(),
      updatedAt: z.string(),
    }),
  ),
  createdAt: z.string(),
  updatedAt: z.string(),
});

// The schemas above describe the contracts' own types: if either changes alone, this stops compiling (an answer
// the schema does not describe would otherwise fail at run time, as a 500 from the response serializer).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;
export type _SchemasMatchContracts = [
  Holds<Same<z.infer<typeof cancellationView>, CancellationView>>,
  Holds<Same<z.infer<typeof approvalProgress>, ApprovalProgress>>,
  Holds<Same<z.infer<typeof goodsView>, GoodsView>>,
  Holds<Same<z.infer<typeof riskAssessment>, RiskAssessment>>,
  Holds<Same<z.infer<typeof cancellationOutcome>, CancellationOutcome>>,
  Holds<Same<z.infer<typeof orderSearchPage>, OrderSearchPage>>,
  Holds<Same<z.infer<typeof orderResource>, OrderResource>>,
];

// Outbound webhooks: admins subscribe outside systems to the events of cancellations and bulk jobs, and follow
// their deliveries. Each event is posted as `cancellationEventPayload` or `bulkJobEventPayload`, signed the
// Standard Webhooks way (webhook-verifier.ts).

export const cancellationEventTypeSchema = z.enum(CANCELLATION_EVENT_TYPES);
export const bulkJobEventTypeSchema = z.enum(BULK_JOB_EVENT_TYPES);
export const webhookEventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES);

const webhookUrl = z
  .url({ protocol: /^https?$/, error: 'an http or https URL' })
  .max(2048)
  .meta({ description: 'Where events are posted (http or https)', example: 'https://erp.example.com/hooks' });

export const createWebhookSubscriptionBody = z.strictObject({
  url: webhookUrl,
  /** The types to send; every type (of cancellations and of bulk jobs) when absent. */
  eventTypes: z.array(webhookEventTypeSchema).min(1).optional(),
  description: z.string().trim().max(200).optional(),
});
export type CreateWebhookSubscriptionRequest = z.input<typeof createWebhookSubscriptionBody>;

export const updateWebhookSubscriptionBody = z
  .strictObject({
    url: webhookUrl.optional(),
    eventTypes: z.array(webhookEventTypeSchema).min(1).optional(),
    description: z.string().trim().max(200).optional(),
    /** Inactive: no new events; what is pending waits, and goes once it is active again. */
    active: z.boolean().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'name at least one field to change' });
export type UpdateWebhookSubscriptionRequest = z.input<typeof updateWebhookSubscriptionBody>;

export const webhookSubscriptionView = z.object({
  subscriptionId: z.string(),
  url: z.string(),
  eventTypes: z.array(webhookEventTypeSchema),
  active: z.boolean(),
  description: z.string().optional(),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type WebhookSubscriptionView = z.infer<typeof webhookSubscriptionView>;

export const createdWebhookSubscription = webhookSubscriptionView.extend({
  /** The signing secret (`whsec_…`), shown this once: keep it where the receiver verifies signatures. */
  secret: z.string(),
});
export type CreatedWebhookSubscription = z.infer<typeof createdWebhookSubscription>;

export const webhookSubscriptionList = z.object({ items: z.array(webhookSubscriptionView) });
export const webhookSubscriptionIdParams = z.object({ id: z.string().trim().min(1).max(128) });

export const eventDeliveryListQuery = z.strictObject({
  status: z.enum(EVENT_DELIVERY_STATUSES).optional(),
  /** One cancellation's deliveries, in the order of its steps. */
  cancellationId: z.string().trim().min(1).max(128).optional(),
  /** One bulk job's deliveries, in the order of its changes. */
  bulkJobId: z.string().trim().min(1).max(128).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export type EventDeliveryListQuery = z.input<typeof eventDeliveryListQuery>;

export const eventDeliveryView = z.object({
  deliveryId: z.string(),
  subscriptionId: z.string(),
  /** The event's id: the webhook-id header of every attempt. */
  eventId: z.string(),
  eventType: webhookEventTypeSchema,
  /** What the event tells of: a cancellation, or a bulk job (one of the two). */
  cancellationId: z.string().optional(),
  bulkJobId: z.string().optional(),
  /** Its place in that cancellation's (or job's) sequence of events. */
  sequence: z.number().int(),
  /** `failed`: parked after its retry window; `POST /v1/webhook-deliveries/:id/redelivery` sends it again. */
  status: z.enum(EVENT_DELIVERY_STATUSES),
  attemptCount: z.number().int(),
  /** The latest attempts, oldest first. */
  attempts: z.array(
    z.object({
      at: z.string(),
      durationMs: z.number(),
      statusCode: z.number().int().optional(),
      error: z.string().optional(),
    }),
  ),
  nextAttemptAt: z.string().optional(),
  lastError: z.string().optional(),
  deliveredAt: z.string().optional(),
  failedAt: z.string().optional(),
  redeliveredAt: z.string().optional(),
  redeliveredBy: z.string().optional(),
  createdAt: z.string(),
});
export type EventDeliveryView = z.infer<typeof eventDeliveryView>;

export const eventDeliveryList = z.object({ items: z.array(eventDeliveryView) });
export const eventDeliveryIdParams = z.object({ id: z.string().trim().min(1).max(128) });

/** What each request of an outbound webhook carries. */
export const cancellationEventPayload = z.object({
  /** The same as the webhook-id header: one id per event, however often it is sent. Drop repeats by it. */
  id: z.string(),
  type: cancellationEventTypeSchema,
  /** When the state changed. */
  timestamp: z.string(),
  cancellationId: z.string(),
  /** The step of the cancellation's timeline: 0, 1, 2… Order a cancellation's events by it. */
  sequence: z.number().int(),
  /** The cancellation as GET /v1/cancellations/:id showed it right after this step. */
  data: cancellationResource,
});
export type CancellationEventPayload = z.infer<typeof cancellationEventPayload>;

/** What each request of a bulk job's event carries (issue #16). */
export const bulkJobEventPayload = z.object({
  /** The same as the webhook-id header: one id per event, however often it is sent. Drop repeats by it. */
  id: z.string(),
  type: bulkJobEventTypeSchema,
  /** When the job's state changed. */
  timestamp: z.string(),
  bulkJobId: z.string(),
  /** The job's recorded change: 0, 1, 2… Order a job's events by it. */
  sequence: z.number().int(),
  /** The job as GET /v1/bulk-cancellations/:id showed it right after this change. */
  data: bulkJobView,
});
export type BulkJobEventPayload = z.infer<typeof bulkJobEventPayload>;

/** Either event: tell them apart by `type` (or by which of `cancellationId` and `bulkJobId` it names). */
export type WebhookEventPayload = CancellationEventPayload | BulkJobEventPayload;
