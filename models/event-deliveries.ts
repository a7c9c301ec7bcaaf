// The store of outbound webhook events and their deliveries, built like the notification outbox
// (models/outbox.ts): an event is recorded once under an id derived from its subject (a cancellation, or a bulk
// job) and its sequence, so a retried activity names the same event; each subscription's delivery of it is recorded once too, and one
// dispatcher at a time claims it (a lease), sends it, and marks it delivered, due again later, or parked.
// Sending is the dispatcher's part (activities/event-dispatcher.ts).
import { createHash } from 'node:crypto';
import type { EventDeliveryStatus, WebhookEventType } from '../contracts/cancellation-events.contract';
import { CancelflowError } from '../lib/errors';
import type { EventDeliveryRecord } from './event-delivery.model';
import type { Models } from './index';
import { isDuplicateKey } from './mongo-errors';

/** How many attempts a delivery keeps to show (the latest); `attemptCount` counts them all. */
export const MAX_KEPT_ATTEMPTS = 20;

export type StoredDelivery = EventDeliveryRecord & { createdAt: Date; updatedAt: Date };

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 32);

/** The id of the event a cancellation's step makes: the same on every retry (Standard Webhooks' webhook-id). */
export function cancellationEventId(cancellationId: string, sequence: number): string {
  return `evt_${digest(`${cancellationId}:${sequence}`)}`;
}

/** The id of the event a bulk job's recorded change makes: the same on every retry. */
export function bulkJobEventId(jobId: string, sequence: number): string {
  return `evt_${digest(`bulk_job:${jobId}:${sequence}`)}`;
}

/** What an event tells of: a cancellation or a bulk job. Its sequence counts within it, and it is sent in order. */
export type EventSubject =
  { cancellationId: string; bulkJobId?: never } | { bulkJobId: string; cancellationId?: never };

/** The id of the subject's event at this place of its sequence. */
export function eventIdOf(subject: EventSubject, sequence: number): string {
  return subject.bulkJobId !== undefined
    ? bulkJobEventId(subject.bulkJobId, sequence)
    : cancellationEventId(subject.cancellationId, sequence);
}

/** The subject a recorded event or delivery tells of (each names exactly one). */
export function subjectOf(record: {
  cancellationId?: string | null;
  bulkJobId?: string | null;
}): EventSubject {
  if (record.cancellationId) return { cancellationId: record.cancellationId };
  if (record.bulkJobId) return { bulkJobId: record.bulkJobId };
  throw new CancelflowError('internal', 'an event delivery names neither a cancellation nor a bulk job');
}

/** One key per subject, for grouping a subject's deliveries into the stream that goes in order. */
export function subjectKey(subject: EventSubject): string {
  return subject.bulkJobId !== undefined ? `bulk_job:${subject.bulkJobId}` : subject.cancellationId;
}

/** The id of one subscription's delivery of one event. */
export function eventDeliveryId(subscriptionId: string, eventId: string): string {
  return `dlv_${digest(`${subscriptionId}:${eventId}`)}`;
}

export type NewWebhookEvent = EventSubject & {
  eventId: string;
  sequence: number;
  type: WebhookEventType;
  occurredAt: Date;
  /** The JSON to send, serialized once: every delivery and every retry sends these very bytes. */
  body: string;
};

export function findEvent(models: Models, eventId: string) {
  return models.CancellationEvent.findOne({ eventId }).lean();
}

/**
 * Records the event (the first body recorded stays) and a pending delivery of it for each subscription, each
 * once: a retry records only what the attempt before did not (a subscription added in between, say).
 */
