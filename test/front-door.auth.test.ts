// Who is who at the front door (R3, R25, R26), against the running API: signing in with a password (argon2id),
// the session cookie and its CSRF token, the lock-out, signing out, sessions that expire, and API keys that are
// issued, scoped to their person's roles and revoked. Every answer is checked over real HTTP.
import Fastify from 'fastify';
import { enforceAccess } from '../api/auth/access';
import { CancelflowApiError, CancelflowClient } from '../client/cancelflow-client';
import { addPeople } from '../generators/demo-data';
import { setPassword } from '../models/credentials';
import { startTestStack, type TestStack } from './support/stack';

let stack: TestStack;
const PASSWORD = 'correct horse battery staple';

beforeAll(async () => {
  stack = await startTestStack('front-door-auth');
  await addPeople(stack.models);
  for (const personId of ['clerk-1', 'ops-1', 'manager-1', 'director-1']) {
    await setPassword(stack.models, personId, PASSWORD);
  }
});

afterAll(async () => {
  await stack.stop();
});

const client = () => new CancelflowClient({ baseUrl: stack.apiUrl });

/** The status and error code of a refused call. */
async function refusal(call: Promise<unknown>): Promise<{ status: number; error: string; message: string }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof CancelflowApiError) {
      return { status: error.status, error: error.body.error, message: error.body.message };
    }
    throw error;
  }
  throw new Error('the call was not refused');
}

describe('signing in', () => {
  test('a person signs in with their id or e-mail; the session cookie is HttpOnly, SameSite, and names them', async () => {
    const response = await fetch(`${stack.apiUrl}/v1/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'ops-1', password: PASSWORD }),
    });
    expect(response.status).toBe(200);
    const cookie = response.headers.getSetCookie().find((value) => value.startsWith('cf_session='));
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(await response.json()).toMatchObject({
      person: { personId: 'ops-1', roles: ['ops', 'admin'], via: 'session' },
      csrfToken: expect.any(String),
    });

    const byEmail = client();
    const answer = await byEmail.signIn('GRACE.LIN@cancelflow.local', PASSWORD);
    expect(answer.person).toMatchObject({ personId: 'director-1', approvalLevel: 2 });
    expect((await byEmail.whoAmI()).person.personId).toBe('director-1');
  });

  test('a wrong password and an unknown login get the same 401, which says neither', async () => {
    const wrong = await refusal(client().signIn('manager-1', 'not the password'));
    const unknown = await refusal(client().signIn('nobody-9', 'not the password'));
    expect(wrong).toEqual({
      status: 401,
      error: 'unauthorized',
      message: 'the login or the password is wrong',
    });
    expect(unknown).toEqual(wrong);
  });

  test('after five failures in a row the account locks: even the right password gets 429 with Retry-After', async () => {
    await setPassword(stack.models, 'clerk-1', PASSWORD);
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      expect((await refusal(client().signIn('clerk-1', `guess ${attempt}`))).status).toBe(401);
    }
    expect(await refusal(client().signIn('clerk-1', 'guess 5'))).toMatchObject({
      status: 429,
      message: expect.stringContaining('locked until'),
    });
    const locked = await fetch(`${stack.apiUrl}/v1/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'clerk-1', password: PASSWORD }),
    });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(60);
    // Setting a new password (what an admin does for a locked-out person) unlocks the account.
    await setPassword(stack.models, 'clerk-1', PASSWORD);
    expect((await client().signIn('clerk-1', PASSWORD)).person.personId).toBe('clerk-1');
  });

  test('the password is stored only as an argon2id hash', async () => {
    const account = await stack.models.Account.findOne({ personId: 'manager-1' }).lean();
    expect(account?.passwordHash).toMatch(/^\$argon2id\$/);
    expect(JSON.stringify(account)).not.toContain(PASSWORD);
  });

  test('a malformed sign-in is a 400 naming the field', async () => {
    const response = await fetch(`${stack.apiUrl}/v1/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'ops-1' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: 'validation_failed',
      details: { field: 'password' },
    });
  });
});

describe('the session', () => {
  test('a write with the session cookie must carry its CSRF token; with it, it goes through', async () => {
    const ops = client();
    await ops.signIn('ops-1', PASSWORD);
    const { cookies } = ops.currentSession();
    const cookieHeader = Object.entries(cookies)
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');
    const body = JSON.stringify({ name: 'csrf check', personId: 'clerk-1', scopes: ['requester'] });
    const forged = await fetch(`${stack.apiUrl}/v1/api-keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: cookieHeader },
      body,
    });
    expect(forged.status).toBe(403);
    // A token from another session is worthless here.
    const other = client();
    await other.signIn('manager-1', PASSWORD);
    const stolen = await fetch(`${stack.apiUrl}/v1/api-keys`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        cookie: cookieHeader,
        'x-csrf-token': other.currentSession().csrfToken ?? '',
      },
      body,
    });
    expect(stolen.status).toBe(403);
    expect(
      (await ops.createApiKey({ name: 'csrf check', personId: 'clerk-1', scopes: ['requester'] })).token,
    ).toMatch(/^cfk_/);
  });

  test('signing out ends the session: the same cookie is then refused with 401', async () => {
    const manager = client();
    await manager.signIn('manager-1', PASSWORD);
    const kept = manager.currentSession();
    await manager.signOut();
    const replayed = new CancelflowClient({ baseUrl: stack.apiUrl, session: kept });
    expect(await refusal(replayed.whoAmI())).toMatchObject({
      status: 401,
      message: expect.stringContaining('sign in'),
    });
  });

  test('an expired session is refused with 401', async () => {
    const director = client();
    await director.signIn('director-1', PASSWORD);
    await stack.models.Session.updateMany(
      { personId: 'director-1' },
      { $set: { expiresAt: new Date(Date.now() - 1000) } },
    );
    expect((await refusal(director.whoAmI())).status).toBe(401);
  });

  test('a tampered cookie is refused with 401, not taken as anonymous', async () => {
    const tampered = new CancelflowClient({
      baseUrl: stack.apiUrl,
      session: { cookies: { cf_session: 'made-up.signature' } },
    });
    expect((await refusal(tampered.whoAmI())).status).toBe(401);
  });
});

