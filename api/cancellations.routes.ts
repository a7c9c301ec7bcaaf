// Cancellations over HTTP: asking for one, reading one, listing them from the database copy, and what people
// do to a running one (R3, R9, R11, R12, R15). Each action is the workflow's Update, sent as the caller: the
// person comes from their session or API key, never from the body, and the workflow's validators still decide
// whether that person may act, now (409 with their reason).
import type { FastifyBaseLogger } from 'fastify';
import type { z } from 'zod';
import {
  chooseResolution,
  confirmReturn,
  decideApproval,
  resumeCancellation,
  settleRefund,
  withdrawCancellation,
  type DecisionSender,
} from '../client/cancellation-decisions';
import {
  apiErrorBody,
  cancellationAccepted,
  cancellationIdParams,
  cancellationListQuery,
  cancellationPage,
  cancellationResource,
  cancellationView,
  choiceBody,
  createCancellationBody,
  decisionBody,
  resumptionBody,
  returnConfirmationBody,
  settlementBody,
  withdrawalBody,
} from '../client/contract';
import { ANY_ROLE, callerOf, touchesOnlyOwn, type Access, type ApiInstance } from './auth/access';
import type { CancellationService } from './cancellation.service';
import { callerErrors } from './error-answers';
import { idempotencyKeyHeaders, idempotencyKeyOf } from './request-parts';

const errors = callerErrors;
const actionErrors = { ...errors, 404: apiErrorBody, 409: apiErrorBody };
const tags = ['cancellations'];

/** Any signed-in role lists; a caller whose only role is requester lists their own (a filter, not a 403). */
const listAccess = { roles: ANY_ROLE, ownFor: ['requester'] } as const satisfies Access;

