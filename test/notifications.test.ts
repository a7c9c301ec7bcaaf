// Customer and department notifications through the outbox, against the real parts: the mail catcher over
// SMTP (nodemailer), the SMS simulator through the twilio client, the database, and the delivery workflow on
// the run's Temporal server. Also the crash window of the outbox and the customer's feedback (R16).
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { NoticesParams } from '../activities/notices.activities';
import { ApplicationFailure } from '@temporalio/common';
import { sendOutboxEntry } from '../activities/outbox';
import {
  customerNotificationKey,
  type CustomerNotificationParams,
} from '../activities/notification.activities';
import { DEPARTMENTS_BY_MOMENT } from '../rules/notices.rules';
import { listMessages, markMessageRead, unreadCount } from '../models/message-centre';
import {
  claimOutboxEntries,
  claimOutboxEntry,
  mailMessageId,
  markOutboxSent,
  type OutboxEntry,
} from '../models/outbox';
import { linkToOrder } from '../models/order-links';
import { reducePurchaseOrdersForCancelledLines } from '../models/purchasing';
import { completeRefund, reserveRefund } from '../models/refund-ledger';
import type { ShipmentStatus } from '../models/shipment.model';
import { applyStockMovement } from '../models/stock-ledger';
import { returnShippedStock } from '../models/stock-operations';
import { startMailCatcher } from '../simulators';
import { issueApiKey } from '../models/credentials';
import {
  addCustomer,
  addPeople,
  addProduct,
  addWarehouse,
  DEMO_PEOPLE,
  placePaidOrder,
  receiveStock,
} from '../generators/demo-data';
import { makeCustomer, type GeneratedCustomer } from '../generators/books/customers';
import type { ResolutionOffer } from '../contracts/cancellation.contract';
import { notificationDeliveryWorkflowId, type DeliveryOptions } from '../contracts/delivery.contract';
import { notificationDeliveryWorkflow } from '../workflows/notification-delivery.workflow';
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
    // Written as customers write them (generators/books/customers.ts); SMS go to the E.164 number.
    phone: '138-0013-8000',
    country: 'CN',
    language: 'zh-CN',
  });
  await addCustomer(models, {
    customerId: 'C-EN',
    name: 'Emily Carter',
    email: 'emily@example.com',
    phone: '+1 (415) 555-0123',
    country: 'US',
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
    expect(feedback.code).toBeTruthy();
    // Feedback is given on the customer's own page, which the signed link opens (its signature and expiry follow).
    const feedbackUrl = `${stack.apiUrl}/customer/cancellations/${order.cancellationId}?order=${order.orderNumber}`;
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
    expect(mail.html).toContain(`<a href="${feedbackUrl}&amp;expires=`);
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

  test('queueCustomerCompletion records the cancelled message under the same keys, sends nothing itself, and says queued', async () => {
    const order = await paidOrder('C-EN');
    const params = completed('C-EN', order);
    const { moment: _moment, ...effect } = params;
    const queued = await stack.activities.queueCustomerCompletion({
      ...effect,
      goods: 'released',
      deductionMinor: 0,
    });
    expect(queued.results).toEqual([
      { channel: 'email', status: 'queued' },
      { channel: 'sms', status: 'queued' },
    ]);
    expect(queued.keys).toEqual(await stack.activities.queueCustomerNotifications(params));
    for (const key of queued.keys) expect(await entry(key)).toMatchObject({ status: 'queued', attempts: 0 });
    expect((await entry(queued.keys[0] ?? '')).content?.text).toContain('/customer/cancellations/');
    expect(stack.mail.messages.filter((mail) => mail.subject.includes(order.orderNumber))).toHaveLength(0);
    for (const key of queued.keys)
      expect(await deliver(key)).toMatchObject({ status: 'sent', alreadyDone: false });
    for (const key of queued.keys)
      expect(await deliver(key)).toMatchObject({ status: 'sent', alreadyDone: true });
    expect(stack.mail.messages.filter((mail) => mail.subject.includes(order.orderNumber))).toHaveLength(1);
    expect(stack.sms.messages.filter((sms) => sms.body.includes(order.orderNumber))).toHaveLength(1);
  });

  test('notifyCustomer, the activity of histories recorded before the patch, sends under the same keys: switching over sends nothing twice', async () => {
    const order = await paidOrder('C-EN');
    const params = completed('C-EN', order);
    const results = await stack.activities.notifyCustomer({
      cancellationId: params.cancellationId,
      orderNumber: params.orderNumber,
      customerId: params.customerId,
      reasonCode: params.reasonCode,
      refundedMinor: params.refundedMinor,
      currency: params.currency,
      goods: 'released',
      deductionMinor: 0,
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

/** The start of the signed link to the customer's own page for this cancellation (issue #14). */
const customerPage = (order: { cancellationId: string; orderNumber: string }) =>
  `${stack.apiUrl}/customer/cancellations/${order.cancellationId}?order=${order.orderNumber}`;
/** The expiry and signature a message's link carries, as sent (they depend on when it was written). */
const linkExpiry = (text: string | undefined) =>
  /&expires=(\d+&sig=[\w-]+)/.exec(text ?? '')?.[1] ?? 'missing';

test('notifyCustomer reports a message it cannot make instead of failing the cancellation', async () => {
  const results = await stack.activities.notifyCustomer({
    cancellationId: randomUUID(),
    orderNumber: 'SO-NOBODY',
    customerId: 'C-NOBODY',
    reasonCode: 'other',
    refundedMinor: 0,
    currency: 'CNY',
    goods: 'released',
    deductionMinor: 0,
  });
  expect(results).toEqual([{ channel: 'email', status: 'skipped', detail: 'no customer C-NOBODY' }]);
});

test('queueCustomerCompletion, what the workflow calls now, records without sending and reports a message it cannot make', async () => {
  const nobody = randomUUID();
  expect(
    await stack.activities.queueCustomerCompletion({
      cancellationId: nobody,
      orderNumber: 'SO-NOBODY',
      customerId: 'C-NOBODY',
      reasonCode: 'other',
      refundedMinor: 0,
      currency: 'CNY',
      goods: 'released',
      deductionMinor: 0,
    }),
  ).toEqual({ keys: [], results: [{ channel: 'email', status: 'skipped', detail: 'no customer C-NOBODY' }] });
  expect(await stack.models.Notification.countDocuments({ cancellationId: nobody })).toBe(0);
});

describe('a customer told of the request hears how it ended', () => {
  // The run's steps on our books are local activities, kept in history only when their workflow task completes.
  // `npm run chaos` found a task lost with its worker that had told the customer "received", and the run that
  // replaced it meeting a withdrawal before any review: it did not know the customer, and told them nothing.
  async function withdrawnBeforeReview(customerToldBefore: boolean) {
    // No order is placed: the notices read only the cancellation record (the books' stock is other tests').
    orderCount += 1;
    const order = { orderNumber: `SO-TOLD-${orderCount}`, cancellationId: randomUUID() };
    const received = customerToldBefore
      ? await stack.activities.queueCustomerNotifications(
          completed('C-ZH', order, { moment: 'received', refundedMinor: 0 }),
        )
      : [];
    await stack.models.Cancellation.create({
      cancellationId: order.cancellationId,
      workflowId: `cancellation-${order.cancellationId}`,
      orderNumber: order.orderNumber,
      customerId: 'C-ZH',
      reasonCode: 'out_of_stock',
      requestedBy: 'clerk-1',
      state: 'withdrawn',
    });
    // As the replacing run asks at its end: the departments' notice, no customer's (it never reviewed the order).
    const notices: NoticesParams = {
      departments: {
        cancellationId: order.cancellationId,
        orderNumber: order.orderNumber,
        moment: 'withdrawn',
        reasonCode: 'out_of_stock',
        departments: [],
      },
    };
    const handed = await new MockActivityEnvironment({ taskQueue: stack.taskQueue }).run(
      (params: NoticesParams) => stack.activities.recordAndDeliverNotices(params),
      notices,
    );
    return { order, received, handed };
  }

  test('also when the run that ended it never reviewed the order: the "received" a lost task left goes out first', async () => {
    const { order, received, handed } = await withdrawnBeforeReview(true);
    const withdrawn = (['email', 'sms'] as const).map((channel) =>
      customerNotificationKey(order.cancellationId, 'withdrawn', channel),
    );
    expect(handed).toEqual([...received, ...withdrawn]);
    const aboutOrder = <T extends { subject?: string; body?: string }>(messages: T[]) =>
      messages.filter((message) => (message.subject ?? message.body ?? '').includes(order.orderNumber));
    await eventually(async () => {
      for (const key of [...received, ...withdrawn])
        expect((await entry(key)).status).toMatch(/^(sent|delivered)$/);
    });
    expect(aboutOrder(mailsTo('wang.fang@example.cn'))).toHaveLength(2);
    expect(aboutOrder(smsTo('+8613800138000'))).toHaveLength(2);
  });

  test('a customer never told of the request is told nothing of its withdrawal', async () => {
    const { order, handed } = await withdrawnBeforeReview(false);
    expect(handed).toEqual([]);
    expect(
      await stack.models.Notification.countDocuments({
        idempotencyKey: { $regex: `^${order.cancellationId}:customer:` },
      }),
    ).toBe(0);
  });
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

test('two batch attempts claiming the same entries at once: each entry goes to exactly one of them', async () => {
  const keys: string[] = [];
  for (const customer of ['C-EN', 'C-ZH', 'C-EN']) {
    const order = await paidOrder(customer);
    keys.push(...(await stack.activities.queueCustomerNotifications(completed(customer, order))));
  }
  const [first, second] = await Promise.all([
    claimOutboxEntries(stack.models, keys),
    claimOutboxEntries(stack.models, [...keys].reverse()),
  ]);
  for (const key of keys) {
    const kinds = [first.get(key)?.kind, second.get(key)?.kind].sort();
    expect(kinds).toEqual(['busy', 'claimed']);
  }
  const stored = await stack.models.Notification.find({ idempotencyKey: { $in: keys } }).lean();
  expect(stored.map((entry) => entry.attempts)).toEqual(keys.map(() => 1));
  // A key the outbox does not have is left out, never thrown for the others.
  const withUnknown = await claimOutboxEntries(stack.models, [keys[0] ?? '', 'no-such-key']);
  expect(withUnknown.get('no-such-key')).toBeUndefined();
  expect(withUnknown.get(keys[0] ?? '')?.kind).toBe('busy');
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

const people = [
  { personId: 'sales-zh', name: '陈静', language: 'zh-CN', department: 'sales', active: true },
  { personId: 'sales-en', name: 'Tom Baker', language: 'en', department: 'sales', active: true },
  { personId: 'sales-gone', name: '周杰', language: 'zh-CN', department: 'sales', active: false },
  { personId: 'finance-en', name: 'Grace Lin', language: 'en', department: 'finance', active: true },
  { personId: 'purchasing-zh', name: '孙丽', language: 'zh-CN', department: 'purchasing', active: true },
  { personId: 'logistics-zh', name: '吴刚', language: 'zh-CN', department: 'logistics', active: true },
] as const;

/** The four departments with their mailboxes, and their people: once, whichever block runs first. */
async function ensureOrganisation() {
  const { models } = stack;
  for (const [code, zh, en] of [
    ['sales', '销售部', 'Sales'],
    ['finance', '财务部', 'Finance'],
    ['purchasing', '采购部', 'Purchasing'],
    ['logistics', '物流部', 'Logistics'],
  ] as const) {
    await models.Department.updateOne(
      { code },
      { $setOnInsert: { code, name: { 'zh-CN': zh, en }, email: `${code}@cancelflow.local` } },
      { upsert: true },
    );
  }
  for (const person of people) {
    await models.Person.updateOne(
      { personId: person.personId },
      { $setOnInsert: { ...person, email: `${person.personId}@cancelflow.local` } },
      { upsert: true },
    );
  }
}

const inbox = async (personId: string, orderNumber: string) =>
  (await listMessages(stack.models, personId)).filter((message) => message.orderNumber === orderNumber);

describe('departments (R6, R19, R24)', () => {
  beforeAll(ensureOrganisation);

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
    await linkToOrder(models, orderNumber, { purchaseOrderNumbers: [`PO-${orderNumber}`] });
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
  /** Reading a cancellation's notifications and feedback takes credentials: ops-1's API key. */
  let credentials: { authorization: string };

  beforeAll(async () => {
    await addPeople(
      stack.models,
      DEMO_PEOPLE.filter((person) => person.personId === 'ops-1'),
    );
    const { token } = await issueApiKey(stack.models, {
      name: 'notifications test',
      personId: 'ops-1',
      scopes: ['ops'],
      createdBy: 'test',
    });
    credentials = { authorization: `Bearer ${token}` };
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
    const response = await fetch(`${stack.apiUrl}/v1/cancellations/${order.cancellationId}/notifications`, {
      headers: credentials,
    });
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
    const stored = await fetch(`${stack.apiUrl}/v1/cancellations/${order.cancellationId}/feedback`, {
      headers: credentials,
    });
    expect(await stored.json()).toMatchObject({ code, rating: 5, comment: '退款很快，谢谢' });
    expect(await stack.models.Feedback.countDocuments({ cancellationId: order.cancellationId })).toBe(1);
  });
});

describe('when the goods already left: options, re-delivery, recall and returns (R5, R9, R12)', () => {
  const decideBy = '2026-12-05T18:00:00.000Z';
  const everyOption: ResolutionOffer = {
    options: ['return', 'redelivery', 'refund_without_return'],
    defaultOption: 'return',
    decideBy,
    refundableMinor: 38100,
    deductionMinor: 11430,
  };

  beforeAll(async () => {
    await addCustomer(stack.models, {
      customerId: 'C-HTML',
      name: "Zoë <b>O'Neil</b> & Co",
      email: 'zoe@example.com',
      phone: '+14155550999',
      language: 'en',
    });
    await ensureOrganisation();
  });

  /** Parcels of the order that left the warehouse, one per entry, each carrying the lines it names. */
  async function shipped(
    orderNumber: string,
    parcels: { status: ShipmentStatus; lines: ('L1' | 'L2')[]; warehouse?: string }[],
  ) {
    const contents = {
      L1: { lineId: 'L1', sku: 'TEA-1', quantity: 2 },
      L2: { lineId: 'L2', sku: 'CUP-1', quantity: 1 },
    };
    const shipmentIds: string[] = [];
    for (const [index, parcel] of parcels.entries()) {
      const shipmentId = `SH-${orderNumber}-${index + 1}`;
      await linkToOrder(stack.models, orderNumber, { shipmentIds: [shipmentId] });
      await stack.models.Shipment.create({
        shipmentId,
        orderNumber,
        warehouse: parcel.warehouse ?? 'WH-SH-01',
        carrier: 'SF',
        trackingNumber: `SF${orderNumber}${index + 1}`,
        status: parcel.status,
        lines: parcel.lines.map((lineId) => contents[lineId]),
      });
      shipmentIds.push(shipmentId);
    }
    return shipmentIds;
  }

  const offered = (
    customerId: string,
    order: { orderNumber: string; cancellationId: string },
    overrides: Partial<CustomerNotificationParams> = {},
  ) =>
    completed(customerId, order, {
      moment: 'options_offered',
      reasonCode: 'customer_changed_mind',
      refundedMinor: 0,
      offer: everyOption,
      ...overrides,
    });

  test('offers a Chinese customer every option with its money, the deadline and the default, by mail and SMS', async () => {
    const order = await paidOrder('C-ZH', []);
    await shipped(order.orderNumber, [{ status: 'delivered', lines: ['L1', 'L2'] }]);
    const keys = await stack.activities.queueCustomerNotifications(offered('C-ZH', order));
    expect(keys).toEqual(
      ['email', 'sms'].map((channel) => `${order.cancellationId}:customer:options_offered:${channel}`),
    );
    expect(await entry(keys[0] ?? '')).toMatchObject({
      moment: 'options_offered',
      template: 'customer-options_offered',
      language: 'zh-CN',
      status: 'queued',
    });
    for (const key of keys) expect(await deliver(key)).toMatchObject({ status: 'sent' });

    const mail = await stack.mail.waitForMessage(
      (message) =>
        message.subject === `订单 ${order.orderNumber} 的取消：请在 2026年12月5日 18:00 (UTC) 前选择处理方式`,
    );
    for (const said of [
      '王芳，您好',
      `取消订单 ${order.orderNumber} 的申请（取消编号 ${order.cancellationId}），原因：您改变了主意`,
      '龙井茶 (TEA-1) × 2',
      'Ceramic cup (CUP-1) × 1',
      '商品：商品已送达，无法再停止配送。',
      '1. 退货退款：请将商品寄回我们的仓库',
      '仓库收到后，全额退款 ¥381.00，原路退回您的支付账户。',
      '2. 重新配送：订单继续有效，我们重新为您配送商品；付款不变，不退款。',
      // 381.00 − 114.30 = 266.70
      '3. 不退货退款：商品由您保留，我们退还 ¥266.70（¥381.00 扣除 ¥114.30）。',
      `请在 2026年12月5日 18:00 (UTC) 前答复：直接回复本邮件写明所选方式的序号，或联系客服并提供取消编号 ${order.cancellationId}。`,
      '如届时未收到您的答复：我们将按「退货退款」处理：寄回商品，到仓后全额退款¥381.00。',
    ]) {
      expect(mail.text).toContain(said);
    }
    expect(mail.html).toContain('3. 不退货退款：商品由您保留，我们退还 ¥266.70（¥381.00 扣除 ¥114.30）。');
    expect(mail.messageId).toBe(mailMessageId(keys[0] ?? ''));

    const [sms] = smsTo('+8613800138000').filter((message) => message.body.includes(order.orderNumber));
    expect(sms?.body).toBe(
      `【cancelflow】订单${order.orderNumber}的商品已送达。请于2026年12月5日 18:00 (UTC)前选择：` +
        '1.退货退款（寄回商品，到仓后全额退款¥381.00） 2.重新配送（订单继续，不退款） 3.不退货退款（保留商品，退款¥266.70）。' +
        `回复邮件或联系客服（取消编号${order.cancellationId}）；逾期按「退货退款」处理。` +
        `在线选择：${customerPage(order)}&expires=${linkExpiry(sms?.body)}`,
    );
    // No feedback is asked before anything is settled.
    expect(await stack.models.Feedback.countDocuments({ cancellationId: order.cancellationId })).toBe(0);
  });

  test('offers an English customer only the options the policy gives, escaped in HTML, in transit', async () => {
    const order = await paidOrder('C-HTML', []);
    await shipped(order.orderNumber, [{ status: 'in_transit', lines: ['L1', 'L2'] }]);
    const keys = await stack.activities.queueCustomerNotifications(
      offered('C-HTML', order, {
        lines: [{ lineId: 'L2', sku: 'CUP-1', quantity: 1 }],
        offer: {
          options: ['redelivery', 'refund_without_return'],
          defaultOption: 'refund_without_return',
          decideBy: '2026-12-05T18:00:00Z',
          refundableMinor: 4500,
          deductionMinor: 1350,
        },
      }),
    );
    for (const key of keys) expect(await deliver(key)).toMatchObject({ status: 'sent' });

    const mail = await stack.mail.waitForMessage(
      (message) =>
        message.subject ===
        `Cancelling order ${order.orderNumber}: please choose how to go on by 5 December 2026, 18:00 UTC`,
    );
    for (const said of [
      "Dear Zoë <b>O'Neil</b> & Co",
      'because you changed your mind',
      'Ceramic cup (CUP-1) × 1',
      'Your goods: they had already left our warehouse and could not be stopped on their way to you.',
      '1. Re-delivery: the order goes ahead and we deliver the goods to you again; your payment stands and nothing is refunded.',
      // 45.00 − 13.50 = 31.50
      '2. Refund without return: keep the goods and get CN¥31.50 back (CN¥45.00 less a deduction of CN¥13.50 that we keep).',
      'Please answer by 5 December 2026, 18:00 UTC: reply to this mail with the number of your choice, or contact customer service quoting cancellation',
      'If we have no answer by then: we will go ahead with "Refund without return": keep the goods, CN¥31.50 refunded.',
    ]) {
      expect(mail.text).toContain(said);
    }
    // Only what was offered.
    expect(mail.text).not.toContain('Return for a refund');
    expect(mail.text).not.toMatch(/^3\. /m);
    expect(mail.text).not.toContain('TEA-1');
    // The customer's name and the quotes are escaped in HTML, never markup.
    expect(mail.html).toContain('Dear Zoë &lt;b&gt;O&#39;Neil&lt;/b&gt; &amp; Co');
    expect(mail.html).not.toContain('<b>');
    expect(mail.html).toContain('&quot;Refund without return&quot;');

    const [sms] = smsTo('+14155550999').filter((message) => message.body.includes(order.orderNumber));
    expect(sms?.body).toBe(
      `cancelflow: the goods of order ${order.orderNumber} could not be stopped. Choose by 5 December 2026, 18:00 UTC: ` +
        '1. Re-delivery (the order goes ahead, no refund); 2. Refund without return (keep the goods, CN¥31.50 refunded). ' +
        `Reply to our mail or call customer service (cancellation ${order.cancellationId}); without an answer: Refund without return.` +
        ` Choose online: ${customerPage(order)}&expires=${linkExpiry(sms?.body)}`,
    );
  });

  test('says when only some of the parcels were delivered', async () => {
    const order = await paidOrder('C-EN', []);
    await shipped(order.orderNumber, [
      { status: 'delivered', lines: ['L1'] },
      { status: 'in_transit', lines: ['L2'] },
    ]);
    const [emailKey, smsKey] = await stack.activities.queueCustomerNotifications(offered('C-EN', order));
    expect((await entry(emailKey ?? '')).content?.text).toContain(
      'Your goods: some have been delivered to you, and the rest are on their way and could not be stopped.',
    );
    expect((await entry(smsKey ?? '')).content?.body).toContain(
      'were partly delivered and could not be stopped',
    );
  });

  test("the return option gives the warehouse's return address in the customer's language, per parcel when they differ", async () => {
    // Until now the books knew no address, and the offers above said customer service gives it.
    await addWarehouse(stack.models, {
      code: 'WH-SH-01',
      name: { 'zh-CN': '上海一号仓', en: 'Shanghai warehouse 1' },
      returnAddress: {
        'zh-CN': '上海市浦东新区金科路 88 号 退货组',
        en: 'Returns desk, 88 Jinke Road, Shanghai',
      },
    });
    const one = await paidOrder('C-ZH', []);
    await shipped(one.orderNumber, [{ status: 'delivered', lines: ['L1', 'L2'] }]);
    const [zhMail] = await stack.activities.queueCustomerNotifications(offered('C-ZH', one));
    expect((await entry(zhMail ?? '')).content?.text).toContain(
      '1. 退货退款：请将商品寄回我们的仓库（寄至：上海市浦东新区金科路 88 号 退货组，并在包裹上注明取消编号）',
    );

    await addWarehouse(stack.models, {
      code: 'WH-BJ-02',
      name: { 'zh-CN': '北京二号仓', en: 'Beijing warehouse 2' },
      returnAddress: {
        'zh-CN': '北京市顺义区空港物流园 2 号库',
        en: 'Dock 2, Airport Logistics Park, Beijing',
      },
    });
    const two = await paidOrder('C-EN', []);
    const [first, second] = await shipped(two.orderNumber, [
      { status: 'delivered', lines: ['L1'] },
      { status: 'delivered', lines: ['L2'], warehouse: 'WH-BJ-02' },
    ]);
    const [enMail] = await stack.activities.queueCustomerNotifications(offered('C-EN', two));
    expect((await entry(enMail ?? '')).content?.text).toContain(
      'Return for a refund: send the goods back to our warehouse (to: ' +
        `parcel ${first ?? ''} to Returns desk, 88 Jinke Road, Shanghai; ` +
        `parcel ${second ?? ''} to Dock 2, Airport Logistics Park, Beijing; write the cancellation number on the parcel).`,
    );

    // A parcel from a warehouse the books have no address for: customer service gives it, not half of it.
    const three = await paidOrder('C-EN', []);
    await shipped(three.orderNumber, [
      { status: 'delivered', lines: ['L1'] },
      { status: 'delivered', lines: ['L2'], warehouse: 'WH-UNKNOWN' },
    ]);
    const [unknownMail] = await stack.activities.queueCustomerNotifications(offered('C-EN', three));
    expect((await entry(unknownMail ?? '')).content?.text).toContain(
      '(customer service gives you the return address; write the cancellation number on the parcel)',
    );
  });

  test.each([
    ['without an offer', undefined, 'offer', 'offer: is required'],
    [
      'with a default that is not offered',
      { ...everyOption, options: ['redelivery'], defaultOption: 'return' },
      'offer.defaultOption',
      'offer.defaultOption: is not one of the options',
    ],
    [
      'with a deduction larger than the refund',
      { ...everyOption, deductionMinor: 38101 },
      'offer.deductionMinor',
      'offer.deductionMinor: is more than refundableMinor',
    ],
    [
      'without a deadline',
      { ...everyOption, decideBy: 'next week' },
      'offer.decideBy',
      'offer.decideBy: must be an ISO date-time',
    ],
    [
      'with nothing to choose',
      { ...everyOption, options: [] },
      'offer.options',
      'offer.options: offer at least one option',
    ],
  ] as [string, ResolutionOffer | undefined, string, string][])(
    'refuses to offer options %s, naming the field, and records nothing',
    async (_case, offer, field, message) => {
      const order = await paidOrder('C-ZH', []);
      const refusal = await stack.activities
        .queueCustomerNotifications(offered('C-ZH', order, { offer }))
        .catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(ApplicationFailure);
      expect(refusal).toMatchObject({
        type: 'NotificationNotQueued',
        nonRetryable: true,
        message,
        details: [{ field }],
      });
      expect(await stack.models.Notification.countDocuments({ cancellationId: order.cancellationId })).toBe(
        0,
      );
    },
  );

  test.each([
    [
      'zh-CN',
      'C-ZH',
      '+8613800138000',
      (orderNumber: string) => `订单 ${orderNumber} 将重新为您配送`,
      ['将按「重新配送」处理：订单继续有效', '款项：您的付款不变，不会退款。', '我们将重新为您配送这些商品'],
      '订单继续有效，付款不变、不退款',
    ],
    [
      'en',
      'C-EN',
      '+14155550123',
      (orderNumber: string) => `Order ${orderNumber} will be delivered to you again`,
      [
        'goes ahead with re-delivery: the order stands',
        'Your money: your payment stands; nothing is refunded.',
        'Your goods: we will deliver them to you again',
      ],
      'the order stands and nothing is refunded',
    ],
  ] as const)(
    'tells a customer in %s that the order goes ahead with re-delivery and nothing is refunded',
    async (_language, customerId, phone, subject, said, smsSaid) => {
      const order = await paidOrder(customerId, []);
      const keys = await stack.activities.queueCustomerNotifications(
        completed(customerId, order, { moment: 'redelivery', refundedMinor: 0 }),
      );
      expect(keys).toEqual(
        ['email', 'sms'].map((channel) => `${order.cancellationId}:customer:redelivery:${channel}`),
      );
      for (const key of keys) expect(await deliver(key)).toMatchObject({ status: 'sent' });
      const mail = await stack.mail.waitForMessage(
        (message) => message.subject === subject(order.orderNumber),
      );
      for (const text of said) expect(mail.text).toContain(text);
      expect(mail.text).toContain(order.cancellationId);
      const [sms] = smsTo(phone).filter((message) => message.body.includes(order.orderNumber));
      expect(sms?.body).toContain(smsSaid);
    },
  );

  test('the cancelled message says what became of shipped goods: returned, or kept with the deduction', async () => {
    const returned = await paidOrder('C-ZH');
    const [returnedKey] = await stack.activities.queueCustomerNotifications(
      completed('C-ZH', returned, { goods: 'returned' }),
    );
    const returnedText = (await entry(returnedKey ?? '')).content?.text;
    expect(returnedText).toContain('商品：商品已退回我们的仓库。');
    expect(returnedText).not.toContain('预留的库存已释放');

    const kept = await paidOrder('C-ZH');
    const [keptKey] = await stack.activities.queueCustomerNotifications(
      completed('C-ZH', kept, { goods: 'kept', refundedMinor: 26670, deductionMinor: 11430 }),
    );
    const keptText = (await entry(keptKey ?? '')).content?.text;
    expect(keptText).toContain('款项：已退款 ¥266.70');
    expect(keptText).toContain('商品：商品由您保留；按约定，退款中扣除了 ¥114.30。');
    expect(keptText).toContain('接下来：如对退款有疑问，请联系客服。');
    expect(keptText).not.toContain('重新下单');

    // notifyCustomer, what the workflow calls, passes them through; sent at once over SMTP.
    const viaWorkflow = await paidOrder('C-EN');
    expect(
      await stack.activities.notifyCustomer({
        cancellationId: viaWorkflow.cancellationId,
        orderNumber: viaWorkflow.orderNumber,
        customerId: 'C-EN',
        reasonCode: 'customer_changed_mind',
        refundedMinor: 3150,
        currency: 'CNY',
        goods: 'kept',
        deductionMinor: 1350,
      }),
    ).toEqual([
      { channel: 'email', status: 'sent' },
      { channel: 'sms', status: 'sent' },
    ]);
    const mail = await stack.mail.waitForMessage(
      (message) => message.subject === `Your order ${viaWorkflow.orderNumber} has been cancelled`,
    );
    expect(mail.text).toContain('Your money: we have refunded CN¥31.50');
    expect(mail.text).toContain(
      'Your goods: you keep the goods; as agreed, CN¥13.50 was kept back from the refund.',
    );
  });

  /** A paid order of three packs of tea whose one parcel left the warehouse. */
  async function shippedThroughTheBooks(status: ShipmentStatus) {
    orderCount += 1;
    const orderNumber = `SO-SHIP-${orderCount}`;
    await placePaidOrder(stack.models, {
      orderNumber,
      customerId: 'C-ZH',
      currency: 'CNY',
      lines: [{ lineId: 'L1', sku: 'TEA-1', quantity: 3, unitPriceMinor: 16800 }],
    });
    const shipmentId = `SH-${orderNumber}`;
    await linkToOrder(stack.models, orderNumber, { shipmentIds: [shipmentId] });
    await stack.models.Shipment.create({
      shipmentId,
      orderNumber,
      warehouse: 'WH-SH-01',
      carrier: 'SF',
      trackingNumber: `SF${orderCount}`,
      status,
      lines: [{ lineId: 'L1', sku: 'TEA-1', quantity: 3 }],
    });
    return { orderNumber, cancellationId: randomUUID(), shipmentId, trackingNumber: `SF${orderCount}` };
  }

  const departmentOffer: ResolutionOffer = {
    options: ['return', 'refund_without_return'],
    defaultOption: 'return',
    decideBy,
    refundableMinor: 50400,
    deductionMinor: 15120,
  };

  test.each([
    [
      'recall_requested',
      'in_transit',
      {
        'sales-zh': [
          '已请承运商拦截（召回）订单',
          '龙井茶 (TEA-1) × 3',
          '（SF，运单号 {tracking}）：in_transit，已退回 0/3 件',
        ],
        'sales-en': [
          'the carrier was asked to stop (recall) the parcels',
          '(SF, tracking {tracking}): in_transit, 0 of 3 back',
        ],
        'logistics-zh': ['运单 {shipment}（SF，运单号 {tracking}）', '请留意，到货后确认入库'],
      },
      { sales: 'cancellation_progress', logistics: 'logistics' },
    ],
    [
      'options_offered',
      'delivered',
      {
        'sales-zh': [
          '客户可选择：\n- 退货退款：客户寄回商品，到仓后全额退款 ¥504.00\n- 不退货退款：客户保留商品，退款 ¥352.80（扣除 ¥151.20）',
          '答复期限：2026年12月5日 18:00 (UTC)；逾期未答复按「退货退款」处理。',
        ],
        'sales-en': [
          '- refund without return: the customer keeps the goods; refund of CN¥352.80 (CN¥151.20 deducted)',
          'Answer due by 5 December 2026, 18:00 UTC; without an answer: return for a refund.',
        ],
        'logistics-zh': ['客户可选择：', '：delivered，已退回 0/3 件'],
      },
      { sales: 'cancellation_progress', logistics: 'logistics' },
    ],
    [
      'return_overdue',
      'delivered',
      {
        'sales-zh': ['应退回仓库的订单', '已逾期仍未到', '如仍未到，请向承运商查询或联系客户催促寄回'],
        'sales-en': ['are overdue', 'chase the carrier or ask the customer to send them'],
        'logistics-zh': [
          '运单 {shipment}（SF，运单号 {tracking}）：delivered，已退回 0/3 件',
          '到货后请确认入库',
        ],
      },
      { sales: 'action_required', logistics: 'action_required' },
    ],
    [
      'redelivery',
      'delivered',
      {
        'sales-zh': ['以重新配送结束，客户保留订单', '不退款：客户的付款保持不变。'],
        'finance-en': [
          'ends in re-delivery',
          'No refund: the customer’s payment stands.',
          '龙井茶 (TEA-1) × 3',
        ],
        'logistics-zh': ['请重新配送这些包裹中的商品', '运单 {shipment}（SF，运单号 {tracking}）'],
      },
      { sales: 'cancellation_progress', finance: 'refund', logistics: 'action_required' },
    ],
  ] as const)(
    '%s reaches the departments it concerns, in every active member’s message centre and by mail, once',
    async (moment, status, said, categories) => {
      const { orderNumber, cancellationId, shipmentId, trackingNumber } =
        await shippedThroughTheBooks(status);
      const params = {
        cancellationId,
        orderNumber,
        moment,
        reasonCode: 'customer_changed_mind' as const,
        lines: [{ lineId: 'L1', sku: 'TEA-1', quantity: 3 }],
        offer: moment === 'options_offered' ? departmentOffer : undefined,
      };
      const departments = DEPARTMENTS_BY_MOMENT[moment];
      const keys = await stack.activities.queueDepartmentNotifications(params);
      expect(keys).toEqual(departments.map((code) => `${cancellationId}:department:${code}:${moment}:email`));

      // Every active member of those departments, and nobody else.
      for (const person of people) {
        const messages = await inbox(person.personId, orderNumber);
        const concerned = person.active && departments.includes(person.department);
        expect([person.personId, messages.length]).toEqual([person.personId, concerned ? 1 : 0]);
        const [message] = messages;
        if (message) {
          expect(message).toMatchObject({
            department: person.department,
            language: person.language,
            category: (categories as Partial<Record<string, string>>)[person.department],
          });
        }
      }
      for (const [personId, texts] of Object.entries(said)) {
        const [message] = await inbox(personId, orderNumber);
        for (const text of texts as readonly string[]) {
          expect(message?.body).toContain(
            text.replace('{tracking}', trackingNumber).replace('{shipment}', shipmentId),
          );
        }
      }

      // One mail to each department's mailbox, in both languages.
      for (const key of keys) expect(await deliver(key)).toMatchObject({ status: 'sent' });
      for (const code of departments) {
        const mails = stack.mail.messages.filter(
          (mail) => mail.to.includes(`${code}@cancelflow.local`) && mail.subject.includes(orderNumber),
        );
        expect(mails).toHaveLength(1);
        expect(mails[0]?.text).toContain('— English —');
      }

      // Asked again: the same keys, nothing new anywhere.
      const entries = await stack.models.MessageCentreEntry.countDocuments({ cancellationId });
      expect(await stack.activities.queueDepartmentNotifications(params)).toEqual(keys);
      expect(await stack.models.MessageCentreEntry.countDocuments({ cancellationId })).toBe(entries);
      expect(await stack.models.Notification.countDocuments({ cancellationId })).toBe(departments.length);
    },
  );

  test('options_offered to departments without an offer, or with a bad one, is refused and nobody hears', async () => {
    const { orderNumber, cancellationId } = await shippedThroughTheBooks('delivered');
    const base = {
      cancellationId,
      orderNumber,
      moment: 'options_offered' as const,
      reasonCode: 'customer_changed_mind' as const,
    };
    const missing = await stack.activities
      .queueDepartmentNotifications(base)
      .catch((error: unknown) => error);
    expect(missing).toMatchObject({
      type: 'NotificationNotQueued',
      message: 'template department-sales-options_offered.zh-CN is missing {{offer}}',
      details: [{ field: 'offer' }],
    });
    const bad = await stack.activities
      .queueDepartmentNotifications({ ...base, offer: { ...departmentOffer, deductionMinor: 50401 } })
      .catch((error: unknown) => error);
    expect(bad).toMatchObject({
      type: 'NotificationNotQueued',
      details: [{ field: 'offer.deductionMinor' }],
    });
    expect(await stack.models.MessageCentreEntry.countDocuments({ cancellationId })).toBe(0);
    expect(await stack.models.Notification.countDocuments({ cancellationId })).toBe(0);
  });

  test('the completed notice tells logistics and sales the stock returned under this cancellation', async () => {
    const { orderNumber, cancellationId, shipmentId } = await shippedThroughTheBooks('returned');
    await returnShippedStock(stack.models, {
      idempotencyKey: `${cancellationId}:return:${shipmentId}`,
      shipmentId,
      warehouse: 'WH-SH-01',
      actor: 'warehouse:li',
      lines: [{ lineId: 'L1', sku: 'TEA-1', quantity: 2 }],
    });
    // A unit that came back for another reason is not this cancellation's.
    await returnShippedStock(stack.models, {
      idempotencyKey: `damaged-${shipmentId}`,
      shipmentId,
      warehouse: 'WH-SH-01',
      actor: 'warehouse:li',
      lines: [{ lineId: 'L1', sku: 'TEA-1', quantity: 1 }],
    });
    await stack.activities.queueDepartmentNotifications({
      cancellationId,
      orderNumber,
      moment: 'completed',
      reasonCode: 'customer_changed_mind',
      lines: [{ lineId: 'L1', sku: 'TEA-1', quantity: 2 }],
    });
    const [logistics] = await inbox('logistics-zh', orderNumber);
    expect(logistics?.body).toContain(`TEA-1 @ WH-SH-01：退货入库 2 件（运单 ${shipmentId}）`);
    expect(logistics?.body).not.toContain('退货入库 1 件');
    const [sales] = await inbox('sales-en', orderNumber);
    expect(sales?.body).toContain(`TEA-1 at WH-SH-01: 2 returned to stock (shipment ${shipmentId})`);
  });
});

// #13: customer SMS went to `customer.phone` as written ("+1 (512) 555-0534", "138-0013-8000"), and Twilio
// refuses anything but E.164 (error 21211), so most customer SMS of the generated books failed for good. One
// generated customer for each way the books write a phone, loaded as the books loader loads them.
describe('SMS to numbers as customers write them (#13)', () => {
  const SEED = 20240101;
  /** The way a number is written, digits (ASCII or full-width) as `9`: "+1 (999) 999-9999". */
  const shapeOf = (phone: string) => phone.replace(/\p{Nd}/gu, '9');
  const byShape = new Map<string, GeneratedCustomer>();
  for (let index = 0; index < 400; index += 1) {
    const customer = makeCustomer(SEED, index);
    const phone = customer.document.phone;
    if (phone !== undefined && !byShape.has(shapeOf(phone))) byShape.set(shapeOf(phone), customer);
  }
  /** What Twilio must be asked to send to, worked out apart from the code under test. */
  const e164Of = ({ document, market }: GeneratedCustomer) => {
    const digits = (document.phone ?? '').normalize('NFKC').replace(/\D/g, '');
    return market === 'CN' ? `+86${digits.slice(-11)}` : `+1${digits.slice(-10)}`;
  };

  beforeAll(async () => {
    // An order each, on top of what the other tests use.
    for (const sku of ['TEA-1', 'CUP-1'])
      await applyStockMovement(stack.models, {
        idempotencyKey: `numbers-as-written:receive:${sku}`,
        type: 'adjust',
        sku,
        warehouse: 'WH-SH-01',
        onHandDelta: 2 * byShape.size,
        reservedDelta: 0,
        document: { kind: 'stock_take', id: `numbers-as-written-${sku}` },
        actor: 'test',
        reason: 'stock for the orders of #13',
      });
  });

  test('the books write phones in every shape the generator knows', () => {
    // 7 Chinese ways and 5 American ones (generators/books/customers.ts).
    expect(byShape.size).toBe(12);
  });

  test.each([...byShape].map(([shape, customer]) => [shape, customer] as const))(
    'an SMS to a number written "%s" goes to its E.164 number and is delivered',
    async (_shape, customer) => {
      const { models } = stack;
      await models.Customer.insertMany([{ ...customer.document }], { lean: true });
      await models.Customer.updateOne(
        { customerId: customer.document.customerId },
        { $set: { 'consent.sms': true } },
      );
      const order = await paidOrder(customer.document.customerId);
      const keys = await stack.activities.queueCustomerNotifications(
        completed(customer.document.customerId, order),
      );
      const smsKey = `${order.cancellationId}:customer:completed:sms`;
      expect(keys).toContain(smsKey);
      expect(await deliver(smsKey)).toEqual({ key: smsKey, status: 'sent', alreadyDone: false });

      const [sms, ...more] = smsTo(e164Of(customer)).filter((message) =>
        message.body.includes(order.orderNumber),
      );
      expect(more).toHaveLength(0);
      expect(sms).toBeDefined();
      expect(await stack.sms.reportStatus(sms?.sid ?? '', 'delivered')).toBe(200);
      expect(await entry(smsKey)).toMatchObject({
        status: 'delivered',
        recipient: e164Of(customer),
        providerMessageId: sms?.sid,
      });
    },
  );
});
