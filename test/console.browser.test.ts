// The console in a real browser (issue #14): headless Chromium (Debian's package, driven by playwright-core;
// no browser is downloaded) against the whole stack of test/support/stack.ts. A sales clerk finds an order by
// the customer's pinyin initials, cancels two of its lines with a reason and the confirmation R2 asks for, and
// watches the page move to completed without reloading; an approver decides a request from their inbox while
// the requester's page, in another browser context, moves on. Ops resume a cancellation that needed attention
// from their queue; finance settle by hand a refund the gateway refused, seeing it overdue; a customer opens
// their own link with no account, chooses re-delivery and rates the service, and a changed, another order's or
// expired link gets a page refusing it; a customer opens the link in their order mail, cancels the order as the
// rules answer at once, and lands on that cancellation's page; the warehouse confirms a parcel back from its
// queue; the message
// centre's badge counts and clears. axe-core checks every
// page visited.
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import {
  addCustomer,
  addPeople,
  addProduct,
  placePaidOrder,
  receiveStock,
  seedDemoData,
  shipOrder,
} from '../generators/demo-data';
import { customerLinkUrl } from '../lib/customer-link';
import { parseConfig } from '../lib/config';
import { setPassword } from '../models/credentials';
import { postMessage, unreadCount } from '../models/message-centre';
import { eventually } from './support/eventually';
import { expectAccessible } from './support/axe';
import { startTestStack, type TestStack } from './support/stack';
import { assertChromiumInstalled, launchChromium } from './support/browser';

/** Debian's Chromium: scripts/install.sh installs it (as root) when it is missing. */
const PASSWORD = 'console browser test password';

let stack: TestStack;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  assertChromiumInstalled();
  stack = await startTestStack('console-browser');
  await seedDemoData(stack.models);
  for (const personId of ['clerk-1', 'manager-1', 'director-1', 'finance-1', 'ops-1', 'warehouse-1']) {
    await setPassword(stack.models, personId, PASSWORD);
  }
  // A customer of their own, so that their initials find one order: 欧阳明 is ouyangming, initials oym.
  await addCustomer(stack.models, {
    customerId: 'C-CONSOLE-1',
    name: '欧阳明',
    email: 'ouyang.ming@example.cn',
    phone: '+8613700137000',
    country: 'CN',
    language: 'zh-CN',
  });
  await placePaidOrder(stack.models, {
    orderNumber: 'SO-CONSOLE-0001',
    customerId: 'C-CONSOLE-1',
    currency: 'CNY',
    lines: [
      { lineId: 'L1', sku: 'TEA-LJ-250', quantity: 3, unitPriceMinor: 16800 },
      { lineId: 'L2', sku: 'CUP-CER-01', quantity: 2, unitPriceMinor: 4500 },
      { lineId: 'L3', sku: 'POT-YX-02', quantity: 1, unitPriceMinor: 38800 },
    ],
  });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await stack?.stop();
});

async function newPage(locale = 'zh-CN'): Promise<Page> {
  const context = await browser.newContext({ baseURL: stack.apiUrl, locale });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  return page;
}

async function signIn(page: Page, login: string): Promise<void> {
  await page.goto('/console/inbox');
  // Not signed in: the sign-in page, which leads back to where the person was going.
  await page.waitForSelector('form.sign-in');
  await expectAccessible(page, `sign-in-${login}`);
  await page.getByLabel(/工号或电子邮箱|Person id or e-mail/).fill(login);
  await page.getByLabel(/^(密码|Password)$/).fill(PASSWORD);
  await page.locator('form.sign-in button[type=submit]').click();
  await page.waitForURL(/\/console\/inbox$/);
}

/** Marks the document: a reload (or any navigation) would lose the mark. */
async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => {
    (globalThis as unknown as { stayed: boolean }).stayed = true;
  });
}
const stillSameDocument = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { stayed?: boolean }).stayed === true);

const stateBadge = (page: Page) => page.locator('#state-line [data-state]');