export async function recordEventDeliveries(
  models: Models,
  event: NewWebhookEvent,
  subscriptionIds: readonly string[],
  now: Date = new Date(),
): Promise<void> {
  const ignoreRace = (error: unknown) => {
    // A concurrent attempt (a timed-out one still running) inserted the same key first: it is recorded.
    if (!isDuplicateKey(error)) throw error;
  };
  await models.CancellationEvent.updateOne(
    { eventId: event.eventId },
    { $setOnInsert: event },
    { upsert: true },
  ).catch(ignoreRace);
  if (subscriptionIds.length === 0) return;
  await models.EventDelivery.bulkWrite(
    subscriptionIds.map((subscriptionId) => ({
      updateOne: {
        filter: { deliveryId: eventDeliveryId(subscriptionId, event.eventId) },
        update: {
          $setOnInsert: {
            subscriptionId,
            eventId: event.eventId,
            eventType: event.type,
            ...subjectOf(event),
            sequence: event.sequence,
            status: 'pending',
            nextAttemptAt: now,
            attemptCount: 0,
            attempts: [],
          },
        },
        upsert: true,
      },
    })),
    { ordered: false },
  ).catch(ignoreRace);
}

/** Pending deliveries whose time has come, the longest waiting first. */
export function dueDeliveries(models: Models, now: Date, limit: number): Promise<StoredDelivery[]> {
  return models.EventDelivery.find({ status: 'pending', nextAttemptAt: { $lte: now } })
    .sort({ nextAttemptAt: 1 })
    .limit(limit)
    .lean<StoredDelivery[]>();
}

/**
 * The earlier deliveries of the same subscription and subject still pending: while there are any, this one
 * waits its turn. Read by their keys (each earlier event of the subject, for this subscription), not by a range.
 */
export async function pendingBefore(
  models: Models,
  delivery: Pick<StoredDelivery, 'subscriptionId' | 'cancellationId' | 'bulkJobId' | 'sequence'>,
): Promise<StoredDelivery[]> {
  if (delivery.sequence === 0) return [];
  const subject = subjectOf(delivery);
  const earlier = Array.from({ length: delivery.sequence }, (_, sequence) =>
    eventDeliveryId(delivery.subscriptionId, eventIdOf(subject, sequence)),
  );
  const found = await models.EventDelivery.find({ deliveryId: { $in: earlier } }).lean<StoredDelivery[]>();
  return found.filter((before) => before.status === 'pending');
}

export type DeliveryClaim =
  | { kind: 'claimed'; delivery: StoredDelivery }
  /** Delivered, parked or removed meanwhile: nothing to send. */
  | { kind: 'done' }
  /** Another dispatcher holds it until then. */
  | { kind: 'busy'; until: Date };

/** Takes a pending delivery for one attempt, unless another dispatcher holds it. */
export async function claimDelivery(
  models: Models,
  deliveryId: string,
  claimant: string,
  leaseMs: number,
  now: Date = new Date(),
): Promise<DeliveryClaim> {
  // Read by key, then claimed by key, status and the attempts read (every claim counts one), which the unique
  // index on those three serves: a claim by another dispatcher in between makes this one miss and look again.
  for (;;) {
    const delivery = await models.EventDelivery.findOne({ deliveryId }).lean<StoredDelivery>();
    if (!delivery || delivery.status !== 'pending') return { kind: 'done' };
    if (delivery.claimedUntil && delivery.claimedUntil > now)
      return { kind: 'busy', until: delivery.claimedUntil };
    const claimed = await models.EventDelivery.findOneAndUpdate(
      { deliveryId, status: 'pending', attemptCount: delivery.attemptCount },
      {
        $set: {
          claimedBy: claimant,
          claimedUntil: new Date(now.getTime() + leaseMs),
          firstAttemptAt: delivery.firstAttemptAt ?? now,
        },
        $inc: { attemptCount: 1 },
      },
      { returnDocument: 'after' },
    ).lean<StoredDelivery>();
    if (claimed) return { kind: 'claimed', delivery: claimed };
  }
}

export interface DeliveryAttempt {
  at: Date;
  durationMs: number;
  statusCode?: number;
  error?: string;
}

/** What an attempt came to: delivered, due again at a later time, or parked for a person to look at. */
export type AttemptOutcome = { kind: 'delivered' } | { kind: 'retry'; at: Date } | { kind: 'parked' };

