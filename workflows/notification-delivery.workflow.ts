// Small durable workflows that deliver outbox entries with retries and exponential backoff, for up to a day,
// and record the end. The cancellation starts them through an activity (activities/delivery.activities.ts) as
// workflows of their own, so the cancellation neither waits for a slow provider nor fails with it, and the
// delivery outlives the cancellation's own end (docs/notifications.md).
//
// `notificationBatchDeliveryWorkflow` delivers the messages recorded together in one activity that heartbeats
// what it has sent, so a retry sends only the rest: about 11 history events for a moment's notices, where one
// workflow per message cost as many for each (issue #13). `notificationDeliveryWorkflow`, one per message, is
// what cancellations started before the batches still start, and stays for them.
import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { createDeliveryActivities } from '../activities/delivery.activities';
import type { DeliveryOptions, DeliveryResult } from '../contracts/delivery.contract';
import { FAILURE } from '../contracts/failures.contract';

type DeliveryActivities = ReturnType<typeof createDeliveryActivities>;

// Recording the end is a write to our own database: retried for as long as it takes.
const { recordNotificationFailure, recordNotificationFailures } = proxyActivities<DeliveryActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export async function notificationDeliveryWorkflow(
  key: string,
  options: DeliveryOptions = {},
): Promise<DeliveryResult> {
  const { deliverNotification } = proxyActivities<DeliveryActivities>({
    // An attempt's own provider calls time out well within this (mail 30 s, Twilio 30 s).
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: options.giveUpAfterMs ?? '24 hours',
    retry: {
      initialInterval: options.firstRetryAfterMs ?? '30 seconds',
      backoffCoefficient: 2,
      maximumInterval: '2 hours',
      nonRetryableErrorTypes: [FAILURE.notificationRejected, FAILURE.notificationNotFound],
    },
  });
  try {
    return await deliverNotification(key);
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    // The provider's refusal, or the retries running out of time (the entry keeps the provider's last error).
    const reason = error.cause?.message ?? error.message;
    await recordNotificationFailure({ key, reason });
    return { key, status: 'failed', alreadyDone: false };
  }
}

export async function notificationBatchDeliveryWorkflow(
  keys: string[],
  options: DeliveryOptions = {},
): Promise<DeliveryResult[]> {
  const { deliverNotifications } = proxyActivities<DeliveryActivities>({
    // Each provider call has its own deadline (mail 30 s, Twilio 30 s); the activity heartbeats while they run,
    // so a worker that died mid-batch is noticed in 30 s rather than at the end of the attempt's timeout.
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '30 seconds',
    scheduleToCloseTimeout: options.giveUpAfterMs ?? '24 hours',
    retry: {
      initialInterval: options.firstRetryAfterMs ?? '30 seconds',
      backoffCoefficient: 2,
      maximumInterval: '2 hours',
    },
  });
  try {
    return await deliverNotifications(keys);
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    // The retries ran out of time: whatever is still unsent is given up (each entry keeps its provider's last
    // error). A refusal for good was recorded by the activity for its message alone.
    const reason = error.cause?.message ?? error.message;
    return await recordNotificationFailures({ keys, reason });
  }
}
