// The statechart on its own: pure transitions, table-driven, no servers.
import { readFileSync } from 'node:fs';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import { parsePolicy } from '../lib/policy';
import type { CancellationInput, OrderReview } from '../contracts/cancellation.contract';
import { cancellationMachine, stateName } from '../workflows/cancellation.machine';
import { type CancellationEvent } from '../contracts/effects.contract';

type Snapshot = SnapshotFrom<typeof cancellationMachine>;

const policy = parsePolicy(JSON.parse(readFileSync('policies/cancellation-policy.json', 'utf8')));
const approveOnTimeout = { ...policy, approval: { ...policy.approval, onFinalTimeout: 'approve' as const } };

const request: CancellationInput = {
  cancellationId: 'c-1',
  orderNumber: 'SO-1',
  reasonCode: 'customer_changed_mind',
  requestedBy: 'clerk-1',
  confirmed: ['awaiting_shipment'],
  requestedAt: '2026-11-28T00:00:00.000Z',
};
const review = (refundableMinor: number): OrderReview => ({
  orderNumber: 'SO-1',
  customerId: 'C-1',
  currency: 'CNY',
  lines: [{ lineId: 'L1', sku: 'S', warehouse: 'W', quantity: 2, reservedQuantity: 2, amountMinor: 200 }],
  cancelsWholeOrder: true,
  refundableMinor,
});

/**
 * Runs events from the start; returns the snapshot, the effects named along the way (notices apart: they
 * never change the path), and the moments noticed.
 */
function run(events: CancellationEvent[]): { snapshot: Snapshot; effects: string[]; notices: string[] } {
  let [snapshot, actions] = initialTransition(cancellationMachine, request);
  const effects = actions.map((action) => action.type);
  const notices: string[] = [];
  for (const event of events) {
    [snapshot, actions] = transition(cancellationMachine, snapshot, event);
    for (const action of actions) {
      if (action.type === 'notify') notices.push((action.params as { moment: string }).moment);
      else if (!action.type.startsWith('xstate.')) effects.push(action.type);
    }
  }
  return { snapshot, effects, notices };
}

const loaded: CancellationEvent = { type: 'POLICY_LOADED', policy };
const reviewed: CancellationEvent = { type: 'ORDER_REVIEWED', review: review(200) };
const lowRisk: CancellationEvent = { type: 'RISK_ASSESSED', risk: { level: 'low', reasons: [] } };
const mediumRisk: CancellationEvent = {
  type: 'RISK_ASSESSED',
  risk: { level: 'medium', reasons: ['vip customer'] },
};
const highRisk: CancellationEvent = {
  type: 'RISK_ASSESSED',
  risk: { level: 'high', reasons: ['suspected fraud'] },
};
const purchasingAdjusted: CancellationEvent = {
  type: 'PURCHASE_ORDERS_ADJUSTED',
  purchasing: { reduced: [], notReduced: [] },
};
const toRefund: CancellationEvent[] = [
  loaded,
  reviewed,
  lowRisk,
  { type: 'STOCK_RELEASED' },
  purchasingAdjusted,
];
const refundFailed: CancellationEvent = { type: 'REFUND_FAILED', reason: 'card closed', refundedMinor: 0 };
const stockRefused: CancellationEvent = {
  type: 'EFFECT_FAILED',
  effect: 'releaseStock',
  reason: 'reserved 0',
};
const found = (...approvers: string[]): CancellationEvent => ({ type: 'APPROVERS_FOUND', approvers });
const grant = (approver: string): CancellationEvent => ({ type: 'APPROVAL_GRANTED', approver });
const toApproval = [loaded, reviewed, mediumRisk, found('manager-1')];
const waiting = 'awaitingApproval.waitingForDecision';
const finding = 'awaitingApproval.findingApprovers';
const lowPath = ['loadPolicy', 'reviewOrder', 'assessRisk'];

