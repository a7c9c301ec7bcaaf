// The statechart on its own: pure transitions, no servers.
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import type { CancellationInput, OrderReview } from '../workflows/cancellation.contract';
import { cancellationMachine, type CancellationEvent } from '../workflows/cancellation.machine';

type Snapshot = SnapshotFrom<typeof cancellationMachine>;

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

/** Runs events from the start; returns the snapshot and the effects named along the way. */
function run(events: CancellationEvent[]): { snapshot: Snapshot; effects: string[] } {
  let [snapshot, actions] = initialTransition(cancellationMachine, request);
  const effects = actions.map((action) => action.type);
  for (const event of events) {
    [snapshot, actions] = transition(cancellationMachine, snapshot, event);
    effects.push(...actions.map((action) => action.type));
  }
  return { snapshot, effects };
}

const reviewed: CancellationEvent = { type: 'ORDER_REVIEWED', review: review(200) };
const lowRisk: CancellationEvent = { type: 'RISK_ASSESSED', risk: { level: 'low', reasons: [] } };
const highRisk: CancellationEvent = {
  type: 'RISK_ASSESSED',
  risk: { level: 'high', reasons: ['suspected fraud'] },
};

test.each<[string, CancellationEvent[], string, string[]]>([
  ['starts by reviewing the order', [], 'reviewing', ['reviewOrder']],
  [
    'a refused review ends the cancellation',
    [{ type: 'ORDER_REFUSED', reason: 'completed' }],
    'refused',
    ['reviewOrder'],
  ],
  [
    'low risk goes straight to releasing stock',
    [reviewed, lowRisk],
    'releasingStock',
    ['reviewOrder', 'assessRisk', 'releaseStock'],
  ],
  ['higher risk waits for approval', [reviewed, highRisk], 'awaitingApproval', ['reviewOrder', 'assessRisk']],
  [
    'the tracer path: review, risk, stock, refund, close, notify',
    [
      reviewed,
      lowRisk,
      { type: 'STOCK_RELEASED' },
      { type: 'PAYMENT_REFUNDED', refundId: 'r', refundedMinor: 200 },
      { type: 'ORDER_CLOSED' },
      { type: 'CUSTOMER_NOTIFIED', results: [] },
    ],
    'completed',
    ['reviewOrder', 'assessRisk', 'releaseStock', 'refundPayment', 'closeOrder', 'notifyCustomer'],
  ],
  [
    'nothing to refund skips the refund',
    [{ type: 'ORDER_REVIEWED', review: review(0) }, lowRisk, { type: 'STOCK_RELEASED' }],
    'closingOrder',
    ['reviewOrder', 'assessRisk', 'releaseStock', 'closeOrder'],
  ],
  [
    'an approver other than the requester approves',
    [reviewed, highRisk, { type: 'APPROVAL_GRANTED', approver: 'manager-1' }],
    'releasingStock',
    ['reviewOrder', 'assessRisk', 'releaseStock'],
  ],
  [
    'a rejection ends the cancellation',
    [reviewed, highRisk, { type: 'APPROVAL_REJECTED', approver: 'manager-1', reason: 'keep the order' }],
    'refused',
    ['reviewOrder', 'assessRisk'],
  ],
])('%s', (_name, events, state, effects) => {
  const result = run(events);
  expect(result.snapshot.value).toBe(state);
  expect(result.effects).toEqual(effects);
});

test('the requester cannot approve their own cancellation', () => {
  const { snapshot } = run([reviewed, highRisk]);
  expect(snapshot.can({ type: 'APPROVAL_GRANTED', approver: 'clerk-1' })).toBe(false);
  expect(snapshot.can({ type: 'APPROVAL_GRANTED', approver: 'manager-1' })).toBe(true);
});

test('effects carry what the workflow needs, computed from context', () => {
  let [snapshot] = initialTransition(cancellationMachine, request);
  [snapshot] = transition(cancellationMachine, snapshot, reviewed);
  const [, actions] = transition(cancellationMachine, snapshot, lowRisk);
  expect(actions[0]).toMatchObject({
    type: 'releaseStock',
    params: { cancellationId: 'c-1', orderNumber: 'SO-1' },
  });
});

test('the outcome says how it ended', () => {
  expect(run([{ type: 'ORDER_REFUSED', reason: 'x' }]).snapshot.output).toEqual({ outcome: 'refused' });
});