describe('API keys', () => {
  test('ops issue a key for a requester; it acts as that person; once revoked it gets 401', async () => {
    const ops = client();
    await ops.signIn('ops-1', PASSWORD);
    const issued = await ops.createApiKey({ name: 'ERP', personId: 'clerk-1', scopes: ['requester'] });
    expect(issued.key).toMatchObject({ personId: 'clerk-1', scopes: ['requester'], createdBy: 'ops-1' });
    const stored = await stack.models.ApiKey.findOne({ keyId: issued.key.keyId }).lean();
    expect(JSON.stringify(stored)).not.toContain(issued.token.split('_')[2]);

    const erp = new CancelflowClient({ baseUrl: stack.apiUrl, apiKey: issued.token });
    expect((await erp.whoAmI()).person).toMatchObject({ personId: 'clerk-1', via: 'api_key' });
    expect((await ops.listApiKeys()).map((key) => key.keyId)).toContain(issued.key.keyId);

    const revoked = await ops.revokeApiKey(issued.key.keyId);
    expect(revoked.revokedAt).toEqual(expect.any(String));
    expect(await refusal(erp.whoAmI())).toMatchObject({
      status: 401,
      message: expect.stringContaining('revoked'),
    });
  });

  test('a key acts only in the roles it was given, and only in roles its person has', async () => {
    const ops = client();
    await ops.signIn('ops-1', PASSWORD);
    // manager-1 is a requester and an approver; this key may only request.
    const { token } = await ops.createApiKey({
      name: 'narrow',
      personId: 'manager-1',
      scopes: ['requester'],
    });
    const narrow = new CancelflowClient({ baseUrl: stack.apiUrl, apiKey: token });
    expect((await narrow.whoAmI()).person.roles).toEqual(['requester']);
    expect(
      await refusal(
        ops.createApiKey({ name: 'too wide', personId: 'clerk-1', scopes: ['requester', 'ops'] }),
      ),
    ).toMatchObject({ status: 400, message: expect.stringContaining('scopes') });
  });

  test('only ops and admins manage keys: others get 403, no credentials 401, a made-up token 401', async () => {
    const clerk = client();
    await clerk.signIn('manager-1', PASSWORD);
    expect((await refusal(clerk.listApiKeys())).status).toBe(403);
    expect((await refusal(client().listApiKeys())).status).toBe(401);
    const madeUp = new CancelflowClient({
      baseUrl: stack.apiUrl,
      apiKey: `cfk_${'a'.repeat(16)}_${'b'.repeat(43)}`,
    });
    expect((await refusal(madeUp.listApiKeys())).status).toBe(401);
  });
});

test('a route that states no access is refused when it is registered', async () => {
  const app = Fastify();
  enforceAccess(app as never, { models: stack.models, checkCsrf: () => Promise.resolve() });
  expect(() => app.get('/v1/forgotten', () => 'open')).toThrow(/states no access/);
  await app.close();
});

test('the API answers with security headers', async () => {
  const response = await fetch(`${stack.apiUrl}/health`);
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  expect(response.headers.get('x-ratelimit-limit')).toEqual(expect.any(String));
});
