// What providers post back to the API, over real HTTP: Twilio's status callbacks, posted and signed by the
// SMS simulator for messages the twilio client sent, and the carrier's outcomes, posted and signed by the
// carrier simulator and passed on to a waiting workflow on the run's Temporal server as an Update.
import { linkToOrder } from '../models/order-links';
import { randomUUID } from 'node:crypto';
import { signCarrierPayload } from '../integrations/carrier';
import { twilioSignature } from '../simulators';
import { addCustomer, placePaidOrder, addProduct, receiveStock } from '../generators/demo-data';
import { notificationDeliveryWorkflow } from '../workflows/notification-delivery.workflow';
import { eventually } from './support/eventually';
import { startIntegrationStack, type IntegrationStack } from './support/integration-stack';
import { awaitingCarrierWorkflow, carrierOutcomesQuery, finishSignal } from './support/test-workflows';

let stack: IntegrationStack;

beforeAll(async () => {
  stack = await startIntegrationStack('webhooks');
  await addProduct(stack.models, { sku: 'TEA-1', name: '龙井茶', unitPriceMinor: 16800, currency: 'CNY' });
  await receiveStock(stack.models, 'TEA-1', 100);
  await addCustomer(stack.models, {
    customerId: 'C-1',
    name: '王芳',
    email: 'wang.fang@example.cn',
    phone: '+8613800138000',
    language: 'zh-CN',
  });
});

afterAll(async () => {
  await stack.stop();
});

const refusals = (message: string) => stack.logs.filter((line) => line.msg.includes(message));

describe('Twilio status callbacks', () => {
  const statusUrl = () => `${stack.apiUrl}/v1/webhooks/twilio/status`;

  /** An SMS sent through the outbox with the twilio client; returns its outbox key and Twilio's sid. */
  async function sentSms() {
    const cancellationId = randomUUID();
    const keys = await stack.activities.queueCustomerNotifications({
      cancellationId,
      orderNumber: `SO-${cancellationId.slice(0, 8)}`,
      customerId: 'C-1',
      moment: 'received',
      reasonCode: 'customer_changed_mind',
      refundedMinor: 0,
      currency: 'CNY',
    });
    const key = keys.find((candidate) => candidate.endsWith(':sms')) ?? '';
    expect(await stack.activities.deliverNotification(key)).toMatchObject({ status: 'sent' });
    const entry = await stack.models.Notification.findOne({ idempotencyKey: key }).lean().orFail();
    return { key, sid: entry.providerMessageId ?? '' };
  }
  const entry = (key: string) => stack.models.Notification.findOne({ idempotencyKey: key }).lean().orFail();

  /** Posts a callback as Twilio would, signed with `token` over `signedParams` (default: what is posted). */
  function post(
    params: Record<string, string>,
    token = stack.webhooks.twilioAuthToken,
    signedParams = params,
  ) {
    return fetch(statusUrl(), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilioSignature(token, statusUrl(), signedParams),
      },
      body: new URLSearchParams(params).toString(),
    });
  }

  test("Twilio's report marks the SMS delivered; an earlier stage arriving late changes nothing", async () => {
    const { key, sid } = await sentSms();
    expect(await stack.sms.reportStatus(sid, 'sent')).toBe(200);
    expect(await entry(key)).toMatchObject({ status: 'sent', providerStatus: 'sent' });

    expect(await stack.sms.reportStatus(sid, 'delivered')).toBe(200);
    expect(await entry(key)).toMatchObject({
      status: 'delivered',
      providerStatus: 'delivered',
      deliveredAt: expect.any(Date) as Date,
    });

    expect(await stack.sms.reportStatus(sid, 'sent')).toBe(200);
    expect(await entry(key)).toMatchObject({ status: 'delivered', providerStatus: 'delivered' });
    expect(
      stack.sms.callbacks.filter((callback) => callback.sid === sid).map((callback) => callback.url),
    ).toEqual([statusUrl(), statusUrl(), statusUrl()]);
  });

  test("an undelivered report fails the message with the carrier's error code", async () => {
    const { key, sid } = await sentSms();
    expect(await stack.sms.reportStatus(sid, 'undelivered', 30003)).toBe(200);
    expect(await entry(key)).toMatchObject({
      status: 'failed',
      providerStatus: 'undelivered',
      error: 'undelivered (Twilio error 30003)',
      failedAt: expect.any(Date) as Date,
    });
  });

  test('a callback whose signature does not hold is refused with 401, logged, and changes nothing', async () => {
    const { key, sid } = await sentSms();
    const params = {
      AccountSid: 'AC00000000000000000000000000000000',
      MessageSid: sid,
      MessageStatus: 'delivered',
      SmsSid: sid,
      SmsStatus: 'delivered',
    };
    const before = refusals('bad signature').length;
    // Signed with another token; signed for other parameters (tampered in transit); not signed at all.
    expect((await post(params, 'not-the-auth-token')).status).toBe(401);
    expect((await post({ ...params, MessageStatus: 'failed' }, undefined, params)).status).toBe(401);
    const unsigned = await fetch(statusUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toMatchObject({
      error: 'unauthorized',
      details: { field: 'X-Twilio-Signature' },
    });

    expect(await entry(key)).toMatchObject({ status: 'sent' });
    expect(await entry(key)).not.toHaveProperty('providerStatus');
    expect(refusals('twilio status callback refused: bad signature')).toHaveLength(before + 3);
  });

  test('a correctly signed callback for a message the outbox never sent is refused with 404 and logged', async () => {
    const unknownSid = `SM${'0'.repeat(32)}`;
    const response = await post({ MessageSid: unknownSid, MessageStatus: 'delivered' });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: 'not_found', details: { field: 'MessageSid' } });
    expect(refusals('twilio status callback refused: unknown message')).toContainEqual(
      expect.objectContaining({ messageSid: unknownSid, status: 'delivered' }),
    );
    expect(await stack.models.Notification.countDocuments({ providerMessageId: unknownSid })).toBe(0);
  });

  test('a callback without MessageStatus is refused with 400 naming it', async () => {
    const { key, sid } = await sentSms();
    const response = await post({ MessageSid: sid });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: 'validation_failed',
      details: { field: 'MessageStatus' },
    });
    expect(await entry(key)).toMatchObject({ status: 'sent' });
  });
});