test.each<[string, CancellationEvent[], string, string[]]>([
  ['starts by loading the policy', [], 'loadingPolicy', ['loadPolicy']],
  ['then reviews the order', [loaded], 'reviewing', ['loadPolicy', 'reviewOrder']],
  [
    'a refused review ends it',
    [loaded, { type: 'ORDER_REFUSED', reason: 'completed' }],
    'refused',
    ['loadPolicy', 'reviewOrder'],
  ],
  [
    'low risk goes straight to releasing stock',
    [loaded, reviewed, lowRisk],
    'releasingStock',
    [...lowPath, 'releaseStock'],
  ],
  ['medium risk looks for approvers', [loaded, reviewed, mediumRisk], finding, [...lowPath, 'findApprovers']],
  [
    'approvers found: the clock starts and they are asked',
    toApproval,
    waiting,
    [...lowPath, 'findApprovers', 'startApprovalClock', 'requestApproval'],
  ],
  [
    'the tracer path: review, risk, stock, refund, close, notify',
    [
      loaded,
      reviewed,
      lowRisk,
      { type: 'STOCK_RELEASED' },
      purchasingAdjusted,
      { type: 'PAYMENT_REFUNDED', refundId: 'r', refundedMinor: 200 },
      { type: 'ORDER_CLOSED' },
      { type: 'CUSTOMER_NOTIFIED', results: [] },
    ],
    'completed',
    [...lowPath, 'releaseStock', 'reducePurchaseOrders', 'refundPayment', 'closeOrder', 'notifyCustomer'],
  ],
  [
    'nothing to refund skips the refund',
    [
      loaded,
      { type: 'ORDER_REVIEWED', review: review(0) },
      lowRisk,
      { type: 'STOCK_RELEASED' },
      purchasingAdjusted,
    ],
    'closingOrder',
    [...lowPath, 'releaseStock', 'reducePurchaseOrders', 'closeOrder'],
  ],
  [
    'an eligible approver approves: the clock stops, stock moves',
    [...toApproval, grant('manager-1')],
    'releasingStock',
    [
      ...lowPath,
      'findApprovers',
      'startApprovalClock',
      'requestApproval',
      'stopApprovalClock',
      'releaseStock',
    ],
  ],
  [
    'a rejection ends it',
    [...toApproval, { type: 'APPROVAL_REJECTED', approver: 'manager-1', reason: 'keep it' }],
    'rejected',
    [...lowPath, 'findApprovers', 'startApprovalClock', 'requestApproval', 'stopApprovalClock'],
  ],
  [
    'high risk takes two levels in sequence',
    [loaded, reviewed, highRisk, found('manager-1', 'director-1'), grant('manager-1'), found('director-1')],
    waiting,
    [
      ...lowPath,
      'findApprovers',
      'startApprovalClock',
      'requestApproval',
      'stopApprovalClock',
      'findApprovers',
      'startApprovalClock',
      'requestApproval',
    ],
  ],
  [
    'a reminder asks again without leaving the state',
    [...toApproval, { type: 'APPROVAL_REMINDER_DUE', clock: 1 }],
    waiting,
    [...lowPath, 'findApprovers', 'startApprovalClock', 'requestApproval', 'requestApproval'],
  ],
  [
    'a deadline escalates to the next level first',
    [...toApproval, { type: 'APPROVAL_DEADLINE_PASSED', clock: 1 }],
    finding,
    [
      ...lowPath,
      'findApprovers',
      'startApprovalClock',
      'requestApproval',
      'stopApprovalClock',
      'findApprovers',
    ],
  ],
  [
    'the final deadline rejects under the default policy',
    [
      ...toApproval,
      { type: 'APPROVAL_DEADLINE_PASSED', clock: 1 },
      found('director-1'),
      { type: 'APPROVAL_DEADLINE_PASSED', clock: 2 },
    ],
    'rejected',
    [
      ...lowPath,
      'findApprovers',
      'startApprovalClock',
      'requestApproval',
      'stopApprovalClock',
      'findApprovers',
      'startApprovalClock',
      'requestApproval',
      'stopApprovalClock',
    ],
  ],
  [
    'a deadline from a superseded clock is ignored',
    [...toApproval, { type: 'APPROVAL_DEADLINE_PASSED', clock: 0 }],
    waiting,
    [...lowPath, 'findApprovers', 'startApprovalClock', 'requestApproval'],
  ],
  [
    'the requester may withdraw before stock moves',
    [loaded, reviewed, { type: 'WITHDRAW', by: 'clerk-1' }],
    'withdrawn',
    ['loadPolicy', 'reviewOrder', 'assessRisk'],
  ],
  [
    'withdrawing while approvers decide stops the clock',
    [...toApproval, { type: 'WITHDRAW', by: 'clerk-1' }],
    'withdrawn',
    [...lowPath, 'findApprovers', 'startApprovalClock', 'requestApproval', 'stopApprovalClock'],
  ],
  [
    'a refund refused for good waits for finance, who are asked',
    [...toRefund, refundFailed, { type: 'STAFF_FOUND', role: 'finance_clerk', people: ['fin-1'] }],
    'awaitingSettlement.waitingForFinance',
    [...lowPath, 'releaseStock', 'reducePurchaseOrders', 'refundPayment', 'findStaff', 'requestSettlement'],
  ],
  [
    'a finance clerk settles by hand: recorded, then the order closes',
    [
      ...toRefund,
      refundFailed,
      { type: 'STAFF_FOUND', role: 'finance_clerk', people: ['fin-1'] },
      { type: 'REFUND_SETTLED', by: 'fin-1', reference: 'BANK-77' },
      { type: 'SETTLEMENT_RECORDED', refundedMinor: 200 },
    ],
    'closingOrder',
    [
      ...lowPath,
      'releaseStock',
      'reducePurchaseOrders',
      'refundPayment',
      'findStaff',
      'requestSettlement',
      'recordManualSettlement',
      'closeOrder',
    ],
  ],
  [
    'stock that cannot be released needs attention; ops are told',
    [loaded, reviewed, lowRisk, stockRefused, { type: 'STAFF_FOUND', role: 'ops', people: ['ops-1'] }],
    'needsAttention.waitingForOps',
    [...lowPath, 'releaseStock', 'findStaff', 'reportAttention'],
  ],
  [
    'ops resume: the step that stopped runs again',
    [
      loaded,
      reviewed,
      lowRisk,
      stockRefused,
      { type: 'STAFF_FOUND', role: 'ops', people: ['ops-1'] },
      { type: 'RESUME', by: 'ops-1' },
    ],
    'releasingStock',
    [...lowPath, 'releaseStock', 'findStaff', 'reportAttention', 'releaseStock'],
  ],
  [
    'a broken policy needs attention too, and resumes by loading it again',
    [
      { type: 'EFFECT_FAILED', effect: 'loadPolicy', reason: 'bad JSON' },
      { type: 'STAFF_FOUND', role: 'ops', people: ['ops-1'] },
      { type: 'RESUME', by: 'ops-1' },
    ],
    'loadingPolicy',
    ['loadPolicy', 'findStaff', 'reportAttention', 'loadPolicy'],
  ],
])('%s', (_name, events, state, effects) => {
  const result = run(events);
  expect(stateName(result.snapshot.value)).toBe(state);
  expect(result.effects).toEqual(effects);
});