test('a sales clerk finds an order by the customer’s pinyin initials, cancels two of its lines, and watches it complete live', async () => {
  const page = await newPage();
  await signIn(page, 'clerk-1');
  // clerk-1 works in Chinese (the books say so); the switch changes it for this browser, and back.
  expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
  await page.getByRole('link', { name: '查找订单' }).first().click();
  await page.getByRole('link', { name: 'English' }).click();
  await page.waitForSelector('html[lang="en"]');
  await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Find orders');
  await page.getByRole('link', { name: '中文' }).click();
  await page.waitForSelector('html[lang="zh-CN"]');
  await expectAccessible(page, 'orders-empty');

  await page.getByLabel('客户（姓名、拼音或首字母）').fill('oym');
  await page.getByRole('button', { name: '搜索' }).click();
  await page.waitForSelector('tr[data-order]');
  const found = await page.locator('tr[data-order]').all();
  expect(await Promise.all(found.map((row) => row.getAttribute('data-order')))).toEqual(['SO-CONSOLE-0001']);
  await expectAccessible(page, 'orders-found');

  await page.getByRole('link', { name: 'SO-CONSOLE-0001' }).click();
  await page.waitForSelector('#cancel-form');
  await expectAccessible(page, 'order');

  // Two of its three lines, one of them in part, with a reason and a note; keyboard only for the choices.
  await page.getByLabel('选定的订单行和数量').check();
  await page.getByLabel('第 L1 行：TEA-LJ-250').check();
  await page.getByLabel('第 L1 行取消数量（最多 3）').fill('2');
  await page.getByLabel('第 L1 行取消数量（最多 3）').press('Tab');
  await page.getByLabel('第 L2 行：CUP-CER-01').focus();
  await page.keyboard.press('Space');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('1');
  await page.getByLabel('取消原因').selectOption('out_of_stock');
  await page.getByLabel('备注（可选）').fill('供应商断货');
  await page.getByLabel('备注（可选）').press('Tab');

  // R2: the order awaits shipment; until that is confirmed the rules refuse, at once, and say why.
  await page.waitForSelector('[data-preview="refused"]');
  expect(await page.locator('#preview').textContent()).toContain('请勾选确认');
  expect(await page.locator('#confirm-cancel').count()).toBe(0);
  await page.getByLabel('此订单待发货：我确认取消。').check();
  await page.waitForSelector('[data-preview="allowed"]');
  const preview = (await page.locator('#preview').textContent()) ?? '';
  expect(preview).toContain('部分取消');
  expect(preview).toContain('无需审批');
  await expectAccessible(page, 'order-preview');

  // The refund takes a while at the gateway, so the page opens while the cancellation still runs.
  stack.gateway.setBehaviour({ mode: 'succeed', delayMs: 8_000, times: 1 });
  await page.locator('#confirm-cancel').click();
  await page.waitForURL(/\/console\/cancellations\/[^/]+$/);
  const cancellationId = decodeURIComponent(page.url().split('/').pop() ?? '');
  await markDocument(page);
  expect(await stateBadge(page).getAttribute('data-outcome')).toBe('');

  await page.waitForSelector('#state-line [data-outcome="completed"]', { timeout: 60_000 });
  expect(await stillSameDocument(page)).toBe(true);
  // The timeline and the notifications came with the updates, and keep coming until delivered.
  expect(Number(await page.locator('ol.timeline').getAttribute('data-steps'))).toBeGreaterThan(3);
  await page.waitForSelector('[data-delivery]');
  expect(await page.locator('[data-risk="low"]').count()).toBeGreaterThan(0);
  // The statechart moved with it: the final state is the one marked now, and the way through the refund is drawn.
  await page.waitForSelector('figure.statechart[data-current-state="completed"]');
  expect(await page.locator('.statechart .current').getAttribute('data-state')).toBe('completed');
  expect(await page.locator('.statechart [data-move="refunding>closingOrder"].taken').count()).toBe(1);
  await expectAccessible(page, 'cancellation-completed');

  // The same request the API would have recorded: the clerk, the two lines, the reason.
  const record = await stack.models.Cancellation.findOne({ cancellationId }).lean();
  expect(record).toMatchObject({
    orderNumber: 'SO-CONSOLE-0001',
    requestedBy: 'clerk-1',
    reasonCode: 'out_of_stock',
    note: '供应商断货',
    outcome: 'completed',
    confirmed: ['awaiting_shipment'],
  });
  expect(record?.requestedLines?.map(({ lineId, quantity }) => ({ lineId, quantity }))).toEqual([
    { lineId: 'L1', quantity: 2 },
    { lineId: 'L2', quantity: 1 },
  ]);
  expect(await stillSameDocument(page)).toBe(true);
}, 180_000);

