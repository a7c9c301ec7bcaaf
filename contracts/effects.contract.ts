// What passes between the statechart and the world: the events the machine takes and the effects it names,
// with their parameters. Activities implement the effects and the workflow carries them out; both read these
// types here, so neither depends on the machine itself.
import type {
  CancellationInput,
  CancellationView,
  CancelledLine,
  Department,
  GoodsFate,
  GoodsView,
  NoticeMoment,
  NotificationResult,
  OrderReview,
  ParcelRecall,
  ReasonCode,
  ResolutionOption,
  RiskAssessment,
  ShippedParcel,
  StepDelegate,
} from './cancellation.contract';
import type { CancellationPolicy } from './policy.contract';

/** What the cancellation did to the purchase orders raised for its lines (R27, R29). */
export type PurchasingOutcome = NonNullable<CancellationView['purchasing']>;

export type StaffRole = 'finance_clerk' | 'ops' | 'warehouse_clerk';

/** The waits after shipment that have a deadline (the approval clock is separate: it also reminds). */
export type DeadlineName = 'carrierAnswer' | 'customerChoice' | 'goodsReturn';

/** R9, R12: what became of goods that had left the warehouse. */
export interface GoodsProgress extends GoodsView {
  /** Warehouse clerks who may confirm that goods are back. */
  eligibleClerks: string[];
}

/** The states whose effect can fail in a way only a person can resolve; `needsAttention` resumes them. */
export const ATTENTION_STATES = [
  'loadingPolicy',
  'reviewing',
  'assessingRisk',
  'releasingStock',
  'adjustingPurchasing',
  'refunding',
  'recordingSettlement',
  'closingOrder',
  'notifyingCustomer',
  'recallingShipment',
  'agreeingWithCustomer',
  'returningStock',
  'arrangingRedelivery',
  'recheckingOrder',
] as const;
export type AttentionState = (typeof ATTENTION_STATES)[number];

export type CancellationEvent =
  | { type: 'POLICY_LOADED'; policy: CancellationPolicy }
  | { type: 'ORDER_REVIEWED'; review: OrderReview }
  | { type: 'ORDER_REFUSED'; reason: string }
  | { type: 'RISK_ASSESSED'; risk: RiskAssessment }
  | { type: 'APPROVERS_FOUND'; approvers: string[]; delegations?: StepDelegate[] }
  | { type: 'APPROVAL_GRANTED'; approver: string; reason?: string; onBehalfOf?: string }
  | { type: 'APPROVAL_REJECTED'; approver: string; reason: string; onBehalfOf?: string }
  | { type: 'APPROVAL_REMINDER_DUE'; clock: number }
  | { type: 'APPROVAL_DEADLINE_PASSED'; clock: number }
  | { type: 'WITHDRAW'; by: string; reason?: string }
  | { type: 'STOCK_RELEASED' }
  | { type: 'PURCHASE_ORDERS_ADJUSTED'; purchasing: PurchasingOutcome }
  | { type: 'PAYMENT_REFUNDED'; refundId: string; refundedMinor: number }
  | { type: 'REFUND_FAILED'; reason: string; refundedMinor: number }
  | { type: 'STAFF_FOUND'; role: StaffRole; people: string[] }
  | { type: 'REFUND_SETTLED'; by: string; reference: string }
  | { type: 'SETTLEMENT_RECORDED'; refundedMinor: number }
  | { type: 'EFFECT_FAILED'; effect: EffectType; reason: string }
  | { type: 'RESUME'; by: string; note?: string }
  | { type: 'ORDER_CLOSED' }
  | { type: 'CUSTOMER_NOTIFIED'; results: NotificationResult[] }
  | { type: 'RECALL_ANSWERED'; recalls: ParcelRecall[] }
  | {
      type: 'CARRIER_ANSWERED';
      shipmentId: string;
      recallId: string;
      outcome: 'accepted' | 'failed' | 'too_late';
      reason?: string;
    }
  | { type: 'DEADLINE_PASSED'; deadline: DeadlineName; clock: number }
  | { type: 'RESOLUTION_CHOSEN'; option: ResolutionOption; by: string; note?: string }
  | { type: 'RETURN_CONFIRMED'; shipmentId: string; by: string; note?: string }
  | { type: 'STOCK_RETURNED' }
  | { type: 'REDELIVERY_ARRANGED' };

