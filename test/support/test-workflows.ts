// Workflow code only the integration tests run, bundled together with the real workflows: a parent that
// starts notification deliveries and ends at once, a stand-in for a cancellation waiting on its carrier (the
// webhook's own tests: signatures, unknown shipments, refusals, without a whole cancellation around them;
// test/shipped.workflow.test.ts posts to the real workflow), the refund activity under a real Temporal
// retry policy, and a run that continues as new (what a continued run inherits from its start).
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { CancellationActivities } from '../../activities';
import {
  reportCarrierOutcomeUpdate,
  type CancellationView,
  type CarrierOutcome,
} from '../../contracts/cancellation.contract';
import { notificationDeliveryWorkflowId, type DeliveryOptions } from '../../contracts/delivery.contract';
import { notificationDeliveryWorkflow } from '../../workflows/notification-delivery.workflow';

export * from '../../workflows';

/**
 * Starts a delivery workflow for each outbox key, as a child the caller does not wait for and that goes on
 * when the caller closes (ParentClosePolicy ABANDON). A key whose delivery was started before is skipped.
 * Only tests use it: the cancellation starts its deliveries from an activity, because on the time-skipping
 * test server a child that closes after its parent leaves time skipping locked for good
 * (docs/notifications.md, "Why not child workflows").
 */
async function startNotificationDeliveries(keys: readonly string[], options: DeliveryOptions): Promise<void> {
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

/** Starts a delivery per key, twice (the second start finds the first), and ends without waiting for them. */
export async function startsDeliveriesWorkflow(keys: string[], options: DeliveryOptions): Promise<void> {
  await startNotificationDeliveries(keys, options);
  await startNotificationDeliveries(keys, options);
}

export const carrierOutcomesQuery = defineQuery<CarrierOutcome[]>('carrierOutcomes');
export const finishSignal = defineSignal('finish');

/**
 * Waits for the carrier's outcome on a recall, as the cancellation workflow does in `awaitingCarrier`, and
 * stays open until told to finish, so a test can post more. A second, different outcome is refused.
 */
export async function awaitingCarrierWorkflow(
  cancellationId: string,
  orderNumber: string,
): Promise<CarrierOutcome[]> {
  const outcomes: CarrierOutcome[] = [];
  const view = (): CancellationView => ({
    cancellationId,
    orderNumber,
    state: outcomes.length > 0 ? `recall ${outcomes[0]?.outcome}` : 'awaitingCarrier',
    reasonCode: 'customer_changed_mind',
    refundedMinor: 0,
    notifications: [],
  });
  setHandler(carrierOutcomesQuery, () => outcomes);
  setHandler(
    reportCarrierOutcomeUpdate,
    (outcome: CarrierOutcome) => {
      outcomes.push(outcome);
      return Promise.resolve(view());
    },
    {
      validator: (_outcome: CarrierOutcome) => {
        if (outcomes.length > 0) throw new Error('the carrier already answered');
      },
    },
  );
  let finished = false;
  setHandler(finishSignal, () => {
    finished = true;
  });
  await condition(() => finished);
  return outcomes;
}

const { refundPayment } = proxyActivities<CancellationActivities>({
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '200 ms',
    backoffCoefficient: 1,
    maximumAttempts: 20,
    nonRetryableErrorTypes: ['RefundRefused', 'RefundExceedsCapture'],
  },
});

/** The refund activity as a workflow runs it: retried by Temporal with the very same parameters. */
export async function refundWithRetriesWorkflow(
  params: Parameters<CancellationActivities['refundPayment']>[0],
): ReturnType<CancellationActivities['refundPayment']> {
  return refundPayment(params);
}

/** Continues as new once, and answers with the workflow task timeout its continued run has. */
export async function continuesAsNewOnceWorkflow(continued = false): Promise<number> {
  if (!continued) await continueAsNew<typeof continuesAsNewOnceWorkflow>(true);
  return workflowInfo().taskTimeoutMs;
}