test('an approver decides a request from their inbox, with a comment, and the requester’s page moves on live', async () => {
  // The requester asks in one browser context.
  const clerk = await newPage();
  await signIn(clerk, 'clerk-1');
  await clerk.goto('/console/orders/SO-2026-0003');
  await clerk.getByLabel('此订单待发货：我确认取消。').check();
  await clerk.waitForSelector('[data-preview="allowed"][data-risk="medium"]');
  expect(await clerk.locator('#preview').textContent()).toContain('需 1 级或以上审批人审批');
  await clerk.locator('#confirm-cancel').click();
  await clerk.waitForURL(/\/console\/cancellations\/[^/]+$/);
  const cancellationId = decodeURIComponent(clerk.url().split('/').pop() ?? '');
  await markDocument(clerk);
  await clerk.waitForSelector('#state-line [data-state="awaitingApproval.waitingForDecision"]', {
    timeout: 60_000,
  });
  await expectAccessible(clerk, 'cancellation-awaiting-approval');

  // The approver, in another context (another person's browser), in English (the books say so).
  const director = await newPage();
  await signIn(director, 'director-1');
  expect(await director.getAttribute('html', 'lang')).toBe('en');
  const item = director.locator(`article[data-cancellation="${cancellationId}"]`);
  await item.waitFor();
  // Due by the policy's deadline for the step (24 hours for a medium risk), as the workflow's clock set it.
  const dueBy = Date.parse((await item.getAttribute('data-due-by')) ?? '');
  expect(Math.abs(dueBy - (Date.now() + 24 * 3_600_000))).toBeLessThan(10 * 60_000);
  expect(await item.textContent()).toContain('Due by');
  expect(await item.locator('[data-overdue]').count()).toBe(0);
  await expectAccessible(director, 'inbox');
  await item.getByLabel('Comment').fill('VIP customer, agreed with sales');
  await item.getByRole('button', { name: 'Approve' }).click();
  await director.waitForSelector('[data-decided="approved"]');
  await expectAccessible(director, 'inbox-decided');

  // The requester's page moved on by itself, to the end, and explains the decision.
  await clerk.waitForSelector('#state-line [data-outcome="completed"]', { timeout: 60_000 });
  expect(await stillSameDocument(clerk)).toBe(true);
  const decisions = (await clerk.locator('[data-decisions]').textContent()) ?? '';
  expect(decisions).toContain('director-1');
  expect(decisions).toContain('VIP customer, agreed with sales');
  await expectAccessible(clerk, 'cancellation-approved');

  // The inbox no longer holds it.
  await director.goto('/console/inbox');
  expect(await director.locator(`article[data-cancellation="${cancellationId}"]`).count()).toBe(0);
}, 180_000);

/** A paid order of its own product and customer, so that what a test does to stock touches nothing else. */
async function ownOrder(
  orderNumber: string,
  options: { language?: 'en' | 'zh-CN'; sku?: string; name?: string } = {},
) {
  const sku = options.sku ?? `SKU-${orderNumber}`;
  const customerId = `C-${orderNumber}`;
  await addProduct(stack.models, {
    sku,
    name: `Item of ${orderNumber}`,
    unitPriceMinor: 15000,
    currency: 'CNY',
  });
  await receiveStock(stack.models, sku, 20);
  await addCustomer(stack.models, {
    customerId,
    name: options.name ?? 'Olivia Brown',
    email: `${orderNumber.toLowerCase()}@example.com`,
    language: options.language ?? 'en',
  });
  await placePaidOrder(stack.models, {
    orderNumber,
    customerId,
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku, quantity: 2, unitPriceMinor: 15000 }],
  });
  return { sku, customerId };
}

