// Approval, rejection and withdrawal end to end on the Temporal dev server (Updates and custom search
// attributes are real there), with activities on the real database, SMTP and simulators.
import { decideApproval, withdrawCancellation } from '../client/cancellation-decisions';
import { CancelflowError } from '../lib/errors';
import {
  addCustomer,
  addPeople,
  addProduct,
  placePaidOrder,
  receiveStock,
  shipOrder,
} from '../generators/demo-data';
import {
  getCancellationQuery,
  type CancellationView,
  type Withdrawal,
} from '../contracts/cancellation.contract';
import { searchAttributeKeys } from '../contracts/search-attributes';
import { waitForState } from './support/cancellation-state';
import { eventually } from './support/eventually';
import { recordHistory } from './support/histories';
import { startTestStack, type TestStack } from './support/stack';

let stack: TestStack;
let orderCount = 0;

beforeAll(async () => {
  stack = await startTestStack('approval');
  await addPeople(stack.models); // clerk-1 (requester), manager-1 (level 1), director-1 (level 2)
  await addCustomer(stack.models, {
    customerId: 'C-VIP',
    name: 'Emily Carter',
    email: 'emily@example.com',
    phone: '+14155550123',
    language: 'en',
    tier: 'vip', // a VIP relationship makes the risk medium: one approval of level 1
  });
  await addProduct(stack.models, {
    sku: 'POT-1',
    name: 'Yixing teapot',
    unitPriceMinor: 38800,
    currency: 'CNY',
  });
  await receiveStock(stack.models, 'POT-1', 50);
});

afterAll(async () => {
  await stack.stop();
});

async function cancelNewOrder(
  reasonCode: 'customer_changed_mind' | 'suspected_fraud' = 'customer_changed_mind',
) {
  orderCount += 1;
  const orderNumber = `SO-APPROVAL-${orderCount}`;
  await placePaidOrder(stack.models, {
    orderNumber,
    customerId: 'C-VIP',
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'POT-1', quantity: 1, unitPriceMinor: 38800 }],
  });
  const accepted = await (
    await stack.as('clerk-1')
  ).createCancellation({
    orderNumber,
    reasonCode,
    confirm: ['awaiting_shipment'],
  });
  return {
    orderNumber,
    cancellationId: accepted.cancellationId,
    handle: stack.temporal.workflow.getHandle(accepted.workflowId),
  };
}

const waiting = 'awaitingApproval.waitingForDecision';

test('medium risk waits for an approver; refusals come back with reasons; the approval lets it complete', async () => {
  const { cancellationId, handle } = await cancelNewOrder();
  const view = await waitForState(handle, waiting);
  expect(view.risk).toMatchObject({ level: 'medium', reasons: ['vip customer'] });
  expect(view.approval).toMatchObject({
    step: 0,
    steps: 1,
    requiredLevel: 1,
    eligibleApprovers: ['manager-1', 'director-1'],
  });

  // Nothing moved yet: the stock is still reserved.
  expect(await stack.models.StockLevel.findOne({ sku: 'POT-1' }).lean()).toMatchObject({ reserved: 1 });

  // The approvers were asked: in their message centre and by email.
  await eventually(async () => {
    const asked = await stack.models.MessageCentreEntry.find({
      cancellationId,
      category: 'action_required',
    }).lean();
    expect(asked.map((entry) => entry.recipientId).sort()).toEqual(['director-1', 'manager-1']);
  });
  await stack.mail.waitForMessage((mail) => mail.to.includes('liu.qiang@cancelflow.local'));

  const refusal = (approver: string) =>
    decideApproval(stack.temporal, cancellationId, { approver, approved: true }).catch(
      (error: unknown) => error,
    );
  expect(await refusal('clerk-1')).toMatchObject({
    code: 'conflict',
    message: expect.stringContaining('requester'),
  });
  expect(await refusal('intern-9')).toMatchObject({
    code: 'conflict',
    message: expect.stringContaining('not an approver of level 1'),
  });
  expect(await refusal('clerk-1')).toBeInstanceOf(CancelflowError);

  const decided = await decideApproval(stack.temporal, cancellationId, {
    approver: 'manager-1',
    approved: true,
    reason: 'VIP asked nicely',
  });
  expect(decided.approval?.decisions).toEqual([
    { approver: 'manager-1', approved: true, reason: 'VIP asked nicely', level: 1 },
  ]);
  const result = (await handle.result()) as CancellationView;
  expect(result).toMatchObject({ outcome: 'completed', refundedMinor: 38800 });
  await recordHistory(handle, 'approved-after-refusals');

  // The refused decisions never entered history: only the accepted one did.
  const history = await handle.fetchHistory();
  const updates = (history.events ?? []).filter(
    (event) => event.workflowExecutionUpdateAcceptedEventAttributes,
  );
  expect(updates).toHaveLength(1);

  // Ops find it in the Temporal UI by its search attributes.
  const described = await handle.describe();
  const attribute = (key: (typeof searchAttributeKeys)[keyof typeof searchAttributeKeys]) =>
    described.typedSearchAttributes.get(key);
  expect(attribute(searchAttributeKeys.state)).toBe('completed');
  expect(attribute(searchAttributeKeys.orderNumber)).toMatch(/^SO-APPROVAL-/);
  expect(attribute(searchAttributeKeys.risk)).toBe('medium');
  expect(attribute(searchAttributeKeys.reason)).toBe('customer_changed_mind');
  expect(attribute(searchAttributeKeys.customer)).toBe('C-VIP');
});

