// Each person's action through the HTTP API (issue #12), against the running stack: people sign in with their
// password (a session cookie and its CSRF token) and act with the typed client, and each scenario follows the
// cancellation to the workflow's end as the API shows it. An approver decides, a finance clerk settles a refund
// the gateway refused, a warehouse clerk confirms a returned parcel, ops resume a stopped cancellation and
// revoke a key, the requester withdraws, staff pass on the customer's choice. Per action, the refusals: 409
// with the workflow's reason, 400 naming the field, 403 without the role, 401 without credentials, 404 for an
// unknown cancellation. And the signed-in person's message centre.
import { CancelflowApiError, CancelflowClient, type CancellationResource } from '../client/cancelflow-client';
import {
  addCustomer,
  addPeople,
  addProduct,
  placePaidOrder,
  receiveStock,
  shipOrder,
} from '../generators/demo-data';
import { setPassword } from '../models/credentials';
import { eventually } from './support/eventually';
import { startTestStack, type TestStack } from './support/stack';

const PASSWORD = 'a long front door password';
const PEOPLE = ['clerk-1', 'manager-1', 'director-1', 'finance-1', 'warehouse-1', 'ops-1'] as const;
type PersonId = (typeof PEOPLE)[number];

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack('front-door-actions');
  // clerk-1 requester; manager-1 requester and approver (level 1); director-1 approver (level 2);
  // finance-1 finance clerk; warehouse-1 warehouse clerk; ops-1 ops and admin.
  await addPeople(stack.models);
  for (const personId of PEOPLE) await setPassword(stack.models, personId, PASSWORD);
  await addProduct(stack.models, { sku: 'ACT-TEA', name: '铁观音', unitPriceMinor: 12000, currency: 'CNY' });
  await receiveStock(stack.models, 'ACT-TEA', 100);
  await addProduct(stack.models, {
    sku: 'ACT-VASE',
    name: 'Celadon vase',
    unitPriceMinor: 15000,
    currency: 'CNY',
  });
  await receiveStock(stack.models, 'ACT-VASE', 40);
});

afterAll(async () => {
  await stack?.stop();
});

beforeEach(() => {
  stack.carrier.clear();
  stack.carrier.setBehaviour({ mode: 'accept' });
  stack.gateway.setBehaviour({ mode: 'succeed' });
});

/** A person signed in with their password: the client holds the session cookie and the CSRF token. */
async function signedIn(personId: PersonId): Promise<CancelflowClient> {
  const client = new CancelflowClient({ baseUrl: stack.apiUrl });
  const answer = await client.signIn(personId, PASSWORD);
  expect(answer.person).toMatchObject({ personId, via: 'session' });
  return client;
}

/** The status, code, message and details of a refused call. */
async function refusal(call: Promise<unknown>) {
  try {
    await call;
  } catch (error) {
    if (error instanceof CancelflowApiError) {
      return {
        status: error.status,
        error: error.body.error,
        message: error.body.message,
        details: error.body.details,
      };
    }
    throw error;
  }
  throw new Error('the call was not refused');
}

let orderCount = 0;

/**
 * A paid order of two items for a customer of its own (one customer's many cancellations would raise the risk,
 * R20): a VIP's cancellation is of medium risk and waits for one approval of level 1; another's runs straight
 * on. `shipped`/`delivered`: the parcel has left (and arrived).
 */
async function newOrder(
  options: { vip?: boolean; sku?: string; shipped?: boolean; delivered?: boolean } = {},
): Promise<{ orderNumber: string; shipmentId: string }> {
  orderCount += 1;
  const orderNumber = `SO-ACT-${orderCount}`;
  const customerId = `C-${orderNumber}`;
  await addCustomer(stack.models, {
    customerId,
    name: 'Olivia Brown',
    email: `olivia.${orderCount}@example.com`,
    language: 'en',
    ...(options.vip ? { tier: 'vip' as const } : {}),
  });
  const sku = options.sku ?? (options.shipped || options.delivered ? 'ACT-VASE' : 'ACT-TEA');
  const unitPriceMinor = sku === 'ACT-VASE' ? 15000 : 12000;
  await placePaidOrder(stack.models, {
    orderNumber,
    customerId,
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku, quantity: 2, unitPriceMinor }],
  });
  const shipmentId = `SH-${orderNumber}`;
  if (options.shipped || options.delivered) {
    await shipOrder(stack.models, orderNumber, { shipmentId, delivered: options.delivered ?? false });
  }
  return { orderNumber, shipmentId };
}

