// Outbound webhook subscriptions and their deliveries, as the API and the console both answer them (admins
// only, which their routes state): the one home of what a subscription made without types gets, of the views
// they show, and of a person's redelivery. The JSON routes (webhook-subscriptions.routes.ts) and the console's
// page (console/webhooks.routes.ts) call these, and nothing else of either touches the models for it.
import type {
  CreatedWebhookSubscription,
  EventDeliveryListQuery,
  EventDeliveryView,
  UpdateWebhookSubscriptionRequest,
  WebhookSubscriptionView,
} from '../client/contract';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../contracts/cancellation-events.contract';
import type { Models } from '../models';
import { listDeliveries, redeliver, type StoredDelivery } from '../models/event-deliveries';
import {
  createSubscription,
  getSubscription,
  listSubscriptions,
  removeSubscription,
  updateSubscription,
  type StoredSubscription,
} from '../models/webhook-subscriptions';
import type { Access } from './auth/access';

/**
 * Who manages outbound webhooks, in the API and the console alike: admins only (subscriptions send the books'
 * changes to outside systems, with a secret of their own).
 */
export const WEBHOOK_ADMINS = { roles: ['admin'] } as const satisfies Access;

export function subscriptionViewOf(subscription: StoredSubscription): WebhookSubscriptionView {
  return {
    subscriptionId: subscription.subscriptionId,
    url: subscription.url,
    eventTypes: subscription.eventTypes,
    active: subscription.active,
    // An empty one (cleared by a change) is none.
    description: subscription.description || undefined,
    createdBy: subscription.createdBy,
    createdAt: subscription.createdAt.toISOString(),
    updatedAt: subscription.updatedAt.toISOString(),
  };
}

export function deliveryViewOf(delivery: StoredDelivery): EventDeliveryView {
  return {
    deliveryId: delivery.deliveryId,
    subscriptionId: delivery.subscriptionId,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    cancellationId: delivery.cancellationId ?? undefined,
    bulkJobId: delivery.bulkJobId ?? undefined,
    sequence: delivery.sequence,
    status: delivery.status,
    attemptCount: delivery.attemptCount,
    attempts: delivery.attempts.map((attempt) => ({
      at: attempt.at.toISOString(),
      durationMs: attempt.durationMs,
      statusCode: attempt.statusCode ?? undefined,
      error: attempt.error ?? undefined,
    })),
    nextAttemptAt: delivery.nextAttemptAt?.toISOString(),
    lastError: delivery.lastError ?? undefined,
    deliveredAt: delivery.deliveredAt?.toISOString(),
    failedAt: delivery.failedAt?.toISOString(),
    redeliveredAt: delivery.redeliveredAt?.toISOString(),
    redeliveredBy: delivery.redeliveredBy ?? undefined,
    createdAt: delivery.createdAt.toISOString(),
  };
}

/** A new subscription as both doors take it (validated already: the API's body schema, the console's form). */
export interface SubscriptionRequest {
  url: string;
  /** Every type, of cancellations and of bulk jobs, when absent. */
  eventTypes?: readonly WebhookEventType[];
  description?: string;
}

export function createWebhookSubscriptionService(deps: { models: Models }) {
  const { models } = deps;
  return {
    /** Records it with a new secret: the answer is the one time the secret is shown. */
    async create(request: SubscriptionRequest, createdBy: string): Promise<CreatedWebhookSubscription> {
      const created = await createSubscription(models, {
        url: request.url,
        eventTypes: request.eventTypes ?? WEBHOOK_EVENT_TYPES,
        ...(request.description ? { description: request.description } : {}),
        createdBy,
      });
      return { ...subscriptionViewOf(created), secret: created.secret };
    },
    /** Every subscription, newest first, never their secrets. */
    async list(): Promise<WebhookSubscriptionView[]> {
      return (await listSubscriptions(models)).map(subscriptionViewOf);
    },
    async get(subscriptionId: string): Promise<WebhookSubscriptionView> {
      return subscriptionViewOf(await getSubscription(models, subscriptionId));
    },
    /** Inactive: no new events, what is pending waits; active again: it is due at once. */
    async update(
      subscriptionId: string,
      change: UpdateWebhookSubscriptionRequest,
    ): Promise<WebhookSubscriptionView> {
      return subscriptionViewOf(await updateSubscription(models, subscriptionId, change));
    },
    async remove(subscriptionId: string): Promise<WebhookSubscriptionView> {
      return subscriptionViewOf(await removeSubscription(models, subscriptionId));
    },
    /** Its deliveries with their attempts (404 for a subscription that does not exist). */
    async deliveries(
      subscriptionId: string,
      query: Omit<EventDeliveryListQuery, 'limit'> & { limit: number },
    ): Promise<EventDeliveryView[]> {
      await getSubscription(models, subscriptionId);
      return (await listDeliveries(models, subscriptionId, query)).map(deliveryViewOf);
    },
    /** Sends a delivery again as the same event: due now, with a fresh retry window. */
    async redeliver(deliveryId: string, by: string): Promise<EventDeliveryView> {
      return deliveryViewOf(await redeliver(models, deliveryId, by));
    },
  };
}

export type WebhookSubscriptionService = ReturnType<typeof createWebhookSubscriptionService>;
