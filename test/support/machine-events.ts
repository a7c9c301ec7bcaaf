// Sample inputs for exploring the cancellation statechart as a graph (test/cancellation.graph.test.ts): a
// request, two small policies, four kinds of order review, and, for any snapshot, a fixed finite set of events
// to try there. Effect results carry fixed payloads; every person's event comes once from someone eligible and
// once from someone who is not. Clocks and deadline numbers are read from the snapshot (the current one and a
// stale one), so the events a state is offered do not depend on how many clocks ran before it.
import type { SnapshotFrom } from 'xstate';
import type { CancellationInput, OrderReview, ShippedParcel } from '../../contracts/cancellation.contract';
import type { CancellationEvent, DeadlineName, EffectType } from '../../contracts/effects.contract';
import type { CancellationPolicy } from '../../contracts/policy.contract';
import { stateName, type cancellationMachine, type MachineInput } from '../../workflows/cancellation.machine';

export type MachineSnapshot = SnapshotFrom<typeof cancellationMachine>;

/** Who is who: the requester, the approvers of each level, and one holder of each staff role. */
export const PEOPLE = {
  requester: 'clerk-1',
  approvers: ['manager-1', 'director-1'],
  ops: 'ops-1',
  finance: 'fin-1',
  warehouse: 'wh-1',
  customer: 'C-1',
  /** Holds no role at all. */
  stranger: 'intern-1',
} as const;

export const request: CancellationInput = {
  cancellationId: 'c-graph',
  orderNumber: 'SO-G',
  reasonCode: 'customer_changed_mind',
  requestedBy: PEOPLE.requester,
  confirmed: ['awaiting_shipment', 'shipped'],
  requestedAt: '2026-11-28T00:00:00.000Z',
};

/** Both ways a workflow may start the machine: with the review after approval, and without (older runs). */
export const INPUTS: { name: string; input: MachineInput }[] = [
  { name: 'rechecking after approval', input: { ...request, recheckAfterApproval: true } },
  { name: 'not rechecking (older runs)', input: request },
];

const DAY = 86_400_000;
const basePolicy: CancellationPolicy = {
  version: 'strict',
  cancellableStatuses: ['confirmed', 'allocated', 'shipped', 'delivered'],
  risk: {
    mediumRefundMinor: 200_000,
    highRefundMinor: 1_000_000,
    frequentCancellerCount: 3,
    paymentFeePercent: 0.6,
    relationshipTiers: ['vip'],
    highRiskReasons: ['suspected_fraud'],
  },
  // Low risk proceeds, medium needs one step, high two; a silent step escalates once.
  approval: {
    low: [],
    medium: [{ level: 1, deadlineMs: DAY, reminderEveryMs: DAY / 3 }],
    high: [
      { level: 1, deadlineMs: DAY, reminderEveryMs: DAY / 3 },
      { level: 2, deadlineMs: 2 * DAY, reminderEveryMs: DAY / 2 },
    ],
    escalation: { maxEscalations: 1, deadlineMs: DAY },
    onFinalTimeout: 'reject',
  },
  refund: { partialCancellation: 'lines_amount', wholeCancellation: 'all_captured' },
  afterShipment: {
    carrierAnswerDeadlineMs: 2 * DAY,
    onCarrierSilence: 'needs_attention',
    customerOptions: ['return', 'redelivery', 'refund_without_return'],
    customerChoiceDeadlineMs: 7 * DAY,
    defaultOption: 'return',
    deductionPercent: 30,
    returnDeadlineMs: 14 * DAY,
  },
};

/**
 * Two policies between them take every branch that depends on the policy: rejecting or approving on the final
 * approval timeout, stopping for a person or asking the customer when the carrier is silent, and a default
 * option that keeps the goods (with an option the customer is then not offered).
 */
export const POLICIES: CancellationPolicy[] = [
  basePolicy,
  {
    ...basePolicy,
    version: 'lenient',
    approval: { ...basePolicy.approval, onFinalTimeout: 'approve' },
    afterShipment: {
      ...basePolicy.afterShipment,
      onCarrierSilence: 'ask_customer',
      customerOptions: ['return', 'refund_without_return'],
      defaultOption: 'refund_without_return',
    },
  },
];

const parcel = (shipmentId: string): ShippedParcel => ({
  shipmentId,
  carrier: 'SF Express',
  trackingNumber: `T-${shipmentId}`,
  warehouse: 'W',
  lines: [{ lineId: 'L1', sku: 'S', quantity: 1 }],
});
const review = (refundableMinor: number, goods?: OrderReview['goods']): OrderReview => ({
  orderNumber: request.orderNumber,
  customerId: PEOPLE.customer,
  currency: 'CNY',
  lines: [
    {
      lineId: 'L1',
      sku: 'S',
      warehouse: 'W',
      quantity: 2,
      reservedQuantity: goods ? 0 : 2,
      amountMinor: 1000,
    },
  ],
  cancelsWholeOrder: true,
  refundableMinor,
  goods,
});

