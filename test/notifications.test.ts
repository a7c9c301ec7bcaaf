// Customer and department notifications through the outbox, against the real parts: the mail catcher over
// SMTP (nodemailer), the SMS simulator through the twilio client, the database, and the delivery workflow on
// the run's Temporal server. Also the crash window of the outbox and the customer's feedback (R16).
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import {
  claimOutboxEntry,
  mailMessageId,
  markOutboxSent,
  sendOutboxEntry,
  type OutboxEntry,
} from '../activities/outbox';
import type { CustomerNotificationParams } from '../activities/notification.activities';
import { listMessages, markMessageRead, unreadCount } from '../models/message-centre.model';
import { reducePurchaseOrdersForCancelledLines } from '../models/purchasing';
import { completeRefund, reserveRefund } from '../models/refund-ledger';
import { applyStockMovement } from '../models/stock-ledger';
import { startMailCatcher } from '../simulators';
import { addCustomer, addProduct, placePaidOrder, receiveStock } from '../scripts/demo-data';
import {
  notificationDeliveryWorkflow,
  notificationDeliveryWorkflowId,
  type DeliveryOptions,
} from '../workflows/notification-delivery.workflow';
import { eventually } from './support/eventually';
import { startIntegrationStack, type IntegrationStack } from './support/integration-stack';
import { startsDeliveriesWorkflow } from './support/test-workflows';

let stack: IntegrationStack;

beforeAll(async () => {
  stack = await startIntegrationStack('notifications');
  const { models } = stack;
  await addProduct(models, { sku: 'TEA-1', name: '龙井茶', unitPriceMinor: 16800, currency: 'CNY' });
  await addProduct(models, { sku: 'CUP-1', name: 'Ceramic cup', unitPriceMinor: 4500, currency: 'CNY' });
  await receiveStock(models, 'TEA-1', 100);
  await receiveStock(models, 'CUP-1', 100);
  await addCustomer(models, {
    customerId: 'C-ZH',
    name: '王芳',
    email: 'wang.fang@example.cn',
    phone: '+8613800138000',
    language: 'zh-CN',
  });
  await addCustomer(models, {
    customerId: 'C-EN',
    name: 'Emily Carter',
    email: 'emily@example.com',
    phone: '+14155550123',
    language: 'en',
  });
  await addCustomer(models, {
    customerId: 'C-MAIL-ONLY',
    name: '李娜',
    email: 'li.na@example.cn',
    phone: '+8613900139000',
    language: 'zh-CN',
  });
  await models.Customer.updateOne({ customerId: 'C-MAIL-ONLY' }, { $set: { 'consent.sms': false } });
  await addCustomer(models, {
    customerId: 'C-NO-CONSENT',
    name: '赵敏',
    email: 'zhao.min@example.cn',
    phone: '+8613700137000',
    language: 'zh-CN',
  });
  await models.Customer.updateOne(
    { customerId: 'C-NO-CONSENT' },
    { $set: { 'consent.sms': false, 'consent.email': false } },
  );
});

afterAll(async () => {
  await stack.stop();
});

let orderCount = 0;

/** A paid order of a cup and two packs of tea, with the cancelled lines marked as the books close them. */
async function paidOrder(customerId: string, cancelledLineIds: string[] = ['L1', 'L2']) {
  orderCount += 1;
  const orderNumber = `SO-N-${orderCount}`;
  await placePaidOrder(stack.models, {
    orderNumber,
    customerId,
    currency: 'CNY',
    lines: [
      { lineId: 'L1', sku: 'TEA-1', quantity: 2, unitPriceMinor: 16800 },
      { lineId: 'L2', sku: 'CUP-1', quantity: 1, unitPriceMinor: 4500 },
    ],
  });
  const order = await stack.models.SalesOrder.findOne({ orderNumber }).lean().orFail();
  await stack.models.SalesOrder.updateOne(
    { orderNumber },
    {
      $set: {
        lines: order.lines.map((line) =>
          cancelledLineIds.includes(line.lineId) ? { ...line, cancelledQuantity: line.quantity } : line,
        ),
      },
    },
  );
  return { orderNumber, cancellationId: randomUUID() };
}

function completed(
  customerId: string,
  order: { orderNumber: string; cancellationId: string },
  overrides: Partial<CustomerNotificationParams> = {},
): CustomerNotificationParams {
  return {
    cancellationId: order.cancellationId,
    orderNumber: order.orderNumber,
    customerId,
    moment: 'completed',
    reasonCode: 'out_of_stock',
    refundedMinor: 38100,
    currency: 'CNY',
    lines: [
      { lineId: 'L1', sku: 'TEA-1', quantity: 2 },
      { lineId: 'L2', sku: 'CUP-1', quantity: 1 },
    ],
    ...overrides,
  };
}

