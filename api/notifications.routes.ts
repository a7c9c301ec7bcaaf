// The notifications of a cancellation as the outbox holds them (R17): to whom, on which channel, at which
// moment, and what became of each (queued, sent, delivered, failed with the provider's error).
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { Models } from '../models';
import { ANY_ROLE } from './auth/access';

export function registerNotificationRoutes<Logger extends FastifyBaseLogger>(
  app: FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, Logger>,
  deps: { models: Models },
): void {
  app.get<{ Params: { id: string } }>(
    '/v1/cancellations/:id/notifications',
    { config: { access: { roles: ANY_ROLE, ownFor: ['requester'], own: 'requesterOfCancellation' } } },
    async (request) => {
      const entries = await deps.models.Notification.find(
        { cancellationId: request.params.id },
        // What was said stays in the outbox; the list says where it went and how it fared.
        { payload: 0, content: 0, claimedUntil: 0, __v: 0, _id: 0 },
      )
        .sort({ createdAt: 1, idempotencyKey: 1 })
        .lean();
      return { cancellationId: request.params.id, notifications: entries };
    },
  );
}
