// Signing in through the company's identity provider (OpenID Connect, authorization code flow with PKCE): the
// start sends the browser to the provider; its redirect back is checked (state, nonce, PKCE, the ID token's
// signature and issuer), and the provider's subject is mapped to a person of the books
// (models/credentials.ts: findPersonForOidc), who then holds the same session a password sign-in gives.
//
// openid-client 5, not 6: 6 is ESM-only, and the API runs in-process in the tests under Jest, which here loads
// CommonJS only. 5 is the same maintainer's certified relying party, still published and fixed.
import type {} from '@fastify/cookie';
import type {} from '@fastify/csrf-protection';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { custom, errors, generators, Issuer, type BaseClient, type TokenSet } from 'openid-client';
import { z } from 'zod';
import { apiErrorBody, sessionAnswer, type WhoAmI } from '../../client/contract';
import type { Config } from '../../lib/config';
import { CancelflowError } from '../../lib/errors';
import type { Models } from '../../models';
import { findPersonForOidc, startSession, type Principal } from '../../models/credentials';
import type { ApiInstance } from './access';
import { setSessionCookie, type SessionSettings } from './auth.routes';

export interface OidcSettings {
  issuerUrl: string;
  clientId: string;
  clientSecret: string;
  /** Our callback, as registered with the provider. */
  redirectUrl: string;
  /** How long any one call to the provider (discovery, keys, token, userinfo) may take. */
  timeoutMs: number;
}

const PROVIDER_TIMEOUT_MS = 5_000;

/** The OpenID Connect settings, or undefined when no identity provider is configured (sign-in by password only). */
export function oidcSettingsFrom(
  config: Pick<Config, 'OIDC_ISSUER_URL' | 'OIDC_CLIENT_ID' | 'OIDC_CLIENT_SECRET' | 'OIDC_REDIRECT_URL'>,
): OidcSettings | undefined {
  if (!config.OIDC_ISSUER_URL) return undefined;
  // The configuration's own check makes these present with the issuer; this one keeps the types honest.
  if (!config.OIDC_CLIENT_ID || !config.OIDC_CLIENT_SECRET) {
    throw new CancelflowError(
      'config_invalid',
      'OIDC_CLIENT_ID and OIDC_CLIENT_SECRET must be set with OIDC_ISSUER_URL',
    );
  }
  return {
    issuerUrl: config.OIDC_ISSUER_URL,
    clientId: config.OIDC_CLIENT_ID,
    clientSecret: config.OIDC_CLIENT_SECRET,
    redirectUrl: config.OIDC_REDIRECT_URL,
    timeoutMs: PROVIDER_TIMEOUT_MS,
  };
}

/** The sign-in under way in this browser: what the provider's answer must match. */
const PENDING_COOKIE = 'cf_oidc';
const PENDING_PATH = '/v1/auth/oidc';
const PENDING_SECONDS = 600;