/** The requester (signed in, or a system's key) asks for the order's cancellation. */
async function cancel(
  requester: CancelflowClient,
  orderNumber: string,
  confirm: 'awaiting_shipment' | 'shipped' = 'awaiting_shipment',
): Promise<string> {
  const accepted = await requester.createCancellation({
    orderNumber,
    reasonCode: 'customer_changed_mind',
    confirm: [confirm],
  });
  expect(accepted).toMatchObject({ orderNumber, existing: false });
  return accepted.cancellationId;
}

/** Waits until the API shows the cancellation in `state` (and the list's database copy too). */
async function reaches(client: CancelflowClient, cancellationId: string, state: string) {
  return eventually(async () => {
    const resource = await client.getCancellation(cancellationId);
    expect(resource.state).toBe(state);
    const listed = await client.listCancellations({ orderNumber: resource.orderNumber });
    expect(listed.items.find((item) => item.cancellationId === cancellationId)?.state).toBe(state);
    return resource;
  }, 30_000);
}

/** Waits until the cancellation ended; answers the resource from the database copy. */
async function ended(client: CancelflowClient, cancellationId: string): Promise<CancellationResource> {
  return eventually(async () => {
    const resource = await client.getCancellation(cancellationId);
    expect(resource).toMatchObject({ source: 'database', outcome: expect.any(String) });
    return resource;
  }, 30_000);
}

/** The cancellations waiting for this person, as their `waitingFor: 'me'` list shows them. */
async function waitingForMe(client: CancelflowClient): Promise<string[]> {
  const page = await client.listCancellations({ waitingFor: 'me', limit: 100 });
  return page.items.map((item) => item.cancellationId);
}

const WAITING_FOR_DECISION = 'awaitingApproval.waitingForDecision';

describe("the signed-in person's message centre", () => {
  // First in the file, so that nothing else of this file's is still arriving in the approver's message centre.
  test('an approver lists their messages, counts the unread, marks one read, then all', async () => {
    const clerk = await signedIn('clerk-1');
    const { orderNumber } = await newOrder({ vip: true });
    const cancellationId = await cancel(clerk, orderNumber);
    await reaches(clerk, cancellationId, WAITING_FOR_DECISION);

    const director = await signedIn('director-1');
    // The approval asked for is in their message centre, unread.
    const asked = await eventually(async () => {
      const page = await director.listMessages({ unread: true, limit: 100 });
      const message = page.items.find(
        (item) => item.cancellationId === cancellationId && item.category === 'action_required',
      );
      expect(message).toMatchObject({ orderNumber, read: false });
      return message;
    });
    const messageId = asked?.messageId ?? '';
    const { unread } = await director.unreadCount();
    expect(unread).toBeGreaterThanOrEqual(1);
    const all = await director.listMessages({ limit: 100 });
    expect(all.items.filter((item) => !item.read)).toHaveLength(unread);

    // Another person's message is not theirs to mark: 404, as for one that does not exist.
    expect(await refusal(clerk.markMessageRead(messageId))).toMatchObject({ status: 404 });
    expect(await refusal(director.markMessageRead('no-such-message'))).toMatchObject({ status: 404 });

    const read = await director.markMessageRead(messageId);
    expect(read).toMatchObject({ messageId, read: true, readAt: expect.any(String) });
    expect(await director.unreadCount()).toEqual({ unread: unread - 1 });
    // Marking it again changes nothing.
    expect(await director.markMessageRead(messageId)).toMatchObject({ readAt: read.readAt });
    expect(
      (await director.listMessages({ unread: true, limit: 100 })).items.map((m) => m.messageId),
    ).not.toContain(messageId);

    expect(await director.markAllMessagesRead()).toEqual({ marked: unread - 1 });
    expect(await director.unreadCount()).toEqual({ unread: 0 });
    expect((await director.listMessages({ unread: true })).items).toEqual([]);
    expect(await director.markAllMessagesRead()).toEqual({ marked: 0 });

    // The message centre is the caller's own: without credentials, 401.
    expect(await refusal(stack.api.unreadCount())).toMatchObject({ status: 401 });
    expect(await refusal(stack.api.listMessages())).toMatchObject({ status: 401 });

    await clerk.withdraw(cancellationId);
    expect(await ended(clerk, cancellationId)).toMatchObject({ outcome: 'withdrawn' });
  });
});

