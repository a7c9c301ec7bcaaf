// The carrier (R9) through cancelflow's HTTP client against the carrier simulator over HTTP: recalls
// accepted, refused as too late, failing and retried, made safe to repeat by their idempotency key; and a
// late answer posted by the carrier to the API's webhook, reaching the waiting workflow on Temporal.
import { randomUUID } from 'node:crypto';
import { createHttpCarrier } from '../integrations/carrier';
import { startCarrierSimulator, type CarrierSimulator } from '../simulators';
import { addCustomer, addProduct, placePaidOrder, receiveStock } from '../scripts/demo-data';
import { eventually } from './support/eventually';
import { startIntegrationStack, type IntegrationStack } from './support/integration-stack';
import { awaitingCarrierWorkflow, carrierOutcomesQuery, finishSignal } from './support/test-workflows';

describe('recall requests', () => {
  let sim: CarrierSimulator;

  beforeEach(async () => {
    sim = await startCarrierSimulator({ port: 0, logger: false });
  });
  afterEach(async () => {
    await sim.close();
  });

  const shipment = { shipmentId: 'SH-1', trackingNumber: 'SF1000', reason: 'order cancelled' };

  test('an accepted recall is one recall, however often it is asked with the same key', async () => {
    const carrier = createHttpCarrier(sim.url);
    const first = await carrier.requestRecall(shipment, 'cancel-1:recall:SH-1');
    expect(first).toEqual({
      status: 'accepted',
      recallId: expect.stringMatching(/^rc_[0-9a-f]+$/) as string,
    });
    expect(await carrier.requestRecall(shipment, 'cancel-1:recall:SH-1')).toEqual(first);
    expect(sim.recalls).toEqual([
      expect.objectContaining({ shipmentId: 'SH-1', trackingNumber: 'SF1000', status: 'accepted' }),
    ]);
    // The key belongs to that shipment: reused for another, it is refused for good.
    expect(await carrier.requestRecall({ shipmentId: 'SH-2' }, 'cancel-1:recall:SH-1')).toEqual({
      status: 'failed',
      retryable: false,
      message: 'idempotency key reused for another shipment',
    });
  });

  test('a carrier that refuses answers too late, with its reason', async () => {
    sim.setBehaviour({ mode: 'refuse' });
    expect(await createHttpCarrier(sim.url).requestRecall(shipment, 'cancel-2:recall:SH-1')).toEqual({
      status: 'too_late',
      recallId: expect.any(String) as string,
      message: 'the parcel is already out for delivery',
    });
  });

  test('a failing carrier is worth a retry with the same key, which then creates one recall', async () => {
    sim.setBehaviour({ mode: 'fail', times: 2 });
    const carrier = createHttpCarrier(sim.url);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      expect(await carrier.requestRecall(shipment, 'cancel-3:recall:SH-1')).toEqual({
        status: 'failed',
        retryable: true,
        message: 'carrier temporarily unavailable, try again',
      });
    }
    expect(await carrier.requestRecall(shipment, 'cancel-3:recall:SH-1')).toMatchObject({
      status: 'accepted',
    });
    expect(sim.recalls).toHaveLength(1);
  });

  test('an unreachable carrier is a retryable failure', async () => {
    const { url } = sim;
    await sim.close();
    expect(
      await createHttpCarrier(url, { timeoutMs: 2000 }).requestRecall(shipment, 'cancel-4'),
    ).toMatchObject({
      status: 'failed',
      retryable: true,
    });
    sim = await startCarrierSimulator({ port: 0, logger: false });
  });

  test('the API key is sent when configured, and a carrier that wants one refuses requests without it', async () => {
    const guarded = await startCarrierSimulator({ port: 0, apiKey: 'carrier-key-1', logger: false });
    try {
      expect(await createHttpCarrier(guarded.url).requestRecall(shipment, 'cancel-5')).toEqual({
        status: 'failed',
        retryable: false,
        message: 'a valid API key is required',
      });
      expect(
        await createHttpCarrier(guarded.url, { apiKey: 'carrier-key-1' }).requestRecall(shipment, 'cancel-5'),
      ).toMatchObject({ status: 'accepted' });
    } finally {
      await guarded.close();
    }
  });
});

