// When money will not move or the books disagree (R10, R11, R28): a refund the gateway refuses for good waits
// for finance to settle it by hand; stock that cannot be released waits for ops. Neither ends silently, and
// the customer is told "refunded" only after the money moved. On the dev server, against real parts.
import { resumeCancellation, settleRefund } from '../client/cancellation-decisions';
import { addCustomer, addPeople, addProduct, placePaidOrder, receiveStock } from '../generators/demo-data';
import type { CancellationView } from '../contracts/cancellation.contract';
import { searchAttributeKeys } from '../contracts/search-attributes';
import { waitForState } from './support/cancellation-state';
import { eventually } from './support/eventually';
import { recordHistory } from './support/histories';
import { startTestStack, type TestStack } from './support/stack';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack('exceptions');
  await addPeople(stack.models); // finance-1 (finance clerk), ops-1 (ops), clerk-1 (requester)
  await addCustomer(stack.models, {
    customerId: 'C-3',
    name: '赵磊',
    email: 'zhao.lei@example.cn',
    language: 'zh-CN',
  });
  await addProduct(stack.models, { sku: 'TEA-5', name: '铁观音', unitPriceMinor: 12000, currency: 'CNY' });
  await receiveStock(stack.models, 'TEA-5', 30);
});

afterAll(async () => {
  await stack.stop();
});

async function cancel(orderNumber: string) {
  const accepted = await (
    await stack.as('clerk-1')
  ).createCancellation({
    orderNumber,
    reasonCode: 'price_error',
    confirm: ['awaiting_shipment'],
  });
  const handle = stack.temporal.workflow.getHandle(accepted.workflowId);
  const stateIs = (state: string) => waitForState(handle, state);
  return { cancellationId: accepted.cancellationId, handle, stateIs };
}

const order = (orderNumber: string) =>
  placePaidOrder(stack.models, {
    orderNumber,
    customerId: 'C-3',
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'TEA-5', quantity: 2, unitPriceMinor: 12000 }],
  });

test('a refund the gateway refuses for good waits for finance, who settle it by hand', async () => {
  await order('SO-EXC-1');
  stack.gateway.setBehaviour({ mode: 'fail_final', times: 1 });
  const { cancellationId, handle, stateIs } = await cancel('SO-EXC-1');

  const waiting = await stateIs('awaitingSettlement.waitingForFinance');
  expect(waiting.settlement).toMatchObject({
    outstandingMinor: 24000,
    failure: expect.stringContaining('declined'),
  });
  // Nothing said "cancelled" or "refunded" yet (only that the request was received), and the payment's
  // reservation was given back.
  expect(stack.mail.messages.filter((message) => message.subject.includes('已取消'))).toHaveLength(0);
  expect(await stack.models.Payment.findOne({ orderNumber: 'SO-EXC-1' }).lean()).toMatchObject({
    refundedMinor: 0,
  });
  await eventually(async () =>
    expect(
      await stack.models.MessageCentreEntry.countDocuments({
        cancellationId,
        recipientId: 'finance-1',
        category: 'action_required',
      }),
    ).toBe(1),
  );

  await expect(
    settleRefund(stack.temporal, cancellationId, { by: 'clerk-1', reference: 'X' }),
  ).rejects.toMatchObject({
    code: 'conflict',
    message: expect.stringContaining('not a finance clerk'),
  });
  await settleRefund(stack.temporal, cancellationId, { by: 'finance-1', reference: 'ICBC-2026-1128-001' });

  const result = (await handle.result()) as CancellationView;
  expect(result).toMatchObject({ outcome: 'completed', refundedMinor: 24000 });
  await recordHistory(handle, 'refund-settled-by-finance');
  const refunds = await stack.models.Refund.find({ orderNumber: 'SO-EXC-1' }).sort({ createdAt: 1 }).lean();
  expect(refunds.map((refund) => [refund.status, refund.amountMinor])).toEqual([
    ['failed', 24000],
    ['settled_manually', 24000],
  ]);
  expect(refunds[1]?.providerRefundId).toBe('manual:ICBC-2026-1128-001');
  expect(await stack.models.Payment.findOne({ orderNumber: 'SO-EXC-1' }).lean()).toMatchObject({
    refundedMinor: 24000,
    pendingRefunds: [],
  });
  expect(
    await stack.models.Voucher.countDocuments({
      'document.id': `${cancellationId}:manual-settlement:PAY-SO-EXC-1`,
    }),
  ).toBe(1);
  const mail = await stack.mail.waitForMessage((message) => message.subject === '订单 SO-EXC-1 已取消');
  expect(mail.text).toContain('240.00');
});

test('stock that cannot be released needs attention; ops repair it and resume', async () => {
  await order('SO-EXC-2');
  // The books disagree: someone zeroed the reservation by hand, so there is nothing to release.
  const reservedBefore = (await stack.models.StockLevel.findOne({ sku: 'TEA-5' }).lean())?.reserved ?? 0;
  await stack.models.StockLevel.updateOne({ sku: 'TEA-5' }, { $set: { reserved: 0 } });
  const { cancellationId, handle, stateIs } = await cancel('SO-EXC-2');

  const stopped = await stateIs('needsAttention.waitingForOps');
  expect(stopped.attention).toMatchObject({
    from: 'releasingStock',
    reason: expect.stringContaining('TEA-5'),
  });
  await eventually(async () => {
    const record = await stack.models.Cancellation.findOne({ cancellationId }).lean();
    expect(record).toMatchObject({
      state: 'needsAttention.waitingForOps',
      attention: { from: 'releasingStock' },
    });
  });
  const described = await handle.describe();
  expect(described.typedSearchAttributes.get(searchAttributeKeys.state)).toBe('needsAttention.waitingForOps');
  await eventually(async () =>
    expect(
      await stack.models.MessageCentreEntry.countDocuments({
        cancellationId,
        recipientId: 'ops-1',
        category: 'action_required',
      }),
    ).toBe(1),
  );

  await expect(resumeCancellation(stack.temporal, cancellationId, { by: 'clerk-1' })).rejects.toMatchObject({
    message: expect.stringContaining('not an ops person'),
  });
  await stack.models.StockLevel.updateOne({ sku: 'TEA-5' }, { $set: { reserved: reservedBefore } });
  await resumeCancellation(stack.temporal, cancellationId, { by: 'ops-1', note: 'restored the reservation' });

  expect(await handle.result()).toMatchObject({ outcome: 'completed', refundedMinor: 24000 });
  await recordHistory(handle, 'needs-attention-then-resumed');
  expect(await stack.models.StockLevel.findOne({ sku: 'TEA-5' }).lean()).toMatchObject({
    reserved: reservedBefore - 2,
  });
});
