// The console's bulk cancellation in a real browser (issue #16): headless Chromium, as test/console.browser.test.ts
// drives it, against the whole stack. A requester signs in with their password (a session: every write carries
// the CSRF token htmx sends), names three orders, sees the dry run answer in place, starts the job, and watches
// its page reach completed without reloading. axe-core checks both pages.
import { type Browser } from 'playwright-core';
import { addCustomer, addPeople, addProduct, placePaidOrder, receiveStock } from '../generators/demo-data';
import { setPassword } from '../models/credentials';
import { expectAccessible } from './support/axe';
import { startTestStack, type TestStack } from './support/stack';
import { assertChromiumInstalled, launchChromium } from './support/browser';

const PASSWORD = 'bulk browser test password';
const ORDERS = ['SO-BBR-1', 'SO-BBR-2', 'SO-BBR-3'];

let stack: TestStack;
let browser: Browser;

beforeAll(async () => {
  assertChromiumInstalled();
  stack = await startTestStack('bulk-browser');
  await addPeople(stack.models);
  await setPassword(stack.models, 'clerk-1', PASSWORD);
  // The console speaks the person's own language: English here, for the labels below.
  await stack.models.Person.updateOne({ personId: 'clerk-1' }, { $set: { language: 'en' } });
  await addProduct(stack.models, { sku: 'BBR-POT', name: 'Teapot', unitPriceMinor: 6800, currency: 'CNY' });
  await receiveStock(stack.models, 'BBR-POT', 10);
  for (const [index, orderNumber] of ORDERS.entries()) {
    await addCustomer(stack.models, {
      customerId: `CBB-${index}`,
      name: `Customer ${index}`,
      email: `cbb${index}@example.com`,
      language: 'en',
    });
    await placePaidOrder(stack.models, {
      orderNumber,
      customerId: `CBB-${index}`,
      currency: 'CNY',
      lines: [{ lineId: 'L1', sku: 'BBR-POT', quantity: 1, unitPriceMinor: 6800 }],
    });
  }
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

test('a requester dry-runs and starts a job from the console, and its page moves to completed by itself', async () => {
  const context = await browser.newContext({ baseURL: stack.apiUrl, locale: 'en' });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  await page.goto('/console/bulk');
  await page.waitForSelector('form.sign-in');
  await page.getByLabel(/Person id or e-mail/).fill('clerk-1');
  await page.getByLabel(/^Password$/).fill(PASSWORD);
  await page.locator('form.sign-in button[type=submit]').click();
  await page.waitForURL(/\/console\/bulk$/);

  await page.getByLabel('Order numbers (one per line)').fill(ORDERS.join('\n'));
  await page.getByLabel('Reason').selectOption('out_of_stock');
  await page.getByRole('button', { name: 'Dry run' }).click();
  await page.waitForSelector('#bulk-dry-run[data-found="3"]');
  await expect(page.locator('#bulk-dry-run').innerText()).resolves.toContain(
    'it would cancel 3 orders (3 lines) and refund CN¥204.00',
  );
  await expectAccessible(page, 'bulk-form-dry-run');
  // The dry run asked for nothing.
  expect(await stack.models.Cancellation.countDocuments({ orderNumber: { $in: ORDERS } })).toBe(0);

  await page.getByRole('button', { name: 'Start the job' }).click();
  await page.waitForURL(/\/console\/bulk\/[0-9a-f-]+$/);
  await page.evaluate(() => {
    (globalThis as unknown as { stayed: boolean }).stayed = true;
  });
  await page.waitForSelector('#bulk-progress[data-state="completed"]', { timeout: 90_000 });
  expect(await page.evaluate(() => (globalThis as unknown as { stayed?: boolean }).stayed)).toBe(true);
  await expect(page.locator('#bulk-progress').innerText()).resolves.toMatch(/completed 3/);
  await expectAccessible(page, 'bulk-job-completed');
  await context.close();
}, 180_000);