test.each<[string, CancellationEvent[], CancellationEvent]>([
  ['the requester cannot approve their own cancellation', toApproval, grant('clerk-1')],
  ['someone not among the eligible approvers cannot approve', toApproval, grant('intern-1')],
  ['nobody approves what does not await approval', [loaded, reviewed], grant('manager-1')],
  ['someone else cannot withdraw the request', [loaded], { type: 'WITHDRAW', by: 'manager-1' }],
  [
    'nobody withdraws past the point of no return',
    [loaded, reviewed, lowRisk],
    { type: 'WITHDRAW', by: 'clerk-1' },
  ],
  [
    'only a finance clerk settles a refund by hand',
    [...toRefund, refundFailed, { type: 'STAFF_FOUND', role: 'finance_clerk', people: ['fin-1'] }],
    { type: 'REFUND_SETTLED', by: 'clerk-1', reference: 'X' },
  ],
  [
    'only ops resume what needs attention',
    [loaded, reviewed, lowRisk, stockRefused, { type: 'STAFF_FOUND', role: 'ops', people: ['ops-1'] }],
    { type: 'RESUME', by: 'clerk-1' },
  ],
])('%s', (_name, events, refused) => {
  expect(run(events).snapshot.can(refused)).toBe(false);
});

test('whoever decided one step cannot decide the next', () => {
  const { snapshot } = run([
    loaded,
    reviewed,
    highRisk,
    found('manager-1', 'director-1'),
    grant('director-1'),
    found('director-1', 'vp-1'),
  ]);
  expect(snapshot.context.approval?.eligibleApprovers).toEqual(['vp-1']);
  expect(snapshot.can(grant('director-1'))).toBe(false);
});