async function cancelByApi(orderNumber: string, confirm: ('awaiting_shipment' | 'shipped')[]) {
  const accepted = await (
    await stack.as('clerk-1')
  ).createCancellation({ orderNumber, reasonCode: 'customer_changed_mind', confirm });
  return accepted.cancellationId;
}

const recordOf = (cancellationId: string) => stack.models.Cancellation.findOne({ cancellationId }).lean();

async function copyReaches(cancellationId: string, state: string) {
  await eventually(async () => {
    expect((await recordOf(cancellationId))?.state).toBe(state);
  }, 60_000);
}

test('ops resume, from their queue, a cancellation that needed attention', async () => {
  const { sku } = await ownOrder('SO-CONSOLE-ATT');
  // The books disagree: someone zeroed the reservation by hand, so the stock cannot be released.
  const level = { sku, warehouse: 'WH-SH-01' };
  const reserved = (await stack.models.StockLevel.findOne(level).lean())?.reserved ?? 0;
  await stack.models.StockLevel.updateOne(level, { $set: { reserved: 0 } });
  const cancellationId = await cancelByApi('SO-CONSOLE-ATT', ['awaiting_shipment']);
  await copyReaches(cancellationId, 'needsAttention.waitingForOps');

  const ops = await newPage();
  await signIn(ops, 'ops-1');
  expect(await ops.getAttribute('html', 'lang')).toBe('en');
  await ops.getByRole('link', { name: 'Needing attention' }).click();
  const item = ops.locator(`article[data-cancellation="${cancellationId}"]`);
  await item.waitFor();
  expect(await item.getAttribute('data-overdue')).toBe('false');
  const described = (await item.textContent()) ?? '';
  expect(described).toContain(sku);
  expect(described).toContain('Releasing the stock');
  await expectAccessible(ops, 'queue-attention');

  // Repaired, then resumed with a note: the step that stopped runs again, and the cancellation completes.
  await stack.models.StockLevel.updateOne(level, { $set: { reserved } });
  await item.getByLabel('What was repaired (note)').fill('restored the reservation');
  await item.getByRole('button', { name: 'Resume' }).click();
  await ops.waitForSelector('[data-done="resumed"]');
  await expectAccessible(ops, 'queue-attention-resumed');
  await eventually(async () => {
    expect(await recordOf(cancellationId)).toMatchObject({ outcome: 'completed' });
  }, 60_000);
  expect(
    (await recordOf(cancellationId))?.timeline.some((entry) => entry.state?.startsWith('releasingStock')),
  ).toBe(true);
  await ops.goto('/console/queues/attention');
  expect(await ops.locator(`article[data-cancellation="${cancellationId}"]`).count()).toBe(0);
}, 180_000);

test('finance settle by hand a refund the gateway refused, seeing it overdue', async () => {
  await ownOrder('SO-CONSOLE-SET', { language: 'zh-CN', name: '赵磊' });
  stack.gateway.setBehaviour({ mode: 'fail_final', times: 1 });
  const cancellationId = await cancelByApi('SO-CONSOLE-SET', ['awaiting_shipment']);
  await copyReaches(cancellationId, 'awaitingSettlement.waitingForFinance');
  // As if it had waited three days: the copy's timeline says since when (finance's target is two days).
  const record = await recordOf(cancellationId);
  const threeDaysAgo = new Date(Date.now() - 3 * 24 * 3_600_000);
  await stack.models.Cancellation.updateOne(
    { cancellationId },
    {
      $set: {
        timeline: (record?.timeline ?? []).map((entry) =>
          entry.state?.startsWith('awaitingSettlement') ? { ...entry, at: threeDaysAgo } : entry,
        ),
      },
    },
  );

  const finance = await newPage();
  await signIn(finance, 'finance-1');
  await finance.getByRole('link', { name: '待人工退款' }).click();
  const item = finance.locator(`article[data-cancellation="${cancellationId}"]`);
  await item.waitFor();
  expect(await item.getAttribute('data-overdue')).toBe('true');
  expect(await item.locator('.badge.overdue').textContent()).toBe('已逾期');
  expect((await item.textContent()) ?? '').toContain('¥300.00');
  await expectAccessible(finance, 'queue-settlements');

  await item.getByLabel('人工退款凭证号').fill('ICBC-2026-1207-001');
  await item.getByRole('button', { name: '登记人工退款' }).click();
  await finance.waitForSelector('[data-done="settled"]');
  await expectAccessible(finance, 'queue-settlements-settled');
  await eventually(async () => {
    expect(await recordOf(cancellationId)).toMatchObject({ outcome: 'completed', refundedMinor: 30000 });
  }, 60_000);
  const refunds = await stack.models.Refund.find({ orderNumber: 'SO-CONSOLE-SET' }).lean();
  expect(refunds.map((refund) => [refund.status, refund.providerRefundId ?? null]).sort()).toEqual([
    ['failed', null],
    ['settled_manually', 'manual:ICBC-2026-1207-001'],
  ]);
}, 180_000);