describe('an approver signs in and decides', () => {
  test('the approver finds it waiting for them, approves with a comment; it completes with the decision on record', async () => {
    const clerk = await signedIn('clerk-1');
    const { orderNumber } = await newOrder({ vip: true });
    const cancellationId = await cancel(clerk, orderNumber);
    await reaches(clerk, cancellationId, WAITING_FOR_DECISION);

    const manager = await signedIn('manager-1');
    await eventually(async () => expect(await waitingForMe(manager)).toContain(cancellationId));
    // Not waiting for those who cannot decide it: the requester, finance.
    expect(await waitingForMe(clerk)).not.toContain(cancellationId);
    expect(await waitingForMe(await signedIn('finance-1'))).not.toContain(cancellationId);
    const waiting = await manager.getCancellation(cancellationId);
    expect(waiting).toMatchObject({
      source: 'workflow',
      risk: { level: 'medium' },
      approval: { step: 0, steps: 1, requiredLevel: 1, eligibleApprovers: ['manager-1', 'director-1'] },
    });

    const decided = await manager.decide(cancellationId, { approved: true, comment: 'VIP asked nicely' });
    expect(decided.approval?.decisions).toEqual([
      { approver: 'manager-1', approved: true, reason: 'VIP asked nicely', level: 1 },
    ]);

    const done = await ended(manager, cancellationId);
    expect(done).toMatchObject({
      state: 'completed',
      outcome: 'completed',
      refundedMinor: 24000,
      approval: { decisions: [{ approver: 'manager-1', approved: true, reason: 'VIP asked nicely' }] },
      refunds: [{ amountMinor: 24000, status: 'succeeded' }],
    });
    expect(await waitingForMe(manager)).not.toContain(cancellationId);

    // Nothing waits for a decision any more: the decision is refused with why.
    expect(await refusal(manager.decide(cancellationId, { approved: true }))).toMatchObject({
      status: 409,
      error: 'conflict',
      // The workflow says so while it lingers after its end, the API once it has closed.
      message: expect.stringMatching(
        /^cannot approve: the cancellation is completed$|no longer running \(completed\)/,
      ),
    });
  });

  test('a decision repeated with its Idempotency-Key (its answer lost) is answered as the first, never taken twice', async () => {
    const clerk = await signedIn('clerk-1');
    const { orderNumber } = await newOrder({ vip: true });
    const cancellationId = await cancel(clerk, orderNumber);
    await reaches(clerk, cancellationId, WAITING_FOR_DECISION);
    const manager = await signedIn('manager-1');
    const decision = { approved: true, comment: 'repeat me' };
    const first = await manager.decide(cancellationId, decision, { idempotencyKey: 'decide-once-1' });
    expect(first.approval?.decisions).toHaveLength(1);
    // Repeated at once, and again once the cancellation has ended: the same answer.
    expect(await manager.decide(cancellationId, decision, { idempotencyKey: 'decide-once-1' })).toEqual(
      first,
    );
    expect(await ended(manager, cancellationId)).toMatchObject({ outcome: 'completed' });
    expect(await manager.decide(cancellationId, decision, { idempotencyKey: 'decide-once-1' })).toEqual(
      first,
    );
    // Another key is another decision: refused, as there is nothing left to decide.
    expect(
      await refusal(manager.decide(cancellationId, decision, { idempotencyKey: 'decide-once-2' })),
    ).toMatchObject({ status: 409 });
    // The same key from another person is theirs, not the manager's answer.
    const director = await signedIn('director-1');
    expect(
      await refusal(director.decide(cancellationId, decision, { idempotencyKey: 'decide-once-1' })),
    ).toMatchObject({ status: 409 });
    expect((await manager.getCancellation(cancellationId)).approval?.decisions).toHaveLength(1);
  });

  test('the approver rejects with a comment: it ends rejected, naming them and why, and no money moves', async () => {
    const clerk = await signedIn('clerk-1');
    const { orderNumber } = await newOrder({ vip: true });
    const cancellationId = await cancel(clerk, orderNumber);
    await reaches(clerk, cancellationId, WAITING_FOR_DECISION);

    const director = await signedIn('director-1');
    await eventually(async () => expect(await waitingForMe(director)).toContain(cancellationId));
    await director.decide(cancellationId, { approved: false, comment: 'goods already packed' });

    expect(await ended(clerk, cancellationId)).toMatchObject({
      state: 'rejected',
      outcome: 'rejected',
      refusal: 'rejected by director-1: goods already packed',
      refundedMinor: 0,
      refunds: [],
    });
  });

  test('the workflow refuses a requester deciding their own request: 409 with that reason', async () => {
    // manager-1 is both a requester and an approver of level 1.
    const manager = await signedIn('manager-1');
    const { orderNumber } = await newOrder({ vip: true });
    const cancellationId = await cancel(manager, orderNumber);
    await reaches(manager, cancellationId, WAITING_FOR_DECISION);
    expect(await waitingForMe(manager)).not.toContain(cancellationId);

    expect(await refusal(manager.decide(cancellationId, { approved: true }))).toMatchObject({
      status: 409,
      error: 'conflict',
      message: expect.stringContaining('requester'),
      details: { cancellationId },
    });
    // Still waiting, for the other approver, who approves.
    const director = await signedIn('director-1');
    expect(await waitingForMe(director)).toContain(cancellationId);
    await director.decide(cancellationId, { approved: true });
    expect(await ended(manager, cancellationId)).toMatchObject({ outcome: 'completed' });
  });
});

