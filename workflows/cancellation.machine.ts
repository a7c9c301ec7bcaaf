// The rules of a cancellation, as one pure XState v5 statechart.
//
// The machine never performs I/O, never starts timers and invokes nothing: each state names, as entry
// actions, the effects the workflow must carry out there, and each effect's outcome comes back as an event.
// The workflow advances it with XState's pure `initialTransition`/`transition`, which return the next
// snapshot and the actions to run, so a replayed workflow computes exactly the same steps. Time, too, is the
// workflow's: the machine asks for an approval clock and hears back when a reminder or a deadline is due.
import { and, assign, setup, type StateValue } from 'xstate';
import type {
  ApprovalProgress,
  CancellationInput,
  CancellationOutcome,
  CancellationView,
  CancelledLine,
  OrderReview,
  ReasonCode,
  RiskAssessment,
} from './cancellation.contract';
import type { ApprovalStep, CancellationPolicy } from './policy';

export interface NotificationResult {
  channel: 'email' | 'sms';
  status: 'sent' | 'failed' | 'skipped';
  detail?: string;
}

/** What the cancellation did to the purchase orders raised for its lines (R27, R29). */
export type PurchasingOutcome = NonNullable<CancellationView['purchasing']>;

export type StaffRole = 'finance_clerk' | 'ops';

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
] as const;
export type AttentionState = (typeof ATTENTION_STATES)[number];

export interface CancellationContext {
  request: CancellationInput;
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
  attention?: { from: AttentionState; effect: EffectType; reason: string; eligibleOps: string[] };
  /** How many times the cancellation has needed attention: each occurrence is reported to ops anew. */
  attentions: number;
  refundedMinor: number;
  refundId?: string;
  notifications: NotificationResult[];
}

export type CancellationEvent =
  | { type: 'POLICY_LOADED'; policy: CancellationPolicy }
  | { type: 'ORDER_REVIEWED'; review: OrderReview }
  | { type: 'ORDER_REFUSED'; reason: string }
  | { type: 'RISK_ASSESSED'; risk: RiskAssessment }
  | { type: 'APPROVERS_FOUND'; approvers: string[] }
  | { type: 'APPROVAL_GRANTED'; approver: string; reason?: string }
  | { type: 'APPROVAL_REJECTED'; approver: string; reason: string }
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
  | { type: 'CUSTOMER_NOTIFIED'; results: NotificationResult[] };

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
    level: number;
    /** Which clock and which of its reminders this is (0: the first request): one message each. */
    clock: number;
    reminder: number;
    risk?: RiskAssessment;
  };
  releaseStock: { cancellationId: string; orderNumber: string; lines: CancelledLine[] };
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
    moment: 'received' | 'approved' | 'rejected' | 'withdrawn' | 'completed';
    /** Absent when the order was never reviewed: then only the departments hear. */
    customerId?: string;
    tellCustomer: boolean;
    reasonCode: ReasonCode;
    refusal?: string;
    refundedMinor: number;
    currency: string;
    lines?: { lineId: string; sku: string; quantity: number }[];
  };
  notifyCustomer: {
    cancellationId: string;
    orderNumber: string;
    customerId: string;
    reasonCode: ReasonCode;
    refundedMinor: number;
    currency: string;
  };
}
export type EffectType = keyof EffectParams;

type Context = CancellationContext;
type Approval = NonNullable<Context['approval']>;