test('with an approve-on-timeout policy, the final deadline approves', () => {
  const events: CancellationEvent[] = [
    { type: 'POLICY_LOADED', policy: approveOnTimeout },
    reviewed,
    mediumRisk,
    found('manager-1'),
    { type: 'APPROVAL_DEADLINE_PASSED', clock: 1 },
    found('director-1'),
    { type: 'APPROVAL_DEADLINE_PASSED', clock: 2 },
  ];
  const { snapshot, notices } = run(events);
  expect(stateName(snapshot.value)).toBe('releasingStock');
  // Recorded as the policy's decision, and told to the departments like a person's approval.
  expect(snapshot.context.approval?.decisions).toEqual([
    expect.objectContaining({ approver: 'policy', approved: true, level: 2 }),
  ]);
  expect(notices).toEqual(['received', 'approved']);
});

describe('after an approval the order is read again (it may have shipped meanwhile)', () => {
  function runRechecking(events: CancellationEvent[]) {
    let [snapshot, actions] = initialTransition(cancellationMachine, {
      ...request,
      recheckAfterApproval: true,
    });
    const effects = actions.map((action) => action.type);
    for (const event of events) {
      [snapshot, actions] = transition(cancellationMachine, snapshot, event);
      effects.push(...actions.map((action) => action.type).filter((type) => !type.startsWith('xstate.')));
    }
    return { snapshot, effects, actions };
  }

  test('approved: the order is reviewed again before anything moves, and the fresh review is used', () => {
    const { snapshot, actions } = runRechecking([...toApproval, grant('manager-1')]);
    expect(stateName(snapshot.value)).toBe('recheckingOrder');
    expect(actions.map((action) => action.type)).toContain('reviewOrder');
    const fresh: CancellationEvent = { type: 'ORDER_REVIEWED', review: review(150) };
    const [next, nextActions] = transition(cancellationMachine, snapshot, fresh);
    expect(stateName(next.value)).toBe('releasingStock');
    expect(next.context.review?.refundableMinor).toBe(150);
    expect(nextActions.map((action) => action.type)).toContain('releaseStock');
  });

  test('shipped meanwhile without that confirmation: refused, and the customer and departments hear why', () => {
    const { snapshot } = runRechecking([
      ...toApproval,
      grant('manager-1'),
      { type: 'ORDER_REFUSED', reason: 'SO-1 is shipped (status shipped): confirm "shipped" to cancel it' },
    ]);
    expect(snapshot.status).toBe('done');
    expect(snapshot.output).toEqual({ outcome: 'refused' });
    expect(snapshot.context.refusal).toContain('after the approval, the order changed');
  });

  test('without the flag (cancellations started before it), nothing is read again', () => {
    expect(stateName(run([...toApproval, grant('manager-1')]).snapshot.value)).toBe('releasingStock');
  });

  test('low risk needs no approval, and no second review', () => {
    const { snapshot } = runRechecking([loaded, reviewed, lowRisk]);
    expect(stateName(snapshot.value)).toBe('releasingStock');
  });
});

test('decisions and escalations are recorded in context', () => {
  const { snapshot } = run([
    ...toApproval,
    { type: 'APPROVAL_DEADLINE_PASSED', clock: 1 },
    found('director-1'),
    grant('director-1'),
  ]);
  expect(snapshot.context.approval).toMatchObject({
    escalations: 1,
    requiredLevel: 2,
    decisions: [{ approver: 'director-1', approved: true, level: 2 }],
  });
  expect(snapshot.context.outcome).toBeUndefined();
});

