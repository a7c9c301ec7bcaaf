// Bulk cancellation over HTTP (issue #16). Requesters dry-run and start jobs: every cancellation of a job is
// requested as them. The person comes from the session or API key, never from the body. The job's starter,
// ops and admins read its progress, pause, resume and stop it, and download its report.
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import {
  bulkControlBody,
  bulkDryRun,
  bulkJobAccepted,
  bulkJobList,
  bulkJobParams,
  bulkJobView,
  createBulkJobBody,
} from '../client/bulk.contract';
import { apiErrorBody } from '../client/contract';
import { ANY_ROLE, callerOf, type Access, type ApiInstance } from './auth/access';
import type { BulkCancellationService } from './bulk-cancellation.service';
import { callerErrors } from './error-answers';
import { idempotencyKeyHeaders, idempotencyKeyOf } from './request-parts';

const tags = ['bulk cancellations'];
const startAccess = { roles: ['requester'] } as const satisfies Access;
/** Whose job it is is the service's check: its starter, ops and admins. */
const jobAccess = { roles: ANY_ROLE } as const satisfies Access;
const CSV_TYPE = 'text/csv; charset=utf-8';

export function registerBulkCancellationRoutes<Logger extends FastifyBaseLogger>(
  routes: ApiInstance<Logger>,
  deps: { bulkCancellations: BulkCancellationService },
): void {
  const { bulkCancellations: bulk } = deps;

  routes.post(
    '/v1/bulk-cancellations/dry-run',
    {
      config: { access: startAccess },
      schema: {
        tags,
        summary:
          'What a bulk job would touch: the orders its selection finds, the orders, lines and money it would ' +
          'cancel and refund, and the orders it would leave alone, with why. Nothing is asked for',
        body: createBulkJobBody,
        response: { 200: bulkDryRun, ...callerErrors },
      },
    },
    async (request) => bulk.dryRun(request.body, callerOf(request).personId),
  );

  routes.post(
    '/v1/bulk-cancellations',
    {
      config: { access: startAccess },
      schema: {
        tags,
        summary:
          'Start a bulk job: one cancellation per order of the selection, each as if the caller asked for it ' +
          'by hand. Repeat with the same Idempotency-Key safely',
        headers: idempotencyKeyHeaders(
          '8 to 255 characters: a repeat with the same key answers the same job',
        ),
        body: createBulkJobBody,
        response: { 202: bulkJobAccepted, ...callerErrors, 409: apiErrorBody },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const accepted = await bulk.start(
        request.body,
        caller.personId,
        idempotencyKeyOf(request.headers['idempotency-key']),
        caller.via === 'session' ? 'api_session' : 'api_key',
      );
      return reply.status(202).header('location', `/v1/bulk-cancellations/${accepted.jobId}`).send(accepted);
    },
  );

  routes.get(
    '/v1/bulk-cancellations',
    {
      config: { access: jobAccess },
      schema: {
        tags,
        summary:
          'Bulk jobs, newest first (the latest 50): every job for ops and admins, one’s own for others',
        response: { 200: bulkJobList, ...callerErrors },
      },
    },
    async (request) => bulk.list(callerOf(request)),
  );

  routes.get(
    '/v1/bulk-cancellations/:id',
    {
      config: { access: jobAccess },
      schema: {
        tags,
        summary:
          "A bulk job's progress: its state, orders by phase and by where they stand, money refunded so far, " +
          'and the orders not cancelled, with why',
        params: bulkJobParams,
        response: { 200: bulkJobView, ...callerErrors, 404: apiErrorBody },
      },
    },
    async (request) => bulk.get(request.params.id, callerOf(request)),
  );

  routes.get(
    '/v1/bulk-cancellations/:id/report',
    {
      config: { access: jobAccess },
      schema: {
        tags,
        summary: 'Every order of a bulk job and what became of it, as CSV',
        params: bulkJobParams,
        response: {
          200: {
            description: 'CSV (RFC 4180, UTF-8 with a byte-order mark)',
            content: { 'text/csv': { schema: z.string() } },
          },
          ...callerErrors,
          404: apiErrorBody,
        },
      },
    },
    async (request, reply) => {
      const csv = await bulk.report(request.params.id, callerOf(request));
      return reply
        .type(CSV_TYPE)
        .header('content-disposition', `attachment; filename="bulk-${request.params.id}.csv"`)
        .header('cache-control', 'no-store')
        .send(csv);
    },
  );

  const actions = [
    [
      'pause',
      'Pause a running bulk job: no more of its cancellations start; those started go on by their own rules',
    ],
    ['resume', 'Resume a paused bulk job'],
    [
      'stop',
      'Stop a bulk job: the orders not asked for yet never will be; those started go on by their own rules',
    ],
  ] as const;
  for (const [action, summary] of actions) {
    routes.post(
      `/v1/bulk-cancellations/:id/${action}`,
      {
        config: { access: jobAccess },
        schema: {
          tags,
          summary: `${summary}. As the caller: the job's starter, ops or an admin`,
          params: bulkJobParams,
          body: bulkControlBody,
          response: { 200: bulkJobView, ...callerErrors, 404: apiErrorBody, 409: apiErrorBody },
        },
      },
      async (request) => {
        const caller = callerOf(request);
        return bulk[action](request.params.id, caller, request.body);
      },
    );
  }
}
