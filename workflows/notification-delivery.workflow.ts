// One small durable workflow per outbox entry: it delivers the message with retries and exponential backoff,
// for up to a day, and records the end. The cancellation starts it through an activity
// (startDeliveryWorkflows, activities/delivery.activities.ts) as a workflow of its own, so the cancellation
// neither waits for a slow provider nor fails with it, and the delivery outlives the cancellation's own end
// (docs/notifications.md).
import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { createDeliveryActivities } from '../activities/delivery.activities';
import type { DeliveryOptions, DeliveryResult } from '../contracts/delivery.contract';
import { FAILURE } from '../contracts/failures.contract';

type DeliveryActivities = ReturnType<typeof createDeliveryActivities>;

// Recording the end is a write to our own database: retried for as long as it takes.
const { recordNotificationFailure } = proxyActivities<DeliveryActivities>({
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