/** Runs the delivery workflow for one outbox key to its end. */
async function deliver(key: string, options: DeliveryOptions = {}) {
  return stack.temporal.workflow.execute(notificationDeliveryWorkflow, {
    taskQueue: stack.taskQueue,
    workflowId: notificationDeliveryWorkflowId(key),
    args: [key, options],
  });
}

const entry = (key: string) => stack.models.Notification.findOne({ idempotencyKey: key }).lean().orFail();
const mailsTo = (address: string) => stack.mail.messages.filter((message) => message.to.includes(address));
const smsTo = (number: string) => stack.sms.messages.filter((message) => message.to === number);

describe('customer messages (R12, R18)', () => {
  test('tells a Chinese customer by mail and SMS what was cancelled, why, what happens to money and goods, and what next', async () => {
    const order = await paidOrder('C-ZH');
    const keys = await stack.activities.queueCustomerNotifications(completed('C-ZH', order));
    const [emailKey, smsKey] = [
      `${order.cancellationId}:customer:completed:email`,
      `${order.cancellationId}:customer:completed:sms`,
    ];
    expect(keys).toEqual([emailKey, smsKey]);

    // Recorded, rendered, and not sent yet: the outbox comes first.
    expect(await entry(emailKey)).toMatchObject({
      status: 'queued',
      attempts: 0,
      language: 'zh-CN',
      recipient: 'wang.fang@example.cn',
    });
    expect(
      mailsTo('wang.fang@example.cn').filter((mail) => mail.subject.includes(order.orderNumber)),
    ).toHaveLength(0);

    expect(await deliver(emailKey)).toEqual({ key: emailKey, status: 'sent', alreadyDone: false });
    expect(await deliver(smsKey)).toEqual({ key: smsKey, status: 'sent', alreadyDone: false });

    const feedback = await stack.models.Feedback.findOne({ cancellationId: order.cancellationId })
      .lean()
      .orFail();
    const feedbackUrl = `${stack.apiUrl}/v1/feedback/${feedback.code}`;
    const mail = await stack.mail.waitForMessage(
      (message) => message.subject === `订单 ${order.orderNumber} 已取消`,
    );
    expect(mail.to).toEqual(['wang.fang@example.cn']);
    for (const said of [
      '王芳，您好',
      '龙井茶 (TEA-1) × 2', // what was cancelled
      'Ceramic cup (CUP-1) × 1',
      '原因：商品缺货', // why
      '已退款 ¥381.00，将原路退回您的支付账户', // the money
      '已取消的商品不会发货', // the goods
      '欢迎随时重新下单', // what next
      feedbackUrl,
      feedback.code,
    ]) {
      expect(mail.text).toContain(said);
    }
    expect(mail.html).toContain(`<a href="${feedbackUrl}">`);
    expect(mail.html).toContain('龙井茶 (TEA-1) × 2');
    // The Message-ID is derived from the outbox key: the same on every attempt.
    expect(mail.messageId).toBe(mailMessageId(emailKey));

    const [sms] = smsTo('+8613800138000').filter((message) => message.body.includes(order.orderNumber));
    expect(sms?.body).toContain('¥381.00');
    expect(sms?.body).toContain(feedbackUrl);
    expect(sms?.statusCallback).toBe(`${stack.apiUrl}/v1/webhooks/twilio/status`);

    expect(await entry(emailKey)).toMatchObject({
      status: 'sent',
      attempts: 1,
      providerMessageId: mail.messageId,
    });
    expect(await entry(smsKey)).toMatchObject({ status: 'sent', attempts: 1, providerMessageId: sms?.sid });
  });

  test('tells an English customer in English, and that the rest of a partly cancelled order still ships', async () => {
    const order = await paidOrder('C-EN', ['L2']);
    const keys = await stack.activities.queueCustomerNotifications(
      completed('C-EN', order, {
        reasonCode: 'customer_changed_mind',
        refundedMinor: 4500,
        lines: [{ lineId: 'L2', sku: 'CUP-1', quantity: 1 }],
      }),
    );
    for (const key of keys) await deliver(key);
    const mail = await stack.mail.waitForMessage(
      (message) => message.subject === `Your order ${order.orderNumber} has been cancelled`,
    );
    for (const said of [
      'Dear Emily Carter',
      'Ceramic cup (CUP-1) × 1',
      'because you changed your mind',
      'we have refunded CN¥45.00 to your original payment method',
      'The rest of your order will be delivered as planned',
      'you are welcome to order them again',
      'Please rate how we handled this cancellation',
    ]) {
      expect(mail.text).toContain(said);
    }
    expect(mail.text).not.toContain('TEA-1');
    const [sms] = smsTo('+14155550123').filter((message) => message.body.includes(order.orderNumber));
    expect(sms?.body).toMatch(
      /^cancelflow: order SO-N-\d+ is cancelled \(you changed your mind\)\. CN¥45\.00 is refunded/,
    );
  });

  test.each([
    ['received', 'zh-CN', 'C-ZH', '我们已收到订单', '取消完成后，已付款项将原路退回'],
    ['received', 'en', 'C-EN', 'We received your request to cancel order', 'you need not do anything'],
    ['rejected', 'zh-CN', 'C-ZH', '的取消申请未获批准', '未获批准：订单已出库'],
    ['rejected', 'en', 'C-EN', 'was not accepted', 'was not accepted: 订单已出库'],
    ['withdrawn', 'zh-CN', 'C-ZH', '的取消申请已撤回', '订单照常处理和发货'],
    ['withdrawn', 'en', 'C-EN', 'was withdrawn', 'the order goes ahead and will be delivered'],
  ] as const)(
    'has a %s message in %s, for mail and SMS',
    async (moment, language, customerId, subject, said) => {
      const order = await paidOrder(customerId, []);
      const keys = await stack.activities.queueCustomerNotifications(
        completed(customerId, order, { moment, refusal: '订单已出库', refundedMinor: 0 }),
      );
      const [email, sms] = await Promise.all(keys.map(entry));
      expect(email).toMatchObject({
        channel: 'email',
        language,
        moment,
        template: `customer-${moment}`,
        status: 'queued',
      });
      expect(email?.content?.subject).toContain(subject);
      expect(email?.content?.subject).toContain(order.orderNumber);
      expect(email?.content?.text).toContain(said);
      expect(email?.content?.html).toContain('<p>');
      expect(sms?.content?.body).toContain(order.orderNumber);
      // Only the cancelled message asks for feedback.
      expect(await stack.models.Feedback.countDocuments({ cancellationId: order.cancellationId })).toBe(0);
    },
  );

  test('follows consent: no SMS without SMS consent, and nothing at all without any', async () => {
    const mailOnly = await paidOrder('C-MAIL-ONLY');
    expect(await stack.activities.queueCustomerNotifications(completed('C-MAIL-ONLY', mailOnly))).toEqual([
      `${mailOnly.cancellationId}:customer:completed:email`,
    ]);
    const none = await paidOrder('C-NO-CONSENT');
    expect(await stack.activities.queueCustomerNotifications(completed('C-NO-CONSENT', none))).toEqual([]);
    expect(await stack.models.Notification.countDocuments({ cancellationId: none.cancellationId })).toBe(0);
    expect(smsTo('+8613900139000')).toHaveLength(0);
    expect(mailsTo('zhao.min@example.cn')).toHaveLength(0);
  });

  test('a template variable missing is an error naming it, and nothing is recorded or sent', async () => {
    const order = await paidOrder('C-ZH', []);
    const refusal = await stack.activities
      .queueCustomerNotifications(completed('C-ZH', order, { moment: 'rejected', refusal: undefined }))
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ApplicationFailure);
    expect(refusal).toMatchObject({
      type: 'NotificationNotQueued',
      nonRetryable: true,
      message: 'template customer-rejected.zh-CN is missing {{refusal}}',
      details: [{ field: 'refusal', missing: ['refusal'] }],
    });
    expect(await stack.models.Notification.countDocuments({ cancellationId: order.cancellationId })).toBe(0);
  });

  test("notifyCustomer, the workflow's current activity, sends under the same keys: switching over sends nothing twice", async () => {
    const order = await paidOrder('C-EN');
    const params = completed('C-EN', order);
    const results = await stack.activities.notifyCustomer({
      cancellationId: params.cancellationId,
      orderNumber: params.orderNumber,
      customerId: params.customerId,
      reasonCode: params.reasonCode,
      refundedMinor: params.refundedMinor,
      currency: params.currency,
    });
    expect(results).toEqual([
      { channel: 'email', status: 'sent' },
      { channel: 'sms', status: 'sent' },
    ]);
    const keys = await stack.activities.queueCustomerNotifications(params);
    for (const key of keys) expect(await deliver(key)).toMatchObject({ status: 'sent', alreadyDone: true });
    expect(stack.mail.messages.filter((mail) => mail.subject.includes(order.orderNumber))).toHaveLength(1);
    expect(stack.sms.messages.filter((sms) => sms.body.includes(order.orderNumber))).toHaveLength(1);
  });
});

