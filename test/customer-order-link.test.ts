// The customer asks to cancel their own order from the link in their order mail (issue #14), against the whole
// stack of test/support/stack.ts: the shop's system asks the API for the signed link; the page shows the order
// and the rules' answer in the customer's words (cancelled and refunded, needs the shop's approval, the parcel
// has left, too late and what to do instead); submitting goes through the cancellation service as the customer,
// once however often it is sent, and leads to the customer's own page of that cancellation; a changed link,
// another order's or an expired one gets a refusal page with nothing of the order.
import {
  addCustomer,
  addProduct,
  placePaidOrder,
  receiveStock,
  seedDemoData,
  shipOrder,
} from '../generators/demo-data';
import { parseConfig } from '../lib/config';
import { orderLinkSearch, signOrderLink } from '../lib/customer-link';
import { CancelflowApiError } from '../client/cancelflow-client';
import { eventually } from './support/eventually';
import { startTestStack, type TestStack } from './support/stack';

const { CUSTOMER_LINK_SECRET } = parseConfig({});
const links = { secret: CUSTOMER_LINK_SECRET, ttlMs: 3_600_000 };
const CUSTOMER = 'C-SELF-1';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack('customer-order-link');
  await seedDemoData(stack.models);
  await addCustomer(stack.models, {
    customerId: CUSTOMER,
    name: 'Grace Hopper',
    email: 'grace@example.com',
    phone: '+14155550199',
    country: 'US',
    language: 'en',
  });
  await addProduct(stack.models, {
    sku: 'SELF-LAMP',
    name: 'Brass desk lamp',
    unitPriceMinor: 300_000,
    currency: 'CNY',
  });
  await receiveStock(stack.models, 'SELF-LAMP', 5);
  await addProduct(stack.models, {
    sku: 'SELF-CUP',
    name: 'Celadon tea cup',
    unitPriceMinor: 4500,
    currency: 'CNY',
  });
  await receiveStock(stack.models, 'SELF-CUP', 50);
  const order = (orderNumber: string, sku: string, quantity: number, unitPriceMinor: number) =>
    placePaidOrder(stack.models, {
      orderNumber,
      customerId: CUSTOMER,
      currency: 'CNY',
      lines: [{ lineId: 'L1', sku, quantity, unitPriceMinor }],
    });
  await order('SO-SELF-0001', 'SELF-CUP', 2, 4500);
  await order('SO-SELF-0002', 'SELF-CUP', 1, 4500);
  await order('SO-SELF-0003', 'SELF-CUP', 1, 4500);
  await order('SO-SELF-0004', 'SELF-LAMP', 1, 300_000);
  await shipOrder(stack.models, 'SO-SELF-0002', { shipmentId: 'SH-SELF-0002' });
  await stack.models.SalesOrder.updateOne({ orderNumber: 'SO-SELF-0003' }, { $set: { status: 'completed' } });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

const pathOf = (orderNumber: string) => `/customer/orders/${orderNumber}`;
const linkFor = (orderNumber: string, now = new Date()) =>
  `${pathOf(orderNumber)}?${orderLinkSearch(signOrderLink(links, orderNumber, now))}`;

async function get(path: string) {
  const response = await fetch(`${stack.apiUrl}${path}`, { redirect: 'manual' });
  return { status: response.status, location: response.headers.get('location'), body: await response.text() };
}

async function post(path: string, form: Record<string, string>) {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
    redirect: 'manual',
  });
  return { status: response.status, location: response.headers.get('location'), body: await response.text() };
}

/** The form's answer from the rules, as the page asks for it while the form changes. */
const preview = (orderNumber: string, form: Record<string, string>) => {
  const link = linkFor(orderNumber);
  const [path, search] = link.split('?');
  return get(`${path}/preview?${search}&${new URLSearchParams(form).toString()}`);
};

