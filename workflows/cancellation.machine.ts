// The rules of a cancellation, as one pure XState v5 statechart.
//
// The machine never performs I/O, never starts timers and invokes nothing: each state names, as entry
// actions, the effects the workflow must carry out there, and each effect's outcome comes back as an event.
// The workflow advances it with XState's pure `initialTransition`/`transition`, which return the next
// snapshot and the actions to run, so a replayed workflow computes exactly the same steps. Time, too, is the
// workflow's: the machine asks for an approval clock and hears back when a reminder or a deadline is due.
import { and, assign, setup, type StateValue } from 'xstate';
import type { CancellationOutcome, ResolutionOption } from '../contracts/cancellation.contract';
import {
  ATTENTION_STATES,
  type AttentionState,
  type CancellationEvent,
  type DeadlineName,
  type EffectParams,
  type EffectType,
  type StaffRole,
} from '../contracts/effects.contract';
import {
  eligibleApprovers,
  mayChoose,
  mayConfirmReturn,
  mayDecide,
  maySettle,
  mayResume,
  mayWithdraw,
} from '../rules/permissions.rules';
import { stepDelegates } from '../rules/delegation.rules';
import { keptBackForKeptGoods } from '../rules/refund-plan.rules';
import {
  approval,
  approvalRequest,
  currentStep,
  deduction,
  goodsFate,
  goodsOutside,
  goodsProgress,
  nextDeadline,
  notice,
  parcelsReturned,
  parcelsToReturn,
  policy,
  recallsAfter,
  refundDue,
  reviewed,
  reviewRequest,
  type CancellationContext,
  type MachineInput,
} from './cancellation.context';

export type { CancellationContext, MachineInput } from './cancellation.context';

/** Until stock or money moves, the requester may withdraw: the states before releasingStock take this. */
const withdrawable = {
  WITHDRAW: { guard: 'isRequester', target: '#cancellation.withdrawn', actions: 'recordWithdrawal' },
} as const;

/**
 * A substate that asks the books who holds `role` (finance clerks, ops, warehouse clerks) and goes on to `next`
 * with them remembered: those people alone may then act in the wait that follows.
 */
function findingStaff<Next extends string>(role: StaffRole, next: Next) {
  return {
    entry: {
      type: 'findStaff',
      params: ({ context }: { context: CancellationContext }) => ({
        cancellationId: context.request.cancellationId,
        role,
      }),
    },
    on: { STAFF_FOUND: { target: next, actions: 'rememberStaff' } },
  } as const;
}

/** Every state that runs an effect stops here when the effect fails for good (see cancellation.effects.ts). */
function attentionFrom(from: AttentionState) {
  return { target: 'needsAttention', actions: { type: 'noteAttention', params: { from } } } as const;
}

/**
 * After the carrier's answer (at once, or later through its webhook): wait for the other parcels' answers,
 * take the goods back when every parcel was stopped, ask the customer when none was, and stop for a person
 * when the carrier stopped some parcels and not others (the policy has no rule for half a recall).
 */
