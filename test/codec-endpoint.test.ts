// The codec endpoint for the Temporal UI (issue #15), against the running API: an ops person signed in, calling
// from the Temporal UI's origin as the UI does (session cookie, X-Namespace, no CSRF token), reads the customer's
// name in a payload taken raw from a real cancellation's history; nobody else reads anything; a bad body is a
// 400 with its reason; the browser's preflight is answered for the UI's origin only.
//
// cancelflow hands Temporal no customer record (test/personal-data.test.ts): the name gets into the history the
// way it does in real life, in what a person typed, here the requester's note, which is the workflow's input.
import type { temporal } from '@temporalio/proto';
import { addCustomer, addPeople, addProduct, placePaidOrder, receiveStock } from '../generators/demo-data';
import { issueApiKey, setPassword } from '../models/credentials';
import { startTestStack, type TestStack } from './support/stack';

/** The default TEMPORAL_UI_ORIGIN: the dev server's UI that `npm start` runs. */
const UI_ORIGIN = 'http://127.0.0.1:8233';
const PASSWORD = 'codec test password, long enough';
const customer = {
  customerId: 'C-CODEC',
  name: '司马相如',
  email: 'sima.xiangru@example.cn',
  phone: '+8613712345678',
  language: 'zh-CN' as const,
  address: '成都市锦江区春熙路1号',
};

type Payload = temporal.api.common.v1.IPayload;
interface PayloadJson {
  metadata?: Record<string, string>;
  data?: string;
}

let stack: TestStack;
/** Encrypted payloads of the cancellation's history and its notices' deliveries, as the server stores them. */
let stored: PayloadJson[];

const base64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64');
const asJson = (payload: Payload): PayloadJson => ({
  metadata: Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, base64(value)]),
  ),
  data: base64(payload.data),
});
const text = (value: string | undefined) => Buffer.from(value ?? '', 'base64').toString('utf8');

/** Every payload the codec handled in these events (search attributes are the server's: never encrypted). */
function encryptedPayloads(value: unknown, found: Payload[] = []): Payload[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return found;
  const candidate = value as Payload;
  if (candidate.data instanceof Uint8Array && candidate.metadata) {
    if (Buffer.from(candidate.metadata.encoding ?? []).toString() === 'binary/encrypted')
      found.push(candidate);
    return found;
  }
  for (const inner of Object.values(value)) encryptedPayloads(inner, found);
  return found;
}

