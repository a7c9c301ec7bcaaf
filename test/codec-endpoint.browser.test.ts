// The codec endpoint from the real Temporal UI in a real browser (issue #15): a dev server with its UI, given the
// API's codec endpoint as `npm start` gives it (`--ui-codec-endpoint`), and Chromium. An ops person signed in to
// the API, with the UI's codec settings the README gives (their browser's, with cross-origin credentials), reads
// the customer's name in a cancellation's input; a browser with no session sees the input encrypted. This is
// what the API-level test (test/codec-endpoint.test.ts) cannot show: that CORS, the preflight, the session cookie
// and the CSRF exemption work together as a browser applies them.
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { type Browser, type BrowserContext } from 'playwright-core';
import { codecEndpointOf } from '../api/codec.routes';
import { CANCELFLOW_SEARCH_ATTRIBUTES } from '../contracts/search-attributes';
import { addCustomer, addPeople, addProduct, placePaidOrder, receiveStock } from '../generators/demo-data';
import { setPassword } from '../models/credentials';
import { freePort, startTemporalDevServer, type TemporalServer } from '../scripts/servers';
import { TEST_DATA_CONVERTER } from './support/data-converter';
import { startTestStack, type TestStack } from './support/stack';
import { openTemporalConnection } from '../lib/temporal-connection';
import { assertChromiumInstalled, launchChromium } from './support/browser';

/** Debian's Chromium, as test/console.browser.test.ts uses it. */
const PASSWORD = 'codec browser test password';
const CUSTOMER_NAME = '卓文君';

let temporal: TemporalServer;
let connections: { native: NativeConnection; client: Client };
let stack: TestStack;
let browser: Browser;
let uiUrl: string;
let workflowId: string;
/** The workflow's input as the server stores it (base64 of the ciphertext): what the UI shows undecoded. */
let storedInput: string;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  assertChromiumInstalled();
  const [temporalPort, uiPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  temporal = await startTemporalDevServer({
    port: temporalPort,
    uiPort,
    uiCodecEndpoint: codecEndpointOf(apiUrl),
    searchAttributes: CANCELFLOW_SEARCH_ATTRIBUTES,
  });
  uiUrl = temporal.uiUrl ?? '';
  connections = {
    native: await NativeConnection.connect({ address: temporal.address }),
    client: new Client({
      connection: await openTemporalConnection({ address: temporal.address }),
      namespace: 'default',
      dataConverter: TEST_DATA_CONVERTER,
    }),
  };
  stack = await startTestStack(
    'codec-browser',
    { nativeConnection: connections.native, client: connections.client },
    { apiPort, settings: { TEMPORAL_UI_ORIGIN: uiUrl, PUBLIC_BASE_URL: apiUrl } },
  );
  await addPeople(stack.models);
  await setPassword(stack.models, 'ops-1', PASSWORD);
  await addCustomer(stack.models, {
    customerId: 'C-BROWSER',
    name: CUSTOMER_NAME,
    email: 'zhuo.wenjun@example.cn',
    phone: '+8613512345678',
    language: 'zh-CN',
  });
  await addProduct(stack.models, { sku: 'TEA-B', name: '蒙顶甘露', unitPriceMinor: 5800, currency: 'CNY' });
  await receiveStock(stack.models, 'TEA-B', 5);
  await placePaidOrder(stack.models, {
    orderNumber: 'SO-BROWSER-1',
    customerId: 'C-BROWSER',
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'TEA-B', quantity: 1, unitPriceMinor: 5800 }],
  });
  const accepted = await (
    await stack.as('clerk-1')
  ).createCancellation({
    orderNumber: 'SO-BROWSER-1',
    reasonCode: 'customer_changed_mind',
    // What a person types is where a name gets into the history (test/codec-endpoint.test.ts).
    note: `${CUSTOMER_NAME} asked by phone`,
    confirm: ['awaiting_shipment'],
  });
  workflowId = accepted.workflowId;
  const handle = stack.temporal.workflow.getHandle(workflowId);
  await handle.result();
  const [started] = (await handle.fetchHistory()).events ?? [];
  const [input] = started?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
  storedInput = Buffer.from(input?.data ?? []).toString('base64');
  expect(Buffer.from(input?.metadata?.encoding ?? []).toString()).toBe('binary/encrypted');
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await stack?.stop();
  await connections?.client.connection.close();
  await connections?.native.close();
  await temporal?.stop();
});

/** What the page scripts below reach of the browser (this project's types have no DOM). */
interface InPage {
  localStorage: { setItem(key: string, value: string): void };
  document: { body: { innerText: string } };
}

/** A browser whose Temporal UI uses the API's codec with cross-origin credentials (README, step 2). */
async function browserWithCodecSettings(): Promise<BrowserContext> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(uiUrl);
  // The UI keeps its codec settings in localStorage, as JSON, under these keys (what its settings dialog writes).
  await page.evaluate((endpoint) => {
    const { localStorage } = globalThis as unknown as InPage;
    localStorage.setItem('endpoint', JSON.stringify(endpoint));
    localStorage.setItem('includeCredentials', 'true');
    localStorage.setItem('overrideRemoteCodecConfiguration', 'true');
  }, codecEndpointOf(stack.apiUrl));
  await page.close();
  return context;
}

/**
 * The workflow's page in the Temporal UI once it shows `expected` (the decoded name, or the ciphertext), with
 * the status of the first answer the UI got from the codec endpoint (the page shows the ciphertext before it).
 */
async function workflowPage(
  context: BrowserContext,
  expected: string,
): Promise<{ text: string; codecStatus: number }> {
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  // The UI adds a query (`?preserveStorageRefs=true`), and asks once per group of payloads.
  const codecAnswer = page.waitForResponse(
    (response) => new URL(response.url()).pathname === '/v1/codec/decode',
  );
  await page.goto(`${uiUrl}/namespaces/default/workflows/${workflowId}`);
  const codecStatus = (await codecAnswer).status();
  await page.waitForFunction(
    (shown) => (globalThis as unknown as InPage).document.body.innerText.includes(shown),
    expected,
  );
  // Anything the UI does with the answer is done by the time it has rendered it; a moment more for the rest.
  await page.waitForTimeout(500);
  return {
    text: await page.evaluate(() => (globalThis as unknown as InPage).document.body.innerText),
    codecStatus,
  };
}

test("an ops person signed in to the API reads the customer's name in the Temporal UI", async () => {
  const context = await browserWithCodecSettings();
  const signIn = await context.request.post(`${stack.apiUrl}/v1/auth/sign-in`, {
    data: { login: 'ops-1', password: PASSWORD },
  });
  expect(signIn.status()).toBe(200);
  const { text, codecStatus } = await workflowPage(context, CUSTOMER_NAME);
  expect(codecStatus).toBe(200);
  expect(text).not.toContain(storedInput);
}, 90_000);

test('without signing in, the same browser settings show the input encrypted', async () => {
  const { text, codecStatus } = await workflowPage(await browserWithCodecSettings(), storedInput);
  expect(codecStatus).toBe(401);
  expect(text).not.toContain(CUSTOMER_NAME);
}, 90_000);