/**
 * What the review (or the review again after an approval) may find: goods in the warehouse, with money to
 * give back or none; two parcels in transit that the carrier is asked to stop (two, so that it can stop one
 * and not the other); a parcel the customer already has.
 */
export const REVIEWS: Record<'inWarehouse' | 'nothingToRefund' | 'inTransit' | 'delivered', OrderReview> = {
  inWarehouse: review(1000),
  nothingToRefund: review(0),
  inTransit: review(1000, { stage: 'in_transit', recall: true, parcels: [parcel('SH-1'), parcel('SH-2')] }),
  delivered: review(1000, { stage: 'delivered', recall: false, parcels: [parcel('SH-1')] }),
};

/**
 * The effect whose result each state waits for (by `stateName`), so a sample failure names what really failed
 * there. Waits for people or time, and states whose effects never report back (notices, clocks), have none.
 */
export const EFFECT_AWAITED: Partial<Record<string, EffectType>> = {
  loadingPolicy: 'loadPolicy',
  reviewing: 'reviewOrder',
  recheckingOrder: 'reviewOrder',
  assessingRisk: 'assessRisk',
  'awaitingApproval.findingApprovers': 'findApprovers',
  recallingShipment: 'requestRecall',
  'awaitingReturn.findingWarehouseClerks': 'findStaff',
  returningStock: 'returnStock',
  arrangingRedelivery: 'arrangeRedelivery',
  releasingStock: 'releaseStock',
  adjustingPurchasing: 'reducePurchaseOrders',
  refunding: 'refundPayment',
  'awaitingSettlement.findingClerks': 'findStaff',
  recordingSettlement: 'recordManualSettlement',
  'needsAttention.findingOps': 'findStaff',
  closingOrder: 'closeOrder',
  notifyingCustomer: 'notifyCustomer',
};

/** Who `findStaff` looks for in each state that asks for staff. */
const STAFF_SOUGHT = {
  'needsAttention.findingOps': { role: 'ops', people: [PEOPLE.ops] },
  'awaitingSettlement.findingClerks': { role: 'finance_clerk', people: [PEOPLE.finance] },
  'awaitingReturn.findingWarehouseClerks': { role: 'warehouse_clerk', people: [PEOPLE.warehouse] },
} as const;

/** The events only people send (approvers, the requester, finance, ops, the customer, the warehouse, the carrier). */
export const PERSON_EVENT_TYPES = [
  'APPROVAL_GRANTED',
  'APPROVAL_REJECTED',
  'WITHDRAW',
  'REFUND_SETTLED',
  'RESUME',
  'RESOLUTION_CHOSEN',
  'RETURN_CONFIRMED',
  'CARRIER_ANSWERED',
] as const satisfies readonly CancellationEvent['type'][];

export interface SampleOptions {
  /** `findStaff` finds nobody holding the role (no active person has it in the books). */
  nobodyOnStaff?: boolean;
}

