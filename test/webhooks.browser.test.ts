// Outbound webhooks in the console, in a real browser (issue #16): headless Chromium, as test/bulk.browser.test.ts
// drives it, against the whole stack with an event dispatcher running as the worker runs it. An admin signs in
// with their password (a session: every write carries the CSRF token htmx sends), subscribes a receiver that is
// not listening yet to bulk jobs' completions and sees the secret once; a bulk job completes, its event's
// delivery is parked after its retry window, the admin finds it under the failed ones with its attempts and
// redelivers it once the receiver listens, and the receiver gets it signed with that secret. Changing its URL,
// event types and description from its page (a URL that is not http(s) refused, the form kept as typed);
// pausing, resuming and removing the subscription; a clerk gets no link and the 403 page. axe-core checks every
// page.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { type Browser, type Page } from 'playwright-core';
import { createEventDispatcher, type EventDispatcher } from '../activities/event-dispatcher';
import { verifyWebhookEvent } from '../client/webhook-verifier';
import { addCustomer, addPeople, addProduct, placePaidOrder, receiveStock } from '../generators/demo-data';
import { createLogger } from '../lib/logger';
import { setPassword } from '../models/credentials';
import { freePort } from '../scripts/servers';
import { expectAccessible } from './support/axe';
import { eventually } from './support/eventually';
import { startTestStack, type TestStack } from './support/stack';
import { assertChromiumInstalled, launchChromium } from './support/browser';

const PASSWORD = 'webhooks browser test password';
const ORDER = 'SO-WHB-1';

let stack: TestStack;
let browser: Browser;
let dispatcher: EventDispatcher;
let receiver: Server | undefined;
const received: { headers: IncomingHttpHeaders; body: string }[] = [];

beforeAll(async () => {
  assertChromiumInstalled();
  stack = await startTestStack('webhooks-browser');
  await addPeople(stack.models);
  for (const personId of ['ops-1', 'clerk-1']) {
    await setPassword(stack.models, personId, PASSWORD);
    // The console speaks the person's own language: English here, for the labels below.
    await stack.models.Person.updateOne({ personId }, { $set: { language: 'en' } });
  }
  await addProduct(stack.models, { sku: 'WHB-CUP', name: 'Cup', unitPriceMinor: 2800, currency: 'CNY' });
  await receiveStock(stack.models, 'WHB-CUP', 10);
  await addCustomer(stack.models, { customerId: 'CWHB-1', name: 'Customer 1', language: 'en' });
  await placePaidOrder(stack.models, {
    orderNumber: ORDER,
    customerId: 'CWHB-1',
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'WHB-CUP', quantity: 1, unitPriceMinor: 2800 }],
  });
  // As a worker runs it, with a retry window of a second: a receiver that is not there gets parked at once.
  dispatcher = createEventDispatcher(
    { models: stack.models, logger: createLogger({ LOG_LEVEL: 'silent' }, 'webhooks-browser') },
    { timeoutMs: 2_000, retryWindowMs: 1_000, retryInitialMs: 100, retryMaxIntervalMs: 400, pollMs: 50 },
  );
  dispatcher.start();
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await dispatcher?.stop();
  receiver?.closeAllConnections();
  await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
  await stack?.stop();
});

/** The receiver starts listening on its port (until then, connections to it are refused). */
async function listen(port: number): Promise<void> {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver?.listen(port, '127.0.0.1', resolve));
}

async function signedIn(login: string, path: string): Promise<Page> {
  const context = await browser.newContext({ baseURL: stack.apiUrl, locale: 'en' });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  await page.goto(path);
  await page.waitForSelector('form.sign-in');
  await page.getByLabel(/Person id or e-mail/).fill(login);
  await page.getByLabel(/^Password$/).fill(PASSWORD);
  await page.locator('form.sign-in button[type=submit]').click();
  await page.waitForURL((url) => !url.pathname.endsWith('/sign-in'));
  return page;
}