export function registerCancellationRoutes<Logger extends FastifyBaseLogger>(
  routes: ApiInstance<Logger>,
  deps: { cancellations: CancellationService },
): void {
  const { cancellations } = deps;

  routes.post(
    '/v1/cancellations',
    {
      config: { access: { roles: ['requester'] } },
      schema: {
        tags,
        summary: 'Ask for a cancellation; it runs as a workflow. Repeat with the same Idempotency-Key safely',
        headers: idempotencyKeyHeaders(
          '8 to 255 characters: a repeat with the same key answers the same cancellation',
        ),
        body: createCancellationBody,
        response: {
          202: cancellationAccepted,
          ...errors,
          404: apiErrorBody,
          409: apiErrorBody,
          422: apiErrorBody,
          503: apiErrorBody,
        },
      },
    },
    async (request, reply) => {
      const idempotencyKey = idempotencyKeyOf(request.headers['idempotency-key']);
      const caller = callerOf(request);
      const accepted = await cancellations.create(
        request.body,
        caller.personId,
        idempotencyKey,
        caller.via === 'session' ? 'api_session' : 'api_key',
      );
      return reply
        .status(202)
        .header('location', `/v1/cancellations/${accepted.cancellationId}`)
        .send(accepted);
    },
  );

  routes.get(
    '/v1/cancellations',
    {
      config: { access: listAccess },
      schema: {
        tags,
        summary:
          'Cancellations, newest first, from the database copy: filtered, paged with a cursor, and counted. ' +
          'A requester sees their own',
        querystring: cancellationListQuery,
        response: { 200: cancellationPage, ...errors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { requestedBy } = request.query;
      return cancellations.list(
        { ...request.query, requestedBy: requestedBy === 'me' ? caller.personId : requestedBy },
        { personId: caller.personId, roles: caller.roles, ownOnly: touchesOnlyOwn(caller, listAccess) },
      );
    },
  );

  routes.get(
    '/v1/cancellations/:id',
    {
      config: { access: { roles: ANY_ROLE, ownFor: ['requester'], own: 'requesterOfCancellation' } },
      schema: {
        tags,
        summary:
          'One cancellation: live from its workflow while it runs, from the database copy once it ended',
        params: cancellationIdParams,
        response: { 200: cancellationResource, ...errors, 404: apiErrorBody },
      },
    },
    async (request) => cancellations.get(request.params.id),
  );

  /** One person's action: its route, who may send it, its body, and the Update payload it becomes. */
  function action<Body extends z.ZodType, Payload>(spec: {
    path: string;
    access: Access;
    summary: string;
    body: Body;
    send: DecisionSender<Payload>;
    payload: (body: z.output<Body>, personId: string, cancellationId: string) => Payload | Promise<Payload>;
  }): void {
    routes.post(
      `/v1/cancellations/:id/${spec.path}`,
      {
        config: { access: spec.access },
        schema: {
          tags,
          summary: `${spec.summary}. Repeat with the same Idempotency-Key safely`,
          headers: idempotencyKeyHeaders(
            '8 to 255 characters: a repeat by the same person with the same key is the same action, ' +
              'answered as the first was (a lost answer retried), never done twice',
          ),
          params: cancellationIdParams,
          body: spec.body,
          response: { 200: cancellationView, ...actionErrors },
        },
      },
      async (request) => {
        const { personId } = callerOf(request);
        const idempotencyKey = idempotencyKeyOf(request.headers['idempotency-key']);
        return cancellations.act(
          spec.send,
          request.params.id,
          await spec.payload(request.body as z.output<Body>, personId, request.params.id),
          // Scoped to the action and the person: one person's key can never stand for another's act.
          idempotencyKey ? { updateId: `${spec.path}:${personId}:${idempotencyKey}` } : {},
        );
      },
    );
  }

  action({
    path: 'decision',
    access: { roles: ['approver'] },
    summary:
      'R3, R15: approve or reject the approval step under way, as the calling approver (on behalf of the ' +
      'approver whose delegate they are, while that delegation is in force)',
    body: decisionBody,
    send: decideApproval,
    // R15: on whose behalf comes from the books and the clock here, never from the body; the workflow checks
    // the step found that delegate for them.
    payload: async (body, approver, cancellationId) => {
      const onBehalfOf = await cancellations.decidingOnBehalfOf(cancellationId, approver);
      return {
        approver,
        approved: body.approved,
        reason: body.comment,
        ...(onBehalfOf !== undefined ? { onBehalfOf } : {}),
      };
    },
  });

  action({
    path: 'withdrawal',
    access: { roles: ['requester'], ownFor: ['requester'], own: 'requesterOfCancellation' },
    summary: 'Withdraw the request (its requester only), until stock or money has moved',
    body: withdrawalBody,
    send: withdrawCancellation,
    payload: (body, by) => ({ by, reason: body.reason }),
  });

  action({
    path: 'settlement',
    access: { roles: ['finance_clerk'] },
    summary: 'R11, R28: record that finance refunded by hand what the payment gateway refused',
    body: settlementBody,
    send: settleRefund,
    payload: (body, by) => ({ by, reference: body.reference }),
  });

  action({
    path: 'resumption',
    access: { roles: ['ops'] },
    summary: 'Resume a cancellation that needed attention, once its cause is repaired',
    body: resumptionBody,
    send: resumeCancellation,
    payload: (body, by) => ({ by, note: body.note }),
  });

  action({
    path: 'returns',
    access: { roles: ['warehouse_clerk'] },
    summary: 'R9: confirm that a parcel of the cancellation is back in the warehouse',
    body: returnConfirmationBody,
    send: confirmReturn,
    payload: (body, by) => ({ shipmentId: body.shipmentId, by, note: body.note }),
  });

  action({
    path: 'choice',
    // The requester who asked passes on their customer's choice; ops, anyone's.
    access: { roles: ['requester', 'ops'], ownFor: ['requester'], own: 'requesterOfCancellation' },
    summary: "R12: pass on the customer's choice among the options they were offered",
    body: choiceBody,
    send: chooseResolution,
    payload: (body, by) => ({ option: body.option, by, note: body.note }),
  });
}
