// The tracer: one paid order awaiting shipment, cancelled through the API, travelling through every layer
// against real servers (Temporal, MongoDB wire protocol, SMTP, the twilio client, the gateway over HTTP).
import { CancelflowApiError, type CancelflowClient } from '../client/cancelflow-client';
import { issueApiKey } from '../models/credentials';
import { stockFromLedger } from '../models/stock-ledger';
import { addCustomer, addPeople, addProduct, placePaidOrder, receiveStock } from '../generators/demo-data';
import {
  cancellationWorkflowId,
  getCancellationQuery,
  type CancellationView,
} from '../contracts/cancellation.contract';
import { eventually } from './support/eventually';
import { recordHistory } from './support/histories';
import { startTestStack, type TestStack } from './support/stack';

let stack: TestStack;
/** clerk-1, the requester, calling with an API key: the caller is who asks for the cancellation. */
let clerk: CancelflowClient;

/** An API key for a raw request, acting as this person in these roles. */
async function bearer(personId: string, scopes: ('requester' | 'warehouse_clerk')[]) {
  const { token } = await issueApiKey(stack.models, {
    name: `tracer ${personId}`,
    personId,
    scopes,
    createdBy: 'test',
  });
  return { authorization: `Bearer ${token}` };
}

beforeAll(async () => {
  stack = await startTestStack('tracer');
  await addPeople(stack.models); // clerk-1, the requester (R3, R26)
  clerk = await stack.as('clerk-1');
  await addCustomer(stack.models, {
    customerId: 'C-1',
    name: '王芳',
    email: 'wang.fang@example.cn',
    phone: '+8613800138000',
    language: 'zh-CN',
  });
  await addProduct(stack.models, { sku: 'TEA-1', name: '龙井茶', unitPriceMinor: 16800, currency: 'CNY' });
  await receiveStock(stack.models, 'TEA-1', 10);
  await placePaidOrder(stack.models, {
    orderNumber: 'SO-TRACER-1',
    customerId: 'C-1',
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'TEA-1', quantity: 2, unitPriceMinor: 16800 }],
  });
});

afterAll(async () => {
  await stack.stop();
});

const request = {
  orderNumber: 'SO-TRACER-1',
  reasonCode: 'customer_changed_mind' as const,
  note: '客户来电取消',
};

test('an order awaiting shipment is not cancelled without the explicit confirmation (R2)', async () => {
  const refusal = await clerk.createCancellation(request).catch((error: unknown) => error);
  expect(refusal).toBeInstanceOf(CancelflowApiError);
  expect(refusal).toMatchObject({ status: 409, body: { error: 'confirmation_required' } });
  expect((refusal as CancelflowApiError).body.message).toContain('awaiting_shipment');
  expect(await stack.models.Cancellation.countDocuments()).toBe(0);
});