test('the warehouse confirms, from its queue, a parcel that came back', async () => {
  await ownOrder('SO-CONSOLE-RET');
  await shipOrder(stack.models, 'SO-CONSOLE-RET', { shipmentId: 'SH-CONSOLE-RET' });
  stack.carrier.setBehaviour({ mode: 'accept' });
  // In transit, and the carrier stops it at once: the parcel comes back to the warehouse.
  const cancellationId = await cancelByApi('SO-CONSOLE-RET', ['shipped']);
  await copyReaches(cancellationId, 'awaitingReturn.waitingForGoods');

  const warehouse = await newPage();
  await signIn(warehouse, 'warehouse-1');
  await warehouse.getByRole('link', { name: '待收退货' }).click();
  const item = warehouse.locator(`article[data-cancellation="${cancellationId}"]`);
  await item.waitFor();
  expect(await item.getAttribute('data-overdue')).toBe('false');
  expect(await item.locator('tr[data-parcel="SH-CONSOLE-RET"]').count()).toBe(1);
  await expectAccessible(warehouse, 'queue-returns');

  await item.getByLabel('包裹 SH-CONSOLE-RET 的备注（可选）').fill('外箱完好');
  await item.getByRole('button', { name: '包裹 SH-CONSOLE-RET 已到仓' }).click();
  await warehouse.waitForSelector('[data-done="returned"]');
  await expectAccessible(warehouse, 'queue-returns-confirmed');
  await eventually(async () => {
    expect(await recordOf(cancellationId)).toMatchObject({
      outcome: 'completed',
      goods: { returned: [{ shipmentId: 'SH-CONSOLE-RET', by: 'warehouse-1' }] },
    });
  }, 60_000);
}, 180_000);

