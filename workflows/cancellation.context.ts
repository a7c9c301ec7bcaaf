// The statechart's context and what its guards, actions and effect parameters read from it. Pure functions of
// the context (and, for the rules, of plain data from contracts/): the machine file keeps only the chart.
import type {
  ApprovalProgress,
  CancellationInput,
  CancellationOutcome,
  GoodsFate,
  GoodsOutside,
  NoticeMoment,
  NotificationResult,
  OrderReview,
  ParcelRecall,
  RiskAssessment,
  ShippedParcel,
} from '../contracts/cancellation.contract';
import type {
  AttentionState,
  CancellationEvent,
  DeadlineName,
  EffectParams,
  EffectType,
  GoodsProgress,
  PurchasingOutcome,
} from '../contracts/effects.contract';
import type { ApprovalStep, CancellationPolicy } from '../contracts/policy.contract';
import { customerHearsOf } from '../rules/notices.rules';
import { awaitsCarrierAnswer } from '../rules/permissions.rules';
import { keptBackForKeptGoods } from '../rules/refund-plan.rules';

/**
 * What the workflow starts the machine with: the request, and behaviour that changed while cancellations were
 * running, decided once by the workflow's patch markers (the machine itself knows nothing of patches).
 */
export type MachineInput = CancellationInput & {
  /** Review the order again after an approval (it may have shipped meanwhile). */
  recheckAfterApproval?: boolean;
};

export interface CancellationContext {
  request: CancellationInput;
  recheckAfterApproval?: boolean;
  policy?: CancellationPolicy;
  review?: OrderReview;
  risk?: RiskAssessment;
  approval?: ApprovalProgress & {
    /** Identifies the running approval clock, so a reminder or deadline from an earlier one is ignored. */
    clock: number;
    /** Reminders sent on the running clock. */
    reminders: number;
    plan: ApprovalStep[];
  };
  outcome?: CancellationOutcome;
  refusal?: string;
  purchasing?: PurchasingOutcome;
  /** R11, R28: a refund the gateway refused for good, waiting for finance to settle it by hand. */
  settlement?: {
    failure: string;
    outstandingMinor: number;
    eligibleClerks: string[];
    by?: string;
    reference?: string;
  };
  /** What only a person can resolve, the state it stopped in, and who may resume it. */
  attention?: { from: AttentionState; effect?: EffectType; reason: string; eligibleOps: string[] };
  goods?: GoodsProgress;
  /** Identifies the running deadline, so one that fires after its wait ended is ignored. */
  deadlines?: number;
  /** How many times the cancellation has needed attention: each occurrence is reported to ops anew. */
  attentions: number;
  refundedMinor: number;
  refundId?: string;
  notifications: NotificationResult[];
}

export type Context = CancellationContext;
type Approval = NonNullable<Context['approval']>;

export function reviewed(context: Context): OrderReview {
  if (!context.review) throw new Error('the order has not been reviewed yet');
  return context.review;
}
export function policy(context: Context): CancellationPolicy {
  if (!context.policy) throw new Error('the policy has not been loaded yet');
  return context.policy;
}
export function approval(context: Context): Approval {
  if (!context.approval) throw new Error('no approval is under way');
  return context.approval;
}
/** The step being decided, with its deadline after escalations (an escalated step waits the escalation time). */
export function currentStep(context: Context): ApprovalStep {
  const progress = approval(context);
  const step = progress.plan[progress.step];
  if (!step) throw new Error(`approval step ${progress.step} is not in the plan`);
  return progress.escalations > 0
    ? { ...step, deadlineMs: policy(context).approval.escalation.deadlineMs }
    : step;
}
export function goodsOutside(context: Context): GoodsOutside | undefined {
  return context.review?.goods;
}
export function goodsProgress(context: Context): GoodsProgress {
  return context.goods ?? { recalls: [], returned: [], returnOverdue: false, eligibleClerks: [] };
}
/** What the customer keeps back from the refund: the deduction when they keep the goods (rounded their way). */
export function deduction(context: Context): number {
  if (goodsProgress(context).choice?.option !== 'refund_without_return') return 0;
  return keptBackForKeptGoods(
    reviewed(context).refundableMinor,
    policy(context).afterShipment.deductionPercent,
  );
}
/** What this cancellation gives back through the gateway (or by hand). */
export function refundDue(context: Context): number {
  return reviewed(context).refundableMinor - deduction(context);
}
export function goodsFate(context: Context): GoodsFate {
  const option = goodsProgress(context).choice?.option;
  if (option === 'refund_without_return') return 'kept';
  return goodsProgress(context).returned.length > 0 ? 'returned' : 'released';
}
/**
 * The recalls as they stand once this answer from the carrier is taken in; undefined when the event is not an
 * answer still awaited (a later answer counts only for a parcel whose recall is pending).
 */