/** Records an attempt and its outcome; the claim ends with it. */
export async function recordDeliveryAttempt(
  models: Models,
  deliveryId: string,
  attempt: DeliveryAttempt,
  outcome: AttemptOutcome,
): Promise<void> {
  const ended = new Date(attempt.at.getTime() + attempt.durationMs);
  const claimEnds = { claimedBy: 1, claimedUntil: 1 } as const;
  const change = {
    delivered: {
      $set: { status: 'delivered', deliveredAt: ended },
      $unset: { ...claimEnds, nextAttemptAt: 1, lastError: 1 },
    },
    retry: {
      $set: { nextAttemptAt: outcome.kind === 'retry' ? outcome.at : ended, lastError: attempt.error },
      $unset: claimEnds,
    },
    parked: {
      $set: { status: 'failed', failedAt: ended, lastError: attempt.error },
      $unset: { ...claimEnds, nextAttemptAt: 1 },
    },
  }[outcome.kind];
  await models.EventDelivery.updateOne(
    { deliveryId, status: 'pending' },
    { ...change, $push: { attempts: { $each: [attempt], $slice: -MAX_KEPT_ATTEMPTS } } },
  );
}

/** Makes a pending delivery wait (its turn, or its subscription being inactive) until then. */
export async function deferDelivery(models: Models, deliveryId: string, until: Date): Promise<void> {
  await models.EventDelivery.updateOne({ deliveryId, status: 'pending' }, { $set: { nextAttemptAt: until } });
}

/** Parks a delivery that no attempt can help (its event is gone), with the reason. */
export async function parkDelivery(
  models: Models,
  deliveryId: string,
  reason: string,
  now: Date,
): Promise<void> {
  await models.EventDelivery.updateOne(
    { deliveryId, status: 'pending' },
    {
      $set: { status: 'failed', failedAt: now, lastError: reason },
      $unset: { nextAttemptAt: 1, claimedBy: 1, claimedUntil: 1 },
    },
  );
}

export async function getDelivery(models: Models, deliveryId: string): Promise<StoredDelivery> {
  const delivery = await models.EventDelivery.findOne({ deliveryId }).lean<StoredDelivery>();
  if (!delivery) throw new CancelflowError('not_found', `event delivery ${deliveryId} does not exist`);
  return delivery;
}

/**
 * A person asks for a delivery again (parked, or delivered and lost by the receiver): pending and due now,
 * with a fresh retry window; its attempts so far stay on it. It goes out as the same event, same id and body.
 */
export async function redeliver(
  models: Models,
  deliveryId: string,
  by: string,
  now: Date = new Date(),
): Promise<StoredDelivery> {
  for (;;) {
    const delivery = await getDelivery(models, deliveryId);
    // Guarded by the status read: a dispatcher finishing an attempt in between makes this one look again.
    const changed = await models.EventDelivery.findOneAndUpdate(
      { deliveryId, status: delivery.status },
      {
        $set: { status: 'pending', nextAttemptAt: now, redeliveredAt: now, redeliveredBy: by },
        $unset: { firstAttemptAt: 1, deliveredAt: 1, failedAt: 1 },
      },
      { returnDocument: 'after' },
    ).lean<StoredDelivery>();
    if (changed) return changed;
  }
}

export interface DeliveryFilter {
  status?: EventDeliveryStatus;
  cancellationId?: string;
  bulkJobId?: string;
  limit: number;
}

/** A subscription's deliveries: newest first, or one cancellation's (or bulk job's) in the order of its events. */
export function listDeliveries(
  models: Models,
  subscriptionId: string,
  filter: DeliveryFilter,
): Promise<StoredDelivery[]> {
  const oneSubject = filter.cancellationId !== undefined || filter.bulkJobId !== undefined;
  const query = models.EventDelivery.find({
    subscriptionId,
    ...(filter.cancellationId !== undefined ? { cancellationId: filter.cancellationId } : {}),
    ...(filter.bulkJobId !== undefined ? { bulkJobId: filter.bulkJobId } : {}),
    ...(filter.status !== undefined ? { status: filter.status } : {}),
  });
  return query
    .sort(oneSubject ? { sequence: 1 } : { createdAt: -1 })
    .limit(filter.limit)
    .lean<StoredDelivery[]>();
}