async function signInCookie(login: string): Promise<string> {
  const response = await fetch(`${stack.apiUrl}/v1/auth/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login, password: PASSWORD }),
  });
  expect(response.status).toBe(200);
  return response.headers
    .getSetCookie()
    .map((value) => value.split(';')[0])
    .join('; ');
}

/** A call as the Temporal UI's page makes it: JSON, X-Namespace, from its origin, with the browser's cookies. */
function codec(
  operation: 'decode' | 'encode',
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${stack.apiUrl}/v1/codec/${operation}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** An API key of ops-1 acting in these roles only, as a bearer header. */
async function keyOfOps(scopes: ('ops' | 'admin')[]): Promise<Record<string, string>> {
  const { token } = await issueApiKey(stack.models, {
    name: `codec ${scopes.join('+')}`,
    personId: 'ops-1',
    scopes,
    createdBy: 'test',
  });
  return { authorization: `Bearer ${token}` };
}

beforeAll(async () => {
  stack = await startTestStack('codec-endpoint', undefined, {
    settings: { RATE_LIMIT_PER_MINUTE: '100000' },
  });
  await addPeople(stack.models);
  await setPassword(stack.models, 'ops-1', PASSWORD);
  await setPassword(stack.models, 'clerk-1', PASSWORD);
  await addCustomer(stack.models, customer);
  await addProduct(stack.models, { sku: 'TEA-C', name: '竹叶青', unitPriceMinor: 6600, currency: 'CNY' });
  await receiveStock(stack.models, 'TEA-C', 5);
  await placePaidOrder(stack.models, {
    orderNumber: 'SO-CODEC-1',
    customerId: customer.customerId,
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'TEA-C', quantity: 1, unitPriceMinor: 6600 }],
  });
  const accepted = await (
    await stack.as('clerk-1')
  ).createCancellation({
    orderNumber: 'SO-CODEC-1',
    reasonCode: 'customer_changed_mind',
    note: `${customer.name} phoned: ordered the wrong tea`,
    confirm: ['awaiting_shipment'],
  });
  await stack.temporal.workflow.getHandle(accepted.workflowId).result();
  const entries = await stack.models.Notification.find({ cancellationId: accepted.cancellationId }).lean();
  const deliveries = [...new Set(entries.flatMap((entry) => entry.deliveryWorkflowId ?? []))];
  for (const delivery of deliveries) await stack.temporal.workflow.getHandle(delivery).result();
  const histories = await Promise.all(
    [accepted.workflowId, ...deliveries].map((id) => stack.temporal.workflow.getHandle(id).fetchHistory()),
  );
  stored = encryptedPayloads(histories.map((history) => history.events)).map(asJson);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

test("an ops person signed in reads the customer's name through the UI's codec endpoint; raw, it is not there", async () => {
  expect(stored.length).toBeGreaterThan(10);
  expect(stored.map((payload) => text(payload.data)).join('\n')).not.toContain(customer.name);

  const cookie = await signInCookie('ops-1');
  const response = await codec('decode', { payloads: stored }, { cookie, origin: UI_ORIGIN });
  expect(response.status).toBe(200);
  // The UI's page may read the answer, and it came with the person's credentials.
  expect(response.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
  expect(response.headers.get('access-control-allow-credentials')).toBe('true');
  const { payloads } = (await response.json()) as { payloads: PayloadJson[] };
  expect(payloads).toHaveLength(stored.length);
  // One by one, in order: the payload that names the customer is one the server holds encrypted.
  const naming = payloads.findIndex((payload) => text(payload.data).includes(customer.name));
  expect(naming).toBeGreaterThanOrEqual(0);
  expect(text(payloads[naming]?.metadata?.encoding)).toBe('json/plain');
  expect(text(stored[naming]?.metadata?.encoding)).toBe('binary/encrypted');
  expect(text(stored[naming]?.data)).not.toContain(customer.name);
});

test('an ops API key decodes too, from no browser (the Temporal CLI: --codec-auth "Bearer <key>")', async () => {
  const response = await codec('decode', { payloads: stored }, await keyOfOps(['ops']));
  expect(response.status).toBe(200);
  const { payloads } = (await response.json()) as { payloads: PayloadJson[] };
  expect(payloads.map((payload) => text(payload.data)).join('\n')).toContain(customer.name);
});

test('encode then decode gives the payload back, encrypted under the current key in between', async () => {
  const cookie = await signInCookie('ops-1');
  const plain = {
    metadata: { encoding: Buffer.from('json/plain').toString('base64') },
    data: Buffer.from(JSON.stringify({ note: customer.address })).toString('base64'),
  };
  const encoded = await codec('encode', { payloads: [plain] }, { cookie, origin: UI_ORIGIN });
  expect(encoded.status).toBe(200);
  const [sealed] = ((await encoded.json()) as { payloads: PayloadJson[] }).payloads;
  expect(text(sealed?.metadata?.encoding)).toBe('binary/encrypted');
  expect(text(sealed?.metadata?.['encryption-key-id'])).toBe('local');
  expect(text(sealed?.data)).not.toContain(customer.address);
  const decoded = await codec('decode', { payloads: [sealed] }, { cookie, origin: UI_ORIGIN });
  expect(((await decoded.json()) as { payloads: PayloadJson[] }).payloads).toEqual([plain]);
});

test('without the ops role, or without signing in, nothing is decoded: 403, 401', async () => {
  const body = { payloads: stored.slice(0, 1) };
  const clerkCookie = await signInCookie('clerk-1');
  const requester = await codec('decode', body, { cookie: clerkCookie, origin: UI_ORIGIN });
  expect(requester.status).toBe(403);
  expect(await requester.json()).toMatchObject({ error: 'forbidden' });

  const anonymous = await codec('decode', body, { origin: UI_ORIGIN });
  expect(anonymous.status).toBe(401);
  // The UI's page may read the refusal, to say why it shows the payloads encoded.
  expect(anonymous.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);

  // Admin without ops (a key scoped to admin alone) is not enough: decoding personal data is ops' work.
  const admin = await codec('decode', body, await keyOfOps(['admin']));
  expect(admin.status).toBe(403);
});

test('a session calling from another origin, or none, still needs the CSRF token', async () => {
  const cookie = await signInCookie('ops-1');
  const body = { payloads: stored.slice(0, 1) };
  for (const origin of ['http://evil.example', undefined]) {
    const response = await codec('decode', body, { cookie, ...(origin ? { origin } : {}) });
    const answer = (await response.json()) as { message: string };
    expect([origin, response.status, answer.message]).toEqual([origin, 403, expect.stringMatching(/csrf/i)]);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  }
});

test('a malformed body is a 400 that says what is wrong', async () => {
  const cookie = await signInCookie('ops-1');
  const as = { cookie, origin: UI_ORIGIN };
  const cases: [unknown, string][] = [
    ['{"payloads": [', 'JSON'],
    [{}, 'payloads'],
    [{ payloads: [{ data: 'not base64 at all!' }] }, 'payloads[0].data: must be base64'],
    [{ payloads: [{ metadata: { encoding: 42 } }] }, 'payloads[0].metadata.encoding'],
  ];
  for (const [body, reason] of cases) {
    const response = await codec('decode', body, as);
    const answer = (await response.json()) as { message: string };
    expect([response.status, answer.message]).toEqual([400, expect.stringContaining(reason)]);
  }
  // A payload altered at rest is refused, naming it, rather than decoded to something else.
  const [first] = stored;
  const data = Buffer.from(first?.data ?? '', 'base64');
  data[20] = (data[20] ?? 0) ^ 1;
  const tampered = await codec('decode', { payloads: [{ ...first, data: data.toString('base64') }] }, as);
  expect(tampered.status).toBe(400);
  expect(await tampered.json()).toMatchObject({
    error: 'validation_failed',
    details: { field: 'payloads[0]' },
  });
});

test("the browser's preflight is answered for the Temporal UI's origin, with the headers the UI sends", async () => {
  const preflight = (origin: string) =>
    fetch(`${stack.apiUrl}/v1/codec/decode`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace',
      },
    });
  const allowed = await preflight(UI_ORIGIN);
  expect(allowed.status).toBe(204);
  expect(Object.fromEntries(allowed.headers)).toMatchObject({
    'access-control-allow-origin': UI_ORIGIN,
    'access-control-allow-credentials': 'true',
    'access-control-allow-methods': 'POST',
    'access-control-allow-headers': 'content-type, x-namespace, authorization',
  });
  const other = await preflight('http://evil.example');
  expect(other.status).toBe(403);
  expect(other.headers.get('access-control-allow-origin')).toBeNull();
});
