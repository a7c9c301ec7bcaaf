// The event a cancellation's state change makes for outbound webhooks, recorded where the state is written
// (record.activities.ts), in the same local activity: so every step recorded makes its event, and a retry
// makes the same one (its id comes from the cancellation and the step). Nothing is sent here: the dispatcher
// (event-dispatcher.ts) does that outside the workflow, so a slow or absent receiver never holds a
// cancellation up.
import { cancellationEventType, type CancellationEventType } from '../contracts/cancellation-events.contract';
import type { CancellationView } from '../contracts/cancellation.contract';
import { cancellationResourceOf, type StoredCancellation } from '../models/cancellation-resource';
import {
  cancellationEventId,
  findCancellationEvent,
  recordEventDeliveries,
} from '../models/event-deliveries';
import { refundsOfCancellation } from '../models/refund-ledger';
import { subscriptionsListeningTo } from '../models/webhook-subscriptions';
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
 * Records the step's event and a delivery of it for each active subscription that wants its type. With none,
 * nothing is read beyond the subscriptions (a handful) and nothing is written.
 */
export async function recordCancellationEvent(
  { models }: Pick<ActivityDeps, 'models'>,
  step: RecordedStep,
): Promise<void> {
  const { view } = step;
  const type = cancellationEventType(view, step.final);
  const subscribers = await subscriptionsListeningTo(models, type);
  if (subscribers.length === 0) return;
  const eventId = cancellationEventId(view.cancellationId, step.step);
  // A retry finds the body the attempt before recorded and adds only the deliveries it did not.
  let body = (await findCancellationEvent(models, eventId))?.body;
  if (body === undefined) {
    const record = await models.Cancellation.findOne({
      cancellationId: view.cancellationId,
    }).lean<StoredCancellation>();
    if (!record) return;
    const refunds = await refundsOfCancellation(models, record);
    // As the API would answer: the workflow's view while it runs, the database copy once it ended. The copy's
    // free-form fields were just written from this view.
    const resource = cancellationResourceOf(record, refunds, record.outcome ? undefined : view, {
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
