// Signing in through the company's identity provider (OpenID Connect), against a real provider: oidc-provider
// runs as its own process (simulators/oidc-provider.mjs; it is ESM-only, which Jest here cannot load), and a
// browser is played over HTTP, following every redirect by hand and keeping each host's cookies: our start →
// the provider's authorization endpoint → its sign-in (the account `login_hint` names) → our callback, which
// checks state, nonce and PKCE and maps the provider's subject to a person of the books.
//
// The API is the whole app (api/app.ts) of a test stack configured with the provider's address.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { apiSettingsFrom, buildApp } from '../api/app';
import { oidcSettingsFrom, type OidcSettings } from '../api/auth/oidc.routes';
import type { ApiErrorBody } from '../client/contract';
import { addPeople } from '../generators/demo-data';
import { parseConfig, redactConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { loadPolicyFile } from '../lib/policy';
import { setPassword } from '../models/credentials';
import { freePort } from '../scripts/servers';
import { startTestStack, type TestStack } from './support/stack';

const CLIENT_ID = 'cancelflow';
const CLIENT_SECRET = 'a-client-secret-of-the-test-run-only';

/** The provider's accounts: subject → the claims it gives. */
const ACCOUNTS = {
  // director-1's e-mail, verified, in another case than the books keep it.
  'idp-grace': { email: 'Grace.Lin@cancelflow.local', email_verified: true },
  // finance-1 has no password account: signing in through the provider makes one.
  'idp-wang': { email: 'wang.min@cancelflow.local', email_verified: true },
  'idp-stranger': { email: 'stranger@elsewhere.example', email_verified: true },
  // manager-1's e-mail, but the provider has not verified it belongs to whoever holds this identity.
  'idp-unverified': { email: 'liu.qiang@cancelflow.local', email_verified: false },
  // director-1's e-mail again, verified, on a second identity: director-1 is linked to idp-grace by then.
  'idp-grace-again': { email: 'grace.lin@cancelflow.local', email_verified: true },
};

interface Provider {
  issuer: string;
  stop(): Promise<void>;
}

/** Starts simulators/oidc-provider.mjs as its own process; resolves when it prints its issuer URL. */
async function startProvider(port: number, redirectUri: string): Promise<Provider> {
  const child = spawn(
    process.execPath,
    [
      resolve(__dirname, '../simulators/oidc-provider.mjs'),
      '--port',
      String(port),
      '--client-id',
      CLIENT_ID,
      '--client-secret',
      CLIENT_SECRET,
      '--redirect-uri',
      redirectUri,
      '--accounts',
      JSON.stringify(ACCOUNTS),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const issuer = await new Promise<string>((resolveIssuer, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the provider did not start in 20 s:\n${stderr}`)),
      20_000,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((candidate) => candidate.startsWith('http'));
      if (line) {
        clearTimeout(timer);
        resolveIssuer(line.trim());
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the provider exited (${code}) before it was ready:\n${stderr}`));
    });
  });
  return {
    issuer,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

interface Cookie {
  value: string;
  attributes: string;
}

/** A browser: cookies kept per host (paths aside), redirects followed by hand. */
class Browser {
  private readonly jars = new Map<string, Map<string, Cookie>>();

  cookies(host: string): Map<string, Cookie> {
    let jar = this.jars.get(host);
    if (!jar) this.jars.set(host, (jar = new Map<string, Cookie>()));
    return jar;
  }

  async get(url: string): Promise<Response> {
    const target = new URL(url);
    const jar = this.cookies(target.host);
    const header = [...jar].map(([name, { value }]) => `${name}=${value}`).join('; ');
    const response = await fetch(target, {
      redirect: 'manual',
      headers: header ? { cookie: header } : {},
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      const expired =
        /max-age=0\b/i.test(line) ||
        attributes.some((attribute) => {
          const [key, date] = attribute.trim().split('=');
          return key?.toLowerCase() === 'expires' && date !== undefined && new Date(date) < new Date();
        });
      if (!value || expired) jar.delete(name);
      else jar.set(name, { value, attributes: attributes.join(';') });
    }
    return response;
  }

  /**
   * Follows redirects from `url` until an answer that is not one, or until the next would go to a URL for
   * which `stopBefore` is true (which is then returned unvisited). Every URL visited is in `visited`.
   */
  async follow(
    url: string,
    stopBefore: (next: string) => boolean = () => false,
  ): Promise<{ response?: Response; visited: string[]; next?: string }> {
    const visited: string[] = [];
    let current = url;
    for (let hop = 0; hop < 20; hop += 1) {
      visited.push(current);
      const response = await this.get(current);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return { response, visited };
      const next = new URL(location, current).href;
      if (stopBefore(next)) return { visited, next };
      current = next;
    }
    throw new Error(`more than 20 redirects from ${url}`);
  }
}

let stack: TestStack;
let provider: Provider;
let appUrl: string;
const callbackPath = '/v1/auth/oidc/callback';

beforeAll(async () => {
  // The provider must know our callback before we know its address: our port is chosen first.
  const apiPort = await freePort();
  appUrl = `http://127.0.0.1:${apiPort}`;
  provider = await startProvider(await freePort(), `${appUrl}${callbackPath}`);
  stack = await startTestStack('front-door-oidc', undefined, {
    apiPort,
    settings: {
      PUBLIC_BASE_URL: appUrl,
      OIDC_ISSUER_URL: provider.issuer,
      OIDC_CLIENT_ID: CLIENT_ID,
      OIDC_CLIENT_SECRET: CLIENT_SECRET,
    },
  });
  await addPeople(stack.models);
  // director-1 signs in with a password too: linking the identity keeps it.
  await setPassword(stack.models, 'director-1', 'correct horse battery staple');
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await provider?.stop();
});

/** A whole sign-in in a fresh browser, as the provider's account `subject`. */
async function signInAs(subject: string, browser = new Browser()) {
  const { response, visited } = await browser.follow(
    `${appUrl}/v1/auth/oidc/start?login_hint=${encodeURIComponent(subject)}`,
  );
  if (!response) throw new Error('the sign-in stopped on a redirect');
  const appCookies = browser.cookies(new URL(appUrl).host);
  return { response, visited, body: await response.json(), appCookies, browser };
}

describe('signing in through the identity provider', () => {
  test('a subject whose verified e-mail is director-1’s signs in as director-1, and the subject is recorded', async () => {
    const { response, visited, body, appCookies } = await signInAs('idp-grace');

    // start → the provider's authorization endpoint, with state, nonce and a PKCE challenge (S256).
    const authorize = new URL(visited[1] ?? '');
    expect(authorize.origin + authorize.pathname).toBe(`${provider.issuer}/auth`);
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
      client_id: CLIENT_ID,
      response_type: 'code',
      scope: 'openid email',
      redirect_uri: `${appUrl}${callbackPath}`,
      state: expect.stringMatching(/^[\w-]{20,}$/),
      nonce: expect.stringMatching(/^[\w-]{20,}$/),
      code_challenge: expect.stringMatching(/^[\w-]{43}$/),
      code_challenge_method: 'S256',
      login_hint: 'idp-grace',
    });
    // … and back to our callback with a code, answered with the person and a CSRF token.
    const callback = new URL(visited.at(-1) ?? '');
    expect(callback.pathname).toBe(callbackPath);
    expect(callback.searchParams.get('code')).toBeTruthy();
    expect(callback.searchParams.get('state')).toBe(authorize.searchParams.get('state'));
    expect(response.status).toBe(200);
    expect(body).toEqual({
      person: {
        personId: 'director-1',
        name: 'Grace Lin',
        roles: ['approver'],
        approvalLevel: 2,
        language: 'en',
        via: 'session',
      },
      csrfToken: expect.any(String),
    });

    // The session cookie is set as a password sign-in sets it; the pending sign-in's cookie is gone.
    const setCookies = response.headers.getSetCookie();
    const sessionCookie = setCookies.find((line) => line.startsWith('cf_session='));
    expect(sessionCookie).toMatch(/HttpOnly/i);
    expect(sessionCookie).toMatch(/SameSite=Lax/i);
    expect(sessionCookie).toMatch(/Path=\//);
    expect(appCookies.has('cf_oidc')).toBe(false);
    const session = await fetch(`${appUrl}/v1/auth/session`, {
      headers: { cookie: `cf_session=${appCookies.get('cf_session')?.value}` },
    });
    expect(session.status).toBe(200);
    expect(await session.json()).toMatchObject({ person: { personId: 'director-1', via: 'session' } });

    const account = await stack.models.Account.findOne({ personId: 'director-1' }).lean();
    expect(account?.oidcSubject).toBe('idp-grace');
    expect(account?.passwordHash).toMatch(/^\$argon2id\$/);
    const latest = await stack.models.Session.findOne({ personId: 'director-1' }).sort({ _id: -1 }).lean();
    expect(latest?.via).toBe('oidc');
  });

  test('the pending sign-in rides in a signed, HttpOnly cookie only the callback gets', async () => {
    const browser = new Browser();
    const start = await browser.get(`${appUrl}/v1/auth/oidc/start?login_hint=idp-grace`);
    expect(start.status).toBe(302);
    const pending = start.headers.getSetCookie().find((line) => line.startsWith('cf_oidc='));
    expect(pending).toMatch(/HttpOnly/i);
    expect(pending).toMatch(/SameSite=Lax/i);
    expect(pending).toMatch(/Path=\/v1\/auth\/oidc/);
    expect(pending).toMatch(/Max-Age=600/);
    // It holds the state, nonce and PKCE verifier, signed: the state in the redirect is the one it holds.
    const state = new URL(start.headers.get('location') ?? '').searchParams.get('state') ?? '';
    expect(decodeURIComponent(pending ?? '')).toContain(state);
  });

  test('a person with no account yet gets one, linked to their subject', async () => {
    const { response, body } = await signInAs('idp-wang');
    expect(response.status).toBe(200);
    expect(body).toMatchObject({ person: { personId: 'finance-1' } });
    const account = await stack.models.Account.findOne({ personId: 'finance-1' }).lean();
    expect(account).toMatchObject({ oidcSubject: 'idp-wang', failedSignIns: 0 });
    expect(account?.passwordHash).toBeUndefined();
  });

  test('the next sign-in maps by subject, even once the e-mail in the books has changed', async () => {
    await stack.models.Person.updateOne(
      { personId: 'director-1' },
      { $set: { email: 'grace.lin@new-domain.example' } },
    );
    try {
      const { response, body } = await signInAs('idp-grace');
      expect(response.status).toBe(200);
      expect(body).toMatchObject({ person: { personId: 'director-1' } });
    } finally {
      await stack.models.Person.updateOne(
        { personId: 'director-1' },
        { $set: { email: 'grace.lin@cancelflow.local' } },
      );
    }
  });

  test('an identity that matches nobody in the books gets 403 and no session', async () => {
    const { response, body, appCookies } = await signInAs('idp-stranger');
    expect(response.status).toBe(403);
    expect(body).toEqual({
      error: 'forbidden',
      message: 'no person in the books is linked to this identity',
    });
    expect(response.headers.getSetCookie().some((line) => line.startsWith('cf_session='))).toBe(false);
    expect(appCookies.has('cf_session')).toBe(false);
    expect(await stack.models.Account.exists({ oidcSubject: 'idp-stranger' })).toBeNull();
  });

  test('an unverified e-mail links nobody, even a person’s own address', async () => {
    const { response } = await signInAs('idp-unverified');
    expect(response.status).toBe(403);
    expect(await stack.models.Account.exists({ oidcSubject: 'idp-unverified' })).toBeNull();
  });

  test('a second identity with the same verified e-mail does not take over a linked account', async () => {
    const { response } = await signInAs('idp-grace-again');
    expect(response.status).toBe(403);
    const account = await stack.models.Account.findOne({ personId: 'director-1' }).lean();
    expect(account?.oidcSubject).toBe('idp-grace');
  });
});

describe('the callback’s checks', () => {
  /** Runs a sign-in up to the provider's redirect to our callback, which is returned unvisited. */
  async function upToCallback() {
    const browser = new Browser();
    const { next } = await browser.follow(`${appUrl}/v1/auth/oidc/start?login_hint=idp-grace`, (url) =>
      url.startsWith(`${appUrl}${callbackPath}`),
    );
    if (!next) throw new Error('the provider did not redirect to the callback');
    return { browser, callback: new URL(next) };
  }

  test('a tampered state is refused with 401, and no session is started', async () => {
    const { browser, callback } = await upToCallback();
    callback.searchParams.set('state', 'not-the-state-this-browser-started-with');
    const response = await browser.get(callback.href);
    expect(await errorOf(response)).toMatchObject({
      status: 401,
      error: 'unauthorized',
      message: expect.stringContaining('(state)'),
    });
    expect(browser.cookies(new URL(appUrl).host).has('cf_session')).toBe(false);
  });

  test('a missing state is a malformed redirect: 400 naming the field', async () => {
    const { browser, callback } = await upToCallback();
    callback.searchParams.delete('state');
    expect(await errorOf(await browser.get(callback.href))).toMatchObject({
      status: 400,
      error: 'validation_failed',
      details: { field: 'state' },
    });
  });

  test('the answer in another browser (no pending sign-in), or with a forged one, is refused with 401', async () => {
    const { browser, callback } = await upToCallback();
    // Another browser: the code and state are right, but nothing was started there.
    expect(await errorOf(await new Browser().get(callback.href))).toMatchObject({
      status: 401,
      message: expect.stringContaining('no sign-in at the identity provider was started in this browser'),
    });
    // The pending cookie rewritten (its signature no longer holds).
    const jar = browser.cookies(new URL(appUrl).host);
    const pending = jar.get('cf_oidc');
    if (!pending) throw new Error('no pending sign-in cookie');
    jar.set('cf_oidc', { ...pending, value: pending.value.replace(/^[^.]+/, 'forged-state') });
    expect((await browser.get(callback.href)).status).toBe(401);
  });

  test('a code is good once: the same answer again is refused with 401', async () => {
    const { browser, callback } = await upToCallback();
    const pending = browser.cookies(new URL(appUrl).host).get('cf_oidc');
    expect((await browser.get(callback.href)).status).toBe(200);
    // Even replayed with the pending cookie it was first sent with, the provider refuses the used code.
    if (!pending) throw new Error('no pending sign-in cookie');
    browser.cookies(new URL(appUrl).host).set('cf_oidc', pending);
    expect(await errorOf(await browser.get(callback.href))).toMatchObject({
      status: 401,
      message: expect.stringContaining('invalid_grant'),
    });
  });

  test('a refusal by the provider (an account it does not have) is a 401 naming its reason', async () => {
    const { response, body } = await signInAs('idp-nobody');
    expect(response.status).toBe(401);
    expect(body).toMatchObject({ error: 'unauthorized', message: expect.stringContaining('access_denied') });
  });
});

describe('configuration', () => {
  /** The whole API over the stack's database and Temporal, with this provider (or none) on its own port. */
  async function startApp(port: number, oidc: OidcSettings | undefined) {
    const config = parseConfig({ LOG_LEVEL: 'silent' });
    const app = buildApp({
      models: stack.models,
      temporal: stack.temporal,
      taskQueue: stack.taskQueue,
      policy: await loadPolicyFile(config.CANCELLATION_POLICY_FILE),
      ...apiSettingsFrom(config),
      oidc,
      logger: createLogger(config, 'front-door-oidc'),
    });
    await app.listen({ host: '127.0.0.1', port });
    return app;
  }

  test('with OIDC off the routes are not there: 404', async () => {
    const port = await freePort();
    const plain = await startApp(port, undefined);
    try {
      for (const path of ['/v1/auth/oidc/start', `${callbackPath}?state=x&code=y`]) {
        expect((await fetch(`http://127.0.0.1:${port}${path}`, { redirect: 'manual' })).status).toBe(404);
      }
    } finally {
      await plain.close();
    }
  });

  /** GET /v1/auth/oidc/start on an app whose provider is at `issuerUrl`, with a deadline of 500 ms. */
  async function startAgainst(issuerUrl: string) {
    const port = await freePort();
    const withProvider = await startApp(port, {
      issuerUrl,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      redirectUrl: `http://127.0.0.1:${port}${callbackPath}`,
      timeoutMs: 500,
    });
    try {
      const response = await fetch(`http://127.0.0.1:${port}/v1/auth/oidc/start`, { redirect: 'manual' });
      return errorOf(response);
    } finally {
      await withProvider.close();
    }
  }

  test('a provider that cannot be reached is a 503 naming it', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    expect(await startAgainst(nowhere)).toMatchObject({
      status: 503,
      error: 'unavailable',
      message: expect.stringContaining(`the identity provider at ${nowhere} cannot be reached`),
    });
  });

  test('a provider that takes connections but never answers is a 503 at the deadline', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((listening) => silent.listen(0, '127.0.0.1', listening));
    const address = silent.address();
    const issuer = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    try {
      const answer = await startAgainst(issuer);
      expect(answer).toMatchObject({
        status: 503,
        message: expect.stringContaining('timed out after 500ms'),
      });
    } finally {
      silent.closeAllConnections();
      await new Promise((closed) => silent.close(closed));
    }
  });

  test('an issuer without the client id and secret stops start-up naming both; the secret is redacted', () => {
    expect(() => parseConfig({ OIDC_ISSUER_URL: 'https://idp.example.com' })).toThrow(
      /OIDC_CLIENT_ID: must be set when OIDC_ISSUER_URL is set[\s\S]*OIDC_CLIENT_SECRET: must be set/,
    );
    const config = parseConfig({
      PUBLIC_BASE_URL: 'https://cancel.example.com',
      OIDC_ISSUER_URL: 'https://idp.example.com',
      OIDC_CLIENT_ID: 'cancelflow',
      OIDC_CLIENT_SECRET: 'very secret',
    });
    expect(config.OIDC_REDIRECT_URL).toBe('https://cancel.example.com/v1/auth/oidc/callback');
    expect(redactConfig(config).OIDC_CLIENT_SECRET).toBe('***');
    expect(oidcSettingsFrom(parseConfig({}))).toBeUndefined();
  });
});

async function errorOf(response: Response) {
  return { status: response.status, ...((await response.json()) as ApiErrorBody) };
}