/**
 * What `findApprovers` answers: the active approvers of the level or higher, and the delegations in force then
 * whose delegator is one of them (R15). Histories recorded before delegation hold a plain list of approvers.
 */
export interface FoundApprovers {
  approvers: string[];
  delegations: StepDelegate[];
}

/** Parameters of each effect the workflow carries out; the keys are the machine's effect action names. */
export interface EffectParams {
  loadPolicy: { cancellationId: string };
  reviewOrder: Pick<CancellationInput, 'cancellationId' | 'orderNumber' | 'lines' | 'confirmed'> & {
    cancellableStatuses: string[];
    refundRules: CancellationPolicy['refund'];
  };
  assessRisk: { review: OrderReview; reasonCode: ReasonCode; rules: CancellationPolicy['risk'] };
  findApprovers: { cancellationId: string; level: number; requestedBy: string };
  startApprovalClock: { clock: number; deadlineMs: number; reminderEveryMs: number };
  stopApprovalClock: Record<string, never>;
  requestApproval: {
    cancellationId: string;
    orderNumber: string;
    approvers: string[];
    /** R15: delegates of those approvers for this step; each is asked too, on the approver's behalf. */
    delegates?: StepDelegate[];
    level: number;
    /** Which clock and which of its reminders this is (0: the first request): one message each. */
    clock: number;
    reminder: number;
    risk?: RiskAssessment;
  };
  releaseStock: { cancellationId: string; orderNumber: string; lines: CancelledLine[] };
  requestRecall: {
    cancellationId: string;
    orderNumber: string;
    parcels: ShippedParcel[];
    reasonCode: ReasonCode;
  };
  startDeadline: { deadline: DeadlineName; clock: number; afterMs: number };
  stopDeadline: Record<string, never>;
  returnStock: { cancellationId: string; orderNumber: string; parcels: ShippedParcel[] };
  arrangeRedelivery: { cancellationId: string; orderNumber: string; parcels: ShippedParcel[] };
  reducePurchaseOrders: { cancellationId: string; orderNumber: string; lines: CancelledLine[] };
  refundPayment: { cancellationId: string; orderNumber: string; amountMinor: number; currency: string };
  findStaff: { cancellationId: string; role: StaffRole };
  requestSettlement: {
    cancellationId: string;
    orderNumber: string;
    clerks: string[];
    outstandingMinor: number;
    currency: string;
    failure: string;
  };
  recordManualSettlement: {
    cancellationId: string;
    orderNumber: string;
    amountMinor: number;
    currency: string;
    by: string;
    reference: string;
  };
  reportAttention: {
    cancellationId: string;
    orderNumber: string;
    ops: string[];
    state: string;
    reason: string;
    /** Which time this cancellation needs attention (1, 2, …): one report each. */
    occurrence: number;
  };
  closeOrder: {
    cancellationId: string;
    orderNumber: string;
    lines: CancelledLine[];
    reasonCode: ReasonCode;
    note?: string;
    cancelsWholeOrder: boolean;
  };
  /** R6, R17, R18, R24: tell the customer and the departments at a moment that matters, without waiting. */
  notify: {
    cancellationId: string;
    orderNumber: string;
    moment: NoticeMoment;
    /** R6, R24: who hears of it, per the policy; absent before the policy is loaded (the defaults apply). */
    departments?: Department[];
    /** Absent when the order was never reviewed: then only the departments hear. */
    customerId?: string;
    tellCustomer: boolean;
    reasonCode: ReasonCode;
    refusal?: string;
    refundedMinor: number;
    currency: string;
    lines?: { lineId: string; sku: string; quantity: number }[];
    /** With `options_offered`: the choice put to the customer; the workflow turns the wait into a date. */
    offer?: NonNullable<GoodsProgress['offer']>;
  };
  notifyCustomer: {
    cancellationId: string;
    orderNumber: string;
    customerId: string;
    reasonCode: ReasonCode;
    refundedMinor: number;
    currency: string;
    goods: GoodsFate;
    /** Kept back from the refund because the customer keeps the goods. */
    deductionMinor: number;
  };
}
export type EffectType = keyof EffectParams;
