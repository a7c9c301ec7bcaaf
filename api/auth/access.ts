// Who may call what: every route of the API states it in its `config.access`, and this one place enforces it.
// A route without a statement does not start (the app refuses to register it), so a new route cannot be open
// by accident; the authorization matrix test reads the same statements.
//
// The caller comes from their credentials only (a session cookie from signing in, or an API key as a bearer
// token), never from a name in the body. What reaches a workflow names that caller; the workflow's validators
// still check the books' roles and levels, so a caller reaching Temporal directly gains nothing by lying.
import type {} from '@fastify/cookie';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { PersonRole } from '../../contracts/books.contract';
import { CancelflowError } from '../../lib/errors';
import type { Models } from '../../models';
import { findApiKey, findPrincipal, findSession, type Principal } from '../../models/credentials';

export const SESSION_COOKIE = 'cf_session';

/** The API's fastify instance: routes validate and document with zod schemas. */
export type ApiInstance<Logger extends FastifyBaseLogger = FastifyBaseLogger> = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  Logger,
  ZodTypeProvider
>;

/** The person a request acts as, and how they proved it. */
export interface Caller extends Principal {
  via: 'session' | 'api_key';
  /** The session id (sessions) or key id (keys). */
  credentialId: string;
}

/** Ways a resource is the caller's own. */
export const OWNERSHIP = {
  /** The cancellation in `:id` was requested by the caller. */
  requesterOfCancellation: async (models: Models, request: FastifyRequest, caller: Caller) => {
    const { id } = request.params as { id?: string };
    const record = await models.Cancellation.findOne({ cancellationId: id }, { requestedBy: 1 }).lean();
    // An unknown cancellation is the handler's 404, not a 403 that would confirm or deny it exists.
    return !record || record.requestedBy === caller.personId;
  },
  /** The delegation in `:id` was given by the caller (R15). */
  delegatorOfDelegation: async (models: Models, request: FastifyRequest, caller: Caller) => {
    const { id } = request.params as { id?: string };
    const record = await models.Delegation.findOne({ delegationId: id }, { delegatorId: 1 }).lean();
    return !record || record.delegatorId === caller.personId;
  },
} as const;
export type Ownership = keyof typeof OWNERSHIP;

export type Access =
  /** Open to anyone; says why (a signature or a code in the link guards it, or it is documentation). */
  | { public: string }
  | {
      /** The caller must hold one of these roles. */
      roles: readonly PersonRole[];
      /**
       * Callers whose only qualifying roles are these may touch only their own resource (`own` says how):
       * a requester reads their own cancellations; approvers, finance and ops read any.
       */
      ownFor?: readonly PersonRole[];
      own?: Ownership;
    };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /**
     * A route a page of another origin calls with a person's session cookie (the Temporal UI calling the codec
     * endpoint), which cannot send our CSRF token: a session's write coming from exactly this origin needs none.
     * The browser sets Origin and no page can change it, so this is the check the token stands for; a request
     * from any other origin, or without one, still needs the token. `why` says why the route may allow it.
     */
    csrfTokenNotNeededFrom?: { origin: string; why: string };
  }
  interface FastifyRequest {
    caller?: Caller;
  }
}

/** Every signed-in role; the roles that work on others' cancellations. */
export const ANY_ROLE: readonly PersonRole[] = [
  'requester',
  'approver',
  'finance_clerk',
  'warehouse_clerk',
  'ops',
  'admin',
];
export const STAFF_ROLES: readonly PersonRole[] = [
  'approver',
  'finance_clerk',
  'warehouse_clerk',
  'ops',
  'admin',
];

/** The caller of a route that requires one (the access hook ran before the handler). */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new CancelflowError('unauthorized', 'sign in or send an API key');
  return request.caller;
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const [scheme, token] = header.split(' ');
  if (scheme?.toLowerCase() !== 'bearer' || !token) {
    throw new CancelflowError('unauthorized', 'Authorization must be "Bearer <API key>"');
  }
  return token;
}

