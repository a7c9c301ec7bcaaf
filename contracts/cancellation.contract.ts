// Everything a caller of the cancellation workflow needs: ids, payloads, and the messages it answers.
// Pure types and message definitions only, so the API, the worker, tests and the workflow share it.
import { defineQuery, defineUpdate } from '@temporalio/workflow';

export const REASON_CODES = [
  'customer_changed_mind',
  'out_of_stock',
  'price_error',
  'duplicate_order',
  'suspected_fraud',
  'address_problem',
  'delivery_delay',
  'other',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

/** The departments that hear of a cancellation (R6, R24). */
export const DEPARTMENTS = ['sales', 'purchasing', 'logistics', 'finance'] as const;
export type Department = (typeof DEPARTMENTS)[number];

/** The moments of a cancellation that are told to people (the customer, the departments). */
export const NOTICE_MOMENTS = [
  'received',
  'approved',
  'rejected',
  'withdrawn',
  'completed',
  'recall_requested',
  'options_offered',
  'return_overdue',
  'redelivery',
] as const;
export type NoticeMoment = (typeof NOTICE_MOMENTS)[number];

/** Order statuses whose cancellation needs the requester's explicit confirmation (R2). */
export const CONFIRMABLE_STAGES = ['awaiting_shipment', 'shipped'] as const;
export type ConfirmableStage = (typeof CONFIRMABLE_STAGES)[number];

export interface RequestedLine {
  lineId: string;
  quantity: number;
}

export interface CancellationInput {
  cancellationId: string;
  orderNumber: string;
  /** Absent: every line, whole. */
  lines?: RequestedLine[];
  reasonCode: ReasonCode;
  note?: string;
  requestedBy: string;
  confirmed: ConfirmableStage[];
  requestedAt: string;
}

export type RiskLevel = 'low' | 'medium' | 'high';

export interface CancelledLine {
  lineId: string;
  sku: string;
  warehouse: string;
  quantity: number;
  /** Quantity still reserved in the warehouse for this line, released on cancellation. */
  reservedQuantity: number;
  amountMinor: number;
}

/** The units of the cancelled lines that one parcel carries (not yet taken back). */
export interface ShippedParcel {
  shipmentId: string;
  carrier: string;
  trackingNumber?: string;
  /** The warehouse the parcel left from, and where returned units go back. */
  warehouse: string;
  lines: { lineId: string; sku: string; quantity: number }[];
}

/**
 * R5, R9, R12: where the goods of a shipped or delivered order are. In transit, a whole cancellation asks the
 * carrier to stop the parcels (a parcel is recalled whole); otherwise the customer has or will have them,
 * and cancelflow agrees a way forward with them.
 */
export interface GoodsOutside {
  stage: 'in_transit' | 'delivered';
  /** Whether to ask the carrier first: in transit, and every unit of the parcels is being cancelled. */
  recall: boolean;
  parcels: ShippedParcel[];
}

/** R12: what the customer may choose when the goods cannot be stopped (the policy says which are offered). */
export const RESOLUTION_OPTIONS = ['return', 'redelivery', 'refund_without_return'] as const;
export type ResolutionOption = (typeof RESOLUTION_OPTIONS)[number];

/** What the customer is offered, and what happens if they do not answer in time. */
export interface ResolutionOffer {
  options: ResolutionOption[];
  defaultOption: ResolutionOption;
  /** ISO date-time: the customer's answer is awaited until then. */
  decideBy: string;
  /** What goes back if the goods come back (return), in the order's currency. */
  refundableMinor: number;
  /** What a refund without return keeps back (the customer keeps the goods). */
  deductionMinor: number;
}

/** What the carrier said about stopping one parcel (R9). */
export interface ParcelRecall {
  shipmentId: string;
  /** The carrier's id of the recall; absent when the request itself was refused. */
  recallId?: string;
  status: 'accepted' | 'pending' | 'too_late' | 'failed';
  reason?: string;
}

/** R9, R12: what became of goods that had left the warehouse, as the query shows it. */
export interface GoodsView {
  recalls: ParcelRecall[];
  /** The offer put to the customer; the wait becomes a date when it is sent. */
  offer?: Omit<ResolutionOffer, 'decideBy'> & { decideWithinMs: number };
  choice?: { option: ResolutionOption; by: string; defaulted: boolean };
  /** Parcels the warehouse confirmed back, and by whom. */
  returned: { shipmentId: string; by: string }[];
  /** The return deadline passed before every parcel was back (logistics was reminded). */
  returnOverdue: boolean;
}

/** What the cancellation did to the purchase orders raised for its lines (R27, R29). */
export interface PurchasingReport {
  reduced: {
    poNumber: string;
    poLineId: string;
    salesLineId: string;
    quantity: number;
    supplierMustBeTold: boolean;
  }[];
  notReduced: {
    poNumber: string;
    poLineId: string;
    salesLineId: string;
    quantity: number;
    reason: string;
  }[];
}

/** What became of the cancelled goods, for the customer's last message. */
export type GoodsFate = 'released' | 'returned' | 'kept';

export interface OrderReview {
  orderNumber: string;
  customerId: string;
  currency: string;
  lines: CancelledLine[];
  /** Whether the whole order ends cancelled (otherwise partially cancelled). */
  cancelsWholeOrder: boolean;
  refundableMinor: number;
  /** Present when the goods have left the warehouse. */
  goods?: GoodsOutside;
}

export interface RiskAssessment {
  level: RiskLevel;
  reasons: string[];
}

/** `redelivered`: the goods could not be stopped and the customer chose to keep the order after all. */
export type CancellationOutcome = 'completed' | 'refused' | 'rejected' | 'withdrawn' | 'redelivered';

export interface ApprovalProgress {
  /** The step being decided (0-based) of `steps`, and the level it needs now (after any escalation). */
  step: number;
  steps: number;
  requiredLevel: number;
  escalations: number;
  eligibleApprovers: string[];
  /**
   * R15: people who may decide this step on behalf of an eligible approver: their delegations were in force
   * when the step's approvers were found. Absent in runs recorded before delegation existed.
   */
  delegates?: StepDelegate[];
  decisions: ApprovalDecisionRecord[];
  /**
   * While the step waits for a decision: when its deadline passes (ISO time), after which it escalates or
   * ends as the policy says. Absent when no one is being asked, and in copies written before it was shown.
   */
  decideBy?: string;
}

/** A delegate of an eligible approver for the step under way (R15). */
export interface StepDelegate {
  delegate: string;
  onBehalfOf: string;
}

/** A decision as the cancellation keeps it: who decided, at which level, and on whose behalf (a delegate). */
export interface ApprovalDecisionRecord {
  approver: string;
  approved: boolean;
  reason?: string;
  level: number;
  /** R15: the eligible approver whose delegate decided. */
  onBehalfOf?: string;
}

export interface CancellationView {
  cancellationId: string;
  orderNumber: string;
  state: string;
  outcome?: CancellationOutcome;
  /** Why it did not complete: refused at review, rejected by an approver or by timeout, or withdrawn. */
  refusal?: string;
  policyVersion?: string;
  approval?: ApprovalProgress;
  /** A refund waiting for finance to settle it by hand. */
  settlement?: { failure: string; outstandingMinor: number; by?: string; reference?: string };
  /** Why the cancellation waits for a person, and which step resumes. */
  attention?: { from: string; reason: string };
  /** R9, R12: goods that had left the warehouse: the carrier's answers, the customer's choice, returns. */
  goods?: GoodsView;
  purchasing?: PurchasingReport;
  reasonCode: ReasonCode;
  review?: OrderReview;
  risk?: RiskAssessment;
  refundedMinor: number;
  notifications: NotificationResult[];
}

export interface NotificationResult {
  channel: 'email' | 'sms';
  /** `queued`: recorded and handed to its delivery workflow; the outbox says what became of it. */
  status: 'sent' | 'failed' | 'skipped' | 'queued';
  detail?: string;
}

export const TASK_QUEUE_DEFAULT = 'cancellations';
export const WORKFLOW_TYPE = 'cancellationWorkflow';
/** How long one workflow task of a cancellation may take before Temporal hands it out again (see cancellationStartOf). */
export const CANCELLATION_WORKFLOW_TASK_TIMEOUT = '5 seconds';

/** One workflow per cancellation; the id says what it is in the Temporal UI. */
export function cancellationWorkflowId(cancellationId: string): string {
  return `cancellation-${cancellationId}`;
}

export const getCancellationQuery = defineQuery<CancellationView>('getCancellation');

export interface ApprovalDecision {
  /** The approver's personId in the books' people records. */
  approver: string;
  approved: boolean;
  reason?: string;
  /**
   * R15: the eligible approver on whose behalf a delegate decides. The API sets it only while the caller's
   * delegation from that approver is in force; the validator checks the step found that delegate for them.
   */
  onBehalfOf?: string;
}

export interface Withdrawal {
  /** Must be the requester. */
  by: string;
  reason?: string;
}

/** An approver's decision (R3, R15). Its validator refuses what the machine would not accept now. */
export const decideApprovalUpdate = defineUpdate<CancellationView, [ApprovalDecision]>('decideApproval');

export interface ManualSettlement {
  /** A finance clerk's personId. */
  by: string;
  /** The bank transfer or voucher reference of the refund made by hand. */
  reference: string;
}

export interface Resumption {
  /** An ops person's personId. */
  by: string;
  note?: string;
}

/** R11, R28: finance settled by hand a refund the gateway refused. Only a finance clerk, only then. */
export const settleRefundUpdate = defineUpdate<CancellationView, [ManualSettlement]>('settleRefund');

/** Ops repaired what stopped the cancellation: it resumes the step that stopped. */
export const resumeUpdate = defineUpdate<CancellationView, [Resumption]>('resume');

/** The requester withdraws the request; refused once stock or money has started to move. */
export const withdrawUpdate = defineUpdate<CancellationView, [Withdrawal]>('withdraw');

/** What the carrier answered, later, about a shipment cancelflow asked it to stop (R9); from its webhook. */
export interface CarrierOutcome {
  shipmentId: string;
  recallId: string;
  outcome: 'accepted' | 'failed' | 'too_late';
  reason?: string;
  /** The carrier's event id: the webhook passes it on as the Update id, so a redelivery is one outcome. */
  eventId: string;
  occurredAt: string;
}

/** R12: what the customer chose, told by them or by customer service on their behalf. */
export interface ResolutionChoice {
  option: ResolutionOption;
  /** Who passed the choice on: the customer's id, or the customer-service person's. */
  by: string;
  note?: string;
}

/** The customer's choice among the options offered; refused unless offered and still awaited. */
export const chooseResolutionUpdate = defineUpdate<CancellationView, [ResolutionChoice]>('chooseResolution');

/** R9: the warehouse has the goods of a parcel back. */
export interface ReturnConfirmation {
  shipmentId: string;
  /** A warehouse clerk's personId. */
  by: string;
  note?: string;
}

/** The warehouse confirms a parcel of this cancellation is back; only a warehouse clerk, once per parcel. */
export const confirmReturnUpdate = defineUpdate<CancellationView, [ReturnConfirmation]>('confirmReturn');

/** The carrier's late answer on a recall, passed on by the API's carrier webhook. */
export const reportCarrierOutcomeUpdate = defineUpdate<CancellationView, [CarrierOutcome]>(
  'reportCarrierOutcome',
);
