// Each of a cancellation's notices as one activity: its messages recorded (message centre and outbox), then
// handed to one delivery workflow for the batch. Recording then starting in one activity, where the
// cancellation used to run a recording activity and a starting one, halves the work per notice in Temporal
// (issue #13); both halves are safe to repeat (outbox keys, the batch's workflow id), so a retry is harmless.
import type { EffectParams } from '../contracts/effects.contract';
import type { NotificationResult } from '../contracts/cancellation.contract';
import type { createApprovalActivities } from './approval.activities';
import type {
  createDepartmentNotificationActivities,
  DepartmentNotificationParams,
} from './department-notification.activities';
import { startBatchDelivery } from './delivery.activities';
import type { ActivityDeps } from './deps';
import type { createNotificationActivities, CustomerNotificationParams } from './notification.activities';

export interface NoticesParams {
  departments: DepartmentNotificationParams;
  /** The customer's message of the same moment, when the customer hears of it. */
  customer?: CustomerNotificationParams;
}

export function createNoticeActivities(
  deps: ActivityDeps,
  recorders: {
    departments: ReturnType<typeof createDepartmentNotificationActivities>;
    customers: ReturnType<typeof createNotificationActivities>;
    approvals: ReturnType<typeof createApprovalActivities>;
  },
) {
  const { departments, customers, approvals } = recorders;
  return {
    /**
     * A moment's notices to the departments and the customer. Recorded independently: a customer message that
     * cannot be made does not silence the departments; its failure is thrown once theirs are on their way.
     * Returns the keys handed to delivery.
     */
    async recordAndDeliverNotices({ departments: about, customer }: NoticesParams): Promise<string[]> {
      const recorded = await Promise.allSettled([
        departments.queueDepartmentNotifications(about),
        ...(customer ? [customers.queueCustomerNotifications(customer)] : []),
      ]);
      const keys = recorded.flatMap((result) => (result.status === 'fulfilled' ? result.value : []));
      await startBatchDelivery(deps, about.cancellationId, keys);
      const refused = recorded.find((result) => result.status === 'rejected');
      if (refused) throw refused.reason;
      return keys;
    },

    /** The approvers' request or reminder (R3, R19). */
    async recordAndDeliverApprovalRequest(params: EffectParams['requestApproval']): Promise<void> {
      await startBatchDelivery(deps, params.cancellationId, await approvals.queueApprovalRequest(params));
    },

    /**
     * The customer's "cancelled" message (R12, R18): for the cancellation's view, each channel `queued` or
     * `skipped` with the reason; a message that cannot be made is skipped, never thrown.
     */
    async recordAndDeliverCompletion(params: EffectParams['notifyCustomer']): Promise<NotificationResult[]> {
      const { keys, results } = await customers.queueCustomerCompletion(params);
      await startBatchDelivery(deps, params.cancellationId, keys);
      return results;
    },
  };
}