describe('carrier webhook', () => {
  let shipmentCount = 0;

  /** A shipment of an order whose cancellation runs and waits for the carrier (a stand-in workflow). */
  async function waitingCancellation() {
    shipmentCount += 1;
    const orderNumber = `SO-W-${shipmentCount}`;
    const shipmentId = `SH-W-${shipmentCount}`;
    const cancellationId = randomUUID();
    await placePaidOrder(stack.models, {
      orderNumber,
      customerId: 'C-1',
      currency: 'CNY',
      lines: [{ lineId: 'L1', sku: 'TEA-1', quantity: 1, unitPriceMinor: 16800 }],
    });
    await linkToOrder(stack.models, orderNumber, { shipmentIds: [shipmentId] });
    await stack.models.Shipment.create({
      shipmentId,
      orderNumber,
      warehouse: 'WH-SH-01',
      carrier: 'SF Express',
      trackingNumber: `SF${shipmentCount}000`,
      status: 'in_transit',
      lines: [{ lineId: 'L1', sku: 'TEA-1', quantity: 1 }],
    });
    const workflowId = `awaiting-carrier-${cancellationId}`;
    await stack.models.Cancellation.create({
      cancellationId,
      workflowId,
      orderNumber,
      customerId: 'C-1',
      activeForOrder: orderNumber,
      reasonCode: 'customer_changed_mind',
      requestedBy: 'clerk-1',
      state: 'awaitingCarrier',
    });
    const handle = await stack.temporal.workflow.start(awaitingCarrierWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId,
      args: [cancellationId, orderNumber],
    });
    return { orderNumber, shipmentId, cancellationId, handle };
  }

  const event = (shipmentId: string, overrides: Record<string, unknown> = {}) => ({
    eventId: `evt_${randomUUID()}`,
    shipmentId,
    recallId: 'rc_1',
    outcome: 'accepted',
    occurredAt: new Date().toISOString(),
    ...overrides,
  });

  /** Posts a body as the carrier would, with the signature header given. */
  const postRaw = (body: string, signature?: string) =>
    fetch(`${stack.apiUrl}/v1/webhooks/carrier`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(signature ? { 'x-carrier-signature': signature } : {}),
      },
      body,
    });

  test('a signed outcome for a known shipment reaches the waiting workflow as the reportCarrierOutcome Update, once', async () => {
    const { shipmentId, cancellationId, handle } = await waitingCancellation();
    const outcome = event(shipmentId, { outcome: 'too_late', reason: 'out for delivery' });
    const delivery = await stack.carrier.postWebhook(outcome);
    expect(delivery.responseStatus).toBe(200);
    expect(JSON.parse(delivery.responseBody ?? '{}')).toEqual({ cancellationId, state: 'recall too_late' });

    // The carrier delivers the same event again: the same Update, taken once.
    expect((await stack.carrier.postWebhook(outcome)).responseStatus).toBe(200);
    expect(await handle.query(carrierOutcomesQuery)).toEqual([outcome]);

    // A different answer after that is the workflow's to refuse: 409 with its reason, nothing passed on.
    const late = await stack.carrier.postWebhook(event(shipmentId));
    expect(late.responseStatus).toBe(409);
    expect(JSON.parse(late.responseBody ?? '{}')).toMatchObject({
      error: 'conflict',
      message: expect.stringContaining('the carrier already answered') as string,
    });
    await handle.signal(finishSignal);
    expect(await handle.result()).toEqual([outcome]);
  });

  test('a bad, missing or stale signature is refused with 401 and the reason, and nothing is passed on', async () => {
    const { shipmentId, handle } = await waitingCancellation();
    const before = refusals('carrier webhook refused: bad signature').length;

    const wrongSecret = await stack.carrier.postWebhook(event(shipmentId), 'not-the-shared-secret');
    expect(wrongSecret.responseStatus).toBe(401);
    expect(JSON.parse(wrongSecret.responseBody ?? '{}')).toMatchObject({
      error: 'unauthorized',
      message: 'the signature does not match',
      details: { field: 'x-carrier-signature' },
    });

    const body = JSON.stringify(event(shipmentId));
    const unsigned = await postRaw(body);
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toMatchObject({ message: 'the x-carrier-signature header is missing' });

    const anHourAgo = Math.floor(Date.now() / 1000) - 3600;
    const stale = await postRaw(
      body,
      signCarrierPayload(stack.webhooks.carrierWebhookSecret, body, anHourAgo),
    );
    expect(stale.status).toBe(401);
    expect(await stale.json()).toMatchObject({
      message: 'the signature timestamp is outside the 5 minute tolerance',
    });

    // Signed for another body: tampered in transit.
    const now = Math.floor(Date.now() / 1000);
    const tampered = await postRaw(
      body.replace('accepted', 'failed'),
      signCarrierPayload(stack.webhooks.carrierWebhookSecret, body, now),
    );
    expect(tampered.status).toBe(401);

    expect(await handle.query(carrierOutcomesQuery)).toEqual([]);
    expect(refusals('carrier webhook refused: bad signature')).toHaveLength(before + 4);
    await handle.signal(finishSignal);
  });

  test('an unknown shipment is refused with 404, and nothing is passed on', async () => {
    const { handle } = await waitingCancellation();
    const delivery = await stack.carrier.postWebhook(event('SH-NOPE'));
    expect(delivery.responseStatus).toBe(404);
    expect(JSON.parse(delivery.responseBody ?? '{}')).toMatchObject({
      error: 'not_found',
      message: 'no shipment SH-NOPE',
      details: { field: 'shipmentId' },
    });
    expect(refusals('carrier webhook refused: no shipment SH-NOPE')).toHaveLength(1);
    expect(await handle.query(carrierOutcomesQuery)).toEqual([]);
    await handle.signal(finishSignal);
  });

  test('a malformed outcome is refused with 400 naming the field', async () => {
    const { shipmentId, handle } = await waitingCancellation();
    const delivery = await stack.carrier.postWebhook(event(shipmentId, { outcome: 'maybe' }));
    expect(delivery.responseStatus).toBe(400);
    expect(JSON.parse(delivery.responseBody ?? '{}')).toMatchObject({ details: { field: 'outcome' } });
    const now = Math.floor(Date.now() / 1000);
    const notJson = await postRaw(
      '{"eventId":',
      signCarrierPayload(stack.webhooks.carrierWebhookSecret, '{"eventId":', now),
    );
    expect(notJson.status).toBe(400);
    expect(await handle.query(carrierOutcomesQuery)).toEqual([]);
    await handle.signal(finishSignal);
  });

  test('a shipment whose order has no running cancellation is refused with 409', async () => {
    const { shipmentId, cancellationId, handle } = await waitingCancellation();
    await stack.models.Cancellation.updateOne({ cancellationId }, { $unset: { activeForOrder: 1 } });
    const delivery = await stack.carrier.postWebhook(event(shipmentId));
    expect(delivery.responseStatus).toBe(409);
    expect(JSON.parse(delivery.responseBody ?? '{}')).toMatchObject({
      error: 'conflict',
      message: expect.stringContaining(`waits for shipment ${shipmentId}`) as string,
    });
    expect(await handle.query(carrierOutcomesQuery)).toEqual([]);
    await handle.signal(finishSignal);
  });

  test('a running workflow that does not know the Update answers 409 with the reason', async () => {
    const { shipmentId, cancellationId, handle } = await waitingCancellation();
    await handle.signal(finishSignal);
    await handle.result();
    // The cancellation now runs as a workflow without a reportCarrierOutcome handler (a delivery, retrying).
    const cancellationId2 = randomUUID();
    const keys = await stack.activities.queueCustomerNotifications({
      cancellationId: cancellationId2,
      orderNumber: 'SO-W-NOHANDLER',
      customerId: 'C-1',
      moment: 'received',
      reasonCode: 'other',
      refundedMinor: 0,
      currency: 'CNY',
    });
    const smsKey = keys.find((key) => key.endsWith(':sms')) ?? '';
    stack.sms.failNext(1, { status: 503 });
    const other = await stack.temporal.workflow.start(notificationDeliveryWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: `no-handler-${cancellationId2}`,
      args: [smsKey, { firstRetryAfterMs: 60_000 }],
    });
    await eventually(async () =>
      expect((await stack.models.Notification.findOne({ idempotencyKey: smsKey }).lean())?.attempts).toBe(1),
    );
    await stack.models.Cancellation.updateOne({ cancellationId }, { $set: { workflowId: other.workflowId } });

    const delivery = await stack.carrier.postWebhook(event(shipmentId));
    expect(delivery.responseStatus).toBe(409);
    expect(JSON.parse(delivery.responseBody ?? '{}')).toMatchObject({
      error: 'conflict',
      message: expect.stringContaining('reportCarrierOutcome') as string,
    });
    await other.terminate('test done');
  });
});
