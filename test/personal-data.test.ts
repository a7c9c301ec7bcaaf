// Personal data out of Temporal's history (issue #15): a cancellation runs end to end on the real dev server,
// then every payload of its history, and of its notices' delivery workflows, is read raw from the server, as
// anyone with access to Temporal's database would read it. None holds the customer's name, phone, e-mail or
// address; every payload the codec handles is encrypted (search attributes are the server's to index, and hold
// only the state, risk, order number and customer id ops search by); through the codec, as the worker reads
// them, the order number is there (the search reads real content).
import type { temporal } from '@temporalio/proto';
import { addCustomer, addPeople, addProduct, placePaidOrder, receiveStock } from '../generators/demo-data';
import { TEST_DATA_CONVERTER } from './support/data-converter';
import { startTestStack, type TestStack } from './support/stack';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack('personal-data');
  await addPeople(stack.models);
});

afterAll(async () => {
  await stack.stop();
});

type Payload = temporal.api.common.v1.IPayload;

/**
 * Every payload anywhere in a history event (inputs, results, failures' details, markers, memo, headers).
 * `ownOnly`: leave out what the codec never sees, by Temporal's design: search attributes, which the server
 * indexes (the state, the risk, the order number and customer id that ops search by), and the SDK's own
 * marker data (patches, a local activity's sequence and type).
 */
function payloadsIn(value: unknown, ownOnly: boolean, found: Payload[] = []): Payload[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return found;
  const candidate = value as Payload;
  if (candidate.data instanceof Uint8Array && candidate.metadata && typeof candidate.metadata === 'object') {
    found.push(candidate);
    return found;
  }
  const marker = value as { markerName?: unknown; details?: { result?: unknown } };
  if (ownOnly && marker.markerName === 'core_patch') return found;
  // A local activity's marker: its result is ours; its `data` is the SDK's bookkeeping (sequence, type, time).
  if (ownOnly && marker.markerName === 'core_local_activity')
    return payloadsIn(marker.details?.result, ownOnly, found);
  for (const [key, inner] of Object.entries(value)) {
    if (ownOnly && key === 'searchAttributes') continue;
    payloadsIn(inner, ownOnly, found);
  }
  return found;
}

const bytes = (payload: Payload) => Buffer.from(payload.data ?? []).toString('utf8');

test("no payload of a cancellation's history holds the customer's personal data in clear", async () => {
  const customer = {
    customerId: 'C-PRIVATE',
    name: '欧阳娜娜',
    email: 'ouyang.nana@example.cn',
    phone: '+8613912345678',
    language: 'zh-CN' as const,
    address: '上海市浦东新区世纪大道100号',
  };
  await addCustomer(stack.models, customer);
  await addProduct(stack.models, { sku: 'TEA-P', name: '碧螺春', unitPriceMinor: 8800, currency: 'CNY' });
  await receiveStock(stack.models, 'TEA-P', 5);
  await placePaidOrder(stack.models, {
    orderNumber: 'SO-PRIVATE-1',
    customerId: customer.customerId,
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'TEA-P', quantity: 1, unitPriceMinor: 8800 }],
  });
  const accepted = await (
    await stack.as('clerk-1')
  ).createCancellation({
    orderNumber: 'SO-PRIVATE-1',
    reasonCode: 'customer_changed_mind',
    confirm: ['awaiting_shipment'],
  });
  const handle = stack.temporal.workflow.getHandle(accepted.workflowId);
  await handle.result();

  const entries = await stack.models.Notification.find({ cancellationId: accepted.cancellationId }).lean();
  const deliveries = [...new Set(entries.map((entry) => entry.deliveryWorkflowId).filter(Boolean))];
  expect(deliveries.length).toBeGreaterThan(0);
  for (const delivery of deliveries) await stack.temporal.workflow.getHandle(delivery!).result();

  const histories = await Promise.all(
    [accepted.workflowId, ...(deliveries as string[])].map((id) =>
      stack.temporal.workflow.getHandle(id).fetchHistory(),
    ),
  );
  const events = histories.map((history) => history.events);
  // Nowhere, search attributes included: none of the customer's personal data.
  const everything = payloadsIn(events, false).map(bytes).join('\n');
  for (const value of [customer.name, customer.email, customer.phone, customer.address])
    expect(everything).not.toContain(value);
  // Every payload the codec sees is encrypted, under the configuration's key: not even the order number shows.
  const raw = payloadsIn(events, true);
  expect(raw.length).toBeGreaterThan(20);
  expect(raw.map(bytes).join('\n')).not.toContain('SO-PRIVATE-1');
  for (const payload of raw) {
    expect(Buffer.from(payload.metadata?.encoding ?? []).toString()).toBe('binary/encrypted');
    expect(Buffer.from(payload.metadata?.['encryption-key-id'] ?? []).toString()).toBe('local');
  }

  // Through the codec, as the worker and an authorised person read them, the content is there.
  const decoded = await TEST_DATA_CONVERTER.payloadCodecs![0]!.decode(raw.map((payload) => ({ ...payload })));
  expect(decoded.map(bytes).join('\n')).toContain('SO-PRIVATE-1');
});