test('cancels a paid order awaiting shipment end to end, once, however often it is asked', async () => {
  const confirmed = { ...request, confirm: ['awaiting_shipment' as const] };
  const first = await clerk.createCancellation(confirmed, { idempotencyKey: 'erp-req-0001' });
  expect(first).toMatchObject({ orderNumber: 'SO-TRACER-1', existing: false });
  expect(first.workflowId).toBe(cancellationWorkflowId(first.cancellationId));

  // The same key, and the same order while its cancellation runs, both answer with the same cancellation.
  const again = await clerk.createCancellation(confirmed, { idempotencyKey: 'erp-req-0001' });
  const sameOrder = await clerk.createCancellation(confirmed);
  expect(again).toMatchObject({ cancellationId: first.cancellationId, existing: true });
  expect(sameOrder.cancellationId).toBe(first.cancellationId);

  const handle = stack.temporal.workflow.getHandle(first.workflowId);
  const result = (await handle.result()) as CancellationView;
  await recordHistory(handle, 'completed-low-risk');
  // Started as every cancellation is (cancellationStartOf): its workflow tasks time out after 5 s, not 10.
  const { events } = await handle.fetchHistory();
  expect(Number(events?.[0]?.workflowExecutionStartedEventAttributes?.workflowTaskTimeout?.seconds)).toBe(5);
  expect(result).toMatchObject({
    state: 'completed',
    outcome: 'completed',
    refundedMinor: 33600,
    risk: { level: 'low' },
  });
  expect(await handle.query(getCancellationQuery)).toMatchObject({
    state: 'completed',
    refundedMinor: 33600,
  });

  // Stock: the reservation is released through one ledger movement, and the level matches the ledger (R4, R10).
  const { models } = stack;
  const level = await models.StockLevel.findOne({ sku: 'TEA-1' }).lean();
  expect(level).toMatchObject({ onHand: 10, reserved: 0, pendingMovements: [] });
  expect(await stockFromLedger(models, 'TEA-1', level?.warehouse ?? '')).toEqual({ onHand: 10, reserved: 0 });
  const releases = await models.StockMovement.find({ type: 'release' }).lean();
  expect(releases).toHaveLength(1);
  expect(releases[0]).toMatchObject({
    reservedDelta: -2,
    state: 'applied',
    document: { id: 'SO-TRACER-1', lineId: 'L1' },
  });

  // Money: one refund at the gateway, recorded with a balanced voucher (R11).
  expect(stack.gateway.refunds).toHaveLength(1);
  expect(stack.gateway.refunds[0]).toMatchObject({ amount: 33600, currency: 'CNY' });
  const payment = await models.Payment.findOne({ orderNumber: 'SO-TRACER-1' }).lean();
  expect(payment).toMatchObject({ capturedMinor: 33600, refundedMinor: 33600, pendingRefunds: [] });
  const refunds = await models.Refund.find().lean();
  expect(refunds).toHaveLength(1);
  expect(refunds[0]).toMatchObject({
    status: 'succeeded',
    amountMinor: 33600,
    providerRefundId: stack.gateway.refunds[0]?.id,
  });
  const vouchers = await models.Voucher.find().lean();
  expect(vouchers).toHaveLength(1);
  const voucherLines = vouchers[0]?.lines ?? [];
  expect(voucherLines.reduce((sum, line) => sum + line.debitMinor, 0)).toBe(33600);
  expect(voucherLines.reduce((sum, line) => sum + line.creditMinor, 0)).toBe(33600);

  // The order: cancelled with its reason (R4, R7).
  const order = await models.SalesOrder.findOne({ orderNumber: 'SO-TRACER-1' }).lean();
  expect(order).toMatchObject({
    status: 'cancelled',
    cancellation: {
      reasonCode: 'customer_changed_mind',
      note: '客户来电取消',
      cancellationIds: [first.cancellationId],
    },
  });
  expect(order?.lines[0]).toMatchObject({ cancelledQuantity: 2, reservedQuantity: 0, status: 'cancelled' });

  // The customer, in Chinese, by email through SMTP and by text through the twilio client (R12, R18): told
  // the request was received (delivered on its own, in the background), then that the order was cancelled.
  const mail = await stack.mail.waitForMessage((message) => message.subject === '订单 SO-TRACER-1 已取消');
  expect(mail.to).toEqual(['wang.fang@example.cn']);
  expect(mail.text).toContain('您改变了主意');
  expect(mail.text).toContain('336.00');
  await stack.mail.waitForMessage((message) => message.subject === '我们已收到订单 SO-TRACER-1 的取消申请');
  await eventually(() => expect(stack.sms.messages).toHaveLength(2));
  expect(stack.mail.messages).toHaveLength(2);
  expect(
    stack.sms.messages.every((sms) => sms.to === '+8613800138000' && sms.body.includes('SO-TRACER-1')),
  ).toBe(true);
  // The view says what the cancellation handed to the deliveries; the outbox, that they were sent.
  expect(result.notifications).toEqual([
    { channel: 'email', status: 'queued' },
    { channel: 'sms', status: 'queued' },
  ]);
  await eventually(async () =>
    expect(
      await models.Notification.find(
        { idempotencyKey: { $regex: `^${first.cancellationId}:customer:completed:` } },
        { channel: 1, status: 1 },
      )
        .sort({ channel: 1 })
        .lean(),
    ).toMatchObject([
      { channel: 'email', status: 'sent' },
      { channel: 'sms', status: 'sent' },
    ]),
  );

  // The database copy answers after the workflow closed, through the API and the typed client.
  const read = await clerk.getCancellation(first.cancellationId);
  expect(read).toMatchObject({
    state: 'completed',
    outcome: 'completed',
    refundedMinor: 33600,
    policyVersion: '2026-11-28.3',
    source: 'database',
  });
  expect(read.timeline.map((entry) => entry.state)).toEqual([
    'loadingPolicy',
    'reviewing',
    'assessingRisk',
    'releasingStock',
    'adjustingPurchasing',
    'refunding',
    'closingOrder',
    'notifyingCustomer',
    'completed',
  ]);
  const record = await models.Cancellation.findOne({ cancellationId: first.cancellationId }).lean();
  expect(record?.activeForOrder).toBeUndefined();

  // Asked again after it ended, with the same key: still the same cancellation, and nothing moves twice.
  const late = await clerk.createCancellation(confirmed, { idempotencyKey: 'erp-req-0001' });
  expect(late.cancellationId).toBe(first.cancellationId);
  expect(stack.gateway.refunds).toHaveLength(1);
  expect(await models.StockMovement.countDocuments({ type: 'release' })).toBe(1);
});

test('a cancelled order cannot be cancelled again', async () => {
  const refusal = await clerk
    .createCancellation({ ...request, confirm: ['awaiting_shipment'] })
    .catch((error: unknown) => error);
  expect(refusal).toMatchObject({ status: 409, body: { error: 'not_cancellable' } });
});