describe('a finance clerk settles a refund the gateway refused', () => {
  test('the refusal waits for finance; the clerk records the refund made by hand; it completes', async () => {
    const clerk = await signedIn('clerk-1');
    const { orderNumber } = await newOrder();
    stack.gateway.setBehaviour({ mode: 'fail_final', times: 1 });
    const cancellationId = await cancel(clerk, orderNumber);
    await reaches(clerk, cancellationId, 'awaitingSettlement.waitingForFinance');

    const finance = await signedIn('finance-1');
    await eventually(async () => expect(await waitingForMe(finance)).toContain(cancellationId));
    const listed = await finance.listCancellations({ orderNumber });
    expect(listed.items[0]?.settlement).toMatchObject({
      outstandingMinor: 24000,
      failure: expect.stringContaining('declined'),
    });

    // A reference of blanks is no reference: 400 naming the field, and nothing recorded.
    expect(await refusal(finance.settle(cancellationId, { reference: '   ' }))).toMatchObject({
      status: 400,
      details: { field: 'reference' },
    });

    await finance.settle(cancellationId, { reference: 'ICBC-2026-1128-001' });
    const done = await ended(finance, cancellationId);
    expect(done).toMatchObject({ state: 'completed', outcome: 'completed', refundedMinor: 24000 });
    expect(done.refunds.map((refund) => [refund.status, refund.amountMinor])).toEqual([
      ['failed', 24000],
      ['settled_manually', 24000],
    ]);
    expect(done.refunds[1]?.reference).toBe('manual:ICBC-2026-1128-001');
    expect(await waitingForMe(finance)).not.toContain(cancellationId);
  });
});

