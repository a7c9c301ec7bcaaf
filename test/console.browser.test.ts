// The console in a real browser (issue #14): headless Chromium (Debian's package, driven by playwright-core;
// no browser is downloaded) against the whole stack of test/support/stack.ts. A sales clerk finds an order by
// the customer's pinyin initials, cancels two of its lines with a reason and the confirmation R2 asks for, and
// watches the page move to completed without reloading; an approver decides a request from their inbox while
// the requester's page, in another browser context, moves on. axe-core checks every page visited.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { addCustomer, placePaidOrder, seedDemoData } from '../generators/demo-data';
import { setPassword } from '../models/credentials';
import { startTestStack, type TestStack } from './support/stack';

/** Debian's Chromium: scripts/install.sh installs it (as root) when it is missing. */
const CHROMIUM = '/usr/bin/chromium';
const PASSWORD = 'console browser test password';
const SCREENSHOTS = join(__dirname, '..', '.data', 'console-screenshots');
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

let stack: TestStack;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: the console's browser tests need it. Run scripts/install.sh as ` +
        'root, or: apt-get update && apt-get install -y chromium',
    );
  }
  stack = await startTestStack('console-browser');
  await seedDemoData(stack.models);
  for (const personId of ['clerk-1', 'manager-1', 'director-1']) {
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
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // As root (CI, this machine) Chromium runs only without its sandbox.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}, 180_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await stack?.stop();
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ baseURL: stack.apiUrl, locale: 'zh-CN' });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  return page;
}

/**
 * axe-core on the page as it stands: no serious or critical violation of WCAG 2.1 A and AA. Its script is
 * evaluated through the DevTools protocol (the pages' Content-Security-Policy allows no inline script).
 */
async function expectAccessible(page: Page, name: string): Promise<void> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const inPage = globalThis as unknown as {
      axe: { run: (...args: unknown[]) => Promise<AxeResults> };
      document: unknown;
    };
    const results = await inPage.axe.run(inPage.document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return results.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      nodes: violation.nodes.map((node) => node.target.join(' ')).slice(0, 5),
    }));
  });
  const serious = violations.filter((violation) => ['serious', 'critical'].includes(violation.impact ?? ''));
  expect({ page: name, serious }).toEqual({ page: name, serious: [] });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
interface AxeResults {
  violations: { id: string; impact?: string | null; nodes: { target: string[] }[] }[];
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
