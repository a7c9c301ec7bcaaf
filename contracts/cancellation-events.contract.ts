// The events the state changes of a cancellation, and of a bulk cancellation job, make for outside systems
// (outbound webhooks): their types, and how each of their deliveries to a subscriber stands. The activities
// record them, the API lists them, the client and the CLI name them.
import type { BulkControlEntry, BulkJobState } from './bulk-cancellation.contract';

/**
 * One type per event: a final step is named by its outcome, a stop for ops is `needs_attention`, every other
 * step is `state_changed`. A receiver that wants the whole timeline subscribes to all of them.
 */
export const CANCELLATION_EVENT_TYPES = [
  'cancellation.state_changed',
  'cancellation.needs_attention',
  'cancellation.completed',
  'cancellation.refused',
  'cancellation.rejected',
  'cancellation.withdrawn',
  'cancellation.redelivered',
] as const;
export type CancellationEventType = (typeof CANCELLATION_EVENT_TYPES)[number];

/**
 * One type per change of a bulk job's state (issue #16): `started` when its orders are listed and it begins
 * asking for their cancellations; `paused`, `resumed` and `stopped` by a person; `completed` when every
 * cancellation of it ended; `failed` when its workflow ended without finishing it (failed, terminated,
 * cancelled or timed out: the view's `failureReason` says why); `state_changed` for the rest (between `running`
 * and `waiting`, when all that is left waits for people or comes back from them). Its progress is in every
 * event's view; progress alone makes no event (why: activities/bulk-job-events.ts).
 */
export const BULK_JOB_EVENT_TYPES = [
  'bulk_job.started',
  'bulk_job.paused',
  'bulk_job.resumed',
  'bulk_job.stopped',
  'bulk_job.completed',
  'bulk_job.failed',
  'bulk_job.state_changed',
] as const;
export type BulkJobEventType = (typeof BULK_JOB_EVENT_TYPES)[number];

/** Every type a subscription may ask for: a subscription made without naming types gets them all. */
export const WEBHOOK_EVENT_TYPES = [...CANCELLATION_EVENT_TYPES, ...BULK_JOB_EVENT_TYPES] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/**
 * `pending` until the receiver answers 2xx (`delivered`); `failed` once the retry window ran out (parked: a
 * person may redeliver it, which makes it `pending` again).
 */
export const EVENT_DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type EventDeliveryStatus = (typeof EVENT_DELIVERY_STATUSES)[number];

/** The type of the event a recorded step makes (`final`: the workflow ended with this step). */
export function cancellationEventType(
  step: { state: string; outcome?: string },
  final: boolean,
): CancellationEventType {
  if (final && step.outcome) {
    const byOutcome = `cancellation.${step.outcome}`;
    const known = CANCELLATION_EVENT_TYPES.find((type) => type === byOutcome);
    if (known) return known;
  }
  if (step.state.startsWith('needsAttention')) return 'cancellation.needs_attention';
  return 'cancellation.state_changed';
}

/**
 * The type of the event a bulk job's recorded change makes: the person's action when there is one, else the
 * state it moved to (`from`: the state the books held before).
 */
export function bulkJobEventType(change: {
  from: BulkJobState;
  state: BulkJobState;
  action?: BulkControlEntry['action'];
}): BulkJobEventType {
  if (change.action === 'pause') return 'bulk_job.paused';
  if (change.action === 'resume') return 'bulk_job.resumed';
  if (change.state === 'stopped') return 'bulk_job.stopped';
  if (change.state === 'completed') return 'bulk_job.completed';
  if (change.state === 'failed') return 'bulk_job.failed';
  if (change.from === 'selecting' && change.state !== 'selecting') return 'bulk_job.started';
  return 'bulk_job.state_changed';
}