describe('a warehouse clerk confirms a returned parcel', () => {
  test('the carrier stopped the parcel; the clerk confirms it is back; stock and money go back', async () => {
    const clerk = await signedIn('clerk-1');
    const { orderNumber, shipmentId } = await newOrder({ shipped: true });
    const cancellationId = await cancel(clerk, orderNumber, 'shipped');
    const waiting = await reaches(clerk, cancellationId, 'awaitingReturn.waitingForGoods');
    expect(waiting.goods?.recalls).toEqual([expect.objectContaining({ shipmentId, status: 'accepted' })]);

    const warehouse = await signedIn('warehouse-1');
    await eventually(async () => expect(await waitingForMe(warehouse)).toContain(cancellationId));

    // Only a parcel of this cancellation: the workflow says which one it is not.
    expect(await refusal(warehouse.confirmReturn(cancellationId, { shipmentId: 'SH-OTHER' }))).toMatchObject({
      status: 409,
      message: expect.stringContaining('SH-OTHER'),
    });

    await warehouse.confirmReturn(cancellationId, { shipmentId, note: 'both vases intact' });
    const done = await ended(warehouse, cancellationId);
    expect(done).toMatchObject({
      state: 'completed',
      outcome: 'completed',
      refundedMinor: 30000,
      goods: { returned: [{ shipmentId, by: 'warehouse-1' }] },
    });
    expect(await stack.models.Shipment.findOne({ shipmentId }).lean()).toMatchObject({ status: 'returned' });
  });
});

describe('ops resume a cancellation that needs attention, and revoke a key', () => {
  test('stock that cannot be released stops it for ops; repaired, ops resume it and it completes', async () => {
    await addProduct(stack.models, { sku: 'ACT-RES', name: '普洱', unitPriceMinor: 12000, currency: 'CNY' });
    await receiveStock(stack.models, 'ACT-RES', 10);
    const clerk = await signedIn('clerk-1');
    const { orderNumber } = await newOrder({ sku: 'ACT-RES' });
    // The books disagree: someone zeroed the reservation by hand, so there is nothing to release.
    const reservedBefore = (await stack.models.StockLevel.findOne({ sku: 'ACT-RES' }).lean())?.reserved ?? 0;
    expect(reservedBefore).toBe(2);
    await stack.models.StockLevel.updateOne({ sku: 'ACT-RES' }, { $set: { reserved: 0 } });
    const cancellationId = await cancel(clerk, orderNumber);
    await reaches(clerk, cancellationId, 'needsAttention.waitingForOps');

    const ops = await signedIn('ops-1');
    await eventually(async () => expect(await waitingForMe(ops)).toContain(cancellationId));
    const listed = await ops.listCancellations({ orderNumber });
    expect(listed.items[0]?.attention).toMatchObject({
      from: 'releasingStock',
      reason: expect.stringContaining('ACT-RES'),
    });

    await stack.models.StockLevel.updateOne({ sku: 'ACT-RES' }, { $set: { reserved: reservedBefore } });
    await ops.resume(cancellationId, { note: 'restored the reservation' });
    expect(await ended(ops, cancellationId)).toMatchObject({
      state: 'completed',
      outcome: 'completed',
      refundedMinor: 24000,
    });
    expect(await stack.models.StockLevel.findOne({ sku: 'ACT-RES' }).lean()).toMatchObject({ reserved: 0 });
  });

  test('ops revoke the key a system asks with: its next request is refused; others may not revoke; an unknown key is 404', async () => {
    const ops = await signedIn('ops-1');
    const issued = await ops.createApiKey({
      name: 'shop back-end',
      personId: 'clerk-1',
      scopes: ['requester'],
    });
    const shop = new CancelflowClient({ baseUrl: stack.apiUrl, apiKey: issued.token });
    const { orderNumber } = await newOrder();
    const cancellationId = await cancel(shop, orderNumber);
    expect(await ended(shop, cancellationId)).toMatchObject({ outcome: 'completed', requestedBy: 'clerk-1' });

    const clerk = await signedIn('clerk-1');
    expect(await refusal(clerk.revokeApiKey(issued.key.keyId))).toMatchObject({ status: 403 });
    expect(await refusal(stack.api.revokeApiKey(issued.key.keyId))).toMatchObject({ status: 401 });
    expect(await refusal(ops.revokeApiKey('no-such-key'))).toMatchObject({ status: 404 });

    expect(await ops.revokeApiKey(issued.key.keyId)).toMatchObject({
      keyId: issued.key.keyId,
      revokedAt: expect.any(String),
    });
    const { orderNumber: next } = await newOrder();
    expect(await refusal(cancel(shop, next))).toMatchObject({
      status: 401,
      message: expect.stringContaining('revoked'),
    });
  });
});