describe('the API hands out the order link', () => {
  test('a requester (the shop’s key) gets a signed link that opens the order’s page', async () => {
    const shop = await stack.as('clerk-1');
    const link = await shop.getCustomerOrderLink('SO-SELF-0001');
    expect(link.orderNumber).toBe('SO-SELF-0001');
    const url = new URL(link.url);
    expect(url.pathname).toBe('/customer/orders/SO-SELF-0001');
    expect([...url.searchParams.keys()].sort()).toEqual(['expires', 'sig']);
    expect(new Date(link.expiresAt).getTime()).toBeGreaterThan(Date.now() + 29 * 24 * 3_600_000);
    const page = await get(`${url.pathname}${url.search}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Your order SO-SELF-0001');
  });

  test('no credentials: 401; another role: 403; no such order: 404', async () => {
    const refusedWith = async (call: Promise<unknown>) =>
      call.then(
        () => 200,
        (error: unknown) => (error instanceof CancelflowApiError ? error.status : -1),
      );
    expect(await refusedWith(stack.api.getCustomerOrderLink('SO-SELF-0001'))).toBe(401);
    expect(await refusedWith((await stack.as('finance-1')).getCustomerOrderLink('SO-SELF-0001'))).toBe(403);
    expect(await refusedWith((await stack.as('clerk-1')).getCustomerOrderLink('SO-NOPE-404'))).toBe(404);
  });
});

describe('the customer’s order page', () => {
  test('shows the order’s items and status in their language, and the rules’ answer as the form stands', async () => {
    const page = await get(linkFor('SO-SELF-0001'));
    expect(page.status).toBe(200);
    expect(page.body).toContain('Hello Grace Hopper');
    expect(page.body).toContain('Celadon tea cup');
    expect(page.body).toContain('data-order-status="allocated"');
    // As it opens: the whole order, and the confirmation R2 asks for not yet given.
    expect(page.body).toContain('data-answer="confirmation_required"');
    expect(page.body).toContain('name="idempotencyKey"');
    const chinese = await get(`${linkFor('SO-SELF-0001')}&lang=zh-CN`);
    expect(chinese.body).toContain('取消此订单');
  });

  test('the rules answer at once: cancelled and refunded; needs approval; choose an item', async () => {
    const whole = { scope: 'whole', reasonCode: 'customer_changed_mind', confirm: 'awaiting_shipment' };
    const low = await preview('SO-SELF-0001', whole);
    expect(low.body).toContain('data-answer="cancelled"');
    expect(low.body).toMatch(/It will be cancelled and .*90\.00 refunded to you/);
    expect(low.body).toContain('id="confirm-cancel"');
    const high = await preview('SO-SELF-0004', whole);
    expect(high.body).toContain('data-answer="needs_approval"');
    expect(high.body).toContain('needs the shop’s approval');
    const none = await preview('SO-SELF-0001', { ...whole, scope: 'lines' });
    expect(none.body).toContain('data-answer="chooseLines"');
    expect(none.body).not.toContain('id="confirm-cancel"');
  });

  test('a shipped order: the parcel has left, and what the customer can do', async () => {
    const answer = await preview('SO-SELF-0002', {
      scope: 'whole',
      reasonCode: 'customer_changed_mind',
      confirm: 'shipped',
    });
    expect(answer.body).toContain('Your parcel has already left');
    expect(answer.body).toContain('refuse the parcel or send it back');
  });

  test('too late: a completed order is answered with what to do instead, and no button', async () => {
    const page = await get(linkFor('SO-SELF-0003'));
    expect(page.status).toBe(200);
    expect(page.body).toContain('data-answer="too_late"');
    expect(page.body).toContain('you can still ask for a return');
    expect(page.body).not.toContain('id="confirm-cancel"');
    const [path, search] = linkFor('SO-SELF-0003').split('?');
    const refused = await post(`${path}/cancellations?${search}`, {
      scope: 'whole',
      reasonCode: 'other',
      idempotencyKey: 'self-too-late-1',
    });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.body).toContain('data-answer="too_late"');
    expect(await stack.models.Cancellation.countDocuments({ orderNumber: 'SO-SELF-0003' })).toBe(0);
  });
});

describe('a link that does not hold shows nothing of the order', () => {
  const noOrderData = (body: string) => {
    expect(body).toContain('data-link-refused');
    expect(body).not.toContain('Grace Hopper');
    expect(body).not.toContain('Celadon tea cup');
    expect(body).not.toContain('data-order-status');
  };

  test('changed: 403; another order’s: 403; expired: 410', async () => {
    const link = linkFor('SO-SELF-0001');
    const tampered = await get(
      link.replace(/sig=(.)/, (_all, first: string) => `sig=${first === 'A' ? 'B' : 'A'}`),
    );
    expect(tampered.status).toBe(403);
    noOrderData(tampered.body);
    const another = await get(link.replace('SO-SELF-0001', 'SO-SELF-0002'));
    expect(another.status).toBe(403);
    noOrderData(another.body);
    const expired = await get(linkFor('SO-SELF-0001', new Date(Date.now() - 2 * 3_600_000)));
    expect(expired.status).toBe(410);
    noOrderData(expired.body);
    expect(expired.body).toContain('data-link-refused="expired"');
    // Nor may another order's link be used to ask for a cancellation.
    const [, search] = link.split('?');
    const write = await post(`${pathOf('SO-SELF-0002')}/cancellations?${search}`, {
      scope: 'whole',
      reasonCode: 'other',
      confirm: 'shipped',
    });
    expect(write.status).toBe(403);
    expect(await stack.models.Cancellation.countDocuments({ orderNumber: 'SO-SELF-0002' })).toBe(0);
  });
});

describe('the customer cancels', () => {
  test('through the cancellation service, as the customer; twice sent is one; the page is the cancellation’s', async () => {
    const [path, search] = linkFor('SO-SELF-0001').split('?');
    const form = {
      scope: 'whole',
      reasonCode: 'customer_changed_mind',
      note: 'bought it elsewhere',
      confirm: 'awaiting_shipment',
      idempotencyKey: 'self-cancel-0001',
      // What the form might claim is not who asks: the customer comes from the books.
      requestedBy: 'director-1',
    };
    const first = await post(`${path}/cancellations?${search}`, form);
    expect(first.status).toBe(303);
    const again = await post(`${path}/cancellations?${search}`, form);
    expect(again.status).toBe(303);
    const target = new URL(first.location ?? '', stack.apiUrl);
    // The same cancellation (its link signed anew, so its expiry may differ by a second).
    expect(new URL(again.location ?? '', stack.apiUrl).pathname).toBe(target.pathname);
    expect(target.pathname).toMatch(/^\/customer\/cancellations\/[0-9a-f-]{36}$/);
    expect(target.searchParams.get('order')).toBe('SO-SELF-0001');

    const records = await stack.models.Cancellation.find({ orderNumber: 'SO-SELF-0001' }).lean();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      requestedBy: `customer:${CUSTOMER}`,
      channel: 'customer_link',
      reasonCode: 'customer_changed_mind',
      note: 'bought it elsewhere',
      requestKey: 'self-cancel-0001',
    });
    const page = await get(`${target.pathname}${target.search}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Your cancellation of order SO-SELF-0001');
    // The workflow runs it to the end.
    const ops = await stack.as('ops-1');
    await eventually(async () => {
      expect(await ops.getCancellation(records[0]?.cancellationId ?? '')).toMatchObject({
        outcome: 'completed',
      });
    }, 60_000);
  });

  test('one that needs approval waits; the order link then leads to that cancellation’s page', async () => {
    const [path, search] = linkFor('SO-SELF-0004').split('?');
    const asked = await post(`${path}/cancellations?${search}`, {
      scope: 'whole',
      reasonCode: 'duplicate_order',
      confirm: 'awaiting_shipment',
      idempotencyKey: 'self-cancel-0004',
    });
    expect(asked.status).toBe(303);
    // Another request (another key) for the same order while it runs is that one too.
    const second = await post(`${path}/cancellations?${search}`, {
      scope: 'whole',
      reasonCode: 'other',
      confirm: 'awaiting_shipment',
      idempotencyKey: 'self-cancel-0004-b',
    });
    expect(new URL(second.location ?? '', stack.apiUrl).pathname).toBe(
      new URL(asked.location ?? '', stack.apiUrl).pathname,
    );
    const reopened = await get(linkFor('SO-SELF-0004'));
    expect(reopened.status).toBe(303);
    expect(new URL(reopened.location ?? '', stack.apiUrl).pathname).toBe(
      new URL(asked.location ?? '', stack.apiUrl).pathname,
    );
    expect(await stack.models.Cancellation.countDocuments({ orderNumber: 'SO-SELF-0004' })).toBe(1);
  });
});