test('effects carry what the workflow needs, computed from context', () => {
  const [, actions] = transition(cancellationMachine, run([loaded, reviewed]).snapshot, lowRisk);
  expect(actions[0]).toMatchObject({
    type: 'releaseStock',
    params: { cancellationId: 'c-1', orderNumber: 'SO-1' },
  });
  const reminder = run([...toApproval, { type: 'APPROVAL_REMINDER_DUE', clock: 1 }]);
  expect(reminder.snapshot.context.approval?.reminders).toBe(1);
});

test.each<[string, CancellationEvent[], string[]]>([
  [
    'received, then completed',
    [
      loaded,
      reviewed,
      lowRisk,
      { type: 'STOCK_RELEASED' },
      purchasingAdjusted,
      { type: 'PAYMENT_REFUNDED', refundId: 'r', refundedMinor: 200 },
      { type: 'ORDER_CLOSED' },
      { type: 'CUSTOMER_NOTIFIED', results: [] },
    ],
    ['received', 'completed'],
  ],
  ['received, approved', [...toApproval, grant('manager-1')], ['received', 'approved']],
  [
    'received, rejected',
    [...toApproval, { type: 'APPROVAL_REJECTED', approver: 'manager-1', reason: 'no' }],
    ['received', 'rejected'],
  ],
  ['received, withdrawn', [...toApproval, { type: 'WITHDRAW', by: 'clerk-1' }], ['received', 'withdrawn']],
  [
    'nothing for a refusal at review (the caller hears it from the API)',
    [loaded, { type: 'ORDER_REFUSED', reason: 'x' }],
    [],
  ],
])('notices at the moments that matter: %s', (_name, events, moments) => {
  expect(run(events).notices).toEqual(moments);
});

test('the customer hears of a withdrawal only once the order is known', () => {
  const [, actions] = transition(cancellationMachine, run([loaded]).snapshot, {
    type: 'WITHDRAW',
    by: 'clerk-1',
  });
  expect(actions.find((action) => action.type === 'notify')?.params).toMatchObject({
    moment: 'withdrawn',
    tellCustomer: false,
  });
});

test('the outcome says how it ended', () => {
  expect(run([loaded, { type: 'ORDER_REFUSED', reason: 'x' }]).snapshot.output).toEqual({
    outcome: 'refused',
  });
  expect(run([...toApproval, { type: 'WITHDRAW', by: 'clerk-1' }]).snapshot.output).toEqual({
    outcome: 'withdrawn',
  });
});