describe('the requester withdraws', () => {
  test('while it waits for approval, the requester withdraws it; another requester may not', async () => {
    const clerk = await signedIn('clerk-1');
    const { orderNumber } = await newOrder({ vip: true });
    const cancellationId = await cancel(clerk, orderNumber);
    await reaches(clerk, cancellationId, WAITING_FOR_DECISION);

    // manager-1 requests too, but this request is not theirs.
    const manager = await signedIn('manager-1');
    expect(await refusal(manager.withdraw(cancellationId, { reason: 'not mine' }))).toMatchObject({
      status: 403,
      message: expect.stringContaining('their own'),
    });

    const withdrawn = await clerk.withdraw(cancellationId, { reason: 'customer kept it' });
    expect(withdrawn).toMatchObject({ state: 'withdrawn' });
    expect(await ended(clerk, cancellationId)).toMatchObject({
      state: 'withdrawn',
      outcome: 'withdrawn',
      refusal: 'withdrawn by clerk-1: customer kept it',
      refundedMinor: 0,
    });
    expect(await stack.models.SalesOrder.findOne({ orderNumber }).lean()).toMatchObject({
      status: 'allocated',
    });
    expect(await refusal(clerk.withdraw(cancellationId))).toMatchObject({
      status: 409,
      message: expect.stringMatching(
        /^cannot withdraw: the cancellation is withdrawn$|no longer running \(withdrawn\)/,
      ),
    });
  });
});

describe("staff pass on the customer's choice (R12)", () => {
  test('too late to stop the parcel: the requester records the customer keeping it for a partial refund', async () => {
    stack.carrier.setBehaviour({ mode: 'refuse' });
    const clerk = await signedIn('clerk-1');
    const { orderNumber, shipmentId } = await newOrder({ shipped: true });
    const cancellationId = await cancel(clerk, orderNumber, 'shipped');
    const offered = await reaches(clerk, cancellationId, 'agreeingWithCustomer');
    expect(offered.goods?.offer).toMatchObject({
      options: ['return', 'redelivery', 'refund_without_return'],
      refundableMinor: 30000,
      deductionMinor: 9000,
    });
    // The requester who asked passes the choice on: it waits for them.
    await eventually(async () => expect(await waitingForMe(clerk)).toContain(cancellationId));

    expect(
      await refusal(clerk.recordChoice(cancellationId, { option: 'keep_it' as 'return' })),
    ).toMatchObject({ status: 400, details: { field: 'option' } });

    await clerk.recordChoice(cancellationId, { option: 'refund_without_return', note: 'by phone' });
    expect(await ended(clerk, cancellationId)).toMatchObject({
      state: 'completed',
      outcome: 'completed',
      refundedMinor: 21000,
      goods: { choice: { option: 'refund_without_return', by: 'clerk-1', defaulted: false } },
    });
    expect(await stack.models.Shipment.findOne({ shipmentId }).lean()).not.toMatchObject({
      status: 'returned',
    });
  });

  test('delivered: ops record re-delivery; nothing is refunded and the order goes ahead', async () => {
    const clerk = await signedIn('clerk-1');
    const { orderNumber } = await newOrder({ delivered: true });
    const cancellationId = await cancel(clerk, orderNumber, 'shipped');
    await reaches(clerk, cancellationId, 'agreeingWithCustomer');

    const ops = await signedIn('ops-1');
    await ops.recordChoice(cancellationId, { option: 'redelivery' });
    expect(await ended(clerk, cancellationId)).toMatchObject({
      outcome: 'redelivered',
      refundedMinor: 0,
      goods: { choice: { option: 'redelivery', by: 'ops-1' } },
    });
  });
});

