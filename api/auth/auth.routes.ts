// Signing in and out (R25), who the caller is, and the API keys back-end systems call with.
import type {} from '@fastify/cookie';
import type {} from '@fastify/csrf-protection';
import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import { z } from 'zod';
import {
  apiErrorBody,
  apiKeyView,
  createApiKeyBody,
  issuedApiKey,
  sessionAnswer,
  signInBody,
  type WhoAmI,
} from '../../client/contract';
import { CancelflowError } from '../../lib/errors';
import type { Models } from '../../models';
import {
  checkPassword,
  endSession,
  issueApiKey,
  listApiKeys,
  revokeApiKey,
  startSession,
  type SignInRules,
} from '../../models/credentials';
import { callerOf, SESSION_COOKIE, sessionIdOf, type ApiInstance, type Caller } from './access';
import { callerErrors } from '../error-answers';

export interface SessionSettings extends SignInRules {
  ttlMs: number;
  /** Cookies go only over HTTPS when the API is reached over HTTPS. */
  secureCookies: boolean;
}

const errors = callerErrors;

const whoAmIOf = (caller: Omit<Caller, 'credentialId'>): WhoAmI => ({
  personId: caller.personId,
  name: caller.name,
  roles: caller.roles,
  approvalLevel: caller.approvalLevel,
  language: caller.language,
  via: caller.via,
});

/** Sets the signed session cookie a sign-in (by password or through the identity provider) answers with. */
export function setSessionCookie(
  reply: FastifyReply,
  sessionId: string,
  session: Pick<SessionSettings, 'ttlMs' | 'secureCookies'>,
): void {
  void reply.setCookie(SESSION_COOKIE, sessionId, {
    signed: true,
    httpOnly: true,
    sameSite: 'lax',
    secure: session.secureCookies,
    path: '/',
    maxAge: Math.floor(session.ttlMs / 1000),
  });
}

export function registerAuthRoutes<Logger extends FastifyBaseLogger>(
  routes: ApiInstance<Logger>,
  deps: { models: Models; session: SessionSettings },
): void {
  const { models, session } = deps;

  routes.post(
    '/v1/auth/sign-in',
    {
      config: { access: { public: 'signing in is how a person gets credentials' } },
      schema: {
        tags: ['auth'],
        summary: 'Sign in with a password; sets the session cookie',
        body: signInBody,
        response: { 200: sessionAnswer, ...errors },
      },
    },
    async (request, reply) => {
      const outcome = await checkPassword(models, request.body.login, request.body.password, session);
      if (!outcome.ok && outcome.reason === 'locked') {
        const seconds = Math.max(1, Math.ceil((outcome.lockedUntil.getTime() - Date.now()) / 1000));
        void reply.header('retry-after', String(seconds));
        throw new CancelflowError(
          'too_many_requests',
          `too many failed sign-ins: the account is locked until ${outcome.lockedUntil.toISOString()}`,
        );
      }
      // One answer for an unknown login and a wrong password: nobody learns which logins exist.
      if (!outcome.ok) throw new CancelflowError('unauthorized', 'the login or the password is wrong');
      const sessionId = await startSession(models, outcome.principal.personId, 'password', session.ttlMs);
      setSessionCookie(reply, sessionId, session);
      return {
        person: whoAmIOf({ ...outcome.principal, via: 'session' }),
        csrfToken: reply.generateCsrf({ userInfo: sessionId }),
      };
    },
  );

  routes.post(
    '/v1/auth/sign-out',
    {
      config: { access: { public: 'ending a session needs none; it ends the one the cookie names, if any' } },
      schema: { tags: ['auth'], summary: 'End the session the cookie names', response: { 204: z.null() } },
    },
    async (request, reply) => {
      const sessionId = sessionIdOf(request);
      if (sessionId) await endSession(models, sessionId);
      void reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.status(204).send(null);
    },
  );

  routes.get(
    '/v1/auth/session',
    {
      config: {
        access: {
          roles: ['requester', 'approver', 'finance_clerk', 'warehouse_clerk', 'ops', 'admin'],
        },
      },
      schema: {
        tags: ['auth'],
        summary: 'Who the caller is; for a session, a fresh CSRF token for its writes',
        response: { 200: sessionAnswer, ...errors },
      },
    },
    (request, reply) => {
      const caller = callerOf(request);
      return {
        person: whoAmIOf(caller),
        csrfToken:
          caller.via === 'session' ? reply.generateCsrf({ userInfo: caller.credentialId }) : undefined,
      };
    },
  );

  const keyAdmins = { roles: ['ops', 'admin'] } as const;

  routes.post(
    '/v1/api-keys',
    {
      config: { access: keyAdmins },
      schema: {
        tags: ['api keys'],
        summary: 'Issue an API key acting as a person in some of their roles; the token is shown once',
        body: createApiKeyBody,
        response: { 201: issuedApiKey, ...errors },
      },
    },
    async (request, reply) => {
      const issued = await issueApiKey(models, { ...request.body, createdBy: callerOf(request).personId });
      return reply.status(201).send(issued);
    },
  );

  routes.get(
    '/v1/api-keys',
    {
      config: { access: keyAdmins },
      schema: {
        tags: ['api keys'],
        summary: 'Every API key, newest first (never their tokens)',
        response: { 200: z.object({ items: z.array(apiKeyView) }), ...errors },
      },
    },
    async () => ({ items: await listApiKeys(models) }),
  );

  routes.delete(
    '/v1/api-keys/:keyId',
    {
      config: { access: keyAdmins },
      schema: {
        tags: ['api keys'],
        summary: 'Revoke an API key: it is refused from the next call on',
        params: z.object({ keyId: z.string().min(1).max(64) }),
        response: { 200: apiKeyView, 404: apiErrorBody, ...errors },
      },
    },
    async (request) => revokeApiKey(models, request.params.keyId, callerOf(request).personId),
  );
}
