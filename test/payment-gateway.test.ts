// Refunds (R11, R28) through the refundPayment activity against the payment gateway simulator over HTTP and
// the real database: retried by Temporal with the same idempotency key, the money moves once; a final refusal
// marks the refund failed and gives the reserved amount back to the payment.
import { ApplicationFailure } from '@temporalio/common';
import { createActivities } from '../activities';
import { createHttpPaymentGateway } from '../integrations/payment-gateway';
import { addCustomer, addProduct, placePaidOrder, receiveStock } from '../generators/demo-data';
import { startIntegrationStack, type IntegrationStack } from './support/integration-stack';
import { refundWithRetriesWorkflow } from './support/test-workflows';
import { eventually } from './support/eventually';

let stack: IntegrationStack;
let count = 0;

beforeAll(async () => {
  stack = await startIntegrationStack('payments');
  await addProduct(stack.models, {
    sku: 'POT-1',
    name: '宜兴紫砂壶',
    unitPriceMinor: 38800,
    currency: 'CNY',
  });
  await receiveStock(stack.models, 'POT-1', 50);
  await addCustomer(stack.models, { customerId: 'C-1', name: '王芳', language: 'zh-CN' });
});

afterAll(async () => {
  await stack.stop();
});

beforeEach(() => {
  stack.gateway.clear();
});

/** A paid order of one teapot, and the refund of all of it that its cancellation asks for. */
async function paidOrder() {
  count += 1;
  const orderNumber = `SO-PAY-${count}`;
  await placePaidOrder(stack.models, {
    orderNumber,
    customerId: 'C-1',
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'POT-1', quantity: 1, unitPriceMinor: 38800 }],
  });
  const cancellationId = `cancel-pay-${count}`;
  return {
    params: { cancellationId, orderNumber, amountMinor: 38800, currency: 'CNY' },
    key: `${cancellationId}:refund:PAY-${orderNumber}`,
    paymentId: `PAY-${orderNumber}`,
  };
}

const refund = (key: string) => stack.models.Refund.findOne({ idempotencyKey: key }).lean().orFail();
const payment = (paymentId: string) => stack.models.Payment.findOne({ paymentId }).lean().orFail();

test('a gateway failing transiently, retried by Temporal, refunds once, with one voucher', async () => {
  const { params, key, paymentId } = await paidOrder();
  stack.gateway.setBehaviour({ mode: 'fail_transient', times: 2 });
  const result = await stack.temporal.workflow.execute(refundWithRetriesWorkflow, {
    taskQueue: stack.taskQueue,
    workflowId: `refund-${params.cancellationId}`,
    args: [params],
  });
  expect(result).toEqual({ refundId: key, refundedMinor: 38800 });
  expect(stack.gateway.requests).toBe(3);
  expect(stack.gateway.refunds).toEqual([
    expect.objectContaining({ amount: 38800, currency: 'CNY', idempotencyKey: key }),
  ]);
  expect(await refund(key)).toMatchObject({
    status: 'succeeded',
    providerRefundId: stack.gateway.refunds[0]?.id,
  });
  expect(await payment(paymentId)).toMatchObject({ refundedMinor: 38800, pendingRefunds: [] });
  expect(await stack.models.Voucher.countDocuments({ 'document.id': key })).toBe(1);
});

test('a pending refund is asked again, with the same key, until it settles; it is not reported refunded before', async () => {
  const { params, key, paymentId } = await paidOrder();
  stack.gateway.setBehaviour({ mode: 'pending', times: 1 });
  const handle = await stack.temporal.workflow.start(refundWithRetriesWorkflow, {
    taskQueue: stack.taskQueue,
    workflowId: `refund-${params.cancellationId}`,
    args: [params],
  });
  await eventually(() => expect(stack.gateway.requests).toBeGreaterThanOrEqual(2));
  expect(await refund(key)).toMatchObject({ status: 'pending' });
  expect(await payment(paymentId)).toMatchObject({ refundedMinor: 38800, pendingRefunds: [key] });

  stack.gateway.settlePending(stack.gateway.refunds[0]?.id ?? '');
  expect(await handle.result()).toEqual({ refundId: key, refundedMinor: 38800 });
  expect(stack.gateway.refunds).toHaveLength(1);
  expect(await refund(key)).toMatchObject({ status: 'succeeded' });
  expect(await payment(paymentId)).toMatchObject({ refundedMinor: 38800, pendingRefunds: [] });
});

test('a gateway answering slower than the client waits: the retries find the first refund, never a second', async () => {
  const { params, key, paymentId } = await paidOrder();
  // A client that gives up after 300 ms, against a gateway that takes 1.5 s for this one request.
  const impatient = createActivities({
    ...stack.deps,
    paymentGateway: createHttpPaymentGateway(stack.gateway.url, 300),
  });
  const refundPayment = (input: typeof params) => impatient.refundPayment(input);
  stack.gateway.setBehaviour({ mode: 'succeed', times: 1, delayMs: 1500 });

  await expect(refundPayment(params)).rejects.toThrow(/gateway unreachable/);
  // Retried while the gateway still works on the first request: it says so, and refunds nothing more.
  await expect(refundPayment(params)).rejects.toThrow(/still being processed/);
  await eventually(() => expect(stack.gateway.refunds).toHaveLength(1));
  expect(await refundPayment(params)).toEqual({ refundId: key, refundedMinor: 38800 });

  expect(stack.gateway.refunds).toHaveLength(1);
  expect(await refund(key)).toMatchObject({ status: 'succeeded' });
  expect(await payment(paymentId)).toMatchObject({ refundedMinor: 38800, pendingRefunds: [] });
  expect(await stack.models.Voucher.countDocuments({ 'document.id': key })).toBe(1);
});

test('a final refusal marks the refund failed, gives the amount back, and a retry changes nothing', async () => {
  const { params, key, paymentId } = await paidOrder();
  stack.gateway.setBehaviour({ mode: 'fail_final', times: 1 });
  const refusal = await stack.activities.refundPayment(params).catch((error: unknown) => error);
  expect(refusal).toBeInstanceOf(ApplicationFailure);
  expect(refusal).toMatchObject({
    type: 'RefundRefused',
    nonRetryable: true,
    message: 'payment gateway refused: card issuer declined the refund',
  });
  expect(await refund(key)).toMatchObject({ status: 'failed', failure: 'card issuer declined the refund' });
  expect(await payment(paymentId)).toMatchObject({ refundedMinor: 0, pendingRefunds: [] });

  // Asked again with the same key (the gateway would succeed now): it replays its refusal, nothing moves.
  await expect(stack.activities.refundPayment(params)).rejects.toMatchObject({ type: 'RefundRefused' });
  expect(stack.gateway.refunds).toHaveLength(0);
  expect(await payment(paymentId)).toMatchObject({ refundedMinor: 0, pendingRefunds: [] });
  expect(await stack.models.Voucher.countDocuments({ 'document.id': key })).toBe(0);
});

test('through Temporal, a final refusal is not retried', async () => {
  const { params, key } = await paidOrder();
  stack.gateway.setBehaviour({ mode: 'fail_final', times: 1 });
  await expect(
    stack.temporal.workflow.execute(refundWithRetriesWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: `refund-${params.cancellationId}`,
      args: [params],
    }),
  ).rejects.toMatchObject({ cause: { cause: { type: 'RefundRefused' } } });
  expect(stack.gateway.requests).toBe(1);
  expect(await refund(key)).toMatchObject({ status: 'failed' });
});