test('notifyCustomer reports a message it cannot make instead of failing the cancellation', async () => {
  const results = await stack.activities.notifyCustomer({
    cancellationId: randomUUID(),
    orderNumber: 'SO-NOBODY',
    customerId: 'C-NOBODY',
    reasonCode: 'other',
    refundedMinor: 0,
    currency: 'CNY',
  });
  expect(results).toEqual([{ channel: 'email', status: 'skipped', detail: 'no customer C-NOBODY' }]);
});

describe('delivery with retries and backoff', () => {
  test('an SMS provider outage is retried with backoff, and the message is sent once', async () => {
    const order = await paidOrder('C-ZH');
    const [, smsKey] = await stack.activities.queueCustomerNotifications(completed('C-ZH', order));
    stack.sms.failNext(3, { status: 503 });
    const started = Date.now();
    expect(await deliver(smsKey ?? '', { firstRetryAfterMs: 100 })).toMatchObject({ status: 'sent' });
    // Three failures, waits of 100, 200 and 400 ms: the backoff doubles.
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    expect(await entry(smsKey ?? '')).toMatchObject({ status: 'sent', attempts: 4 });
    expect(await entry(smsKey ?? '')).not.toHaveProperty('error');
    expect(stack.sms.messages.filter((sms) => sms.body.includes(order.orderNumber))).toHaveLength(1);
  });

  test('an SMTP outage is retried until the server is back, and the mail is sent once', async () => {
    const order = await paidOrder('C-EN');
    const [emailKey] = await stack.activities.queueCustomerNotifications(completed('C-EN', order));
    const { smtpPort } = stack.mail;
    await stack.mail.close();
    const delivery = deliver(emailKey ?? '', { firstRetryAfterMs: 200 });
    const failing = await eventually(async () => {
      const current = await entry(emailKey ?? '');
      expect(current.attempts).toBeGreaterThanOrEqual(2);
      return current;
    });
    expect(failing).toMatchObject({
      status: 'queued',
      error: expect.stringContaining('ECONNREFUSED') as string,
    });

    stack.mail = await startMailCatcher({ smtpPort, httpPort: 0, logger: false });
    expect(await delivery).toMatchObject({ status: 'sent' });
    expect(stack.mail.messages.filter((mail) => mail.subject.includes(order.orderNumber))).toHaveLength(1);
    expect(await entry(emailKey ?? '')).toMatchObject({ status: 'sent' });
  });

  test("a message the provider refuses for good fails at once, with the provider's error", async () => {
    const order = await paidOrder('C-ZH');
    const [, smsKey] = await stack.activities.queueCustomerNotifications(completed('C-ZH', order));
    stack.sms.failNext(1, { code: 21211 });
    expect(await deliver(smsKey ?? '', { firstRetryAfterMs: 100 })).toMatchObject({ status: 'failed' });
    expect(await entry(smsKey ?? '')).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: "Invalid 'To' Phone Number (Twilio error 21211)",
      failedAt: expect.any(Date) as Date,
    });
  });

  test("retries are bounded: at the end of the window the message is failed with the provider's last error", async () => {
    const order = await paidOrder('C-ZH');
    const [, smsKey] = await stack.activities.queueCustomerNotifications(completed('C-ZH', order));
    stack.sms.failNext(1000, { status: 503 });
    try {
      expect(await deliver(smsKey ?? '', { firstRetryAfterMs: 200, giveUpAfterMs: 2000 })).toMatchObject({
        status: 'failed',
      });
    } finally {
      stack.sms.clear();
    }
    const failed = await entry(smsKey ?? '');
    expect(failed).toMatchObject({ status: 'failed', error: 'Service unavailable (Twilio error 20503)' });
    // Tried again with backoff, then no attempt is started that the window would cut short.
    expect(failed.attempts).toBeGreaterThanOrEqual(2);
  });
});

