// How a cancellation's notices reach people when a provider is down (issue #5): the messages of each notice,
// recorded in the outbox, are handed to a delivery workflow of their own, which retries with backoff beside
// and after the cancellation. On the run's Temporal dev server, with the real mail catcher stopped and started again on
// the same port, the real SMS simulator, database and worker.
import { MockActivityEnvironment } from '@temporalio/testing';
import { startBatchDelivery } from '../activities/delivery.activities';
import {
  addCustomer,
  addDepartments,
  addPeople,
  addProduct,
  placePaidOrder,
  receiveStock,
} from '../generators/demo-data';
import { withdrawCancellation } from '../client/cancellation-decisions';
import { startMailCatcher } from '../simulators';
import { getCancellationQuery, type CancellationView } from '../contracts/cancellation.contract';
import type { DeliveryResult } from '../contracts/delivery.contract';
import { eventually } from './support/eventually';
import { startTestStack, type TestStack } from './support/stack';

let stack: TestStack;
/** The mail server started again in a test, closed here (the stack closes the one it started). */
let restartedMail: TestStack['mail'] | undefined;

beforeAll(async () => {
  // A short first wait between attempts, so that a test sees several; production waits 30 s, doubling.
  stack = await startTestStack('cancellation-notices', undefined, {
    deliveryRetry: { firstRetryAfterMs: 300 },
  });
  await addPeople(stack.models);
  await addDepartments(stack.models);
  await addCustomer(stack.models, {
    customerId: 'C-1',
    name: '王芳',
    email: 'wang.fang@example.cn',
    // As customers write them (generators/books/customers.ts): the SMS go to +8613800138000.
    phone: '(+86) 138 0013 8000',
    language: 'zh-CN',
  });
  // A VIP relationship makes the risk medium: one approval of level 1 (manager-1, director-1).
  await addCustomer(stack.models, {
    customerId: 'C-VIP',
    name: 'Emily Carter',
    email: 'emily@example.com',
    language: 'en',
    tier: 'vip',
  });
  await addProduct(stack.models, { sku: 'TEA-1', name: '龙井茶', unitPriceMinor: 16800, currency: 'CNY' });
  await receiveStock(stack.models, 'TEA-1', 20);
});

afterAll(async () => {
  await stack.stop();
  await restartedMail?.close();
});

async function cancel(orderNumber: string, customerId: string) {
  await placePaidOrder(stack.models, {
    orderNumber,
    customerId,
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'TEA-1', quantity: 2, unitPriceMinor: 16800 }],
  });
  const { cancellationId, workflowId } = await (
    await stack.as('clerk-1')
  ).createCancellation({
    orderNumber,
    reasonCode: 'customer_changed_mind',
    confirm: ['awaiting_shipment'],
  });
  return { cancellationId, handle: stack.temporal.workflow.getHandle(workflowId) };
}

const outbox = (cancellationId: string) =>
  stack.models.Notification.find({ cancellationId }).sort({ idempotencyKey: 1 }).lean();
/** The workflow delivering the entry: each entry names it. */
async function delivery(key: string) {
  const entry = await stack.models.Notification.findOne({ idempotencyKey: key }).lean();
  if (!entry?.deliveryWorkflowId) throw new Error(`${key} names no delivery workflow`);
  return stack.temporal.workflow.getHandle(entry.deliveryWorkflowId);
}

/** How the delivery of `key` ended: its batch's result names it. */
async function deliveryOf(key: string): Promise<DeliveryResult | undefined> {
  const results = (await (await delivery(key)).result()) as DeliveryResult[];
  return results.find((result) => result.key === key);
}

/**
 * Starts the deliveries of these entries' batches again, as a retry of the cancellation's activity would, on
 * the stack's task queue: each batch as it was handed over, all its keys (the SMS of a moment among them).
 */
