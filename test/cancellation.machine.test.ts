// The statechart on its own: pure transitions, table-driven, no servers.
import { readFileSync } from 'node:fs';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import { parsePolicy } from '../lib/policy';
import type { CancellationInput, OrderReview } from '../workflows/cancellation.contract';
import { cancellationMachine, stateName, type CancellationEvent } from '../workflows/cancellation.machine';

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
  expect(stateName(run(events).snapshot.value)).toBe('releasingStock');
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