test('a customer opens their own link, chooses re-delivery and rates the service; other links are refused', async () => {
  const { customerId } = await ownOrder('SO-CONSOLE-CUS');
  await shipOrder(stack.models, 'SO-CONSOLE-CUS', { shipmentId: 'SH-CONSOLE-CUS', delivered: true });
  const cancellationId = await cancelByApi('SO-CONSOLE-CUS', ['shipped']);
  await copyReaches(cancellationId, 'agreeingWithCustomer');

  // Customer service (the requester) finds the customer's own link on the cancellation's page, to pass on.
  const clerk = await newPage();
  await signIn(clerk, 'clerk-1');
  await clerk.goto(`/console/cancellations/${cancellationId}`);
  const href = (await clerk.locator('a[data-customer-link]').getAttribute('href')) ?? '';
  const link = new URL(href);
  expect(link.pathname).toBe(`/customer/cancellations/${cancellationId}`);
  expect(link.searchParams.get('order')).toBe('SO-CONSOLE-CUS');
  const own = `${link.pathname}${link.search}`;

  // The customer, in a browser with no session, in their own language (the books say English).
  const customer = await newPage('zh-CN');
  await customer.goto(own);
  expect(await customer.getAttribute('html', 'lang')).toBe('en');
  await expect(customer.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
    'Your cancellation of order SO-CONSOLE-CUS',
  );
  await customer.waitForSelector('#state-line [data-stage="yourChoice"]');
  expect((await customer.locator('#choice').textContent()) ?? '').toContain('Please choose by');
  await expectAccessible(customer, 'customer-choice');
  // Their language switch keeps them on their page.
  await customer.getByRole('link', { name: '中文' }).click();
  await customer.waitForSelector('html[lang="zh-CN"]');
  await customer.waitForSelector('#state-line [data-stage="yourChoice"]');
  await customer.getByRole('link', { name: 'English' }).click();
  await customer.waitForSelector('html[lang="en"]');

  await customer.getByLabel(/^Re-delivery/).check();
  await customer.getByLabel('Anything we should know (optional)').fill('I will keep the vases after all');
  await customer.getByRole('button', { name: 'Send my choice' }).click();
  await customer.waitForURL(/done=choice/);
  await markDocument(customer);
  // The page follows the cancellation to its end by itself, and then asks for the rating.
  await customer.waitForSelector('#state-line [data-stage="redelivered"]', { timeout: 60_000 });
  expect(await stillSameDocument(customer)).toBe(true);
  await customer.waitForSelector('form.customer-feedback');
  await expectAccessible(customer, 'customer-redelivered');
  const chosen = await recordOf(cancellationId);
  expect(chosen).toMatchObject({
    outcome: 'redelivered',
    goods: { choice: { option: 'redelivery', by: customerId } },
  });

  await customer.getByLabel('5 – excellent').check();
  await customer.getByLabel('Tell us more (optional)').fill('Quick and clear, thank you');
  await customer.getByRole('button', { name: 'Send my rating' }).click();
  await customer.waitForURL(/done=feedback/);
  await customer.waitForSelector('#feedback[data-rated="5"]');
  await expectAccessible(customer, 'customer-rated');
  expect(await stack.models.Feedback.findOne({ cancellationId }).lean()).toMatchObject({
    rating: 5,
    comment: 'Quick and clear, thank you',
    orderNumber: 'SO-CONSOLE-CUS',
  });

  // A link changed by hand, one signed for another order, and one past its time: a page saying so, no data.
  const { CUSTOMER_LINK_SECRET } = parseConfig({});
  const signed = (orderNumber: string, ttlMs: number) => {
    const url = new URL(
      customerLinkUrl({ secret: CUSTOMER_LINK_SECRET, ttlMs }, stack.apiUrl, { cancellationId, orderNumber }),
    );
    return `${url.pathname}${url.search}`;
  };
  const sig = link.searchParams.get('sig') ?? '';
  const tampered = own.replace(sig, `${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`);
  for (const [name, url, status, why] of [
    ['customer-link-tampered', tampered, 403, 'tampered'],
    ['customer-link-other-order', signed('SO-2026-0001', 3_600_000), 403, 'tampered'],
    ['customer-link-expired', signed('SO-CONSOLE-CUS', -60_000), 410, 'expired'],
  ] as const) {
    const response = await customer.goto(url);
    expect(response?.status()).toBe(status);
    await customer.waitForSelector(`[data-link-refused="${why}"]`);
    const text = (await customer.locator('body').textContent()) ?? '';
    expect(text).not.toContain('SO-CONSOLE-CUS');
    expect(text).not.toContain('Olivia');
    await expectAccessible(customer, name);
  }
}, 180_000);

test('a customer opens the link in their order mail, cancels, and lands on the cancellation’s page', async () => {
  await placePaidOrder(stack.models, {
    orderNumber: 'SO-CONSOLE-SELF',
    customerId: 'C-1002',
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'CUP-CER-01', quantity: 1, unitPriceMinor: 4500 }],
  });
  // The shop asks for the link for its order mail, as a requester's key.
  const { url } = await (await stack.as('clerk-1')).getCustomerOrderLink('SO-CONSOLE-SELF');
  const customer = await newPage('en-GB');
  const link = new URL(url);
  await customer.goto(`${link.pathname}${link.search}`);
  await customer.waitForSelector('[data-order-status="allocated"]');
  // Before the confirmation R2 asks for, the rules ask for it; ticked, they say what happens, at once.
  await customer.waitForSelector('#answer [data-answer="confirmation_required"]');
  await customer.getByLabel('Why would you like to cancel?').selectOption('duplicate_order');
  await customer.getByLabel('Yes, I want to cancel this order before it is sent.').check();
  await customer.waitForSelector('#answer [data-answer="cancelled"]');
  await expectAccessible(customer, 'customer-order');
  await customer.getByRole('button', { name: 'Cancel my order' }).click();
  await customer.waitForURL(/\/customer\/cancellations\/[0-9a-f-]{36}\?order=SO-CONSOLE-SELF/);
  await customer.waitForSelector('[data-stage="cancelled"]', { timeout: 60_000 });
  await expectAccessible(customer, 'customer-order-cancelled');
  expect(
    await stack.models.Cancellation.find(
      { orderNumber: 'SO-CONSOLE-SELF' },
      { requestedBy: 1, _id: 0 },
    ).lean(),
  ).toEqual([{ requestedBy: 'customer:C-1002' }]);
}, 120_000);