interface Pending {
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** The pending sign-in the signed cookie carries; undefined when absent, tampered with or malformed. */
function pendingOf(request: FastifyRequest): Pending | undefined {
  const raw = request.cookies[PENDING_COOKIE];
  if (!raw) return undefined;
  const unsigned = request.unsignCookie(raw);
  if (!unsigned.valid || !unsigned.value) return undefined;
  const [state, nonce, codeVerifier, ...rest] = unsigned.value.split('.');
  if (!state || !nonce || !codeVerifier || rest.length > 0) return undefined;
  return { state, nonce, codeVerifier };
}

/** A client of the provider, discovered on first use (and again after a failed attempt). */
function lazyClient(settings: OidcSettings): () => Promise<BaseClient> {
  const deadline = () => ({ timeout: settings.timeoutMs });
  // The deadline is this issuer's, not a process-wide default that other users of openid-client would share.
  class DeadlineIssuer extends Issuer {}
  DeadlineIssuer[custom.http_options] = deadline;

  let client: Promise<BaseClient> | undefined;
  const discover = async (): Promise<BaseClient> => {
    let issuer: Issuer;
    try {
      issuer = await DeadlineIssuer.discover(settings.issuerUrl);
    } catch (error) {
      throw new CancelflowError(
        'unavailable',
        `the identity provider at ${settings.issuerUrl} cannot be reached: ${messageOf(error)}`,
        undefined,
        { cause: error },
      );
    }
    issuer[custom.http_options] = deadline;
    const discovered = new issuer.Client({
      client_id: settings.clientId,
      client_secret: settings.clientSecret,
      redirect_uris: [settings.redirectUrl],
      response_types: ['code'],
    });
    discovered[custom.http_options] = deadline;
    return discovered;
  };
  return () => {
    client ??= discover().catch((error: unknown) => {
      client = undefined;
      throw error;
    });
    return client;
  };
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** What a failed exchange with the provider means for the caller. */
function providerFailure(error: unknown, request: FastifyRequest): CancelflowError {
  request.log.warn({ err: error }, 'sign-in through the identity provider failed');
  if (error instanceof errors.OPError) {
    // The provider's own refusal: the person was not signed in there, or the code does not hold (used,
    // expired, or not issued for this PKCE verifier).
    const reason = error.error_description ? `${error.error}: ${error.error_description}` : error.error;
    return new CancelflowError('unauthorized', `the identity provider did not sign you in (${reason})`);
  }
  if (error instanceof errors.RPError) {
    if (error.message.startsWith('outgoing request timed out')) {
      return new CancelflowError(
        'unavailable',
        `the identity provider did not answer in time: ${error.message}`,
      );
    }
    const status = error.response?.statusCode;
    if (status !== undefined && status >= 500) {
      return new CancelflowError('provider_failed', `the identity provider failed (HTTP ${status})`);
    }
    // A check of its answer failed (nonce, issuer, signature, …); the detail (it may name the expected
    // values) is in the log, the caller gets its first clause.
    return new CancelflowError(
      'unauthorized',
      `the identity provider's answer failed its checks (${error.message.split(',')[0]}): sign in again`,
    );
  }
  // The network: the provider went away between discovery and this call.
  if (typeof (error as { code?: unknown }).code === 'string') {
    return new CancelflowError('unavailable', `the identity provider cannot be reached: ${messageOf(error)}`);
  }
  throw error;
}

const errorAnswers = {
  400: apiErrorBody,
  401: apiErrorBody,
  403: apiErrorBody,
  502: apiErrorBody,
  503: apiErrorBody,
};

const whoAmIOf = (principal: Principal): WhoAmI => ({
  personId: principal.personId,
  name: principal.name,
  roles: principal.roles,
  approvalLevel: principal.approvalLevel,
  language: principal.language,
  via: 'session',
});

/** Registers the sign-in through the identity provider; nothing when none is configured (`oidc` undefined). */
export function registerOidcRoutes<Logger extends FastifyBaseLogger>(
  routes: ApiInstance<Logger>,
  deps: { models: Models; session: SessionSettings; oidc?: OidcSettings },
): void {
  const { models, session, oidc } = deps;
  if (!oidc) return;
  const clientOf = lazyClient(oidc);

  routes.get(
    '/v1/auth/oidc/start',
    {
      config: { access: { public: "starts a sign-in at the company's identity provider" } },
      schema: {
        tags: ['auth'],
        summary: "Sign in at the company's identity provider: redirects there (302)",
        querystring: z.object({
          /** Passed on to the provider, which may fill in the sign-in form with it (an e-mail, a user name). */
          login_hint: z.string().trim().min(1).max(254).optional(),
        }),
        response: { 400: apiErrorBody, 503: apiErrorBody },
      },
    },
    async (request, reply) => {
      const client = await clientOf();
      const pending: Pending = {
        state: generators.state(),
        nonce: generators.nonce(),
        codeVerifier: generators.codeVerifier(),
      };
      const location = client.authorizationUrl({
        scope: 'openid email',
        redirect_uri: oidc.redirectUrl,
        state: pending.state,
        nonce: pending.nonce,
        code_challenge: generators.codeChallenge(pending.codeVerifier),
        code_challenge_method: 'S256',
        login_hint: request.query.login_hint,
      });
      // Signed (not to be forged) and HttpOnly; Lax, so it comes back on the provider's top-level redirect.
      void reply.setCookie(PENDING_COOKIE, [pending.state, pending.nonce, pending.codeVerifier].join('.'), {
        signed: true,
        httpOnly: true,
        sameSite: 'lax',
        secure: session.secureCookies,
        path: PENDING_PATH,
        maxAge: PENDING_SECONDS,
      });
      return reply.redirect(location, 302);
    },
  );

  routes.get(
    '/v1/auth/oidc/callback',
    {
      config: {
        access: { public: "the identity provider's redirect, checked by state, nonce and PKCE" },
      },
      schema: {
        tags: ['auth'],
        summary: "The identity provider's redirect: signs the person in; sets the session cookie",
        querystring: z.object({
          state: z.string().min(1).max(512),
          code: z.string().min(1).max(4096).optional(),
          error: z.string().max(256).optional(),
        }),
        response: { 200: sessionAnswer, ...errorAnswers },
      },
    },
    async (request, reply) => {
      // One use: whatever comes of this answer, the next sign-in starts afresh.
      const pending = pendingOf(request);
      void reply.clearCookie(PENDING_COOKIE, { path: PENDING_PATH });
      if (!pending) {
        throw new CancelflowError(
          'unauthorized',
          'no sign-in at the identity provider was started in this browser, or it expired: start again',
        );
      }
      if (request.query.state !== pending.state) {
        throw new CancelflowError(
          'unauthorized',
          'this answer is not to the sign-in started in this browser (state): start again',
        );
      }

      const client = await clientOf();
      let claims: { sub: string; email?: string; email_verified?: unknown };
      try {
        const tokens: TokenSet = await client.callback(oidc.redirectUrl, client.callbackParams(request.raw), {
          response_type: 'code',
          state: pending.state,
          nonce: pending.nonce,
          code_verifier: pending.codeVerifier,
        });
        claims = tokens.claims();
        // Providers that keep the ID token lean give the e-mail at userinfo (checked to be the same subject).
        if (claims.email === undefined && tokens.access_token) {
          const info = await client.userinfo(tokens);
          claims = { ...claims, email: info.email, email_verified: info.email_verified };
        }
      } catch (error) {
        throw providerFailure(error, request);
      }

      const principal = await findPersonForOidc(models, {
        subject: claims.sub,
        email: claims.email,
        // Some providers send it as a string.
        emailVerified: claims.email_verified === true || claims.email_verified === 'true',
      });
      if (!principal) {
        request.log.info({ subject: claims.sub }, 'identity provider sign-in matched no person');
        throw new CancelflowError('forbidden', 'no person in the books is linked to this identity');
      }
      const sessionId = await startSession(models, principal.personId, 'oidc', session.ttlMs);
      setSessionCookie(reply, sessionId, session);
      return { person: whoAmIOf(principal), csrfToken: reply.generateCsrf({ userInfo: sessionId }) };
    },
  );
}