test('bad input gets a 4xx naming the field, and starts nothing', async () => {
  const before = await stack.models.Cancellation.countDocuments();
  const credentials = await bearer('clerk-1', ['requester']);
  const cases: [unknown, number, string][] = [
    [{ ...request, reasonCode: 'bored' }, 400, 'reasonCode'],
    [{ ...request, orderNumber: '' }, 400, 'orderNumber'],
    [{ ...request, lines: [{ lineId: 'L1', quantity: 1.5 }] }, 400, 'lines[0].quantity'],
    [{ ...request, orderNumber: 'SO-NOPE' }, 404, 'orderNumber'],
  ];
  for (const [body, status, field] of cases) {
    const response = await fetch(`${stack.apiUrl}/v1/cancellations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...credentials },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ details: { field } });
  }
  const malformed = await fetch(`${stack.apiUrl}/v1/cancellations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...credentials },
    body: '{"orderNumber":',
  });
  expect(malformed.status).toBe(400);
  expect(await stack.models.Cancellation.countDocuments()).toBe(before);
});

describe('who may request a cancellation (R3, R26)', () => {
  const orderNumber = 'SO-TRACER-2';
  const confirmed = { ...request, orderNumber, confirm: ['awaiting_shipment' as const] };
  /** The key of a clerk issued while they worked here, before they left. */
  let leftKey: { authorization: string };

  beforeAll(async () => {
    await placePaidOrder(stack.models, {
      orderNumber,
      customerId: 'C-1',
      currency: 'CNY',
      lines: [{ lineId: 'L1', sku: 'TEA-1', quantity: 1, unitPriceMinor: 16800 }],
    });
    await addPeople(stack.models, [
      {
        personId: 'clerk-left',
        name: '李娜',
        email: 'li.na@cancelflow.local',
        language: 'zh-CN',
        department: 'sales',
        roles: ['requester'],
        approvalLevel: 0,
      },
      {
        personId: 'warehouse-9',
        name: '赵磊',
        email: 'zhao.lei@cancelflow.local',
        language: 'zh-CN',
        department: 'logistics',
        roles: ['warehouse_clerk'],
        approvalLevel: 0,
      },
    ]);
    leftKey = await bearer('clerk-left', ['requester']);
    await stack.models.Person.updateOne({ personId: 'clerk-left' }, { $set: { active: false } });
  });

  test('only an active requester, by their own credentials, may ask; a name in the body is refused; nothing starts', async () => {
    const cases: [string, Record<string, string>, unknown, number, Record<string, unknown>][] = [
      // The requester is the caller: a body naming one is refused, naming the field.
      [
        'a body naming requestedBy',
        await bearer('clerk-1', ['requester']),
        { ...confirmed, requestedBy: 'manager-1' },
        400,
        { error: 'validation_failed', details: { field: 'requestedBy' } },
      ],
      [
        'a person without the requester role',
        await bearer('warehouse-9', ['warehouse_clerk']),
        confirmed,
        403,
        { error: 'forbidden' },
      ],
      ['the key of a person who left', leftKey, confirmed, 401, { error: 'unauthorized' }],
      ['no credentials', {}, confirmed, 401, { error: 'unauthorized' }],
    ];
    for (const [who, credentials, body, status, answer] of cases) {
      // The same key each time: a refused request claims nothing, not even its Idempotency-Key.
      const response = await fetch(`${stack.apiUrl}/v1/cancellations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'erp-req-0002', ...credentials },
        body: JSON.stringify(body),
      });
      expect([who, response.status]).toEqual([who, status]);
      expect(await response.json()).toMatchObject(answer);
    }
    expect(await stack.models.Cancellation.countDocuments({ orderNumber })).toBe(0);
    const order = await stack.models.SalesOrder.findOne({ orderNumber }).lean();
    expect(order).toMatchObject({ status: 'allocated', cancellation: { cancellationIds: [] } });

    // The clerk may ask, with the key the refusals used; the cancellation names the caller.
    const accepted = await clerk.createCancellation(confirmed, { idempotencyKey: 'erp-req-0002' });
    expect(accepted).toMatchObject({ orderNumber, existing: false });
    const handle = stack.temporal.workflow.getHandle(accepted.workflowId);
    expect(await handle.result()).toMatchObject({ outcome: 'completed', refundedMinor: 16800 });
    expect(await stack.models.Cancellation.find({ orderNumber }).lean()).toMatchObject([
      { cancellationId: accepted.cancellationId, requestedBy: 'clerk-1' },
    ]);
    // Had a refused request started a workflow, it would be listed for this order beside the accepted one.
    await eventually(async () => {
      const started: string[] = [];
      for await (const execution of stack.temporal.workflow.list({
        query: `CancellationOrderNumber = '${orderNumber}' AND TaskQueue = '${stack.taskQueue}'`,
      })) {
        started.push(execution.workflowId);
      }
      expect(started).toEqual([accepted.workflowId]);
    });
  });
});
