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
import {
  customerNotificationKey,
  type createNotificationActivities,
  type CustomerNotificationParams,
} from './notification.activities';

export interface NoticesParams {
  departments: DepartmentNotificationParams;
  /** The customer's message of the same moment, when the customer hears of it. */
  customer?: CustomerNotificationParams;
}

/** The endings a run may reach before its order is reviewed, when it does not know the customer yet. */
const ENDINGS_BEFORE_REVIEW = ['withdrawn', 'rejected'] as const;

export function createNoticeActivities(
  deps: ActivityDeps,
  recorders: {
    departments: ReturnType<typeof createDepartmentNotificationActivities>;
    customers: ReturnType<typeof createNotificationActivities>;
    approvals: ReturnType<typeof createApprovalActivities>;
  },
) {
  const { departments, customers, approvals } = recorders;
  const { models } = deps;

  /**
   * A customer told of the request hears how it ended, also when this run does not know they were told. A
   * run's steps on our books are local activities, kept in its history only when their workflow task
   * completes: a task lost with its worker can have reviewed the order and told the customer "received",
   * and the run that replaced it, meeting a withdrawal at once, ended before any review, not knowing the
   * customer (`npm run chaos` found ten such). The outbox is what was told: the customer's "received"
   * entries, read by their keys, decide; those a lost task recorded but never handed to a delivery go out
   * first, in the same batch, so the story the customer hears is whole.
   */
  async function endingForCustomerToldBefore(
    about: DepartmentNotificationParams,
  ): Promise<{ customer?: CustomerNotificationParams; receivedKeys: string[] }> {
    const moment = ENDINGS_BEFORE_REVIEW.find((ending) => ending === about.moment);
    if (!moment) return { receivedKeys: [] };
    const received = await models.Notification.find(
      {
        idempotencyKey: {
          $in: (['email', 'sms'] as const).map((channel) =>
            customerNotificationKey(about.cancellationId, 'received', channel),
          ),
        },
      },
      { idempotencyKey: 1, status: 1 },
    ).lean();
    if (received.length === 0) return { receivedKeys: [] };
    const record = await models.Cancellation.findOne(
      { cancellationId: about.cancellationId },
      { customerId: 1, currency: 1 },
    ).lean();
    if (!record?.customerId) return { receivedKeys: [] };
    return {
      customer: {
        cancellationId: about.cancellationId,
        orderNumber: about.orderNumber,
        customerId: record.customerId,
        moment,
        reasonCode: about.reasonCode,
        refundedMinor: 0,
        currency: record.currency ?? 'CNY',
        ...(about.refusal !== undefined ? { refusal: about.refusal } : {}),
      },
      receivedKeys: received.flatMap((entry) => (entry.status === 'queued' ? [entry.idempotencyKey] : [])),
    };
  }

  return {
    /**
     * A moment's notices to the departments and the customer. Recorded independently: a customer message that
     * cannot be made does not silence the departments; its failure is thrown once theirs are on their way.
     * Returns the keys handed to delivery.
     */
    async recordAndDeliverNotices({ departments: about, customer: asked }: NoticesParams): Promise<string[]> {
      const toldBefore = asked ? { receivedKeys: [] } : await endingForCustomerToldBefore(about);
      const customer = asked ?? toldBefore.customer;
      const recorded = await Promise.allSettled([
        departments.queueDepartmentNotifications(about),
        ...(customer ? [customers.queueCustomerNotifications(customer)] : []),
      ]);
      const keys = [
        ...toldBefore.receivedKeys,
        ...recorded.flatMap((result) => (result.status === 'fulfilled' ? result.value : [])),
      ];
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