/** The session id the signed cookie carries, if it carries a valid signature. */
export function sessionIdOf(request: FastifyRequest): string | undefined {
  const raw = request.cookies[SESSION_COOKIE];
  if (!raw) return undefined;
  const unsigned = request.unsignCookie(raw);
  return unsigned.valid && unsigned.value ? unsigned.value : undefined;
}

/**
 * The caller the credentials name; undefined without any. Credentials that are presented but do not hold
 * (unknown, revoked, expired, tampered with, or a person who left) are a 401, never a silent anonymous call.
 */
async function resolveCaller(models: Models, request: FastifyRequest): Promise<Caller | undefined> {
  const token = bearerToken(request);
  if (token !== undefined) {
    const key = await findApiKey(models, token);
    const principal = key && (await findPrincipal(models, key.personId));
    if (!key || !principal) throw new CancelflowError('unauthorized', 'the API key is unknown or revoked');
    // A key acts in the roles it was given that its person still has.
    const roles = principal.roles.filter((role) => key.scopes.includes(role));
    return { ...principal, roles, via: 'api_key', credentialId: key.keyId };
  }
  if (request.cookies[SESSION_COOKIE] === undefined) return undefined;
  const sessionId = sessionIdOf(request);
  const session = sessionId && (await findSession(models, sessionId));
  const principal = session && (await findPrincipal(models, session.personId));
  if (!sessionId || !principal)
    throw new CancelflowError('unauthorized', 'the session has ended: sign in again');
  return { ...principal, via: 'session', credentialId: sessionId };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The request comes from the one origin its route lets write without a CSRF token (`csrfTokenNotNeededFrom`). */
function fromOriginTrustedByRoute(request: FastifyRequest): boolean {
  const trusted = request.routeOptions.config.csrfTokenNotNeededFrom;
  return trusted !== undefined && request.headers.origin === trusted.origin;
}

/** Registers the statement check and the one enforcing hook. Call before any route is added. */
/** Whether every role the caller may act in here is one that touches only their own resource (`ownFor`). */
export function touchesOnlyOwn(
  caller: Pick<Caller, 'roles'>,
  access: { roles: readonly PersonRole[]; ownFor?: readonly PersonRole[] },
): boolean {
  const qualifying = caller.roles.filter((role) => access.roles.includes(role));
  return qualifying.every((role) => access.ownFor?.includes(role) ?? false);
}

export function enforceAccess<Logger extends FastifyBaseLogger>(
  app: ApiInstance<Logger>,
  deps: { models: Models; checkCsrf: (request: FastifyRequest, reply: FastifyReply) => Promise<void> },
): void {
  app.addHook('onRoute', (route) => {
    // The reference page's own assets (served by @fastify/swagger-ui under /docs) are documentation.
    if (route.url.startsWith('/docs')) return;
    if (!route.config?.access) {
      throw new Error(
        `${String(route.method)} ${route.url} states no access: add config.access (api/auth/access.ts)`,
      );
    }
  });

  // Before the body is read: without the right credentials, what the request says does not matter.
  app.addHook('onRequest', async (request, reply) => {
    const access = request.routeOptions.config.access;
    if (!access || 'public' in access) return;
    const caller = await resolveCaller(deps.models, request);
    if (!caller)
      throw new CancelflowError('unauthorized', 'sign in or send an API key (Authorization: Bearer …)');
    request.caller = caller;
    // A browser sends the session cookie on its own; a write must also carry the token only our pages can read.
    if (caller.via === 'session' && !SAFE_METHODS.has(request.method) && !fromOriginTrustedByRoute(request))
      await deps.checkCsrf(request, reply);
    if (!caller.roles.some((role) => access.roles.includes(role))) {
      throw new CancelflowError(
        'forbidden',
        `${caller.personId} may not do this: it takes one of the roles ${access.roles.join(', ')}`,
      );
    }
    if (
      access.own &&
      touchesOnlyOwn(caller, access) &&
      !(await OWNERSHIP[access.own](deps.models, request, caller))
    ) {
      throw new CancelflowError(
        'forbidden',
        `${caller.personId} may do this only to their own cancellations`,
      );
    }
  });
}
