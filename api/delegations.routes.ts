// R15: delegations over HTTP. An approver who is away names a delegate and a period (the delegator is the
// caller, never a name from the body); people list the delegations they gave and received (ops and admins see
// all); the delegator or an admin ends one. Whether a delegation may be made is the rules' to say
// (rules/delegation.rules.ts), with their reason as a 409.
import type { FastifyBaseLogger } from 'fastify';
import {
  apiErrorBody,
  createDelegationBody,
  delegationAccepted,
  delegationIdParams,
  delegationList,
  delegationView,
  type DelegationView,
} from '../client/contract';
import type { Models } from '../models';
import {
  createDelegation,
  endDelegation,
  listDelegations,
  statusOf,
  type StoredDelegation,
} from '../models/delegations';
import { callerOf, type ApiInstance } from './auth/access';
import { callerErrors } from './error-answers';
import { idempotencyKeyHeaders, idempotencyKeyOf } from './request-parts';

const errors = callerErrors;
const tags = ['delegations'];

function viewOf(delegation: StoredDelegation, now: Date): DelegationView {
  return {
    delegationId: delegation.delegationId,
    delegatorId: delegation.delegatorId,
    delegateId: delegation.delegateId,
    from: delegation.from.toISOString(),
    until: delegation.until.toISOString(),
    status: statusOf(delegation, now),
    createdAt: delegation.createdAt.toISOString(),
    revokedAt: delegation.revokedAt?.toISOString(),
    revokedBy: delegation.revokedBy ?? undefined,
  };
}

export function registerDelegationRoutes<Logger extends FastifyBaseLogger>(
  routes: ApiInstance<Logger>,
  deps: { models: Models },
): void {
  const { models } = deps;

  routes.post(
    '/v1/delegations',
    {
      config: { access: { roles: ['approver'] } },
      schema: {
        tags,
        summary:
          'R15: name a delegate (an active approver of your level or higher) for a period: the approval steps ' +
          'found while it is in force wait for them too, and they decide on your behalf',
        headers: idempotencyKeyHeaders(
          '8 to 255 characters: a repeat with the same key answers the same delegation',
        ),
        body: createDelegationBody,
        response: { 201: delegationAccepted, 200: delegationAccepted, ...errors, 409: apiErrorBody },
      },
    },
    async (request, reply) => {
      const now = new Date();
      const { delegation, existing } = await createDelegation(
        models,
        {
          delegatorId: callerOf(request).personId,
          delegateId: request.body.delegateId,
          from: request.body.from ? new Date(request.body.from) : now,
          until: new Date(request.body.until),
          idempotencyKey: idempotencyKeyOf(request.headers['idempotency-key']),
        },
        now,
      );
      return reply
        .status(existing ? 200 : 201)
        .header('location', `/v1/delegations/${delegation.delegationId}`)
        .send({ ...viewOf(delegation, now), existing });
    },
  );

  routes.get(
    '/v1/delegations',
    {
      config: { access: { roles: ['approver', 'ops', 'admin'] } },
      schema: {
        tags,
        summary: 'Delegations, newest first: those you gave and received; ops and admins see all',
        response: { 200: delegationList, ...errors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const seesAll = caller.roles.some((role) => role === 'ops' || role === 'admin');
      const now = new Date();
      const found = await listDelegations(models, seesAll ? undefined : caller.personId);
      return { items: found.map((delegation) => viewOf(delegation, now)) };
    },
  );

  routes.delete(
    '/v1/delegations/:id',
    {
      config: {
        access: { roles: ['approver', 'admin'], ownFor: ['approver'], own: 'delegatorOfDelegation' },
      },
      schema: {
        tags,
        summary:
          'End a delegation now (its delegator, or an admin): approval steps no longer take its delegate ' +
          'on the delegator’s behalf. Ending one already ended changes nothing',
        params: delegationIdParams,
        response: { 200: delegationView, ...errors, 404: apiErrorBody },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const now = new Date();
      const ended = await endDelegation(
        models,
        request.params.id,
        { personId: caller.personId, admin: caller.roles.includes('admin') },
        now,
      );
      return viewOf(ended, now);
    },
  );
}
