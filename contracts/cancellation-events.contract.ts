// The events a cancellation's state changes make for outside systems (outbound webhooks): their types, and how
// each of their deliveries to a subscriber stands. The activities record them, the API lists them, the client
// and the CLI name them.

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