test('a rejection ends the cancellation and moves nothing', async () => {
  const { orderNumber, cancellationId, handle } = await cancelNewOrder();
  await waitForState(handle, waiting);
  const reservedBefore = (await stack.models.StockLevel.findOne({ sku: 'POT-1' }).lean())?.reserved;
  await decideApproval(stack.temporal, cancellationId, {
    approver: 'director-1',
    approved: false,
    reason: 'goods already packed',
  });
  const result = (await handle.result()) as CancellationView;
  expect(result).toMatchObject({
    outcome: 'rejected',
    refusal: 'rejected by director-1: goods already packed',
    refundedMinor: 0,
  });
  await recordHistory(handle, 'rejected-by-approver');
  expect((await stack.models.StockLevel.findOne({ sku: 'POT-1' }).lean())?.reserved).toBe(reservedBefore);
  expect(await stack.models.Refund.countDocuments({ orderNumber })).toBe(0);
  expect(await stack.models.SalesOrder.findOne({ orderNumber }).lean()).toMatchObject({
    status: 'allocated',
  });
  const record = await stack.models.Cancellation.findOne({ cancellationId }).lean();
  expect(record).toMatchObject({ outcome: 'rejected', state: 'rejected' });
  expect(record?.activeForOrder).toBeUndefined();
});

test('high risk needs level 1 then level 2, in sequence', async () => {
  const { cancellationId, handle } = await cancelNewOrder('suspected_fraud');
  await waitForState(handle, waiting);
  await decideApproval(stack.temporal, cancellationId, { approver: 'manager-1', approved: true });
  const second = await waitForState(handle, waiting);
  expect(second.approval).toMatchObject({ step: 1, requiredLevel: 2, eligibleApprovers: ['director-1'] });
  // The level-1 manager cannot decide the level-2 step.
  await expect(
    decideApproval(stack.temporal, cancellationId, { approver: 'manager-1', approved: true }),
  ).rejects.toMatchObject({
    code: 'conflict',
  });
  await decideApproval(stack.temporal, cancellationId, { approver: 'director-1', approved: true });
  expect(await handle.result()).toMatchObject({ outcome: 'completed' });
  await recordHistory(handle, 'two-level-approval');
});

test('the requester may withdraw before the point of no return, and not after', async () => {
  const { orderNumber, cancellationId, handle } = await cancelNewOrder();
  await waitForState(handle, waiting);
  await expect(
    withdrawCancellation(stack.temporal, cancellationId, { by: 'manager-1' }),
  ).rejects.toMatchObject({
    message: expect.stringContaining('only the requester'),
  });
  const withdrawn = await withdrawCancellation(stack.temporal, cancellationId, {
    by: 'clerk-1',
    reason: 'customer kept it',
  });
  expect(withdrawn).toMatchObject({ state: 'withdrawn', refusal: 'withdrawn by clerk-1: customer kept it' });
  expect(await handle.result()).toMatchObject({ outcome: 'withdrawn' });
  await recordHistory(handle, 'withdrawn-during-approval');
  expect(await stack.models.SalesOrder.findOne({ orderNumber }).lean()).toMatchObject({
    status: 'allocated',
  });

  // A cancellation that has moved stock cannot be withdrawn: the workflow has closed, so nothing to withdraw.
  await expect(
    withdrawCancellation(stack.temporal, cancellationId, { by: 'clerk-1' }),
  ).rejects.toBeInstanceOf(CancelflowError);
});