test('the message centre’s badge counts the unread messages and clears as they are read', async () => {
  // A reader of messages who joins now, in a department the cancellations above no longer write to (purchasing
  // hears of purchase orders only): what their badge counts is what this test sends them.
  await addPeople(stack.models, [
    {
      personId: 'reader-1',
      name: 'Rae Reader',
      email: 'rae.reader@cancelflow.local',
      language: 'en',
      department: 'purchasing',
      roles: ['requester'],
      approvalLevel: 0,
    },
  ]);
  await setPassword(stack.models, 'reader-1', PASSWORD);
  for (const [index, title] of ['Refund settled', 'Stock released'].entries()) {
    await postMessage(stack.models, {
      idempotencyKey: `console-browser-message-${index}`,
      to: { personId: 'reader-1' },
      cancellationId: 'console-browser-no-cancellation',
      orderNumber: 'SO-CONSOLE-0001',
      category: 'cancellation_progress',
      content: {
        'zh-CN': { title: `消息 ${index}`, body: '正文' },
        en: { title, body: `What happened: ${title.toLowerCase()}.\nNothing to do.` },
      },
    });
  }
  const reader = await newPage();
  await signIn(reader, 'reader-1');
  const badge = reader.locator('#unread-badge');
  expect(await badge.getAttribute('data-unread')).toBe('2');
  expect(await badge.textContent()).toContain('2 unread');

  await reader.getByRole('link', { name: /^Messages/ }).click();
  await reader.waitForSelector('article[data-message]');
  expect(await reader.locator('article[data-read="false"]').count()).toBe(2);
  await expectAccessible(reader, 'messages');

  const first = reader.locator('article[data-message="console-browser-message-0:reader-1"]');
  await first.getByRole('button', { name: /Mark read/ }).click();
  await reader.waitForSelector(
    'article[data-message="console-browser-message-0:reader-1"][data-read="true"]',
  );
  expect(await badge.getAttribute('data-unread')).toBe('1');
  expect(await unreadCount(stack.models, 'reader-1')).toBe(1);

  await reader.getByRole('button', { name: 'Mark all read' }).click();
  await reader.waitForSelector('[data-unread-count="0"]');
  expect(await badge.getAttribute('data-unread')).toBe('0');
  expect((await badge.textContent())?.trim()).toBe('');
  expect(await unreadCount(stack.models, 'reader-1')).toBe(0);
  await expectAccessible(reader, 'messages-read');
}, 120_000);

test('finance read the analytics: each chart drawn from its table, within the Content-Security-Policy', async () => {
  const page = await newPage('en');
  await signIn(page, 'finance-1');
  // A script, style or connection the policy refused shows as a console error saying so.
  const refused: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) refused.push(message.text());
  });
  await page.getByRole('link', { name: /^(分析|Analytics)$/ }).click();
  await page.waitForURL(/\/console\/analytics$/);
  await page.waitForSelector('section[data-figure="reasons"][data-chart-drawn="true"]');
  // Every section with a chart drew it (the reasons, departments and channels always have rows).
  const charted = await page.locator('section[data-chart]').count();
  expect(charted).toBeGreaterThanOrEqual(3);
  expect(await page.locator('section[data-chart-drawn="true"]').count()).toBe(charted);
  const canvas = await page.locator('section[data-figure="reasons"] canvas').boundingBox();
  expect(canvas?.height).toBeGreaterThan(100);
  expect(refused).toEqual([]);
  await expectAccessible(page, 'analytics');
});