describe('late answers through the webhook', () => {
  let stack: IntegrationStack;
  let count = 0;

  beforeAll(async () => {
    stack = await startIntegrationStack('carrier');
    await addProduct(stack.models, { sku: 'TEA-1', name: '龙井茶', unitPriceMinor: 16800, currency: 'CNY' });
    await receiveStock(stack.models, 'TEA-1', 10);
    await addCustomer(stack.models, { customerId: 'C-1', name: '王芳', language: 'zh-CN' });
  });
  afterAll(async () => {
    await stack.stop();
  });

  /** A shipped order whose cancellation waits for the carrier's answer on the recall. */
  async function waitingForCarrier() {
    count += 1;
    const orderNumber = `SO-C-${count}`;
    const shipmentId = `SH-C-${count}`;
    const cancellationId = randomUUID();
    await placePaidOrder(stack.models, {
      orderNumber,
      customerId: 'C-1',
      currency: 'CNY',
      lines: [{ lineId: 'L1', sku: 'TEA-1', quantity: 1, unitPriceMinor: 16800 }],
    });
    await stack.models.Shipment.create({
      shipmentId,
      orderNumber,
      warehouse: 'WH-SH-01',
      carrier: 'SF Express',
      trackingNumber: `SF${count}`,
      status: 'in_transit',
      lines: [{ lineId: 'L1', sku: 'TEA-1', quantity: 1 }],
    });
    const handle = await stack.temporal.workflow.start(awaitingCarrierWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: `awaiting-carrier-${cancellationId}`,
      args: [cancellationId, orderNumber],
    });
    await stack.models.Cancellation.create({
      cancellationId,
      workflowId: handle.workflowId,
      orderNumber,
      customerId: 'C-1',
      activeForOrder: orderNumber,
      reasonCode: 'customer_changed_mind',
      requestedBy: 'clerk-1',
      state: 'awaitingCarrier',
    });
    return { shipmentId, handle };
  }

  test('the carrier answers later: pending now, the outcome posted, signed, to the waiting workflow', async () => {
    const { shipmentId, handle } = await waitingForCarrier();
    stack.carrier.setBehaviour({ mode: 'late', lateOutcome: 'too_late', answerAfterMs: 300 });
    const outcome = await createHttpCarrier(stack.carrier.url).requestRecall(
      { shipmentId },
      `recall:${shipmentId}`,
    );
    expect(outcome).toEqual({ status: 'pending', recallId: expect.any(String) as string });
    expect(await handle.query(carrierOutcomesQuery)).toEqual([]);

    const [received] = await eventually(async () => {
      const outcomes = await handle.query(carrierOutcomesQuery);
      expect(outcomes).toHaveLength(1);
      return outcomes;
    });
    expect(received).toMatchObject({
      shipmentId,
      recallId: outcome.status === 'pending' ? outcome.recallId : '',
      outcome: 'too_late',
      reason: 'the parcel is already out for delivery',
    });
    // The workflow may take the outcome a moment before the API's answer reaches the carrier.
    await eventually(() =>
      expect(stack.carrier.webhooks.at(-1)).toMatchObject({ responseStatus: 200, attempts: 1 }),
    );
    await handle.signal(finishSignal);
  });

  test('a person tells the carrier simulator to answer, over its control API: accepted reaches the workflow', async () => {
    const { shipmentId, handle } = await waitingForCarrier();
    stack.carrier.setBehaviour({ mode: 'late' });
    const outcome = await createHttpCarrier(stack.carrier.url).requestRecall(
      { shipmentId },
      `recall:${shipmentId}`,
    );
    const recallId = outcome.status === 'pending' ? outcome.recallId : '';
    const response = await fetch(`${stack.carrier.url}/_sim/recalls/${recallId}/outcome`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ outcome: 'accepted' }),
    });
    expect(await response.json()).toMatchObject({ recallId, responseStatus: 200 });
    await handle.signal(finishSignal);
    expect(await handle.result()).toEqual([
      expect.objectContaining({ shipmentId, recallId, outcome: 'accepted' }),
    ]);
    expect(stack.carrier.recalls.find((recall) => recall.id === recallId)).toMatchObject({
      status: 'accepted',
    });
    // Asked again with the same key, the carrier reports the recall as it now stands.
    expect(
      await createHttpCarrier(stack.carrier.url).requestRecall({ shipmentId }, `recall:${shipmentId}`),
    ).toEqual({ status: 'accepted', recallId });
  });
});
