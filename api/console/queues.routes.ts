// The queues' pages and their actions (issue #14): each queue is its role's (access as the API's action route
// states it), listed by the list route's service (./queues.ts), and each action is the API's own: the same
// body schema, the same Update through the cancellation service, the person from the session, never the form.
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { confirmReturn, resumeCancellation, settleRefund } from '../../client/cancellation-decisions';
import {
  cancellationIdParams,
  resumptionBody,
  returnConfirmationBody,
  settlementBody,
} from '../../client/contract';
import type { CancellationPolicy } from '../../contracts/policy.contract';
import type { Models } from '../../models';
import { callerOf, type Access, type ApiInstance } from '../auth/access';
import type { CancellationService } from '../cancellation.service';
import { bodyOf, isHtmx, sendHtml, textField, type ConsoleKit, type Form } from './kit';
import { actionDone, queuePage } from './pages/queues';
import { loadQueue, QUEUE_NAMES, QUEUES, type QueueName, type QueueTargets } from './queues';

const HOUR = 3_600_000;

export function registerQueueRoutes<Logger extends FastifyBaseLogger>(
  scope: ApiInstance<Logger>,
  kit: ConsoleKit,
  deps: {
    models: Models;
    cancellations: CancellationService;
    policy: CancellationPolicy;
    targets: QueueTargets;
  },
): void {
  const { cancellations } = deps;

  for (const name of QUEUE_NAMES) {
    const access = { roles: [QUEUES[name].role] } as const satisfies Access;
    scope.get(
      `/console/queues/${name}`,
      { config: { access }, schema: { hide: true } },
      async (request, reply) => {
        const caller = callerOf(request);
        const queue = await loadQueue(deps, name, {
          personId: caller.personId,
          roles: caller.roles,
          ownOnly: false,
        });
        const due = {
          hours: Math.round(
            (name === 'settlements' ? deps.targets.settlementMs : deps.targets.attentionMs) / HOUR,
          ),
          days: Math.round(deps.policy.afterShipment.returnDeadlineMs / (24 * HOUR)),
        };
        return sendHtml(reply, queuePage(await kit.pageContextOf(request, reply, name), name, queue, due));
      },
    );
  }

  /** The answer to an action: the fragment that replaces its form, or (without htmx) back to the queue. */
  const answer = (
    request: FastifyRequest,
    reply: FastifyReply,
    queue: QueueName,
    done: Parameters<typeof actionDone>[1],
    id: string,
    detail: string,
  ) => {
    if (!isHtmx(request)) return reply.redirect(`/console/queues/${queue}`, 303);
    return sendHtml(reply, actionDone(kit.contextOf(request, reply).t, done, id, detail));
  };

  // R11, R28: as POST /v1/cancellations/:id/settlement.
  scope.post(
    '/console/cancellations/:id/settlement',
    {
      config: { access: { roles: ['finance_clerk'] } },
      schema: { hide: true, params: cancellationIdParams },
    },
    async (request, reply) => {
      const form = (request.body ?? {}) as Form;
      const body = bodyOf(settlementBody, { reference: textField(form, 'reference') });
      const { id } = request.params;
      await cancellations.act(settleRefund, id, {
        by: callerOf(request).personId,
        reference: body.reference,
      });
      const { t } = kit.contextOf(request, reply);
      return answer(
        request,
        reply,
        'settlements',
        'settled',
        id,
        t('settle.done', { reference: body.reference }),
      );
    },
  );

  // As POST /v1/cancellations/:id/resumption.
  scope.post(
    '/console/cancellations/:id/resumption',
    { config: { access: { roles: ['ops'] } }, schema: { hide: true, params: cancellationIdParams } },
    async (request, reply) => {
      const form = (request.body ?? {}) as Form;
      const body = bodyOf(resumptionBody, { note: textField(form, 'note') });
      const { id } = request.params;
      await cancellations.act(resumeCancellation, id, { by: callerOf(request).personId, note: body.note });
      const { t } = kit.contextOf(request, reply);
      return answer(request, reply, 'attention', 'resumed', id, t('resume.done'));
    },
  );

  // R9: as POST /v1/cancellations/:id/returns.
  scope.post(
    '/console/cancellations/:id/returns',
    {
      config: { access: { roles: ['warehouse_clerk'] } },
      schema: { hide: true, params: cancellationIdParams },
    },
    async (request, reply) => {
      const form = (request.body ?? {}) as Form;
      const body = bodyOf(returnConfirmationBody, {
        shipmentId: textField(form, 'shipmentId'),
        note: textField(form, 'note'),
      });
      const { id } = request.params;
      await cancellations.act(confirmReturn, id, {
        shipmentId: body.shipmentId,
        by: callerOf(request).personId,
        note: body.note,
      });
      const { t } = kit.contextOf(request, reply);
      return answer(
        request,
        reply,
        'returns',
        'returned',
        id,
        t('return.done', { shipment: body.shipmentId }),
      );
    },
  );
}
