// Decisions on a running cancellation, sent as Temporal Updates through the typed Temporal client: an
// approver's decision, the requester's withdrawal, finance's settlement, ops' resumption, the customer's
// choice and the warehouse's confirmation of returned goods. The workflow's validators refuse what is not allowed
// now before it enters history; the refusal comes back here as a `conflict` CancelflowError with the reason.
// (Their HTTP routes and sign-in come with a later issue.)
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { CancelflowError } from '../lib/errors';
import {
  cancellationWorkflowId,
  chooseResolutionUpdate,
  confirmReturnUpdate,
  decideApprovalUpdate,
  resumeUpdate,
  settleRefundUpdate,
  withdrawUpdate,
  type ApprovalDecision,
  type CancellationView,
  type ManualSettlement,
  type ResolutionChoice,
  type Resumption,
  type ReturnConfirmation,
  type Withdrawal,
} from '../workflows/cancellation.contract';

async function send<T>(cancellationId: string, update: () => Promise<T>): Promise<T> {
  try {
    return await update();
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) {
      const reason = error.cause instanceof Error ? error.cause.message : error.message;
      throw new CancelflowError('conflict', reason, { cancellationId }, { cause: error });
    }
    if (error instanceof WorkflowNotFoundError) {
      throw new CancelflowError('not_found', `cancellation ${cancellationId} is not running`, undefined, {
        cause: error,
      });
    }
    throw error;
  }
}

export function decideApproval(
  temporal: Client,
  cancellationId: string,
  decision: ApprovalDecision,
): Promise<CancellationView> {
  const handle = temporal.workflow.getHandle(cancellationWorkflowId(cancellationId));
  return send(cancellationId, () => handle.executeUpdate(decideApprovalUpdate, { args: [decision] }));
}

export function withdrawCancellation(
  temporal: Client,
  cancellationId: string,
  withdrawal: Withdrawal,
): Promise<CancellationView> {
  const handle = temporal.workflow.getHandle(cancellationWorkflowId(cancellationId));
  return send(cancellationId, () => handle.executeUpdate(withdrawUpdate, { args: [withdrawal] }));
}

/** R11, R28: a finance clerk records that they refunded by hand what the gateway refused. */
export function settleRefund(
  temporal: Client,
  cancellationId: string,
  settlement: ManualSettlement,
): Promise<CancellationView> {
  const handle = temporal.workflow.getHandle(cancellationWorkflowId(cancellationId));
  return send(cancellationId, () => handle.executeUpdate(settleRefundUpdate, { args: [settlement] }));
}

/** An ops person resumes a cancellation that needed attention, once its cause is repaired. */
export function resumeCancellation(
  temporal: Client,
  cancellationId: string,
  resumption: Resumption,
): Promise<CancellationView> {
  const handle = temporal.workflow.getHandle(cancellationWorkflowId(cancellationId));
  return send(cancellationId, () => handle.executeUpdate(resumeUpdate, { args: [resumption] }));
}

/** R12: the customer's choice (return, re-delivery, refund without return), passed on by customer service. */
export function chooseResolution(
  temporal: Client,
  cancellationId: string,
  choice: ResolutionChoice,
): Promise<CancellationView> {
  const handle = temporal.workflow.getHandle(cancellationWorkflowId(cancellationId));
  return send(cancellationId, () => handle.executeUpdate(chooseResolutionUpdate, { args: [choice] }));
}

/** R9: a warehouse clerk confirms that a parcel of the cancellation is back in the warehouse. */
export function confirmReturn(
  temporal: Client,
  cancellationId: string,
  confirmation: ReturnConfirmation,
): Promise<CancellationView> {
  const handle = temporal.workflow.getHandle(cancellationWorkflowId(cancellationId));
  return send(cancellationId, () => handle.executeUpdate(confirmReturnUpdate, { args: [confirmation] }));
}
