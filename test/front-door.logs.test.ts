// No secret or password ever in a log line (issue #12): the API and the worker log at trace level into the
// test, a full run goes through the front door (people sign in with passwords, one mistypes it, ops issue an
// API key that a system uses and that is then revoked, a cancellation is approved and refunded, a carrier's
// signed webhook and Twilio's signed status callbacks come in, people sign out), and every line is searched for
// every secret the run used: passwords, the key's token and its secret half, session and CSRF cookies, CSRF
// tokens, the Authorization header, and the configuration's secrets.
import { randomBytes } from 'node:crypto';
import { CancelflowApiError, CancelflowClient } from '../client/cancelflow-client';
import {
  addCustomer,
  addPeople,
  addProduct,
  placePaidOrder,
  receiveStock,
  shipOrder,
} from '../generators/demo-data';
import { redactConfig, parseConfig } from '../lib/config';
import { setPassword } from '../models/credentials';
import { freePort } from '../scripts/servers';
import { eventually } from './support/eventually';
import { startTestStack, type TestStack } from './support/stack';

/** A secret of this run only, so that finding it in a line means it leaked from here. */
const secret = (prefix: string) => `${prefix}-${randomBytes(18).toString('base64url')}`;

const PASSWORDS = {
  'clerk-1': secret('clerk password'),
  'manager-1': secret('manager password'),
  'ops-1': secret('ops password'),
  'warehouse-1': secret('warehouse password'),
};
type PersonId = keyof typeof PASSWORDS;
const WRONG_PASSWORD = secret('mistyped password');

/** The configuration's secrets (what redactConfig masks), each set to a value of this run. */
const SETTINGS = {
  SESSION_SECRET: secret('session secret of at least thirty-two characters'),
  TWILIO_AUTH_TOKEN: secret('twilio token'),
  CARRIER_WEBHOOK_SECRET: secret('carrier webhook secret'),
  CARRIER_API_KEY: secret('carrier api key'),
  CUSTOMER_LINK_SECRET: secret('customer link secret of at least thirty-two characters'),
  PAYLOAD_KEYS: `logs-test:${randomBytes(32).toString('base64')}`,
};

let stack: TestStack;
/** Everything that must never be logged, named for the failure message. */
const secrets = new Map<string, string>();

function keep(name: string, value: string | undefined): void {
  if (value) secrets.set(name, value);
}

async function signedIn(personId: PersonId): Promise<CancelflowClient> {
  const client = new CancelflowClient({ baseUrl: stack.apiUrl });
  const answer = await client.signIn(personId, PASSWORDS[personId]);
  keep(`${personId}'s CSRF token`, answer.csrfToken);
  for (const [cookie, value] of Object.entries(client.currentSession().cookies)) {
    keep(`${personId}'s ${cookie} cookie`, value);
    // The signed cookie's value without its signature (`<value>.<signature>`): the session id itself.
    const unsigned = /^(.+)\.[^.]+$/.exec(decodeURIComponent(value))?.[1];
    keep(`${personId}'s ${cookie} cookie, unsigned`, unsigned);
  }
  return client;
}

beforeAll(async () => {
  // Twilio's callbacks are signed for the API's public address: the API listens where that says.
  const apiPort = await freePort();
  stack = await startTestStack('front-door-logs', undefined, {
    captureLogs: 'trace',
    apiPort,
    settings: { ...SETTINGS, PUBLIC_BASE_URL: `http://127.0.0.1:${apiPort}` },
  });
  await addPeople(stack.models);
  for (const [personId, password] of Object.entries(PASSWORDS)) {
    await setPassword(stack.models, personId, password);
    keep(`${personId}'s password`, password);
  }
  keep('the mistyped password', WRONG_PASSWORD);
  // Every setting redactConfig masks is a secret, whichever were set.
  const config = parseConfig(SETTINGS);
  const masked = redactConfig(config);
  for (const [key, value] of Object.entries(config)) {
    if (masked[key] === '***' && typeof value === 'string') keep(key, value);
  }
  expect([...secrets.keys()]).toEqual(expect.arrayContaining(Object.keys(SETTINGS)));

  await addProduct(stack.models, {
    sku: 'LOG-POT',
    name: '宜兴紫砂壶',
    unitPriceMinor: 38800,
    currency: 'CNY',
  });
  await receiveStock(stack.models, 'LOG-POT', 10);
});