test('a message cannot smuggle in another machine event, and racing decisions get one answer each', async () => {
  const { cancellationId, handle } = await cancelNewOrder();
  await waitForState(handle, waiting);
  // A withdrawal whose payload claims to be a deadline is still a withdrawal, and not the requester's.
  const smuggled = { by: 'nobody', type: 'APPROVAL_DEADLINE_PASSED', clock: 1 } as unknown as Withdrawal;
  await expect(withdrawCancellation(stack.temporal, cancellationId, smuggled)).rejects.toMatchObject({
    message: expect.stringContaining('only the requester'),
  });
  expect((await handle.query(getCancellationQuery)).state).toBe(waiting);

  // Two approvers decide at the same moment: one decision is taken, the other is refused, never dropped.
  const answers = await Promise.allSettled([
    decideApproval(stack.temporal, cancellationId, { approver: 'manager-1', approved: true }),
    decideApproval(stack.temporal, cancellationId, { approver: 'director-1', approved: false, reason: 'no' }),
  ]);
  const taken = answers.filter((answer) => answer.status === 'fulfilled');
  expect(taken).toHaveLength(1);
  const refused = answers.find((answer) => answer.status === 'rejected');
  if (refused) expect(String(refused.reason)).toMatch(/moved on|cannot/);
  const outcome = ((await handle.result()) as CancellationView).outcome;
  expect(['completed', 'rejected']).toContain(outcome);
});

test('the same Idempotency-Key with a different request is refused', async () => {
  orderCount += 1;
  const orderNumber = `SO-APPROVAL-${orderCount}`;
  await placePaidOrder(stack.models, {
    orderNumber,
    customerId: 'C-VIP',
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'POT-1', quantity: 1, unitPriceMinor: 38800 }],
  });
  const request = {
    orderNumber,
    reasonCode: 'other' as const,
    confirm: ['awaiting_shipment' as const],
  };
  const clerk = await stack.as('clerk-1');
  const first = await clerk.createCancellation(request, { idempotencyKey: `key-${orderNumber}` });
  await expect(
    clerk.createCancellation(
      { ...request, reasonCode: 'price_error' },
      { idempotencyKey: `key-${orderNumber}` },
    ),
  ).rejects.toMatchObject({ status: 409, body: { details: { field: 'Idempotency-Key' } } });

  // Ops terminate the running workflow: the order is free for a new cancellation, not stuck behind it.
  const handle = stack.temporal.workflow.getHandle(first.workflowId);
  await waitForState(handle, waiting);
  await handle.terminate('ops: wrong request');
  const again = await clerk.createCancellation({ ...request, note: 'second try' });
  expect(again).toMatchObject({ existing: false });
  expect(again.cancellationId).not.toBe(first.cancellationId);
  expect(
    await stack.models.Cancellation.findOne({ cancellationId: first.cancellationId }).lean(),
  ).toMatchObject({
    state: 'workflow terminated',
  });
});

test('the order shipped while the approval waited: it is read again, refused, and nothing is released or refunded', async () => {
  const { orderNumber, handle } = await cancelNewOrder();
  await waitForState(handle, waiting);
  // The warehouse did not hold the goods: the parcel left during the approval.
  await shipOrder(stack.models, orderNumber, { shipmentId: `SH-${orderNumber}` });
  const stockBefore = await stack.models.StockLevel.findOne({ sku: 'POT-1' }).lean();

  await decideApproval(stack.temporal, (await handle.query(getCancellationQuery)).cancellationId, {
    approver: 'manager-1',
    approved: true,
  });
  const result = (await handle.result()) as CancellationView;
  expect(result).toMatchObject({ outcome: 'refused', state: 'refused' });
  expect(result.refusal).toContain('confirm "shipped"');
  await recordHistory(handle, 'shipped-during-approval-refused');
  expect(await stack.models.StockLevel.findOne({ sku: 'POT-1' }).lean()).toMatchObject({
    onHand: stockBefore?.onHand,
    reserved: stockBefore?.reserved,
  });
  expect(await stack.models.Refund.countDocuments({ orderNumber })).toBe(0);
  expect(await stack.models.SalesOrder.findOne({ orderNumber }).lean()).toMatchObject({ status: 'shipped' });
  await stack.mail.waitForMessage(
    (message) => message.subject === `Your request to cancel order ${orderNumber} was not accepted`,
  );
});