describe('the one duplicate window of the outbox', () => {
  async function queuedMail() {
    const order = await paidOrder('C-EN');
    const [emailKey] = await stack.activities.queueCustomerNotifications(completed('C-EN', order));
    return { order, key: emailKey ?? '' };
  }
  const copiesOf = (orderNumber: string) =>
    stack.mail.messages.filter((mail) => mail.subject.includes(orderNumber));

  test('a crash after the provider accepted and before the record: the retry sends it again (errs towards twice)', async () => {
    const { order, key } = await queuedMail();
    const claim = await claimOutboxEntry(stack.models, key);
    expect(claim.kind).toBe('claimed');
    await sendOutboxEntry(stack.deps, (claim as { entry: OutboxEntry }).entry);
    // …and the worker dies here, before markOutboxSent.
    await stack.mail.waitForMessage((mail) => mail.subject.includes(order.orderNumber));

    // While the dead attempt's claim runs, a retry waits rather than send a second copy…
    await expect(stack.activities.deliverNotification(key)).rejects.toMatchObject({
      type: 'NotificationBusy',
    });
    expect(copiesOf(order.orderNumber)).toHaveLength(1);
    // …and once it ran out, the retry cannot know the provider took it, and sends again.
    await stack.models.Notification.updateOne(
      { idempotencyKey: key },
      { $set: { claimedUntil: new Date(Date.now() - 1) } },
    );
    expect(await stack.activities.deliverNotification(key)).toEqual({
      key,
      status: 'sent',
      alreadyDone: false,
    });

    const copies = copiesOf(order.orderNumber);
    expect(copies).toHaveLength(2);
    // Both carry the same Message-ID, so a receiving system can drop the second.
    expect(new Set(copies.map((mail) => mail.messageId))).toEqual(new Set([mailMessageId(key)]));
    expect(await entry(key)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  test('a crash after the record: the retry sends nothing', async () => {
    const { order, key } = await queuedMail();
    const claim = await claimOutboxEntry(stack.models, key);
    const providerMessageId = await sendOutboxEntry(stack.deps, (claim as { entry: OutboxEntry }).entry);
    await markOutboxSent(stack.models, key, providerMessageId);
    // …and the worker dies here, before the activity reported its result: Temporal retries it.
    expect(await stack.activities.deliverNotification(key)).toEqual({
      key,
      status: 'sent',
      alreadyDone: true,
    });
    expect(await deliver(key)).toEqual({ key, status: 'sent', alreadyDone: true });
    await stack.mail.waitForMessage((mail) => mail.subject.includes(order.orderNumber));
    expect(copiesOf(order.orderNumber)).toHaveLength(1);
    expect(await entry(key)).toMatchObject({ status: 'sent', attempts: 1 });
  });
});

test('deliveries started by a workflow outlive it (ParentClosePolicy ABANDON), once per key', async () => {
  const order = await paidOrder('C-EN');
  const keys = await stack.activities.queueCustomerNotifications(completed('C-EN', order));
  const { smtpPort } = stack.mail;
  await stack.mail.close();

  const parent = await stack.temporal.workflow.start(startsDeliveriesWorkflow, {
    taskQueue: stack.taskQueue,
    workflowId: `starts-deliveries-${order.cancellationId}`,
    args: [keys, { firstRetryAfterMs: 200 }],
  });
  await parent.result();
  expect((await parent.describe()).status.name).toBe('COMPLETED');

  // The parent ended; the mail's delivery goes on retrying on its own.
  const mailDelivery = stack.temporal.workflow.getHandle(notificationDeliveryWorkflowId(keys[0] ?? ''));
  await eventually(async () => expect((await entry(keys[0] ?? '')).attempts).toBeGreaterThanOrEqual(2));
  const running = await mailDelivery.describe();
  expect(running.status.name).toBe('RUNNING');
  expect(running.parentExecution?.workflowId).toBe(parent.workflowId);

  stack.mail = await startMailCatcher({ smtpPort, httpPort: 0, logger: false });
  expect(await mailDelivery.result()).toMatchObject({ status: 'sent' });
  expect(
    await stack.temporal.workflow.getHandle(notificationDeliveryWorkflowId(keys[1] ?? '')).result(),
  ).toMatchObject({
    status: 'sent',
  });
  // Started twice by the parent, sent once.
  expect(stack.mail.messages.filter((mail) => mail.subject.includes(order.orderNumber))).toHaveLength(1);
  expect(stack.sms.messages.filter((sms) => sms.body.includes(order.orderNumber))).toHaveLength(1);
});

/** Every string and decoded payload in a workflow history: what a reader of the history can see. */
function historyText(value: unknown, texts: string[] = []): string[] {
  if (value instanceof Uint8Array) texts.push(Buffer.from(value).toString('utf8'));
  else if (typeof value === 'string') texts.push(value);
  else if (value && typeof value === 'object')
    for (const field of Object.values(value)) historyText(field, texts);
  return texts;
}

test('secrets reach neither workflow history nor logs; a delivery’s history holds its key, not the message', async () => {
  const order = await paidOrder('C-ZH');
  const [emailKey, smsKey] = await stack.activities.queueCustomerNotifications(completed('C-ZH', order));
  stack.sms.failNext(1, { status: 503 });
  for (const key of [emailKey ?? '', smsKey ?? '']) await deliver(key, { firstRetryAfterMs: 100 });

  const logs = JSON.stringify(stack.logs);
  for (const key of [emailKey ?? '', smsKey ?? '']) {
    const history = historyText(
      await stack.temporal.workflow.getHandle(notificationDeliveryWorkflowId(key)).fetchHistory(),
    ).join('\n');
    expect(history).toContain(key);
    for (const secret of [stack.webhooks.twilioAuthToken, stack.webhooks.carrierWebhookSecret]) {
      expect(history).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
    for (const personal of ['wang.fang@example.cn', '+8613800138000', '王芳', '龙井茶'])
      expect(history).not.toContain(personal);
  }
  // The failed attempt's provider error is in the history (the activity's failure); credentials are not.
  expect(
    historyText(
      await stack.temporal.workflow.getHandle(notificationDeliveryWorkflowId(smsKey ?? '')).fetchHistory(),
    ).join('\n'),
  ).toContain('Service unavailable');
});

describe('departments (R6, R19, R24)', () => {
  const people = [
    { personId: 'sales-zh', name: '陈静', language: 'zh-CN', department: 'sales', active: true },
    { personId: 'sales-en', name: 'Tom Baker', language: 'en', department: 'sales', active: true },
    { personId: 'sales-gone', name: '周杰', language: 'zh-CN', department: 'sales', active: false },
    { personId: 'finance-en', name: 'Grace Lin', language: 'en', department: 'finance', active: true },
    { personId: 'purchasing-zh', name: '孙丽', language: 'zh-CN', department: 'purchasing', active: true },
    { personId: 'logistics-zh', name: '吴刚', language: 'zh-CN', department: 'logistics', active: true },
  ] as const;

  beforeAll(async () => {
    const { models } = stack;
    for (const [code, zh, en] of [
      ['sales', '销售部', 'Sales'],
      ['finance', '财务部', 'Finance'],
      ['purchasing', '采购部', 'Purchasing'],
      ['logistics', '物流部', 'Logistics'],
    ] as const) {
      await models.Department.create({ code, name: { 'zh-CN': zh, en }, email: `${code}@cancelflow.local` });
    }
    for (const person of people)
      await models.Person.create({ ...person, email: `${person.personId}@cancelflow.local` });
  });

  /** An order whose stock, purchase order and refund the books moved under the cancellation's keys. */
  async function cancelledThroughTheBooks() {
    orderCount += 1;
    const orderNumber = `SO-DEPT-${orderCount}`;
    const cancellationId = randomUUID();
    const { models } = stack;
    await placePaidOrder(models, {
      orderNumber,
      customerId: 'C-ZH',
      currency: 'CNY',
      lines: [{ lineId: 'L1', sku: 'TEA-1', quantity: 3, unitPriceMinor: 16800 }],
    });
    await models.PurchaseOrder.create({
      poNumber: `PO-${orderNumber}`,
      supplier: { supplierId: 'SUP-1', name: '杭州茶园' },
      status: 'confirmed',
      currency: 'CNY',
      warehouse: 'WH-SH-01',
      lines: [
        {
          lineId: 'P1',
          sku: 'TEA-1',
          unitCostMinor: 9000,
          orderedQuantity: 3,
          raisedFor: [{ orderNumber, lineId: 'L1', kind: 'back_order', quantity: 3 }],
        },
      ],
    });
    await applyStockMovement(models, {
      idempotencyKey: `${cancellationId}:release:L1`,
      type: 'release',
      sku: 'TEA-1',
      warehouse: 'WH-SH-01',
      onHandDelta: 0,
      reservedDelta: -3,
      document: { kind: 'sales_order', id: orderNumber, lineId: 'L1' },
      actor: 'cancelflow',
    });
    await reducePurchaseOrdersForCancelledLines(models, {
      idempotencyKey: `${cancellationId}:reduce-purchase-orders`,
      orderNumber,
      lines: [{ lineId: 'L1', quantity: 3 }],
      actor: 'cancelflow',
      reason: `cancellation ${cancellationId}`,
    });
    const refundKey = `${cancellationId}:refund:PAY-${orderNumber}`;
    await reserveRefund(models, {
      idempotencyKey: refundKey,
      paymentId: `PAY-${orderNumber}`,
      orderNumber,
      cancellationId,
      amountMinor: 50400,
      currency: 'CNY',
    });
    await completeRefund(models, refundKey, 're_dept_1');
    return { orderNumber, cancellationId, refundKey };
  }

  const inbox = async (personId: string, orderNumber: string) =>
    (await listMessages(stack.models, personId)).filter((message) => message.orderNumber === orderNumber);

  test('each hears what concerns it: in every active member’s message centre, in their language, and by mail', async () => {
    const { orderNumber, cancellationId, refundKey } = await cancelledThroughTheBooks();
    const params = {
      cancellationId,
      orderNumber,
      moment: 'completed' as const,
      reasonCode: 'out_of_stock' as const,
      lines: [{ lineId: 'L1', sku: 'TEA-1', quantity: 3 }],
    };
    const keys = await stack.activities.queueDepartmentNotifications(params);
    expect(keys).toEqual(
      ['sales', 'finance', 'purchasing', 'logistics'].map(
        (code) => `${cancellationId}:department:${code}:completed:email`,
      ),
    );

    // Sales sees everything, each member in their own language; who left sees nothing.
    const [salesZh] = await inbox('sales-zh', orderNumber);
    expect(salesZh).toMatchObject({
      title: `订单 ${orderNumber} 已取消`,
      category: 'cancellation_progress',
      language: 'zh-CN',
      department: 'sales',
    });
    for (const said of [
      '原因：商品缺货',
      '龙井茶 (TEA-1) × 3',
      '退款 ¥504.00',
      `采购单 PO-${orderNumber} 行 P1：减少 3 件（需通知供应商）`,
      'TEA-1 @ WH-SH-01：释放预留 3 件',
    ]) {
      expect(salesZh?.body).toContain(said);
    }
    const [salesEn] = await inbox('sales-en', orderNumber);
    expect(salesEn).toMatchObject({ title: `Order ${orderNumber} cancelled`, language: 'en' });
    expect(salesEn?.body).toContain('refund of CN¥504.00');
    expect(await inbox('sales-gone', orderNumber)).toEqual([]);

    // Finance: the refund and its voucher.
    const [finance] = await inbox('finance-en', orderNumber);
    expect(finance).toMatchObject({ category: 'refund', language: 'en' });
    expect(finance?.body).toContain(
      `refund of CN¥504.00 on payment PAY-${orderNumber}, gateway refund re_dept_1, succeeded`,
    );
    expect(finance?.body).toContain(
      `voucher ${refundKey}:voucher: Dr 6001 sales revenue CN¥504.00; Cr 1002 bank deposits CN¥504.00`,
    );
    expect(finance?.body).not.toContain('PO-');
    // Purchasing: the purchase order reduced; logistics: the stock released.
    const [purchasing] = await inbox('purchasing-zh', orderNumber);
    expect(purchasing).toMatchObject({ category: 'purchasing' });
    expect(purchasing?.body).toContain(`采购单 PO-${orderNumber} 行 P1：减少 3 件（需通知供应商）`);
    expect(purchasing?.body).not.toContain('退款');
    const [logistics] = await inbox('logistics-zh', orderNumber);
    expect(logistics).toMatchObject({ category: 'logistics' });
    expect(logistics?.body).toContain('TEA-1 @ WH-SH-01：释放预留 3 件');

    // Read and unread per person.
    expect(await unreadCount(stack.models, 'sales-zh')).toBe(1);
    expect(await markMessageRead(stack.models, 'sales-zh', salesZh?.messageId ?? '')).toBe(true);
    expect(await unreadCount(stack.models, 'sales-zh')).toBe(0);
    expect(await unreadCount(stack.models, 'sales-en')).toBe(1);

    // The mailboxes, in both languages, through the outbox.
    for (const key of keys) expect(await deliver(key)).toMatchObject({ status: 'sent' });
    const financeMail = await stack.mail.waitForMessage(
      (mail) => mail.to.includes('finance@cancelflow.local') && mail.subject.includes(orderNumber),
    );
    expect(financeMail.subject).toBe(`订单 ${orderNumber} 已取消 / Order ${orderNumber} cancelled`);
    expect(financeMail.text).toContain('退款 ¥504.00');
    expect(financeMail.text).toContain('refund of CN¥504.00');
    for (const code of ['sales', 'purchasing', 'logistics']) {
      expect(
        stack.mail.messages.filter(
          (mail) => mail.to.includes(`${code}@cancelflow.local`) && mail.subject.includes(orderNumber),
        ),
      ).toHaveLength(1);
    }

    // Asked again (a retried activity): the same keys, no second entry anywhere.
    const entries = await stack.models.MessageCentreEntry.countDocuments({ cancellationId });
    expect(entries).toBe(5);
    expect(await stack.activities.queueDepartmentNotifications(params)).toEqual(keys);
    expect(await stack.models.MessageCentreEntry.countDocuments({ cancellationId })).toBe(entries);
    expect(await stack.models.Notification.countDocuments({ cancellationId })).toBe(4);
  });

  test('a request concerns sales and logistics (hold the goods); a completion without money or purchasing spares finance and purchasing', async () => {
    orderCount += 1;
    const orderNumber = `SO-DEPT-${orderCount}`;
    const cancellationId = randomUUID();
    const base = {
      cancellationId,
      orderNumber,
      reasonCode: 'duplicate_order' as const,
      lines: [{ lineId: 'L1', sku: 'CUP-1', quantity: 1 }],
    };
    expect(await stack.activities.queueDepartmentNotifications({ ...base, moment: 'received' })).toEqual([
      `${cancellationId}:department:sales:received:email`,
      `${cancellationId}:department:logistics:received:email`,
    ]);
    const [logistics] = await inbox('logistics-zh', orderNumber);
    expect(logistics?.body).toContain('请暂缓发货这些商品，等待取消结果。');
    expect(await inbox('finance-en', orderNumber)).toEqual([]);

    expect(await stack.activities.queueDepartmentNotifications({ ...base, moment: 'completed' })).toEqual([
      `${cancellationId}:department:sales:completed:email`,
      `${cancellationId}:department:logistics:completed:email`,
    ]);
    expect(await inbox('finance-en', orderNumber)).toEqual([]);
    expect(await inbox('purchasing-zh', orderNumber)).toEqual([]);
  });

  test('a template variable missing is an error naming it, and no department hears anything', async () => {
    const cancellationId = randomUUID();
    const refusal = await stack.activities
      .queueDepartmentNotifications({
        cancellationId,
        orderNumber: 'SO-DEPT-X',
        moment: 'rejected',
        reasonCode: 'other',
      })
      .catch((error: unknown) => error);
    expect(refusal).toMatchObject({
      type: 'NotificationNotQueued',
      message: 'template department-sales-rejected.zh-CN is missing {{refusal}}',
      details: [{ field: 'refusal' }],
    });
    expect(await stack.models.MessageCentreEntry.countDocuments({ cancellationId })).toBe(0);
    expect(await stack.models.Notification.countDocuments({ cancellationId })).toBe(0);
  });
});

describe('the cancellation’s notifications and feedback over the API (R16, R17)', () => {
  let order: { orderNumber: string; cancellationId: string };
  let code: string;

  beforeAll(async () => {
    order = await paidOrder('C-ZH');
    const keys = await stack.activities.queueCustomerNotifications(completed('C-ZH', order));
    for (const key of keys) await deliver(key);
    code = (await stack.models.Feedback.findOne({ cancellationId: order.cancellationId }).lean().orFail())
      .code;
  });

  const post = (feedbackCode: string, body: unknown) =>
    fetch(`${stack.apiUrl}/v1/feedback/${feedbackCode}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  test('lists the notifications with their delivery status', async () => {
    const response = await fetch(`${stack.apiUrl}/v1/cancellations/${order.cancellationId}/notifications`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { notifications: Record<string, unknown>[] };
    expect(body.notifications).toEqual([
      expect.objectContaining({
        channel: 'email',
        recipient: 'wang.fang@example.cn',
        moment: 'completed',
        status: 'sent',
        attempts: 1,
      }),
      expect.objectContaining({
        channel: 'sms',
        recipient: '+8613800138000',
        moment: 'completed',
        status: 'sent',
        attempts: 1,
      }),
    ]);
    expect(body.notifications[0]).not.toHaveProperty('content');
  });

  test('refuses a bad rating naming the field, and an unknown code with 404', async () => {
    for (const body of [
      { rating: 0 },
      { rating: 6 },
      { rating: 4.5 },
      { rating: '5' },
      {},
      { rating: 5, extra: 1 },
    ]) {
      const response = await post(code, body);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'validation_failed' });
    }
    expect(await (await post(code, { rating: 0 })).json()).toMatchObject({ details: { field: 'rating' } });
    const unknown = await post('NOSUCHCODE', { rating: 5 });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'not_found', details: { field: 'code' } });
    expect(await stack.models.Feedback.findOne({ code }).lean()).toMatchObject({
      rating: null,
      submittedAt: null,
    });
  });

  test('stores the rating and comment with the cancellation, once per code', async () => {
    expect(await (await fetch(`${stack.apiUrl}/v1/feedback/${code}`)).json()).toMatchObject({
      orderNumber: order.orderNumber,
      rated: false,
    });
    const first = await post(code, { rating: 5, comment: '退款很快，谢谢' });
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({
      cancellationId: order.cancellationId,
      rating: 5,
      comment: '退款很快，谢谢',
    });

    const again = await post(code, { rating: 1, comment: 'changed my mind' });
    expect(again.status).toBe(409);
    const stored = await fetch(`${stack.apiUrl}/v1/cancellations/${order.cancellationId}/feedback`);
    expect(await stored.json()).toMatchObject({ code, rating: 5, comment: '退款很快，谢谢' });
    expect(await stack.models.Feedback.countDocuments({ cancellationId: order.cancellationId })).toBe(1);
  });
});