function reviewed(context: Context): OrderReview {
  if (!context.review) throw new Error('the order has not been reviewed yet');
  return context.review;
}
function policy(context: Context): CancellationPolicy {
  if (!context.policy) throw new Error('the policy has not been loaded yet');
  return context.policy;
}
function approval(context: Context): Approval {
  if (!context.approval) throw new Error('no approval is under way');
  return context.approval;
}
/** The step being decided, with its deadline after escalations (an escalated step waits the escalation time). */
function currentStep(context: Context): ApprovalStep {
  const progress = approval(context);
  const step = progress.plan[progress.step];
  if (!step) throw new Error(`approval step ${progress.step} is not in the plan`);
  return progress.escalations > 0
    ? { ...step, deadlineMs: policy(context).approval.escalation.deadlineMs }
    : step;
}
/** The notice of a moment; the customer hears only of moments that concern them and once the order is known. */
function notice(
  context: Context,
  moment: EffectParams['notify']['moment'],
  tellCustomer: boolean,
): EffectParams['notify'] {
  return {
    cancellationId: context.request.cancellationId,
    orderNumber: context.request.orderNumber,
    moment,
    customerId: context.review?.customerId,
    tellCustomer: tellCustomer && context.review !== undefined,
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

/** Every state that runs an effect stops here when the effect fails for good (see cancellation.effects.ts). */
function attentionFrom(from: AttentionState) {
  return { target: 'needsAttention', actions: { type: 'noteAttention', params: { from } } } as const;
}

function approvalRequest(context: Context): EffectParams['requestApproval'] {
  return {
    cancellationId: context.request.cancellationId,
    orderNumber: context.request.orderNumber,
    approvers: approval(context).eligibleApprovers,
    level: approval(context).requiredLevel,
    clock: approval(context).clock,
    reminder: approval(context).reminders,
    risk: context.risk,
  };
}

// Effects carry no implementation: the machine only names them. The workflow maps each one (cancellation.effects.ts).
const effect =
  <K extends EffectType>() =>
  (_: unknown, _params: EffectParams[K]) =>
    undefined;

export const cancellationMachine = setup({
  types: {
    context: {} as CancellationContext,
    events: {} as CancellationEvent,
    input: {} as CancellationInput,
    output: {} as { outcome: CancellationOutcome },
  },
  actions: {
    loadPolicy: effect<'loadPolicy'>(),
    reviewOrder: effect<'reviewOrder'>(),
    assessRisk: effect<'assessRisk'>(),
    findApprovers: effect<'findApprovers'>(),
    startApprovalClock: effect<'startApprovalClock'>(),
    stopApprovalClock: effect<'stopApprovalClock'>(),
    requestApproval: effect<'requestApproval'>(),
    releaseStock: effect<'releaseStock'>(),
    reducePurchaseOrders: effect<'reducePurchaseOrders'>(),
    refundPayment: effect<'refundPayment'>(),
    findStaff: effect<'findStaff'>(),
    requestSettlement: effect<'requestSettlement'>(),
    recordManualSettlement: effect<'recordManualSettlement'>(),
    reportAttention: effect<'reportAttention'>(),
    noteAttention: assign(({ context, event }, params: { from: AttentionState }) => ({
      attention:
        event.type === 'EFFECT_FAILED'
          ? { from: params.from, effect: event.effect, reason: event.reason, eligibleOps: [] }
          : undefined,
      attentions: context.attentions + 1,
    })),
    recordSettlement: assign({
      settlement: ({ context, event }) =>
        context.settlement && event.type === 'REFUND_SETTLED'
          ? { ...context.settlement, by: event.by, reference: event.reference }
          : context.settlement,
    }),
    rememberStaff: assign(({ context, event }) => {
      if (event.type !== 'STAFF_FOUND') return {};
      if (event.role === 'finance_clerk' && context.settlement) {
        return { settlement: { ...context.settlement, eligibleClerks: event.people } };
      }
      if (event.role === 'ops' && context.attention) {
        return { attention: { ...context.attention, eligibleOps: event.people } };
      }
      return {};
    }),
    closeOrder: effect<'closeOrder'>(),
    notifyCustomer: effect<'notifyCustomer'>(),
    notify: effect<'notify'>(),
    rememberApprovers: assign({
      approval: ({ context, event }) => ({
        ...approval(context),
        // Never the requester, and never someone who already decided an earlier step: each level of a
        // multi-level approval is a different person's judgement.
        eligibleApprovers:
          event.type === 'APPROVERS_FOUND'
            ? event.approvers.filter(
                (id) =>
                  id !== context.request.requestedBy &&
                  !approval(context).decisions.some((decision) => decision.approver === id),
              )
            : approval(context).eligibleApprovers,
        clock: approval(context).clock + 1,
        reminders: 0,
      }),
    }),
    recordPurchasing: assign({
      purchasing: ({ context, event }) =>
        event.type === 'PURCHASE_ORDERS_ADJUSTED' ? event.purchasing : context.purchasing,
    }),
    countReminder: assign({
      approval: ({ context }) => ({ ...approval(context), reminders: approval(context).reminders + 1 }),
    }),
    recordDecision: assign({
      approval: ({ context, event }) => {
        const progress = approval(context);
        if (event.type !== 'APPROVAL_GRANTED' && event.type !== 'APPROVAL_REJECTED') return progress;
        const decision = {
          approver: event.approver,
          approved: event.type === 'APPROVAL_GRANTED',
          reason: event.reason,
          level: progress.requiredLevel,
        };
        return { ...progress, decisions: [...progress.decisions, decision] };
      },
    }),
    advanceStep: assign({
      approval: ({ context }) => {
        const progress = approval(context);
        const step = progress.step + 1;
        return {
          ...progress,
          step,
          escalations: 0,
          requiredLevel: progress.plan[step]?.level ?? progress.requiredLevel,
        };
      },
    }),
    escalate: assign({
      approval: ({ context }) => {
        const progress = approval(context);
        return {
          ...progress,
          escalations: progress.escalations + 1,
          requiredLevel: Math.min(3, progress.requiredLevel + 1),
        };
      },
    }),
    recordRejection: assign({
      outcome: 'rejected' as const,
      refusal: ({ event }) =>
        event.type === 'APPROVAL_REJECTED' ? `rejected by ${event.approver}: ${event.reason}` : undefined,
    }),
    recordTimeoutRejection: assign({
      outcome: 'rejected' as const,
      refusal: 'no approver decided before the final deadline; the policy rejects on timeout',
    }),
    recordWithdrawal: assign({
      outcome: 'withdrawn' as const,
      refusal: ({ event }) =>
        event.type === 'WITHDRAW'
          ? `withdrawn by ${event.by}${event.reason ? `: ${event.reason}` : ''}`
          : undefined,
    }),
  },
  guards: {
    needsApproval: ({ context, event }) =>
      event.type === 'RISK_ASSESSED' && policy(context).approval[event.risk.level].length > 0,
    hasMoneyToRefund: ({ context }) => reviewed(context).refundableMinor > 0,
    /** R3, R15: only an eligible approver of the current step, never the requester, decides. */
    isEligibleApprover: ({ context, event }) =>
      (event.type === 'APPROVAL_GRANTED' || event.type === 'APPROVAL_REJECTED') &&
      event.approver !== context.request.requestedBy &&
      approval(context).eligibleApprovers.includes(event.approver),
    moreStepsRemain: ({ context }) => approval(context).step + 1 < approval(context).plan.length,
    isCurrentClock: ({ context, event }) =>
      (event.type === 'APPROVAL_REMINDER_DUE' || event.type === 'APPROVAL_DEADLINE_PASSED') &&
      event.clock === context.approval?.clock,
    canEscalate: ({ context }) =>
      approval(context).escalations < policy(context).approval.escalation.maxEscalations,
    timeoutApproves: ({ context }) => policy(context).approval.onFinalTimeout === 'approve',
    isRequester: ({ context, event }) =>
      event.type === 'WITHDRAW' && event.by === context.request.requestedBy,
    isFinanceClerk: ({ context, event }) =>
      event.type === 'REFUND_SETTLED' && (context.settlement?.eligibleClerks.includes(event.by) ?? false),
    resumesTo: ({ context, event }, params: { state: AttentionState }) =>
      event.type === 'RESUME' &&
      (context.attention?.eligibleOps.includes(event.by) ?? false) &&
      context.attention?.from === params.state,
  },
}).createMachine({
  id: 'cancellation',
  context: ({ input }) => ({ request: input, refundedMinor: 0, notifications: [], attentions: 0 }),
  initial: 'loadingPolicy',
  states: {
    // R8, R21: the rules this cancellation runs under, recorded by version.
    loadingPolicy: {
      entry: {
        type: 'loadPolicy',
        params: ({ context }) => ({ cancellationId: context.request.cancellationId }),
      },
      on: {
        EFFECT_FAILED: attentionFrom('loadingPolicy'),
        POLICY_LOADED: { target: 'reviewing', actions: assign({ policy: ({ event }) => event.policy }) },
        WITHDRAW: { guard: 'isRequester', target: 'withdrawn', actions: 'recordWithdrawal' },
      },
    },
    // Until stock or money moves, the requester may withdraw (the point of no return is releasingStock).
    reviewing: {
      entry: {
        type: 'reviewOrder',
        params: ({ context }) => ({
          cancellationId: context.request.cancellationId,
          orderNumber: context.request.orderNumber,
          lines: context.request.lines,
          confirmed: context.request.confirmed,
          cancellableStatuses: policy(context).cancellableStatuses,
          refundRules: policy(context).refund,
        }),
      },
      on: {
        EFFECT_FAILED: attentionFrom('reviewing'),
        ORDER_REVIEWED: {
          target: 'assessingRisk',
          actions: [
            assign({ review: ({ event }) => event.review }),
            { type: 'notify', params: ({ context }) => notice(context, 'received', true) },
          ],
        },
        ORDER_REFUSED: {
          target: 'refused',
          actions: assign({ outcome: 'refused' as const, refusal: ({ event }) => event.reason }),
        },
        WITHDRAW: { guard: 'isRequester', target: 'withdrawn', actions: 'recordWithdrawal' },
      },
    },
    // R20: financial, customer and supply-chain risk, recorded with its reasons.
    assessingRisk: {
      entry: {
        type: 'assessRisk',
        params: ({ context }) => ({
          review: reviewed(context),
          reasonCode: context.request.reasonCode,
          rules: policy(context).risk,
        }),
      },
      on: {
        EFFECT_FAILED: attentionFrom('assessingRisk'),
        RISK_ASSESSED: [
          {
            guard: 'needsApproval',
            target: 'awaitingApproval',
            actions: assign({
              risk: ({ event }) => event.risk,
              approval: ({ context, event }) => {
                const plan = policy(context).approval[event.risk.level];
                return {
                  plan,
                  step: 0,
                  steps: plan.length,
                  requiredLevel: plan[0]?.level ?? 1,
                  escalations: 0,
                  eligibleApprovers: [],
                  decisions: [],
                  clock: 0,
                  reminders: 0,
                };
              },
            }),
          },
          { target: 'releasingStock', actions: assign({ risk: ({ event }) => event.risk }) },
        ],
        WITHDRAW: { guard: 'isRequester', target: 'withdrawn', actions: 'recordWithdrawal' },
      },
    },
    // R3, R15: each step of the plan is decided by an approver of its level; deadlines remind and escalate.
    awaitingApproval: {
      initial: 'findingApprovers',
      on: {
        WITHDRAW: { guard: 'isRequester', target: 'withdrawn', actions: 'recordWithdrawal' },
      },
      states: {
        findingApprovers: {
          entry: {
            type: 'findApprovers',
            params: ({ context }) => ({
              cancellationId: context.request.cancellationId,
              level: approval(context).requiredLevel,
              requestedBy: context.request.requestedBy,
            }),
          },
          on: {
            APPROVERS_FOUND: { target: 'waitingForDecision', actions: 'rememberApprovers' },
          },
        },
        waitingForDecision: {
          entry: [
            {
              type: 'startApprovalClock',
              params: ({ context }) => ({
                clock: approval(context).clock,
                deadlineMs: currentStep(context).deadlineMs,
                reminderEveryMs: currentStep(context).reminderEveryMs,
              }),
            },
            { type: 'requestApproval', params: ({ context }) => approvalRequest(context) },
          ],
          exit: { type: 'stopApprovalClock', params: {} },
          on: {
            APPROVAL_GRANTED: [
              {
                guard: and(['isEligibleApprover', 'moreStepsRemain']),
                target: 'findingApprovers',
                actions: ['recordDecision', 'advanceStep'],
              },
              {
                guard: 'isEligibleApprover',
                target: '#cancellation.releasingStock',
                actions: [
                  'recordDecision',
                  { type: 'notify', params: ({ context }) => notice(context, 'approved', false) },
                ],
              },
            ],
            APPROVAL_REJECTED: {
              guard: 'isEligibleApprover',
              target: '#cancellation.rejected',
              actions: ['recordDecision', 'recordRejection'],
            },
            APPROVAL_REMINDER_DUE: {
              guard: 'isCurrentClock',
              actions: [
                'countReminder',
                { type: 'requestApproval', params: ({ context }) => approvalRequest(context) },
              ],
            },
            APPROVAL_DEADLINE_PASSED: [
              // The same step, decided now by approvers one level higher.
              {
                guard: and(['isCurrentClock', 'canEscalate']),
                target: 'findingApprovers',
                actions: 'escalate',
              },
              { guard: and(['isCurrentClock', 'timeoutApproves']), target: '#cancellation.releasingStock' },
              {
                guard: 'isCurrentClock',
                target: '#cancellation.rejected',
                actions: 'recordTimeoutRejection',
              },
            ],
          },
        },
      },
    },
    // R4, R10, R27: the point of no return; stock goes back to available through the ledger.
    releasingStock: {
      entry: {
        type: 'releaseStock',
        params: ({ context }) => ({
          cancellationId: context.request.cancellationId,
          orderNumber: context.request.orderNumber,
          lines: reviewed(context).lines,
        }),
      },
      on: {
        EFFECT_FAILED: attentionFrom('releasingStock'),
        STOCK_RELEASED: 'adjustingPurchasing',
      },
    },
    // R27, R29: purchase orders raised for the cancelled lines shrink, unless the supplier already shipped.
    adjustingPurchasing: {
      entry: {
        type: 'reducePurchaseOrders',
        params: ({ context }) => ({
          cancellationId: context.request.cancellationId,
          orderNumber: context.request.orderNumber,
          lines: reviewed(context).lines,
        }),
      },
      on: {
        EFFECT_FAILED: attentionFrom('adjustingPurchasing'),
        PURCHASE_ORDERS_ADJUSTED: [
          { guard: 'hasMoneyToRefund', target: 'refunding', actions: 'recordPurchasing' },
          { target: 'closingOrder', actions: 'recordPurchasing' },
        ],
      },
    },
    // R11, R28: money goes back before the customer is told it did.
    refunding: {
      entry: {
        type: 'refundPayment',
        params: ({ context }) => ({
          cancellationId: context.request.cancellationId,
          orderNumber: context.request.orderNumber,
          amountMinor: reviewed(context).refundableMinor,
          currency: reviewed(context).currency,
        }),
      },
      on: {
        EFFECT_FAILED: attentionFrom('refunding'),
        PAYMENT_REFUNDED: {
          target: 'closingOrder',
          actions: assign({
            refundId: ({ event }) => event.refundId,
            refundedMinor: ({ event }) => event.refundedMinor,
          }),
        },
        REFUND_FAILED: {
          target: 'awaitingSettlement',
          actions: assign({
            refundedMinor: ({ event }) => event.refundedMinor,
            settlement: ({ context, event }) => ({
              failure: event.reason,
              outstandingMinor: reviewed(context).refundableMinor - event.refundedMinor,
              eligibleClerks: [],
            }),
          }),
        },
      },
    },
    // R11, R28: the gateway will not refund; finance settles by hand and records the reference. The
    // cancellation never ends silently here, and the customer hears "refunded" only after that.
    awaitingSettlement: {
      initial: 'findingClerks',
      states: {
        findingClerks: {
          entry: {
            type: 'findStaff',
            params: ({ context }) => ({
              cancellationId: context.request.cancellationId,
              role: 'finance_clerk' as const,
            }),
          },
          on: { STAFF_FOUND: { target: 'waitingForFinance', actions: 'rememberStaff' } },
        },
        waitingForFinance: {
          entry: {
            type: 'requestSettlement',
            params: ({ context }) => ({
              cancellationId: context.request.cancellationId,
              orderNumber: context.request.orderNumber,
              clerks: context.settlement?.eligibleClerks ?? [],
              outstandingMinor: context.settlement?.outstandingMinor ?? 0,
              currency: reviewed(context).currency,
              failure: context.settlement?.failure ?? '',
            }),
          },
          on: {
            REFUND_SETTLED: {
              guard: 'isFinanceClerk',
              target: '#cancellation.recordingSettlement',
              actions: 'recordSettlement',
            },
          },
        },
      },
    },
    recordingSettlement: {
      entry: {
        type: 'recordManualSettlement',
        params: ({ context }) => ({
          cancellationId: context.request.cancellationId,
          orderNumber: context.request.orderNumber,
          amountMinor: context.settlement?.outstandingMinor ?? 0,
          currency: reviewed(context).currency,
          by: context.settlement?.by ?? '',
          reference: context.settlement?.reference ?? '',
        }),
      },
      on: {
        EFFECT_FAILED: attentionFrom('recordingSettlement'),
        SETTLEMENT_RECORDED: {
          target: 'closingOrder',
          actions: assign({
            refundedMinor: ({ context, event }) => context.refundedMinor + event.refundedMinor,
          }),
        },
      },
    },
    // What only a person can resolve (stock that cannot be released, a broken policy file, ...). Ops see the
    // reason in the query, the search attributes and the database copy; an ops person's RESUME re-runs the
    // step that stopped, once they have repaired its cause.
    needsAttention: {
      initial: 'findingOps',
      states: {
        findingOps: {
          entry: {
            type: 'findStaff',
            params: ({ context }) => ({
              cancellationId: context.request.cancellationId,
              role: 'ops' as const,
            }),
          },
          on: { STAFF_FOUND: { target: 'waitingForOps', actions: 'rememberStaff' } },
        },
        waitingForOps: {
          entry: {
            type: 'reportAttention',
            params: ({ context }) => ({
              cancellationId: context.request.cancellationId,
              orderNumber: context.request.orderNumber,
              ops: context.attention?.eligibleOps ?? [],
              state: context.attention?.from ?? '',
              reason: context.attention?.reason ?? '',
              occurrence: context.attentions,
            }),
          },
          on: {
            RESUME: ATTENTION_STATES.map((state) => ({
              guard: { type: 'resumesTo' as const, params: { state } },
              target: `#cancellation.${state}`,
              actions: assign({ attention: undefined }),
            })),
          },
        },
      },
    },
    // R4, R7: the order becomes cancelled (or partially cancelled), with the reason recorded.
    closingOrder: {
      entry: {
        type: 'closeOrder',
        params: ({ context }) => ({
          cancellationId: context.request.cancellationId,
          orderNumber: context.request.orderNumber,
          lines: reviewed(context).lines,
          reasonCode: context.request.reasonCode,
          note: context.request.note,
          cancelsWholeOrder: reviewed(context).cancelsWholeOrder,
        }),
      },
      on: {
        EFFECT_FAILED: attentionFrom('closingOrder'),
        ORDER_CLOSED: 'notifyingCustomer',
      },
    },
    // R12, R18: the customer hears what happened; a failed delivery never undoes the cancellation.
    notifyingCustomer: {
      entry: {
        type: 'notifyCustomer',
        params: ({ context }) => ({
          cancellationId: context.request.cancellationId,
          orderNumber: context.request.orderNumber,
          customerId: reviewed(context).customerId,
          reasonCode: context.request.reasonCode,
          refundedMinor: context.refundedMinor,
          currency: reviewed(context).currency,
        }),
      },
      on: {
        EFFECT_FAILED: attentionFrom('notifyingCustomer'),
        CUSTOMER_NOTIFIED: {
          target: 'completed',
          actions: assign({ outcome: 'completed' as const, notifications: ({ event }) => event.results }),
        },
      },
    },
    // The customer heard of completion from notifyingCustomer; the departments hear of every ending here.
    completed: {
      type: 'final',
      entry: { type: 'notify', params: ({ context }) => notice(context, 'completed', false) },
    },
    refused: { type: 'final' },
    rejected: {
      type: 'final',
      entry: { type: 'notify', params: ({ context }) => notice(context, 'rejected', true) },
    },
    withdrawn: {
      type: 'final',
      entry: { type: 'notify', params: ({ context }) => notice(context, 'withdrawn', true) },
    },
  },
  output: ({ context }) => ({ outcome: context.outcome ?? 'completed' }),
});

/** The state as one readable name: nested states joined with a dot ("awaitingApproval.waitingForDecision"). */
export function stateName(value: StateValue): string {
  if (typeof value === 'string') return value;
  return Object.entries(value)
    .map(([parent, child]) => `${parent}.${stateName(child as StateValue)}`)
    .join(',');
}