afterAll(async () => {
  await stack?.stop();
});

test('a full run through the front door logs, and no line holds a secret', async () => {
  // A person mistypes their password, then signs in.
  await expect(
    new CancelflowClient({ baseUrl: stack.apiUrl }).signIn('ops-1', WRONG_PASSWORD),
  ).rejects.toMatchObject({ status: 401 });
  const ops = await signedIn('ops-1');

  // Ops issue a key for the shop's back-end, which asks for cancellations with it.
  const issued = await ops.createApiKey({
    name: 'shop back-end',
    personId: 'clerk-1',
    scopes: ['requester'],
  });
  keep('the API key token', issued.token);
  // The whole secret half: it is base64url and may hold '_' itself, so splitting on '_' could keep a fragment
  // short enough to turn up by chance in any line.
  keep('the API key secret half', /^cfk_[A-Za-z0-9]{16}_(.+)$/.exec(issued.token)?.[1] ?? issued.token);
  keep('the Authorization header', `Bearer ${issued.token}`);
  const shop = new CancelflowClient({ baseUrl: stack.apiUrl, apiKey: issued.token });
  expect((await shop.whoAmI()).person).toMatchObject({ personId: 'clerk-1', via: 'api_key' });

  // A VIP's order: medium risk, one approval; the customer has a phone, so Twilio's callbacks come in too.
  await addCustomer(stack.models, {
    customerId: 'C-LOG',
    name: 'Emily Carter',
    email: 'emily@example.com',
    phone: '+14155550123',
    language: 'en',
    tier: 'vip',
  });
  await placePaidOrder(stack.models, {
    orderNumber: 'SO-LOG-1',
    customerId: 'C-LOG',
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'LOG-POT', quantity: 1, unitPriceMinor: 38800 }],
  });
  const { cancellationId } = await shop.createCancellation(
    { orderNumber: 'SO-LOG-1', reasonCode: 'customer_changed_mind', confirm: ['awaiting_shipment'] },
    { idempotencyKey: 'shop-SO-LOG-1' },
  );

  // A write without the CSRF token is refused; a malformed decision too: refusals are logged as well.
  const manager = await signedIn('manager-1');
  await eventually(async () => {
    const waiting = await manager.listCancellations({ waitingFor: 'me' });
    expect(waiting.items.map((item) => item.cancellationId)).toContain(cancellationId);
  }, 30_000);
  const forged = await fetch(`${stack.apiUrl}/v1/cancellations/${cancellationId}/decision`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      cookie: Object.entries(manager.currentSession().cookies)
        .map(([name, value]) => `${name}=${value}`)
        .join('; '),
    },
    body: JSON.stringify({ approved: true }),
  });
  expect(forged.status).toBe(403);
  await expect(
    manager.decide(cancellationId, { approved: 'yes' as unknown as boolean }),
  ).rejects.toMatchObject({
    status: 400,
  });
  await manager.decide(cancellationId, { approved: true, comment: 'VIP asked nicely' });
  await eventually(async () => {
    expect(await shop.getCancellation(cancellationId)).toMatchObject({
      outcome: 'completed',
      refundedMinor: 38800,
    });
  }, 30_000);
  await manager.listMessages();
  await manager.markAllMessagesRead();

  // A shipped order: the carrier (asked with its API key) answers later through its signed webhook.
  stack.carrier.setBehaviour({ mode: 'late' });
  await addCustomer(stack.models, {
    customerId: 'C-LOG-2',
    name: '王芳',
    email: 'wang.fang@example.cn',
    language: 'zh-CN',
  });
  await placePaidOrder(stack.models, {
    orderNumber: 'SO-LOG-2',
    customerId: 'C-LOG-2',
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'LOG-POT', quantity: 1, unitPriceMinor: 38800 }],
  });
  await shipOrder(stack.models, 'SO-LOG-2', { shipmentId: 'SH-LOG-2' });
  const clerk = await signedIn('clerk-1');
  const shipped = await clerk.createCancellation({
    orderNumber: 'SO-LOG-2',
    reasonCode: 'customer_changed_mind',
    confirm: ['shipped'],
  });
  const recall = await eventually(() => {
    const [made] = stack.carrier.recalls.filter((candidate) => candidate.shipmentId === 'SH-LOG-2');
    expect(made).toBeDefined();
    return made;
  }, 30_000);
  await eventually(async () => {
    expect((await clerk.getCancellation(shipped.cancellationId)).state).toBe('awaitingCarrier');
  }, 30_000);
  expect((await stack.carrier.reportOutcome(recall?.id ?? '', 'accepted')).responseStatus).toBe(200);
  const warehouse = await signedIn('warehouse-1');
  await eventually(async () => {
    expect((await warehouse.getCancellation(shipped.cancellationId)).state).toBe(
      'awaitingReturn.waitingForGoods',
    );
  }, 30_000);
  await warehouse.confirmReturn(shipped.cancellationId, { shipmentId: 'SH-LOG-2' });
  await eventually(async () => {
    expect(await clerk.getCancellation(shipped.cancellationId)).toMatchObject({ outcome: 'completed' });
  }, 30_000);
  // Twilio reports on the SMS to the VIP through its signed status callback.
  const sms = await eventually(() => {
    const [sent] = stack.sms.messages.filter((message) => message.to === '+14155550123');
    expect(sent).toBeDefined();
    return sent;
  }, 30_000);
  expect(await stack.sms.reportStatus(sms?.sid ?? '', 'delivered')).toBe(200);

  // Ops revoke the key; the shop's next call is refused. Everyone signs out.
  await ops.revokeApiKey(issued.key.keyId);
  await expect(shop.whoAmI()).rejects.toBeInstanceOf(CancelflowApiError);
  for (const client of [ops, manager, clerk, warehouse]) await client.signOut();

  // The log is there (so this test can fail): requests, the worker's activities, at every level asked for.
  const lines = stack.logLines;
  expect(lines.length).toBeGreaterThan(50);
  const logged = lines.join('');
  expect(logged).toContain('/v1/auth/sign-in');
  expect(logged).toContain('/v1/api-keys');
  expect(logged).toContain(`/v1/cancellations/${cancellationId}/decision`);
  expect(logged).toContain('notification sent');
  expect(secrets.size).toBeGreaterThan(15);
  expect(secrets.has("ops-1's cf_session cookie, unsigned")).toBe(true);

  const leaks = [...secrets].flatMap(([name, value]) => {
    const line = lines.find((candidate) => candidate.includes(value));
    return line ? [`${name} in: ${line.trim()}`] : [];
  });
  expect(leaks).toEqual([]);
});

