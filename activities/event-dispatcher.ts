// The event dispatcher: sends the recorded deliveries of the events of cancellations and bulk jobs to their
// subscribers, at least once, in order per subject (a cancellation, or a bulk job) and subscriber, retried with
// backoff for a while and then parked.
//
// It is a loop in the worker process (worker/main.ts), outside any workflow, rather than a workflow per
// subscription: a receiver's pace (timeouts, retries over a day) then stays out of Temporal's histories and
// the worker's task slots, no Temporal call is added to a cancellation's path (its step only writes rows), and
// the order per cancellation is one read by key. Any number of worker processes may run it side by side: a
// delivery is claimed with a lease (claimedBy, claimedUntil) before it is sent, so two never send it at once.
// The one window for a second send is a crash after the receiver answered and before the delivery is marked:
// the event then goes again with the same id (webhook-id), which receivers drop.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import type { Models } from '../models';
import {
  claimDelivery,
  deferDelivery,
  dueDeliveries,
  findEvent,
  parkDelivery,
  pendingBefore,
  recordDeliveryAttempt,
  subjectKey,
  subjectOf,
  type AttemptOutcome,
  type StoredDelivery,
} from '../models/event-deliveries';
import type { StoredSubscription } from '../models/webhook-subscriptions';
import { postSignedEvent } from '../integrations/webhook-endpoint';

export interface EventDispatchSettings {
  /** Each request's deadline. */
  timeoutMs: number;
  /** How long a delivery is retried, from its first attempt, before it is parked. */
  retryWindowMs: number;
  /** The first retry's wait; each later one doubles, up to `retryMaxIntervalMs`. */
  retryInitialMs: number;
  retryMaxIntervalMs: number;
  /** The pause between looks when nothing was due. */
  pollMs: number;
}

export function eventDispatchSettingsFrom(
  config: Pick<
    Config,
    | 'WEBHOOK_TIMEOUT_MS'
    | 'WEBHOOK_RETRY_WINDOW_MS'
    | 'WEBHOOK_RETRY_INITIAL_MS'
    | 'WEBHOOK_RETRY_MAX_INTERVAL_MS'
    | 'WEBHOOK_POLL_MS'
  >,
): EventDispatchSettings {
  return {
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    retryWindowMs: config.WEBHOOK_RETRY_WINDOW_MS,
    retryInitialMs: config.WEBHOOK_RETRY_INITIAL_MS,
    retryMaxIntervalMs: config.WEBHOOK_RETRY_MAX_INTERVAL_MS,
    pollMs: config.WEBHOOK_POLL_MS,
  };
}

/** Due deliveries read per look; the rest wait for the next look, which comes at once after one that sent. */
const BATCH_SIZE = 100;
/** Subjects (per subscriber) sent to at the same time; within one, one at a time, in order. */
const PARALLEL_STREAMS = 8;

/**
 * How long a claim holds: past the request's deadline with room for the writes around it, so that no other
 * dispatcher sends a delivery while the one holding it may still be sending.
 */
export function leaseMsFor(settings: Pick<EventDispatchSettings, 'timeoutMs'>): number {
  return 2 * settings.timeoutMs + 10_000;
}

/** What comes after a failed attempt: the next one after the backoff, capped at the window's end, or parking. */
export function afterFailure(
  settings: EventDispatchSettings,
  delivery: Pick<StoredDelivery, 'attemptCount' | 'firstAttemptAt'>,
  now: Date,
): AttemptOutcome {
  const windowEnds = (delivery.firstAttemptAt ?? now).getTime() + settings.retryWindowMs;
  if (now.getTime() >= windowEnds) return { kind: 'parked' };
  const doublings = Math.max(0, delivery.attemptCount - 1);
  const wait = Math.min(settings.retryInitialMs * 2 ** Math.min(doublings, 30), settings.retryMaxIntervalMs);
  return { kind: 'retry', at: new Date(Math.min(now.getTime() + wait, windowEnds)) };
}

export interface EventDispatcher {
  /** One look: sends what is due now; answers how many attempts it made. */
  dispatchDue(): Promise<number>;
  /** Looks again and again, until `stop`. */
  start(): void;
  /** Ends the loop once the attempts in flight are recorded; a stopped dispatcher does not start again. */
  stop(): Promise<void>;
}