/** The events tried in `snapshot`: effect results, the clock, and each person's event, eligible or not. */
export function sampleEvents(snapshot: MachineSnapshot, options: SampleOptions = {}): CancellationEvent[] {
  const { context } = snapshot;
  const state = stateName(snapshot.value);
  const clock = context.approval?.clock ?? 0;
  const deadlines = context.deadlines ?? 0;
  const parcels = context.review?.goods?.parcels ?? [];
  const awaited = EFFECT_AWAITED[state];
  const staff = STAFF_SOUGHT[state as keyof typeof STAFF_SOUGHT] as
    (typeof STAFF_SOUGHT)[keyof typeof STAFF_SOUGHT] | undefined;
  const recalls = (status: 'accepted' | 'pending' | 'too_late' | 'failed', first = status) =>
    parcels.map((each, index) => ({
      shipmentId: each.shipmentId,
      recallId: (index === 0 ? first : status) === 'failed' ? undefined : `R-${each.shipmentId}`,
      status: index === 0 ? first : status,
    }));
  const deadlineNames: DeadlineName[] = ['carrierAnswer', 'customerChoice', 'goodsReturn'];

  return [
    // Effect results, with fixed payloads.
    ...POLICIES.map((policy): CancellationEvent => ({ type: 'POLICY_LOADED', policy })),
    ...Object.values(REVIEWS).map((each): CancellationEvent => ({ type: 'ORDER_REVIEWED', review: each })),
    { type: 'ORDER_REFUSED', reason: 'the order is completed' },
    ...(['low', 'medium', 'high'] as const).map((level): CancellationEvent => ({
      type: 'RISK_ASSESSED',
      risk: { level, reasons: [] },
    })),
    { type: 'APPROVERS_FOUND', approvers: [PEOPLE.requester, ...PEOPLE.approvers] },
    { type: 'APPROVERS_FOUND', approvers: [PEOPLE.requester] },
    { type: 'STOCK_RELEASED' },
    { type: 'PURCHASE_ORDERS_ADJUSTED', purchasing: { reduced: [], notReduced: [] } },
    { type: 'PAYMENT_REFUNDED', refundId: 'RF-1', refundedMinor: 1000 },
    { type: 'REFUND_FAILED', reason: 'card closed', refundedMinor: 0 },
    { type: 'SETTLEMENT_RECORDED', refundedMinor: context.settlement?.outstandingMinor ?? 0 },
    { type: 'ORDER_CLOSED' },
    { type: 'CUSTOMER_NOTIFIED', results: [] },
    { type: 'STOCK_RETURNED' },
    { type: 'REDELIVERY_ARRANGED' },
    ...(staff
      ? [
          {
            type: 'STAFF_FOUND' as const,
            role: staff.role,
            people: options.nobodyOnStaff ? [] : [...staff.people],
          },
        ]
      : []),
    ...(awaited ? [{ type: 'EFFECT_FAILED' as const, effect: awaited, reason: 'broken for good' }] : []),
    // The carrier's first answer: every parcel stopped, none yet, none, the request refused, one of two.
    ...(parcels.length > 0
      ? [
          ...(['accepted', 'pending', 'too_late', 'failed'] as const).map((status): CancellationEvent => ({
            type: 'RECALL_ANSWERED',
            recalls: recalls(status),
          })),
          ...(parcels.length > 1
            ? [{ type: 'RECALL_ANSWERED' as const, recalls: recalls('too_late', 'accepted') }]
            : []),
        ]
      : []),
    // Time: the running clock and deadline, and ones a decision or an exit already stopped.
    { type: 'APPROVAL_REMINDER_DUE', clock },
    { type: 'APPROVAL_REMINDER_DUE', clock: clock - 1 },
    { type: 'APPROVAL_DEADLINE_PASSED', clock },
    { type: 'APPROVAL_DEADLINE_PASSED', clock: clock - 1 },
    ...deadlineNames.map((deadline): CancellationEvent => ({
      type: 'DEADLINE_PASSED',
      deadline,
      clock: deadlines,
    })),
    { type: 'DEADLINE_PASSED', deadline: 'goodsReturn', clock: deadlines - 1 },
    // People.
    ...personEvents(snapshot),
  ];
}

/** Each person's event, from whoever may send it now and from someone who may not. */
export function personEvents(snapshot: MachineSnapshot): CancellationEvent[] {
  const { context } = snapshot;
  const parcels = context.review?.goods?.parcels ?? [];
  const pending = (context.goods?.recalls ?? []).filter((recall) => recall.status === 'pending');
  const someone = PEOPLE.stranger;
  return [
    ...[...PEOPLE.approvers, PEOPLE.requester, someone].flatMap((approver): CancellationEvent[] => [
      { type: 'APPROVAL_GRANTED', approver },
      { type: 'APPROVAL_REJECTED', approver, reason: 'keep the order' },
    ]),
    { type: 'WITHDRAW', by: PEOPLE.requester },
    { type: 'WITHDRAW', by: someone },
    { type: 'REFUND_SETTLED', by: PEOPLE.finance, reference: 'BANK-1' },
    { type: 'REFUND_SETTLED', by: someone, reference: 'BANK-1' },
    { type: 'RESUME', by: PEOPLE.ops },
    { type: 'RESUME', by: someone },
    ...(['return', 'redelivery', 'refund_without_return'] as const).map((option): CancellationEvent => ({
      type: 'RESOLUTION_CHOSEN',
      option,
      by: PEOPLE.customer,
    })),
    { type: 'RESOLUTION_CHOSEN', option: 'return', by: ' ' },
    ...parcels.map((each): CancellationEvent => ({
      type: 'RETURN_CONFIRMED',
      shipmentId: each.shipmentId,
      by: PEOPLE.warehouse,
    })),
    { type: 'RETURN_CONFIRMED', shipmentId: parcels[0]?.shipmentId ?? 'SH-1', by: someone },
    { type: 'RETURN_CONFIRMED', shipmentId: 'SH-9', by: PEOPLE.warehouse },
    ...pending.flatMap((recall): CancellationEvent[] =>
      (['accepted', 'too_late'] as const).map((outcome) => ({
        type: 'CARRIER_ANSWERED',
        shipmentId: recall.shipmentId,
        recallId: recall.recallId ?? '',
        outcome,
      })),
    ),
    { type: 'CARRIER_ANSWERED', shipmentId: 'SH-1', recallId: 'R-unknown', outcome: 'accepted' },
  ];
}