function recallRouting(whileWaiting: boolean) {
  const actions = ['recordRecalls'] as const;
  return [
    whileWaiting
      ? ({ guard: 'recallsPending', actions } as const)
      : ({ guard: 'recallsPending', target: '#cancellation.awaitingCarrier', actions } as const),
    { guard: 'allParcelsStopped', target: '#cancellation.awaitingReturn', actions },
    { guard: 'noParcelStopped', target: '#cancellation.agreeingWithCustomer', actions },
    {
      guard: 'someParcelsStopped',
      target: '#cancellation.needsAttention',
      actions: [
        ...actions,
        {
          type: 'noteAttentionFor' as const,
          params: {
            from: 'agreeingWithCustomer' as const,
            reason:
              'the carrier stopped some parcels and not others: agree with the customer what to do with each, ' +
              'then resume to offer them the options',
          },
        },
      ],
    },
  ] as const;
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
    input: {} as MachineInput,
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
    noteAttentionFor: assign(({ context }, params: { from: AttentionState; reason: string }) => ({
      attention: { from: params.from, reason: params.reason, eligibleOps: [] },
      attentions: context.attentions + 1,
    })),
    requestRecall: effect<'requestRecall'>(),
    startDeadline: effect<'startDeadline'>(),
    stopDeadline: effect<'stopDeadline'>(),
    returnStock: effect<'returnStock'>(),
    arrangeRedelivery: effect<'arrangeRedelivery'>(),
    countDeadline: assign({ deadlines: ({ context }) => (context.deadlines ?? 0) + 1 }),
    recordRecalls: assign({
      goods: ({ context, event }) => ({
        ...goodsProgress(context),
        recalls: recallsAfter(context, event) ?? goodsProgress(context).recalls,
      }),
    }),
    offerOptions: assign({
      goods: ({ context }) => {
        const rules = policy(context).afterShipment;
        const refundableMinor = reviewed(context).refundableMinor;
        return {
          ...goodsProgress(context),
          choice: undefined,
          offer: {
            options: rules.customerOptions,
            defaultOption: rules.defaultOption,
            decideWithinMs: rules.customerChoiceDeadlineMs,
            refundableMinor,
            deductionMinor: keptBackForKeptGoods(refundableMinor, rules.deductionPercent),
          },
        };
      },
    }),
    recordChoice: assign({
      goods: ({ context, event }) =>
        event.type === 'RESOLUTION_CHOSEN'
          ? { ...goodsProgress(context), choice: { option: event.option, by: event.by, defaulted: false } }
          : goodsProgress(context),
    }),
    applyDefaultChoice: assign({
      goods: ({ context }) => ({
        ...goodsProgress(context),
        choice: { option: policy(context).afterShipment.defaultOption, by: 'policy', defaulted: true },
      }),
    }),
    recordReturn: assign({
      goods: ({ context, event }) =>
        event.type === 'RETURN_CONFIRMED'
          ? {
              ...goodsProgress(context),
              returned: [...goodsProgress(context).returned, { shipmentId: event.shipmentId, by: event.by }],
            }
          : goodsProgress(context),
    }),
    markReturnOverdue: assign({
      goods: ({ context }) => ({ ...goodsProgress(context), returnOverdue: true }),
    }),
    recordRedelivery: assign({ outcome: 'redelivered' as const }),
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
      if (event.role === 'warehouse_clerk') {
        return { goods: { ...goodsProgress(context), eligibleClerks: event.people } };
      }
      return {};
    }),
    closeOrder: effect<'closeOrder'>(),
    notifyCustomer: effect<'notifyCustomer'>(),
    notify: effect<'notify'>(),
    rememberApprovers: assign({
      approval: ({ context, event }) => {
        const progress = approval(context);
        if (event.type !== 'APPROVERS_FOUND') {
          return { ...progress, clock: progress.clock + 1, reminders: 0 };
        }
        const { requestedBy } = context.request;
        const eligible = eligibleApprovers(event.approvers, requestedBy, progress.decisions);
        return {
          ...progress,
          eligibleApprovers: eligible,
          // R15: runs recorded before delegation found none, and keep no list at all.
          ...(event.delegations
            ? { delegates: stepDelegates(event.delegations, eligible, requestedBy, progress.decisions) }
            : {}),
          clock: progress.clock + 1,
          reminders: 0,
        };
      },
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
          ...(event.onBehalfOf !== undefined ? { onBehalfOf: event.onBehalfOf } : {}),
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
    /** An approval by the policy on the final timeout is recorded as a decision, like a person's. */
    recordTimeoutApproval: assign({
      approval: ({ context }) => {
        const progress = approval(context);
        const decision = {
          approver: 'policy',
          approved: true,
          reason: 'no approver decided before the final deadline; the policy approves on timeout',
          level: progress.requiredLevel,
        };
        return { ...progress, decisions: [...progress.decisions, decision] };
      },
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
    hasMoneyToRefund: ({ context }) => refundDue(context) > 0,
    recallsGoods: ({ context }) => goodsOutside(context)?.recall === true,
    goodsAreOutside: ({ context }) => goodsOutside(context) !== undefined,
    recallsPending: ({ context, event }) =>
      recallsAfter(context, event)?.some((recall) => recall.status === 'pending') ?? false,
    allParcelsStopped: ({ context, event }) =>
      recallsAfter(context, event)?.every((recall) => recall.status === 'accepted') ?? false,
    noParcelStopped: ({ context, event }) =>
      recallsAfter(context, event)?.every((recall) => recall.status !== 'accepted') ?? false,
    someParcelsStopped: ({ context, event }) =>
      recallsAfter(context, event)?.some((recall) => recall.status === 'accepted') ?? false,
    isCurrentDeadline: ({ context, event }, params: { deadline: DeadlineName }) =>
      event.type === 'DEADLINE_PASSED' &&
      event.deadline === params.deadline &&
      event.clock === (context.deadlines ?? 0),
    silenceAsksCustomer: ({ context }) => policy(context).afterShipment.onCarrierSilence === 'ask_customer',
    isOfferedOption: ({ context, event }) =>
      event.type === 'RESOLUTION_CHOSEN' &&
      event.by.trim() !== '' &&
      mayChoose(event.option, goodsProgress(context).offer?.options).allowed,
    chose: ({ context }, params: { option: ResolutionOption }) =>
      goodsProgress(context).choice?.option === params.option,
    /** R9: only a warehouse clerk confirms that a parcel of this cancellation is back, once. */
    isExpectedReturn: ({ context, event }) =>
      event.type === 'RETURN_CONFIRMED' &&
      mayConfirmReturn(
        event.by,
        event.shipmentId,
        goodsProgress(context).eligibleClerks,
        parcelsToReturn(context),
      ).allowed,
    isLastParcel: ({ context, event }) =>
      event.type === 'RETURN_CONFIRMED' &&
      parcelsToReturn(context).every((parcel) => parcel.shipmentId === event.shipmentId),
    /** R3, R15: only an eligible approver of the current step, never the requester, decides. */
    isEligibleApprover: ({ context, event }) =>
      (event.type === 'APPROVAL_GRANTED' || event.type === 'APPROVAL_REJECTED') &&
      mayDecide(event.approver, context.request.requestedBy, context.approval, event.onBehalfOf).allowed,
    moreStepsRemain: ({ context }) => approval(context).step + 1 < approval(context).plan.length,
    isCurrentClock: ({ context, event }) =>
      (event.type === 'APPROVAL_REMINDER_DUE' || event.type === 'APPROVAL_DEADLINE_PASSED') &&
      event.clock === context.approval?.clock,
    canEscalate: ({ context }) =>
      approval(context).escalations < policy(context).approval.escalation.maxEscalations,
    timeoutApproves: ({ context }) => policy(context).approval.onFinalTimeout === 'approve',
    rechecksAfterApproval: ({ context }) => context.recheckAfterApproval === true,
    isRequester: ({ context, event }) =>
      event.type === 'WITHDRAW' && mayWithdraw(event.by, context.request.requestedBy).allowed,
    isFinanceClerk: ({ context, event }) =>
      event.type === 'REFUND_SETTLED' &&
      maySettle(event.by, context.settlement?.eligibleClerks ?? []).allowed,
    resumesTo: ({ context, event }, params: { state: AttentionState }) =>
      event.type === 'RESUME' &&
      mayResume(event.by, context.attention?.eligibleOps ?? []).allowed &&
      context.attention?.from === params.state,
  },
}).createMachine({
  id: 'cancellation',
  context: ({ input: { recheckAfterApproval, ...request } }) => ({
    request,
    recheckAfterApproval,
    refundedMinor: 0,
    notifications: [],
    attentions: 0,
  }),
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
        ...withdrawable,
      },
    },
    // Until stock or money moves, the requester may withdraw (the point of no return is releasingStock).
    reviewing: {
      entry: {
        type: 'reviewOrder',
        params: ({ context }) => reviewRequest(context),
      },
      on: {
        EFFECT_FAILED: attentionFrom('reviewing'),
        ORDER_REVIEWED: {
          target: 'assessingRisk',
          actions: [
            assign({ review: ({ event }) => event.review }),
            { type: 'notify', params: ({ context }) => notice(context, 'received') },
          ],
        },
        ORDER_REFUSED: {
          target: 'refused',
          actions: assign({ outcome: 'refused' as const, refusal: ({ event }) => event.reason }),
        },
        ...withdrawable,
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
          { target: 'proceeding', actions: assign({ risk: ({ event }) => event.risk }) },
        ],
        ...withdrawable,
      },
    },
    // R3, R15: each step of the plan is decided by an approver of its level; deadlines remind and escalate.
    awaitingApproval: {
      initial: 'findingApprovers',
      on: {
        ...withdrawable,
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
                target: '#cancellation.approved',
                actions: [
                  'recordDecision',
                  { type: 'notify', params: ({ context }) => notice(context, 'approved') },
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
              {
                guard: and(['isCurrentClock', 'timeoutApproves']),
                target: '#cancellation.approved',
                actions: [
                  'recordTimeoutApproval',
                  { type: 'notify', params: ({ context }) => notice(context, 'approved') },
                ],
              },
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
    // Approved, perhaps days after the review: the order is read again, since it may have shipped meanwhile.
    approved: {
      always: [{ guard: 'rechecksAfterApproval', target: 'recheckingOrder' }, { target: 'proceeding' }],
    },
    recheckingOrder: {
      entry: {
        type: 'reviewOrder',
        params: ({ context }) => reviewRequest(context),
      },
      on: {
        EFFECT_FAILED: attentionFrom('recheckingOrder'),
        ORDER_REVIEWED: { target: 'proceeding', actions: assign({ review: ({ event }) => event.review }) },
        // Shipped without the requester's confirmation of that, cancelled or completed meanwhile: the
        // customer and the departments hear it did not go ahead, and why.
        ORDER_REFUSED: {
          target: 'refused',
          actions: [
            assign({
              outcome: 'refused' as const,
              refusal: ({ event }) => `after the approval, the order changed: ${event.reason}`,
            }),
            { type: 'notify', params: ({ context }) => notice(context, 'rejected') },
          ],
        },
      },
    },
    // Decided: goods still in the warehouse are released; goods that left are stopped or agreed on first.
    proceeding: {
      always: [
        { guard: 'recallsGoods', target: 'recallingShipment' },
        { guard: 'goodsAreOutside', target: 'agreeingWithCustomer' },
        { target: 'releasingStock' },
      ],
    },
    // R9: the carrier is asked to stop every parcel; it answers at once or later, through its webhook.
    recallingShipment: {
      entry: [
        {
          type: 'requestRecall',
          params: ({ context }) => ({
            cancellationId: context.request.cancellationId,
            orderNumber: context.request.orderNumber,
            parcels: goodsOutside(context)?.parcels ?? [],
            reasonCode: context.request.reasonCode,
          }),
        },
        { type: 'notify', params: ({ context }) => notice(context, 'recall_requested') },
      ],
      on: {
        EFFECT_FAILED: attentionFrom('recallingShipment'),
        RECALL_ANSWERED: recallRouting(false),
      },
    },
    awaitingCarrier: {
      entry: [
        'countDeadline',
        {
          type: 'startDeadline',
          params: ({ context }) =>
            nextDeadline(context, 'carrierAnswer', policy(context).afterShipment.carrierAnswerDeadlineMs),
        },
      ],
      exit: { type: 'stopDeadline', params: {} },
      on: {
        CARRIER_ANSWERED: recallRouting(true),
        DEADLINE_PASSED: [
          {
            guard: and([
              { type: 'isCurrentDeadline', params: { deadline: 'carrierAnswer' as const } },
              'silenceAsksCustomer',
            ]),
            target: 'agreeingWithCustomer',
          },
          {
            guard: { type: 'isCurrentDeadline', params: { deadline: 'carrierAnswer' as const } },
            target: 'needsAttention',
            actions: {
              type: 'noteAttentionFor',
              params: {
                from: 'recallingShipment' as const,
                reason:
                  'the carrier has not answered the recall in time: find out from the carrier, then resume to ask again',
              },
            },
          },
        ],
      },
    },
    // R12: the goods cannot be stopped: the customer chooses what the policy offers, or its default applies.
    agreeingWithCustomer: {
      entry: [
        'offerOptions',
        'countDeadline',
        {
          type: 'startDeadline',
          params: ({ context }) =>
            nextDeadline(context, 'customerChoice', policy(context).afterShipment.customerChoiceDeadlineMs),
        },
        {
          type: 'notify',
          params: ({ context }) => ({
            ...notice(context, 'options_offered'),
            offer: goodsProgress(context).offer,
          }),
        },
      ],
      exit: { type: 'stopDeadline', params: {} },
      on: {
        RESOLUTION_CHOSEN: { guard: 'isOfferedOption', target: 'followingChoice', actions: 'recordChoice' },
        DEADLINE_PASSED: {
          guard: { type: 'isCurrentDeadline', params: { deadline: 'customerChoice' as const } },
          target: 'followingChoice',
          actions: 'applyDefaultChoice',
        },
      },
    },
    followingChoice: {
      always: [
        { guard: { type: 'chose', params: { option: 'return' } }, target: 'awaitingReturn' },
        { guard: { type: 'chose', params: { option: 'redelivery' } }, target: 'arrangingRedelivery' },
        // Refund without return: the customer keeps the goods; stock is not taken back.
        { target: 'releasingStock' },
      ],
    },
    // The goods come back (recalled, or sent back by the customer); a warehouse clerk confirms each parcel.
    awaitingReturn: {
      initial: 'findingWarehouseClerks',
      states: {
        findingWarehouseClerks: findingStaff('warehouse_clerk', 'waitingForGoods'),
        waitingForGoods: {
          entry: [
            'countDeadline',
            {
              type: 'startDeadline',
              params: ({ context }) =>
                nextDeadline(context, 'goodsReturn', policy(context).afterShipment.returnDeadlineMs),
            },
          ],
          exit: { type: 'stopDeadline', params: {} },
          on: {
            RETURN_CONFIRMED: [
              {
                guard: and(['isExpectedReturn', 'isLastParcel']),
                target: '#cancellation.returningStock',
                actions: 'recordReturn',
              },
              { guard: 'isExpectedReturn', actions: 'recordReturn' },
            ],
            // Late goods are still taken back: logistics is reminded once, and the wait goes on.
            DEADLINE_PASSED: {
              guard: { type: 'isCurrentDeadline', params: { deadline: 'goodsReturn' as const } },
              actions: [
                'markReturnOverdue',
                { type: 'notify', params: ({ context }) => notice(context, 'return_overdue') },
              ],
            },
          },
        },
      },
    },
    // R9, R10: returned units go back on hand through the ledger, noted on their shipments.
    returningStock: {
      entry: {
        type: 'returnStock',
        params: ({ context }) => ({
          cancellationId: context.request.cancellationId,
          orderNumber: context.request.orderNumber,
          parcels: parcelsReturned(context),
        }),
      },
      on: {
        EFFECT_FAILED: attentionFrom('returningStock'),
        STOCK_RETURNED: 'releasingStock',
      },
    },
    // The customer keeps the order: logistics delivers the parcels again; nothing is released or refunded.
    arrangingRedelivery: {
      entry: {
        type: 'arrangeRedelivery',
        params: ({ context }) => ({
          cancellationId: context.request.cancellationId,
          orderNumber: context.request.orderNumber,
          parcels: goodsOutside(context)?.parcels ?? [],
        }),
      },
      on: {
        EFFECT_FAILED: attentionFrom('arrangingRedelivery'),
        REDELIVERY_ARRANGED: { target: 'redelivered', actions: 'recordRedelivery' },
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
          amountMinor: refundDue(context),
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
              outstandingMinor: refundDue(context) - event.refundedMinor,
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
        findingClerks: findingStaff('finance_clerk', 'waitingForFinance'),
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
        findingOps: findingStaff('ops', 'waitingForOps'),
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
          goods: goodsFate(context),
          deductionMinor: deduction(context),
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
      entry: { type: 'notify', params: ({ context }) => notice(context, 'completed') },
    },
    refused: { type: 'final' },
    // The customer keeps the order; the departments and the customer hear that it goes ahead.
    redelivered: {
      type: 'final',
      entry: { type: 'notify', params: ({ context }) => notice(context, 'redelivery') },
    },
    rejected: {
      type: 'final',
      entry: { type: 'notify', params: ({ context }) => notice(context, 'rejected') },
    },
    withdrawn: {
      type: 'final',
      entry: { type: 'notify', params: ({ context }) => notice(context, 'withdrawn') },
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
