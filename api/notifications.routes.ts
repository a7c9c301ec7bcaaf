// The notifications of a cancellation as the outbox holds them (R17): to whom, on which channel, at which
// moment, and what became of each (queued, sent, delivered, failed with the provider's error).
import type { FastifyBaseLogger } from 'fastify';
import { cancellationIdParams, cancellationNotifications, type NotificationEntry } from '../client/contract';
import type { Models } from '../models';
import type { NotificationRecord } from '../models/notification.model';
import { ANY_ROLE, type ApiInstance } from './auth/access';
import { callerErrors } from './error-answers';

const errors = callerErrors;

type StoredNotification = Omit<NotificationRecord, 'payload' | 'content' | 'claimedUntil'> & {
  createdAt: Date;
  updatedAt: Date;
};

const iso = (at: Date | null | undefined) => at?.toISOString();
const text = (value: string | null | undefined) => value ?? undefined;

function entryOf(stored: StoredNotification): NotificationEntry {
  return {
    idempotencyKey: stored.idempotencyKey,
    cancellationId: stored.cancellationId,
    channel: stored.channel,
    recipient: stored.recipient,
    audience: stored.audience ?? undefined,
    department: stored.department ?? undefined,
    moment: text(stored.moment),
    template: stored.template,
    language: stored.language,
    messageId: text(stored.messageId),
    status: stored.status,
    providerMessageId: text(stored.providerMessageId),
    providerStatus: text(stored.providerStatus),
    error: text(stored.error),
    attempts: stored.attempts ?? 0,
    lastAttemptAt: iso(stored.lastAttemptAt),
    sentAt: iso(stored.sentAt),
    deliveredAt: iso(stored.deliveredAt),
    failedAt: iso(stored.failedAt),
    createdAt: stored.createdAt.toISOString(),
    updatedAt: stored.updatedAt.toISOString(),
  };
}

export function registerNotificationRoutes<Logger extends FastifyBaseLogger>(
  routes: ApiInstance<Logger>,
  deps: { models: Models },
): void {
  routes.get(
    '/v1/cancellations/:id/notifications',
    {
      config: { access: { roles: ANY_ROLE, ownFor: ['requester'], own: 'requesterOfCancellation' } },
      schema: {
        tags: ['notifications'],
        summary:
          "A cancellation's notifications: to whom, on which channel, at which moment, and how each fared",
        params: cancellationIdParams,
        response: { 200: cancellationNotifications, ...errors },
      },
    },
    async (request) => {
      const entries = await deps.models.Notification.find(
        { cancellationId: request.params.id },
        // What was said stays in the outbox; the list says where it went and how it fared.
        { payload: 0, content: 0, claimedUntil: 0, __v: 0, _id: 0 },
      )
        .sort({ createdAt: 1, idempotencyKey: 1 })
        .lean<StoredNotification[]>();
      return { cancellationId: request.params.id, notifications: entries.map(entryOf) };
    },
  );
}