export function recallsAfter(context: Context, event: CancellationEvent): ParcelRecall[] | undefined {
  if (event.type === 'RECALL_ANSWERED') return event.recalls;
  if (event.type !== 'CARRIER_ANSWERED') return undefined;
  const recalls = goodsProgress(context).recalls;
  if (!awaitsCarrierAnswer(event, recalls).allowed) return undefined;
  return recalls.map((recall) =>
    recall.shipmentId === event.shipmentId && recall.recallId === event.recallId
      ? { ...recall, status: event.outcome, reason: event.reason }
      : recall,
  );
}
/** The parcels still expected back at the warehouse. */
export function parcelsToReturn(context: Context): ShippedParcel[] {
  const returned = new Set(goodsProgress(context).returned.map((entry) => entry.shipmentId));
  return (goodsOutside(context)?.parcels ?? []).filter((parcel) => !returned.has(parcel.shipmentId));
}
export function parcelsReturned(context: Context): ShippedParcel[] {
  const returned = new Set(goodsProgress(context).returned.map((entry) => entry.shipmentId));
  return (goodsOutside(context)?.parcels ?? []).filter((parcel) => returned.has(parcel.shipmentId));
}
/** The deadline of the wait just entered: `countDeadline` (its entry's first action) gave it a new number. */
export function nextDeadline(
  context: Context,
  deadline: DeadlineName,
  afterMs: number,
): EffectParams['startDeadline'] {
  return { deadline, clock: context.deadlines ?? 0, afterMs };
}

/** The notice of a moment; the customer hears only of moments that concern them and once the order is known. */
export function notice(context: Context, moment: NoticeMoment): EffectParams['notify'] {
  return {
    cancellationId: context.request.cancellationId,
    orderNumber: context.request.orderNumber,
    moment,
    departments: context.policy?.notices?.[moment],
    customerId: context.review?.customerId,
    tellCustomer: customerHearsOf(moment) && context.review !== undefined,
    reasonCode: context.request.reasonCode,
    refusal: context.refusal,
    refundedMinor: context.refundedMinor,
    currency: context.review?.currency ?? 'CNY',
    lines: context.review?.lines.map((line) => ({
      lineId: line.lineId,
      sku: line.sku,
      quantity: line.quantity,
    })),
  };
}

/** What the review reads: the request's lines and confirmations under the policy's rules. */
export function reviewRequest(context: Context): EffectParams['reviewOrder'] {
  return {
    cancellationId: context.request.cancellationId,
    orderNumber: context.request.orderNumber,
    lines: context.request.lines,
    confirmed: context.request.confirmed,
    cancellableStatuses: policy(context).cancellableStatuses,
    refundRules: policy(context).refund,
  };
}

export function approvalRequest(context: Context): EffectParams['requestApproval'] {
  return {
    cancellationId: context.request.cancellationId,
    orderNumber: context.request.orderNumber,
    approvers: approval(context).eligibleApprovers,
    // R15: the delegates are asked too (and reminded), on their approver's behalf; none in older runs.
    ...(approval(context).delegates?.length ? { delegates: approval(context).delegates } : {}),
    level: approval(context).requiredLevel,
    clock: approval(context).clock,
    reminder: approval(context).reminders,
    risk: context.risk,
  };
}

/**
 * What the timeline says of the step an event made, beyond its new state: who decided, and (R15) on whose
 * behalf when a delegate did. Undefined for the steps whose state says it all.
 */
export function timelineNote(event: CancellationEvent): string | undefined {
  if (event.type !== 'APPROVAL_GRANTED' && event.type !== 'APPROVAL_REJECTED') return undefined;
  const verb = event.type === 'APPROVAL_GRANTED' ? 'approved' : 'rejected';
  return event.onBehalfOf === undefined
    ? `${event.approver} ${verb}`
    : `${event.approver} ${verb} on behalf of ${event.onBehalfOf}`;
}