test('an admin subscribes, finds a parked delivery with its attempts and redelivers it', async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/hooks`;
  const page = await signedIn('ops-1', '/console/webhooks');
  await page.waitForURL(/\/console\/webhooks$/);
  await expect(
    page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).count(),
  ).resolves.toBe(1);

  await page.getByLabel('URL', { exact: true }).fill(url);
  await page.getByLabel('bulk_job.completed').check();
  await page.getByLabel('Description').fill('ERP returns');
  await page.getByRole('button', { name: 'Add a subscription' }).click();
  const secret = (await page.locator('[data-secret]').innerText()).trim();
  expect(secret).toMatch(/^whsec_/);
  const row = page.locator('tr[data-subscription]', { hasText: url });
  await expect(row.innerText()).resolves.toContain('bulk_job.completed');
  await expectAccessible(page, 'webhooks-added');
  const subscriptionId = (await row.getAttribute('data-subscription')) ?? '';
  const stored = await stack.models.WebhookSubscription.findOne({ subscriptionId }).lean();
  expect(stored).toMatchObject({ url, eventTypes: ['bulk_job.completed'], createdBy: 'ops-1', secret });
  // Shown once: the page read again lists it without its secret.
  await page.reload();
  await page.waitForSelector(`tr[data-subscription="${subscriptionId}"]`);
  expect(await page.content()).not.toContain(secret);

  // A bulk job completes while nothing listens at the URL: its event is parked after the retry window.
  const clerk = await stack.as('clerk-1');
  const { jobId } = await clerk.startBulkCancellation({
    selection: { orderNumbers: [ORDER] },
    reasonCode: 'out_of_stock',
    confirm: ['awaiting_shipment'],
  });
  await eventually(
    async () => expect((await clerk.getBulkCancellation(jobId)).state).toBe('completed'),
    90_000,
  );
  await eventually(
    async () =>
      expect(
        await stack.models.EventDelivery.findOne({ subscriptionId, bulkJobId: jobId }).lean(),
      ).toMatchObject({
        status: 'failed',
      }),
    30_000,
  );

  await row.getByRole('link', { name: url }).click();
  await page.waitForURL(new RegExp(`/console/webhooks/${subscriptionId}$`));
  await page.getByLabel('Status').selectOption('failed');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForURL(/status=failed/);
  const parked = page.locator('tr[data-delivery][data-status="failed"]');
  await expect(parked.count()).resolves.toBe(1);
  expect(Number(await parked.getAttribute('data-attempts'))).toBeGreaterThanOrEqual(1);
  await expect(parked.innerText()).resolves.toMatch(/bulk_job\.completed[\s\S]*unreachable \(ECONNREFUSED\)/);
  await expect(parked.getByRole('link', { name: `Bulk job ${jobId}` }).count()).resolves.toBe(1);
  await expectAccessible(page, 'webhook-deliveries-parked');

  // The receiver is there now: redelivered from the page, it gets the same event, signed with that secret.
  await listen(port);
  const deliveryId = (await parked.getAttribute('data-delivery')) ?? '';
  await parked.getByRole('button', { name: /^Redeliver/ }).click();
  const again = page.locator(`tr[data-delivery="${deliveryId}"]`);
  // The row htmx swapped in: the redelivery's answer, due again.
  await eventually(async () => expect(await again.innerText()).toContain('redelivered by ops-1'));
  const [request] = await eventually(() => {
    expect(received).toHaveLength(1);
    return received;
  }, 20_000);
  const event = verifyWebhookEvent(secret, request?.body ?? '', request?.headers ?? {});
  expect(event).toMatchObject({ type: 'bulk_job.completed', bulkJobId: jobId, data: { state: 'completed' } });
  // Delivered now: no longer under the failed ones, but under the delivered, with every attempt.
  await page.getByLabel('Status').selectOption('delivered');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForSelector(`tr[data-delivery="${deliveryId}"][data-status="delivered"]`);
  const delivered = page.locator(`tr[data-delivery="${deliveryId}"]`);
  expect(Number(await delivered.getAttribute('data-attempts'))).toBeGreaterThanOrEqual(2);
  await expectAccessible(page, 'webhook-deliveries-redelivered');

  // Changed from its page. A URL that is not http(s) is the API's 400: nothing changes, and the form comes
  // back as typed with why.
  const details = page.locator('#webhook-subscription');
  await page.getByLabel('URL', { exact: true }).fill('ftp://127.0.0.1/hooks');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.waitForSelector('#webhook-subscription [data-error-status="400"]');
  await expect(details.getByRole('alert').innerText()).resolves.toContain('url:');
  expect(await page.getByLabel('URL', { exact: true }).inputValue()).toBe('ftp://127.0.0.1/hooks');
  expect(await stack.models.WebhookSubscription.findOne({ subscriptionId }).lean()).toMatchObject({ url });
  await expectAccessible(page, 'webhook-edit-refused');
  // Another URL, one more type, another description: saved, shown in place, the secret kept.
  const newUrl = `http://127.0.0.1:${port}/hooks/v2`;
  await page.getByLabel('URL', { exact: true }).fill(newUrl);
  await page.getByLabel('bulk_job.failed').check();
  await page.getByLabel('Description').fill('ERP returns and failures');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(details.getByRole('status').innerText()).resolves.toContain('Saved');
  await expect(details.getByRole('heading', { level: 1 }).innerText()).resolves.toContain(newUrl);
  expect(await page.getByLabel('bulk_job.failed').isChecked()).toBe(true);
  expect(await stack.models.WebhookSubscription.findOne({ subscriptionId }).lean()).toMatchObject({
    url: newUrl,
    eventTypes: ['bulk_job.completed', 'bulk_job.failed'],
    description: 'ERP returns and failures',
    secret,
  });
  await expectAccessible(page, 'webhook-edited');

  // Paused, resumed, removed from the list.
  await page.getByRole('link', { name: 'All subscriptions' }).click();
  await page.waitForURL(/\/console\/webhooks$/);
  await expect(page.locator(`tr[data-subscription="${subscriptionId}"]`).innerText()).resolves.toContain(
    'bulk_job.completed, bulk_job.failed',
  );
  await page.getByRole('button', { name: `Pause ${newUrl}` }).click();
  await page.waitForSelector(`tr[data-subscription="${subscriptionId}"][data-active="false"]`);
  await page.getByRole('button', { name: `Resume ${newUrl}` }).click();
  await page.waitForSelector(`tr[data-subscription="${subscriptionId}"][data-active="true"]`);
  await page.getByRole('button', { name: `Remove ${newUrl}` }).click();
  await expect(page.getByRole('status').innerText()).resolves.toContain(`Subscription ${subscriptionId}`);
  expect(await page.locator(`tr[data-subscription="${subscriptionId}"]`).count()).toBe(0);
  expect(await stack.models.WebhookSubscription.countDocuments({ subscriptionId })).toBe(0);
  await page.context().close();
}, 240_000);

test('anyone but an admin gets no link to it and the 403 page', async () => {
  const page = await signedIn('clerk-1', '/console/orders');
  await expect(
    page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).count(),
  ).resolves.toBe(0);
  const answer = await page.goto('/console/webhooks');
  expect(answer?.status()).toBe(403);
  await expect(page.locator('main').innerText()).resolves.toContain('You may not do this.');
  await expectAccessible(page, 'webhooks-forbidden');
  await page.context().close();
}, 120_000);