export function createEventDispatcher(
  deps: { models: Models; logger: Logger },
  settings: EventDispatchSettings,
  /** Who claims: one name per dispatcher, for ops reading `claimedBy`. */
  claimant = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
): EventDispatcher {
  const { models, logger } = deps;
  const leaseMs = leaseMsFor(settings);
  let running: Promise<void> | undefined;
  /** Set by `stop`: the look under way ends after the attempts in flight, not after its whole batch. */
  let stopping = false;
  const stopped = new AbortController();

  /** Makes these deliveries wait until then (their turn, or their subscription active again). */
  async function deferAll(deliveries: readonly StoredDelivery[], until: Date): Promise<void> {
    for (const delivery of deliveries) await deferDelivery(models, delivery.deliveryId, until);
  }

  /** One attempt at a delivery whose turn it is, unless another dispatcher holds it. */
  async function attempt(
    delivery: StoredDelivery,
    subscription: StoredSubscription,
  ): Promise<'busy' | 'delivered' | 'not delivered'> {
    const { deliveryId } = delivery;
    const now = new Date();
    const claim = await claimDelivery(models, deliveryId, claimant, leaseMs, now);
    if (claim.kind !== 'claimed') return 'busy';
    const event = await findEvent(models, delivery.eventId);
    if (!event) {
      await parkDelivery(models, deliveryId, `event ${delivery.eventId} is not recorded`, now);
      return 'not delivered';
    }
    const answer = await postSignedEvent(
      subscription,
      { id: event.eventId, body: event.body },
      settings.timeoutMs,
    );
    const outcome: AttemptOutcome = answer.delivered
      ? { kind: 'delivered' }
      : afterFailure(settings, claim.delivery, new Date());
    await recordDeliveryAttempt(
      models,
      deliveryId,
      {
        at: now,
        durationMs: answer.durationMs,
        ...(answer.statusCode !== undefined ? { statusCode: answer.statusCode } : {}),
        ...(answer.error !== undefined ? { error: answer.error } : {}),
      },
      outcome,
    );
    const about = {
      deliveryId,
      eventId: event.eventId,
      subscriptionId: subscription.subscriptionId,
      attempts: claim.delivery.attemptCount,
      error: answer.error,
    };
    if (outcome.kind === 'delivered') logger.debug(about, 'event delivered');
    else if (outcome.kind === 'parked') logger.warn(about, 'event delivery parked after its retry window');
    else logger.info({ ...about, retryAt: outcome.at }, 'event delivery failed; will retry');
    return outcome.kind === 'delivered' ? 'delivered' : 'not delivered';
  }

  /**
   * One subject's (a cancellation's or a bulk job's) due deliveries to one subscriber, in the order of its events: each goes only once the
   * earlier ones were delivered or parked, and the first not delivered ends the look at this stream. Answers
   * how many attempts it made.
   */
  async function dispatchStream(
    stream: readonly StoredDelivery[],
    subscription: StoredSubscription | undefined,
  ) {
    if (!subscription) return 0; // removed meanwhile: its deliveries went with it
    const now = new Date();
    if (!subscription.active) {
      // Paused: looked at again now and then; made active, they are due at once (updateSubscription).
      await deferAll(stream, new Date(now.getTime() + settings.retryMaxIntervalMs));
      return 0;
    }
    let attempts = 0;
    for (const [index, delivery] of stream.entries()) {
      if (stopping) return attempts;
      const earlier = await pendingBefore(models, delivery);
      if (earlier.length > 0) {
        // Not its turn: look again right after the earlier ones' next attempt.
        const next = Math.max(
          now.getTime(),
          ...earlier.map((before) => before.nextAttemptAt?.getTime() ?? 0),
        );
        await deferAll(stream.slice(index), new Date(next + 1));
        return attempts;
      }
      const went = await attempt(delivery, subscription);
      if (went === 'busy') return attempts;
      attempts += 1;
      if (went === 'not delivered') return attempts;
    }
    return attempts;
  }

  async function dispatchDue(): Promise<number> {
    const due = await dueDeliveries(models, new Date(), BATCH_SIZE);
    if (due.length === 0) return 0;
    const subscriptionIds = [...new Set(due.map((delivery) => delivery.subscriptionId))];
    const subscriptions = new Map(
      (
        await models.WebhookSubscription.find({ subscriptionId: { $in: subscriptionIds } }).lean<
          StoredSubscription[]
        >()
      ).map((subscription) => [subscription.subscriptionId, subscription]),
    );
    const streams = new Map<string, StoredDelivery[]>();
    for (const delivery of due) {
      const key = `${delivery.subscriptionId} ${subjectKey(subjectOf(delivery))}`;
      streams.set(key, [...(streams.get(key) ?? []), delivery]);
    }
    const queue = [...streams.values()].map((stream) => stream.sort((a, b) => a.sequence - b.sequence));
    let attempts = 0;
    const lane = async () => {
      for (let stream = queue.shift(); stream && !stopping; stream = queue.shift()) {
        try {
          attempts += await dispatchStream(stream, subscriptions.get(stream[0]?.subscriptionId ?? ''));
        } catch (error) {
          // The database away, say: a claim taken runs out, and a later look tries again.
          logger.error({ err: error, subscriptionId: stream[0]?.subscriptionId }, 'event dispatch failed');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_STREAMS, queue.length) }, lane));
    return attempts;
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      let attempts = 0;
      try {
        attempts = await dispatchDue();
      } catch (error) {
        logger.error({ err: error }, 'event dispatcher could not read its work; trying again');
      }
      // Straight on while it has work it can do; a pause when all it found waits (or nothing was due).
      if (attempts === 0) {
        await sleep(settings.pollMs, undefined, { signal: stopped.signal }).catch(() => undefined);
      }
    }
  }

  return {
    dispatchDue,
    start() {
      if (running) return;
      logger.info({ claimant }, 'event dispatcher started');
      running = loop();
    },
    async stop() {
      stopping = true;
      stopped.abort();
      await running;
      running = undefined;
    },
  };
}