test("were the configuration or a request's credentials handed to the logger by mistake, they are masked", () => {
  const config = parseConfig({
    ...SETTINGS,
    SMTP_USER: 'mailer',
    SMTP_PASSWORD: secret('smtp password'),
    OIDC_ISSUER_URL: 'https://login.example.com',
    OIDC_CLIENT_ID: 'cancelflow',
    OIDC_CLIENT_SECRET: secret('oidc client secret'),
  });
  const masked = redactConfig(config);
  const configSecrets = Object.entries(config).flatMap(([key, value]) =>
    masked[key] === '***' && typeof value === 'string' ? [value] : [],
  );
  expect(configSecrets).toHaveLength(8);
  const credentials = ['Bearer cfk_made_up', 'cf_session=made.up', 'csrf-made-up', 'a-made-up-password'];

  const from = stack.logLines.length;
  stack.deps.logger.debug({ config }, 'configuration, unredacted by mistake');
  stack.deps.logger.debug(
    {
      req: {
        headers: { authorization: credentials[0], cookie: credentials[1], 'x-csrf-token': credentials[2] },
      },
    },
    'a request with its headers',
  );
  stack.deps.logger.debug({ body: { login: 'ops-1', password: credentials[3] } }, 'a sign-in body');
  const lines = stack.logLines.slice(from);
  expect(lines).toHaveLength(3);
  for (const value of [...configSecrets, ...credentials]) {
    expect(lines.filter((line) => line.includes(value))).toEqual([]);
  }
  expect(lines.join('')).toContain('***');
});
