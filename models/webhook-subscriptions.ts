// Outbound webhook subscriptions' operations: admins add, list, change and remove them; every state change of a
// cancellation or a bulk job asks which active ones want its event (activities/cancellation-events.ts,
// activities/bulk-job-events.ts).
import { randomBytes, randomUUID } from 'node:crypto';
import type { WebhookEventType } from '../contracts/cancellation-events.contract';
import { CancelflowError } from '../lib/errors';
import type { Models } from './index';
import type { WebhookSubscription } from './webhook-subscription.model';

export type StoredSubscription = WebhookSubscription & { createdAt: Date; updatedAt: Date };

/** Standard Webhooks' secret form: `whsec_` and the key in base64 (24 random bytes: 192 bits). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export interface NewSubscription {
  url: string;
  eventTypes: readonly WebhookEventType[];
  description?: string;
  createdBy: string;
}

export interface SubscriptionChange {
  url?: string;
  eventTypes?: readonly WebhookEventType[];
  description?: string;
  active?: boolean;
}

function notFound(subscriptionId: string): CancelflowError {
  return new CancelflowError('not_found', `webhook subscription ${subscriptionId} does not exist`);
}

/** Records a subscription with a new secret; the answer is the one time that secret is shown. */
export async function createSubscription(
  models: Models,
  request: NewSubscription,
): Promise<StoredSubscription> {
  const created = await models.WebhookSubscription.create({
    subscriptionId: `whs_${randomUUID().replace(/-/g, '')}`,
    url: request.url,
    eventTypes: [...new Set(request.eventTypes)],
    secret: newWebhookSecret(),
    active: true,
    description: request.description,
    createdBy: request.createdBy,
  });
  return created.toObject();
}

/** Every subscription, newest first: a handful. */
export function listSubscriptions(models: Models): Promise<StoredSubscription[]> {
  return models.WebhookSubscription.find().sort({ createdAt: -1 }).lean<StoredSubscription[]>();
}

export async function getSubscription(models: Models, subscriptionId: string): Promise<StoredSubscription> {
  const found = await models.WebhookSubscription.findOne({ subscriptionId }).lean<StoredSubscription>();
  if (!found) throw notFound(subscriptionId);
  return found;
}

/** The active subscriptions (read whenever a cancellation or a bulk job records a change; a handful). */
export async function activeSubscriptions(models: Models): Promise<StoredSubscription[]> {
  return await models.WebhookSubscription.find({ active: true }).lean<StoredSubscription[]>();
}

/**
 * Changes a subscription. Made active again, what it had pending is due at once and gets a fresh retry window
 * (the pause must not count against it).
 */
export async function updateSubscription(
  models: Models,
  subscriptionId: string,
  change: SubscriptionChange,
  now: Date = new Date(),
): Promise<StoredSubscription> {
  const set: Record<string, unknown> = {};
  if (change.url !== undefined) set.url = change.url;
  if (change.eventTypes !== undefined) set.eventTypes = [...new Set(change.eventTypes)];
  if (change.description !== undefined) set.description = change.description;
  if (change.active !== undefined) set.active = change.active;
  const before = await models.WebhookSubscription.findOneAndUpdate(
    { subscriptionId },
    { $set: set },
    { returnDocument: 'before' },
  ).lean<StoredSubscription>();
  if (!before) throw notFound(subscriptionId);
  if (change.active === true && !before.active) {
    await models.EventDelivery.updateMany(
      { subscriptionId, status: 'pending' },
      { $set: { nextAttemptAt: now }, $unset: { firstAttemptAt: 1 } },
    );
  }
  return getSubscription(models, subscriptionId);
}

/** Removes a subscription and its deliveries: nothing more is sent to it, from the next attempt on. */
export async function removeSubscription(
  models: Models,
  subscriptionId: string,
): Promise<StoredSubscription> {
  const removed = await models.WebhookSubscription.findOneAndDelete({
    subscriptionId,
  }).lean<StoredSubscription>();
  if (!removed) throw notFound(subscriptionId);
  await models.EventDelivery.deleteMany({ subscriptionId });
  return removed;
}
