// The carrier (R9) through cancelflow's HTTP client against the carrier simulator over HTTP: recalls
// accepted, refused as too late, failing and retried, made safe to repeat by their idempotency key. Late
// answers through the webhook to a waiting cancellation: test/shipped.workflow.test.ts.
import { createHttpCarrier } from '../integrations/carrier';
import { startCarrierSimulator, type CarrierSimulator } from '../simulators';

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

  test('a status the client does not know is reported as unrecognised, naming it, never read as stopped or refused', async () => {
    sim.setBehaviour({ mode: 'unknown' });
    const answer = await createHttpCarrier(sim.url).requestRecall(shipment, 'cancel-9:recall:SH-1');
    expect(answer).toEqual({
      status: 'unrecognised',
      recallId: sim.recalls[0]?.id,
      message: `the carrier answered recall ${sim.recalls[0]?.id ?? ''} with status "held_for_inspection"`,
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