describe('goods that left the warehouse (R5, R9, R12)', () => {
  const parcel = {
    shipmentId: 'SH-1',
    carrier: 'SF Express',
    trackingNumber: 'SF1',
    warehouse: 'W',
    lines: [{ lineId: 'L1', sku: 'S', quantity: 2 }],
  };
  const outside = (stage: 'in_transit' | 'delivered', refundableMinor = 1000): CancellationEvent => ({
    type: 'ORDER_REVIEWED',
    review: {
      ...review(refundableMinor),
      lines: [{ ...review(refundableMinor).lines[0]!, reservedQuantity: 0 }],
      goods: { stage, recall: stage === 'in_transit', parcels: [parcel] },
    },
  });
  const inTransit = [loaded, outside('in_transit'), lowRisk];
  const delivered = [loaded, outside('delivered'), lowRisk];
  const recall = (status: 'accepted' | 'pending' | 'too_late' | 'failed'): CancellationEvent => ({
    type: 'RECALL_ANSWERED',
    recalls: [{ shipmentId: 'SH-1', recallId: status === 'failed' ? undefined : 'R-1', status }],
  });
  const clerks: CancellationEvent = { type: 'STAFF_FOUND', role: 'warehouse_clerk', people: ['wh-1'] };
  const back: CancellationEvent = { type: 'RETURN_CONFIRMED', shipmentId: 'SH-1', by: 'wh-1' };
  const choose = (option: 'return' | 'redelivery' | 'refund_without_return'): CancellationEvent => ({
    type: 'RESOLUTION_CHOSEN',
    option,
    by: 'C-1',
  });
  const deadline = (name: 'carrierAnswer' | 'customerChoice' | 'goodsReturn', clock: number) =>
    ({ type: 'DEADLINE_PASSED', deadline: name, clock }) as const;
  const afterReturn = [{ type: 'STOCK_RELEASED' } as const, purchasingAdjusted];

  test.each<[string, CancellationEvent[], string]>([
    ['in transit, the carrier is asked first', inTransit, 'recallingShipment'],
    ['delivered, the customer is offered the options', delivered, 'agreeingWithCustomer'],
    [
      'recall accepted: the goods come back',
      [...inTransit, recall('accepted')],
      'awaitingReturn.findingWarehouseClerks',
    ],
    ['recall too late: the customer chooses', [...inTransit, recall('too_late')], 'agreeingWithCustomer'],
    [
      'recall refused for good: the customer chooses',
      [...inTransit, recall('failed')],
      'agreeingWithCustomer',
    ],
    ['recall pending: waits for the carrier', [...inTransit, recall('pending')], 'awaitingCarrier'],
    [
      'the carrier accepts later',
      [
        ...inTransit,
        recall('pending'),
        { type: 'CARRIER_ANSWERED', shipmentId: 'SH-1', recallId: 'R-1', outcome: 'accepted' },
      ],
      'awaitingReturn.findingWarehouseClerks',
    ],
    [
      'an answer about another recall is not taken',
      [
        ...inTransit,
        recall('pending'),
        { type: 'CARRIER_ANSWERED', shipmentId: 'SH-1', recallId: 'R-9', outcome: 'accepted' },
      ],
      'awaitingCarrier',
    ],
    [
      'carrier silent past its deadline: the policy asks the customer',
      [...inTransit, recall('pending'), deadline('carrierAnswer', 1)],
      'agreeingWithCustomer',
    ],
    [
      'a stale deadline is ignored',
      [...inTransit, recall('pending'), deadline('carrierAnswer', 0)],
      'awaitingCarrier',
    ],
    [
      'the customer chooses a return',
      [...delivered, choose('return')],
      'awaitingReturn.findingWarehouseClerks',
    ],
    ['the customer chooses re-delivery', [...delivered, choose('redelivery')], 'arrangingRedelivery'],
    [
      'the customer keeps the goods for a smaller refund',
      [...delivered, choose('refund_without_return')],
      'releasingStock',
    ],
    [
      'no answer: the policy default (return)',
      [...delivered, deadline('customerChoice', 1)],
      'awaitingReturn.findingWarehouseClerks',
    ],
    [
      'goods confirmed back by a warehouse clerk',
      [...delivered, choose('return'), clerks, back],
      'returningStock',
    ],
    [
      'someone not of the warehouse cannot confirm',
      [...delivered, choose('return'), clerks, { ...back, by: 'clerk-1' }],
      'awaitingReturn.waitingForGoods',
    ],
    [
      'goods late: logistics is reminded and the wait goes on',
      [...delivered, choose('return'), clerks, deadline('goodsReturn', 2)],
      'awaitingReturn.waitingForGoods',
    ],
    [
      'goods back late are still taken back',
      [...delivered, choose('return'), clerks, deadline('goodsReturn', 2), back, { type: 'STOCK_RETURNED' }],
      'releasingStock',
    ],
    [
      'after the return, refund',
      [...delivered, choose('return'), clerks, back, { type: 'STOCK_RETURNED' }, ...afterReturn],
      'refunding',
    ],
    [
      're-delivery ends the cancellation with the order going ahead',
      [...delivered, choose('redelivery'), { type: 'REDELIVERY_ARRANGED' }],
      'redelivered',
    ],
  ])('%s', (_name, events, state) => {
    expect(stateName(run(events).snapshot.value)).toBe(state);
  });

  test('a refund without return keeps back the policy deduction, and the customer hears they keep the goods', () => {
    const path = [...delivered, choose('refund_without_return'), ...afterReturn];
    const [, actions] = transition(cancellationMachine, run(path.slice(0, -1)).snapshot, purchasingAdjusted);
    expect(actions.find((action) => action.type === 'refundPayment')?.params).toMatchObject({
      amountMinor: 700,
    });
    const { snapshot } = run([...path, { type: 'PAYMENT_REFUNDED', refundId: 'RF-1', refundedMinor: 700 }]);
    const [, closing] = transition(cancellationMachine, snapshot, { type: 'ORDER_CLOSED' });
    expect(closing.find((action) => action.type === 'notifyCustomer')?.params).toMatchObject({
      goods: 'kept',
      deductionMinor: 300,
      refundedMinor: 700,
    });
  });

  test('the customer is offered what the policy allows, with the deadline, and only an offered option is taken', () => {
    const narrow = {
      ...policy,
      afterShipment: { ...policy.afterShipment, customerOptions: ['return' as const] },
    };
    const { snapshot, notices } = run([
      { type: 'POLICY_LOADED', policy: narrow },
      outside('delivered'),
      lowRisk,
    ]);
    expect(notices).toEqual(['received', 'options_offered']);
    expect(snapshot.context.goods?.offer).toMatchObject({
      options: ['return'],
      defaultOption: 'return',
      decideWithinMs: 7 * 86_400_000,
      refundableMinor: 1000,
      deductionMinor: 300,
    });
    expect(snapshot.can(choose('redelivery'))).toBe(false);
    expect(snapshot.can(choose('return'))).toBe(true);
  });

  test('the carrier stopping some parcels and not others needs a person, who resumes to the customer', () => {
    const two = outside('in_transit');
    if (two.type !== 'ORDER_REVIEWED' || !two.review.goods) throw new Error('fixture');
    two.review.goods.parcels.push({ ...parcel, shipmentId: 'SH-2' });
    const { snapshot } = run([
      loaded,
      two,
      lowRisk,
      {
        type: 'RECALL_ANSWERED',
        recalls: [
          { shipmentId: 'SH-1', recallId: 'R-1', status: 'accepted' },
          { shipmentId: 'SH-2', recallId: 'R-2', status: 'too_late' },
        ],
      },
      { type: 'STAFF_FOUND', role: 'ops', people: ['ops-1'] },
    ]);
    expect(stateName(snapshot.value)).toBe('needsAttention.waitingForOps');
    expect(snapshot.context.attention?.from).toBe('agreeingWithCustomer');
    const [resumed] = transition(cancellationMachine, snapshot, { type: 'RESUME', by: 'ops-1' });
    expect(stateName(resumed.value)).toBe('agreeingWithCustomer');
  });

  test('carrier silence stops for a person when the policy says so, and a resume asks the carrier again', () => {
    const strict = {
      ...policy,
      afterShipment: { ...policy.afterShipment, onCarrierSilence: 'needs_attention' as const },
    };
    const { snapshot } = run([
      { type: 'POLICY_LOADED', policy: strict },
      outside('in_transit'),
      lowRisk,
      recall('pending'),
      deadline('carrierAnswer', 1),
      { type: 'STAFF_FOUND', role: 'ops', people: ['ops-1'] },
    ]);
    expect(stateName(snapshot.value)).toBe('needsAttention.waitingForOps');
    const [resumed, actions] = transition(cancellationMachine, snapshot, { type: 'RESUME', by: 'ops-1' });
    expect(stateName(resumed.value)).toBe('recallingShipment');
    expect(actions.map((action) => action.type)).toContain('requestRecall');
  });

  test('a deadline fires with the number the waiting state expects', () => {
    const [snapshot, actions] = transition(cancellationMachine, run(inTransit).snapshot, recall('pending'));
    const started = actions.find((action) => action.type === 'startDeadline')?.params as { clock: number };
    expect(started).toMatchObject({ deadline: 'carrierAnswer', clock: 1, afterMs: 2 * 86_400_000 });
    const [after] = transition(cancellationMachine, snapshot, deadline('carrierAnswer', started.clock));
    expect(stateName(after.value)).toBe('agreeingWithCustomer');
  });

  test('each wait starts its own deadline and stops it on leaving', () => {
    const { effects } = run([
      ...inTransit,
      recall('pending'),
      deadline('carrierAnswer', 1),
      choose('return'),
    ]);
    expect(effects.filter((type) => type === 'startDeadline' || type === 'stopDeadline')).toEqual([
      'startDeadline',
      'stopDeadline',
      'startDeadline',
      'stopDeadline',
    ]);
  });
});
