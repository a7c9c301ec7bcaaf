// The event a cancellation's state change makes for outbound webhooks, recorded where the state is written
// (record.activities.ts), in the same local activity: so every step recorded makes its event, and a retry
// makes the same one (its id comes from the cancellation and the step). Nothing is sent here: the dispatcher
// (event-dispatcher.ts) does that outside the workflow, so a slow or absent receiver never holds a
// cancellation up.
import { cancellationEventType, type CancellationEventType } from '../contracts/cancellation-events.contract';
import type { CancellationView } from '../contracts/cancellation.contract';
import { cancellationResourceOf, type StoredCancellation } from '../models/cancellation-resource';
import { cancellationEventId, findEvent, recordEventDeliveries } from '../models/event-deliveries';
import { refundsOfCancellation } from '../models/refund-ledger';
import { activeSubscriptions } from '../models/webhook-subscriptions';
import type { ActivityDeps } from './deps';

/** A recorded step, as the workflow reports it (the fields of CancellationProgress this needs). */
export interface RecordedStep {
  view: CancellationView;
  step: number;
  at: string;
  final: boolean;
}

/**
 * The JSON a receiver gets: Standard Webhooks' `type`, `timestamp` and `data`, with the event's id (also the
 * webhook-id header) and its place in the cancellation's sequence. `data` is the cancellation as
 * GET /v1/cancellations/:id showed it right after this step: the same function builds both.
 */
function eventBody(
  eventId: string,
  type: CancellationEventType,
  step: RecordedStep,
  data: ReturnType<typeof cancellationResourceOf>,
): string {
  return JSON.stringify({
    id: eventId,
    type,
    timestamp: step.at,
    cancellationId: step.view.cancellationId,
    sequence: step.step,
    data,
  });
}

/**
 * Records each step's event and a delivery of it for each active subscription that wants its type. With none,
 * nothing is read beyond the subscriptions (a handful, read once for all the steps) and nothing is written.
 */
export async function recordCancellationEvents(
  { models }: Pick<ActivityDeps, 'models'>,
  steps: readonly RecordedStep[],
): Promise<void> {
  if (steps.length === 0) return;
  const active = await activeSubscriptions(models);
  if (active.length === 0) return;
  for (const step of steps) {
    const { view } = step;
    const type = cancellationEventType(view, step.final);
    const subscribers = active.filter((subscription) => subscription.eventTypes.includes(type));
    if (subscribers.length === 0) continue;
    const eventId = cancellationEventId(view.cancellationId, step.step);
    // A retry finds the body the attempt before recorded and adds only the deliveries it did not.
    let body = (await findEvent(models, eventId))?.body;
    if (body === undefined) {
      const record = await models.Cancellation.findOne({
        cancellationId: view.cancellationId,
      }).lean<StoredCancellation>();
      if (!record) return;
      const refunds = await refundsOfCancellation(models, record);
      // As the API would answer: the workflow's view while it runs, the database copy once it ended (its
      // free-form fields were just written from this view). A step recorded together with later ones is
      // shown as the workflow's view of it, not the copy's later state.
      const resource = cancellationResourceOf(record, refunds, step.final ? undefined : view, {
        approval: view.approval,
        risk: view.risk,
        goods: view.goods,
      });
      body = eventBody(eventId, type, step, resource);
    }
    await recordEventDeliveries(
      models,
      {
        eventId,
        cancellationId: view.cancellationId,
        sequence: step.step,
        type,
        occurredAt: new Date(step.at),
        body,
      },
      subscribers.map((subscription) => subscription.subscriptionId),
    );
  }
}