async function startDeliveriesAgain(cancellationId: string, keys: string[]) {
  const entries = await stack.models.Notification.find({ cancellationId }).lean();
  const batches = new Set(
    entries.filter((entry) => keys.includes(entry.idempotencyKey)).map((entry) => entry.deliveryWorkflowId),
  );
  for (const batch of batches) {
    const batchKeys = entries
      .filter((entry) => entry.deliveryWorkflowId === batch)
      .map((entry) => entry.idempotencyKey);
    await new MockActivityEnvironment({ taskQueue: stack.taskQueue }).run(
      (again: string[]) => startBatchDelivery(stack.deps, cancellationId, again),
      batchKeys,
    );
  }
}

test('with the mail server down, the cancellation completes at once; its mails, the "cancelled" one too, go out once the server is back', async () => {
  const { smtpPort } = stack.mail;
  await stack.mail.close();

  const { cancellationId, handle } = await cancel('SO-NOTICE-1', 'C-1');
  const result = (await handle.result()) as CancellationView;
  expect(result).toMatchObject({ outcome: 'completed', refundedMinor: 33600 });

  // It ended while every mail was still waiting for the server: recorded, tried, neither sent nor given up.
  // Its view says what it handed over: the customer's "cancelled" message, queued on both channels.
  expect(result.notifications).toEqual([
    { channel: 'email', status: 'queued' },
    { channel: 'sms', status: 'queued' },
  ]);
  const waiting = (await outbox(cancellationId)).filter((entry) => entry.channel === 'email');
  expect(waiting.map((entry) => entry.status)).toEqual(waiting.map(() => 'queued'));
  const keys = waiting.map((entry) => entry.idempotencyKey);
  expect(keys).toEqual(
    expect.arrayContaining([
      `${cancellationId}:customer:received:email`,
      `${cancellationId}:customer:completed:email`,
      `${cancellationId}:department:sales:received:email`,
      `${cancellationId}:department:sales:completed:email`,
      `${cancellationId}:department:finance:completed:email`,
    ]),
  );
  for (const key of keys) {
    const running = await (await delivery(key)).describe();
    expect(running.status.name).toBe('RUNNING');
    // A workflow of its own, not a child: nothing ties it to the cancellation that ended.
    expect(running.parentExecution).toBeUndefined();
  }
  // The text messages went out at once, through their own deliveries: the SMS provider was up.
  await eventually(() =>
    expect(stack.sms.messages.filter((sms) => sms.body.includes('SO-NOTICE-1')).map((sms) => sms.to)).toEqual(
      ['+8613800138000', '+8613800138000'],
    ),
  );

  // Each delivery retries with backoff while the server is down, keeping the provider's error.
  await eventually(async () => {
    for (const entry of await outbox(cancellationId)) {
      if (!keys.includes(entry.idempotencyKey)) continue;
      expect(entry.attempts).toBeGreaterThanOrEqual(2);
      expect(entry.error).toContain('ECONNREFUSED');
    }
  });
  // Started again meanwhile (a retried activity), each key finds its running delivery.
  const runIdOf = async (key: string) => (await (await delivery(key)).describe()).runId;
  const runIds = await Promise.all(keys.map(runIdOf));
  await startDeliveriesAgain(cancellationId, keys);
  expect(await Promise.all(keys.map(runIdOf))).toEqual(runIds);

  stack.mail = restartedMail = await startMailCatcher({ smtpPort, httpPort: 0, logger: false });
  for (const key of keys) expect(await deliveryOf(key)).toMatchObject({ key, status: 'sent' });
  // Each once, to its recipient; the customer's "cancelled" mail among them, as recorded.
  const mails = stack.mail.messages.filter((mail) => mail.subject.includes('SO-NOTICE-1'));
  expect(mails.map((mail) => mail.to.join()).sort()).toEqual(waiting.map((entry) => entry.recipient).sort());
  const cancelledMail = mails.find((mail) => mail.subject === '订单 SO-NOTICE-1 已取消');
  expect(cancelledMail?.to).toEqual(['wang.fang@example.cn']);
  expect(cancelledMail?.text).toContain('336.00');
  expect(cancelledMail?.text).toContain(`/customer/cancellations/${cancellationId}?order=SO-NOTICE-1`);
  for (const entry of await outbox(cancellationId)) {
    if (keys.includes(entry.idempotencyKey)) expect(entry).toMatchObject({ status: 'sent' });
  }

  // Started again after they ended, nothing is started or sent again.
  await startDeliveriesAgain(cancellationId, keys);
  for (const [index, key] of keys.entries()) {
    const ended = await (await delivery(key)).describe();
    expect({ runId: ended.runId, status: ended.status.name }).toEqual({
      runId: runIds[index],
      status: 'COMPLETED',
    });
  }
  expect(stack.mail.messages.filter((mail) => mail.subject.includes('SO-NOTICE-1'))).toHaveLength(
    keys.length,
  );
});

