// The event a bulk job's change of state makes for outbound webhooks (issue #16), recorded by the very activity
// that writes the change to the job's record (recordBulkJobState, bulk.activities.ts), as a cancellation's step
// records its event (cancellation-events.ts): the change's place in the job's record is the event's sequence and
// names its id, so a retried activity records the same event, never a second. Nothing is sent here: the
// dispatcher (event-dispatcher.ts) does that outside the workflow, so a slow or absent receiver never holds the
// job up.
//
// Progress alone makes no event: it moves with every order (thousands for a big job, each event carrying the
// whole view to every subscriber), and would come from the job's long, heartbeating step, whose retries after a
// crash name no change of their own. Every event's view carries the progress at that change, and each
// cancellation of the job makes its own events.
import { bulkJobEventType, type BulkJobEventType } from '../contracts/cancellation-events.contract';
import type { BulkControlEntry } from '../contracts/bulk-cancellation.contract';
import { bulkJobViewOf, type BulkJobChange, type BulkJobResource } from '../models/bulk-jobs';
import { bulkJobEventId, findEvent, recordEventDeliveries } from '../models/event-deliveries';
import { activeSubscriptions } from '../models/webhook-subscriptions';
import type { ActivityDeps } from './deps';

/**
 * The JSON a receiver gets: Standard Webhooks' `type`, `timestamp` and `data`, the event's id (also the
 * webhook-id header) and its place in the job's sequence. `data` is the job as GET /v1/bulk-cancellations/:id
 * showed it right after this change: the same function builds both.
 */
function eventBody(
  eventId: string,
  type: BulkJobEventType,
  jobId: string,
  change: BulkJobChange,
  data: BulkJobResource,
): string {
  return JSON.stringify({
    id: eventId,
    type,
    timestamp: change.at.toISOString(),
    bulkJobId: jobId,
    sequence: change.sequence,
    data,
  });
}

/**
 * Records the change's event and a delivery of it for each active subscription that wants its type. With none,
 * nothing is read beyond the subscriptions (a handful) and nothing is written.
 */
export async function recordBulkJobEvent(
  { models }: Pick<ActivityDeps, 'models'>,
  jobId: string,
  change: BulkJobChange,
  action?: BulkControlEntry['action'],
): Promise<void> {
  const type = bulkJobEventType({ from: change.from, state: change.to, ...(action ? { action } : {}) });
  const subscribers = (await activeSubscriptions(models)).filter((subscription) =>
    subscription.eventTypes.includes(type),
  );
  if (subscribers.length === 0) return;
  const eventId = bulkJobEventId(jobId, change.sequence);
  // A retry finds the body the attempt before recorded and adds only the deliveries it did not.
  let body = (await findEvent(models, eventId))?.body;
  if (body === undefined) {
    const view = await bulkJobViewOf(models, jobId);
    // Another change written in the moment since (a person's pause during a step) is the next event's: this
    // one shows the state it tells of.
    body = eventBody(eventId, type, jobId, change, { ...view, state: change.to });
  }
  await recordEventDeliveries(
    models,
    { eventId, bulkJobId: jobId, sequence: change.sequence, type, occurredAt: change.at, body },
    subscribers.map((subscription) => subscription.subscriptionId),
  );
}
