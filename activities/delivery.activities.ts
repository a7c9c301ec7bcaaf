// Delivering one outbox entry, attempt by attempt, for the delivery workflow: the workflow's retry policy is
// the backoff; these activities say whether another attempt can help and record the end. And handing entries
// to their delivery workflows, for the cancellation.
import { activityInfo, ApplicationFailure } from '@temporalio/activity';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
} from '@temporalio/common';
import { isCancelflowError } from '../lib/errors';
import {
  NOTIFICATION_DELIVERY_WORKFLOW_TYPE,
  notificationDeliveryWorkflowId,
  type DeliveryOptions,
  type DeliveryResult,
} from '../contracts/delivery.contract';
import type { ActivityDeps } from './deps';
import { markOutboxFailed } from '../models/outbox';
import { deliverOutboxEntry, type OutboxSettings } from './outbox';
import { FAILURE } from '../contracts/failures.contract';

export function createDeliveryActivities(deps: ActivityDeps & OutboxSettings) {
  return {
    /**
     * Sends the entry unless it was sent (or given up) already. A provider's temporary trouble is a retryable
     * failure; a refusal for good (an invalid number, a rejected address) is non-retryable and named.
     */
    async deliverNotification(key: string): Promise<DeliveryResult> {
      let outcome;
      try {
        outcome = await deliverOutboxEntry(deps, key);
      } catch (error) {
        if (isCancelflowError(error) && error.code === 'not_found') {
          throw ApplicationFailure.nonRetryable(error.message, FAILURE.notificationNotFound);
        }
        throw error;
      }
      switch (outcome.status) {
        case 'sent':
          return { key, status: 'sent', alreadyDone: outcome.alreadySent };
        case 'failed':
          return { key, status: 'failed', alreadyDone: true };
        case 'busy':
          // Another attempt may still be sending it: try again once its claim has run out.
          throw ApplicationFailure.create({
            message: `another attempt holds ${key} until ${outcome.until.toISOString()}`,
            type: FAILURE.notificationBusy,
            nextRetryDelay: Math.max(outcome.until.getTime() - Date.now(), 1000),
          });
        case 'refused':
          throw ApplicationFailure.create({
            message: outcome.error,
            type: outcome.permanent ? FAILURE.notificationRejected : FAILURE.providerUnavailable,
            nonRetryable: outcome.permanent,
          });
      }
    },

    /**
     * Starts the delivery workflow of each recorded entry, as a workflow of its own (no parent) on this
     * worker's task queue, and returns once they started. One per key, ever: a retry of this activity, or a
     * second notice naming the same key, finds the running one (USE_EXISTING) or the finished one
     * (REJECT_DUPLICATE) and starts nothing; the outbox's claim and mark keep a sent message from going twice.
     */
    async startDeliveryWorkflows(keys: readonly string[]): Promise<void> {
      const { taskQueue } = activityInfo();
      for (const key of keys) {
        try {
          const args: [string, DeliveryOptions] = [key, deps.deliveryRetry ?? {}];
          await deps.temporal.workflow.start(NOTIFICATION_DELIVERY_WORKFLOW_TYPE, {
            taskQueue,
            workflowId: notificationDeliveryWorkflowId(key),
            args,
            workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          });
        } catch (error) {
          if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        }
      }
    },

    /** Gives up on the entry for good, keeping the provider's last error (or the reason retries ended). */
    async recordNotificationFailure(params: { key: string; reason: string }): Promise<void> {
      await markOutboxFailed(deps.models, params.key, params.reason);
      deps.logger.warn({ key: params.key, reason: params.reason }, 'notification given up');
    },
  };
}