test('a customer message that cannot be made does not keep the departments from hearing', async () => {
  // An order whose customer is not on file: the customer's "received" message cannot be made.
  const { cancellationId, handle } = await cancel('SO-NOTICE-2', 'C-UNKNOWN');
  expect(await handle.result()).toMatchObject({ outcome: 'completed' });
  await eventually(async () => {
    const entries = await outbox(cancellationId);
    expect(entries.map((entry) => entry.idempotencyKey)).toContain(
      `${cancellationId}:department:sales:received:email`,
    );
    expect(entries.every((entry) => entry.audience === 'department' && entry.status === 'sent')).toBe(true);
  });
  await stack.mail.waitForMessage(
    (mail) => mail.to.includes('sales@cancelflow.local') && mail.subject.includes('SO-NOTICE-2'),
  );
});

test("with the mail server down, the approvers' request mails wait in the outbox, recorded, and go out once it is back", async () => {
  const { smtpPort } = stack.mail;
  await stack.mail.close();
  const { cancellationId, handle } = await cancel('SO-NOTICE-3', 'C-VIP');
  await eventually(async () =>
    expect((await handle.query(getCancellationQuery)).state).toBe('awaitingApproval.waitingForDecision'),
  );

  // One mail per approver, recorded with what it says, handed to their delivery workflow, which keeps trying.
  const keys = ['director-1', 'manager-1'].map(
    (personId) => `${cancellationId}:approval:clock-1:request-0:${personId}:email`,
  );
  await eventually(async () => {
    const asked = await stack.models.Notification.find({ idempotencyKey: { $in: keys } })
      .sort({ idempotencyKey: 1 })
      .lean();
    expect(asked).toMatchObject([
      { recipient: 'grace.lin@cancelflow.local', status: 'queued' },
      { recipient: 'liu.qiang@cancelflow.local', status: 'queued' },
    ]);
    for (const entry of asked) {
      expect(entry.content?.subject).toContain('SO-NOTICE-3');
      expect(entry.content?.text).toContain(cancellationId);
      expect(entry.attempts).toBeGreaterThanOrEqual(2);
      expect(entry.error).toContain('ECONNREFUSED');
    }
  });
  for (const key of keys) expect((await (await delivery(key)).describe()).status.name).toBe('RUNNING');
  // The message centre has them meanwhile, as before.
  const centre = await stack.models.MessageCentreEntry.find({ cancellationId, category: 'action_required' });
  expect(centre.map((entry) => entry.recipientId).sort()).toEqual(['director-1', 'manager-1']);

  stack.mail = await startMailCatcher({ smtpPort, httpPort: 0, logger: false });
  restartedMail = stack.mail;
  for (const key of keys) expect(await deliveryOf(key)).toMatchObject({ key, status: 'sent' });
  // (The received notices to the customer and departments may go out meanwhile too: only the approvers' here.)
  const approvers = ['grace.lin@cancelflow.local', 'liu.qiang@cancelflow.local'];
  const mailsToApprovers = () =>
    stack.mail.messages.filter(
      (mail) => mail.subject.includes('SO-NOTICE-3') && approvers.includes(mail.to.join()),
    );
  expect(
    mailsToApprovers()
      .map((mail) => mail.to.join())
      .sort(),
  ).toEqual(approvers);
  // Started again (a retried activity), nothing goes twice.
  await startDeliveriesAgain(cancellationId, keys);
  expect(mailsToApprovers()).toHaveLength(2);

  await withdrawCancellation(stack.temporal, cancellationId, { by: 'clerk-1', reason: 'test done' });
  expect(await handle.result()).toMatchObject({ outcome: 'withdrawn' });
});
