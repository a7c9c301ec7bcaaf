// One small durable workflow per outbox entry: it delivers the message with retries and exponential backoff,
// for up to a day, and records the end. The cancellation starts it through an activity
// (startDeliveryWorkflows, activities/delivery.activities.ts) as a workflow of its own, so the cancellation
// neither waits for a slow provider nor fails with it, and the delivery outlives the cancellation's own end
// (docs/notifications.md).
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ActivityFailure,
  ParentClosePolicy,
  proxyActivities,
  startChild,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { createDeliveryActivities, DeliveryResult } from '../activities/delivery.activities';

type DeliveryActivities = ReturnType<typeof createDeliveryActivities>;

export interface DeliveryOptions {
  /** Milliseconds before the first retry; each later wait doubles, up to two hours. Default 30 seconds. */
  firstRetryAfterMs?: number;
  /** Milliseconds after which to stop trying and record the message as failed. Default 24 hours. */
  giveUpAfterMs?: number;
}

/** One delivery workflow per outbox key, ever: a second start for the same key finds the first. */
export function notificationDeliveryWorkflowId(key: string): string {
  return `notification-delivery-${key}`;
}

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
      nonRetryableErrorTypes: ['NotificationRejected', 'NotificationNotFound'],
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

/**
 * Starts a delivery workflow for each outbox key, as a child the caller does not wait for and that goes on
 * when the caller closes (ParentClosePolicy ABANDON). A key whose delivery was started before is skipped.
 * The cancellation does not use it: on the time-skipping test server a child that closes after its parent
 * leaves time skipping locked for good (docs/notifications.md, "Why not child workflows").
 */
export async function startNotificationDeliveries(
  keys: readonly string[],
  options: DeliveryOptions = {},
): Promise<void> {
  for (const key of keys) {
    try {
      await startChild(notificationDeliveryWorkflow, {
        workflowId: notificationDeliveryWorkflowId(key),
        args: [key, options],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  }
}