describe('every action refuses what it must', () => {
  /** A cancellation waiting for an approval: nothing but a decision or a withdrawal is expected of it. */
  let pending: string;
  let clients: Record<PersonId, CancelflowClient>;

  beforeAll(async () => {
    clients = Object.fromEntries(
      await Promise.all(PEOPLE.map(async (personId) => [personId, await signedIn(personId)] as const)),
    ) as Record<PersonId, CancelflowClient>;
    const { orderNumber } = await newOrder({ vip: true });
    pending = await cancel(clients['clerk-1'], orderNumber);
    await reaches(clients['clerk-1'], pending, WAITING_FOR_DECISION);
  });

  afterAll(async () => {
    // Leave nothing running behind the file.
    await clients['clerk-1'].withdraw(pending).catch(() => undefined);
  });

  interface ActionCase {
    action: string;
    /** Who may send it, who may not (no such role), and the call with a body. */
    allowed: PersonId;
    lacking: PersonId;
    send: (client: CancelflowClient, cancellationId: string) => Promise<unknown>;
    /** A malformed body and the field the 400 names. */
    malformed: { body: unknown; field: string };
    /** The workflow's reason when nothing of this kind waits (on the pending approval); absent: it is expected. */
    notNow?: RegExp;
  }

  const cases: ActionCase[] = [
    {
      action: 'decision',
      allowed: 'director-1',
      lacking: 'finance-1',
      send: (client, id) => client.decide(id, { approved: false, comment: 'test' }),
      malformed: { body: { approved: 'yes' }, field: 'approved' },
    },
    {
      action: 'withdrawal',
      allowed: 'clerk-1',
      lacking: 'warehouse-1',
      send: (client, id) => client.withdraw(id, { reason: 'test' }),
      malformed: { body: { reason: 'x', by: 'clerk-1' }, field: 'by' },
    },
    {
      action: 'settlement',
      allowed: 'finance-1',
      lacking: 'clerk-1',
      send: (client, id) => client.settle(id, { reference: 'REF-1' }),
      malformed: { body: {}, field: 'reference' },
      notNow: /^cannot record the settlement: the cancellation is awaitingApproval\.waitingForDecision/,
    },
    {
      action: 'resumption',
      allowed: 'ops-1',
      lacking: 'director-1',
      send: (client, id) => client.resume(id, { note: 'test' }),
      malformed: { body: { note: 42 }, field: 'note' },
      notNow: /^cannot resume: the cancellation is awaitingApproval\.waitingForDecision/,
    },
    {
      action: 'returns',
      allowed: 'warehouse-1',
      lacking: 'ops-1',
      send: (client, id) => client.confirmReturn(id, { shipmentId: 'SH-1' }),
      malformed: { body: { note: 'no parcel named' }, field: 'shipmentId' },
      notNow: /^cannot confirm the return: the cancellation is awaitingApproval\.waitingForDecision/,
    },
    {
      action: 'choice',
      allowed: 'ops-1',
      lacking: 'finance-1',
      send: (client, id) => client.recordChoice(id, { option: 'return' }),
      malformed: { body: { option: 'return', by: 'customer' }, field: 'by' },
      notNow: /^cannot take the choice: the cancellation is awaitingApproval\.waitingForDecision/,
    },
  ];

  const post = (cancellationId: string, action: string, body: unknown, client: CancelflowClient) => {
    const { cookies, csrfToken } = client.currentSession();
    return fetch(`${stack.apiUrl}/v1/cancellations/${cancellationId}/${action}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        cookie: Object.entries(cookies)
          .map(([name, value]) => `${name}=${value}`)
          .join('; '),
        'x-csrf-token': csrfToken ?? '',
      },
      body: JSON.stringify(body),
    });
  };

  test.each(cases)('$action: no credentials 401, a missing role 403, an unknown id 404', async (spec) => {
    expect(await refusal(spec.send(stack.api, pending))).toMatchObject({
      status: 401,
      error: 'unauthorized',
    });
    expect(await refusal(spec.send(clients[spec.lacking], pending))).toMatchObject({
      status: 403,
      error: 'forbidden',
      message: expect.stringContaining(`${spec.lacking} may not do this`),
    });
    expect(await refusal(spec.send(clients[spec.allowed], 'no-such-cancellation'))).toMatchObject({
      status: 404,
      error: 'not_found',
      message: expect.stringContaining('no-such-cancellation'),
    });
    // Still waiting, untouched by any of these.
    expect((await clients['clerk-1'].getCancellation(pending)).state).toBe(WAITING_FOR_DECISION);
  });

  test.each(cases)('$action: a malformed body is a 400 naming the field', async (spec) => {
    const response = await post(pending, spec.action, spec.malformed.body, clients[spec.allowed]);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: 'validation_failed',
      message: expect.stringContaining(spec.malformed.field),
      details: { field: spec.malformed.field },
    });
    expect((await clients['clerk-1'].getCancellation(pending)).state).toBe(WAITING_FOR_DECISION);
  });

  test.each(cases.filter((spec) => spec.notNow))(
    '$action: when nothing of the kind waits, the workflow refuses with 409 and its reason',
    async (spec) => {
      expect(await refusal(spec.send(clients[spec.allowed], pending))).toMatchObject({
        status: 409,
        error: 'conflict',
        message: expect.stringMatching(spec.notNow ?? /never/),
        details: { cancellationId: pending },
      });
      expect((await clients['clerk-1'].getCancellation(pending)).state).toBe(WAITING_FOR_DECISION);
    },
  );
});

describe('lists page newest first by cursor', () => {
  /** Follows `nextCursor` one item at a time; answers every page's items in order. */
  async function allPages<Item>(
    list: (cursor: string | undefined) => Promise<{ items: Item[]; nextCursor?: string }>,
  ): Promise<Item[]> {
    const items: Item[] = [];
    let cursor: string | undefined;
    do {
      const page = await list(cursor);
      expect(page.items.length).toBeLessThanOrEqual(1);
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  }

  test('cancellations: one at a time, every one once, in the order of one big page, with the total', async () => {
    const ops = await stack.as('ops-1');
    const whole = await ops.listCancellations({ limit: 100 });
    expect(whole.items.length).toBeGreaterThanOrEqual(2);
    const paged = await allPages((cursor) => ops.listCancellations({ limit: 1, cursor }));
    expect(paged.map((item) => item.cancellationId)).toEqual(whole.items.map((item) => item.cancellationId));
    expect((await ops.listCancellations({ limit: 1 })).total).toBe(whole.total);
    expect(await refusal(ops.listCancellations({ cursor: 'not-a-cursor' }))).toMatchObject({
      status: 400,
      details: { field: 'cursor' },
    });
  });

  test('messages: one at a time, every one once, in the order of one big page', async () => {
    const director = await signedIn('director-1');
    const whole = await director.listMessages({ limit: 100 });
    expect(whole.items.length).toBeGreaterThanOrEqual(2);
    const paged = await allPages((cursor) => director.listMessages({ limit: 1, cursor }));
    expect(paged.map((item) => item.messageId)).toEqual(whole.items.map((item) => item.messageId));
    expect(await refusal(director.listMessages({ cursor: 'bm90LWEtY3Vyc29y' }))).toMatchObject({
      status: 400,
      details: { field: 'cursor' },
    });
  });
});
