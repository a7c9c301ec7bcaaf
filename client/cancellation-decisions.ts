// Decisions on a running cancellation, sent as Temporal Updates through the typed Temporal client: an
// approver's decision, the requester's withdrawal, finance's settlement, ops' resumption, the customer's
// choice and the warehouse's confirmation of returned goods. The workflow's validators refuse a request
// before it enters history; the refusal comes back here as a CancelflowError with the reason:
// `validation_failed` naming the field when the message itself is malformed, `conflict` when it is not
// allowed now or not by that person.
// (Their HTTP routes and sign-in come with a later issue.)
import {
  ApplicationFailure,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
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
} from '../contracts/cancellation.contract';

/**
 * The failure type for a malformed message, once the workflow gives it one (with `details: [{ field }]`);
 * until then its validators refuse everything as `RequestRefused`, and only the wording tells a malformed
 * field apart.
 */
const requestMalformed = 'RequestMalformed';
/** How the validators word a malformed field: "cannot approve: approver must be text". */
const malformedFieldWording = /^cannot .+?: (\w+) must be text$/;

function malformedField(failure: ApplicationFailure): string | undefined {
  const [detail] = failure.details ?? [];
  if (
    typeof detail === 'object' &&
    detail !== null &&
    'field' in detail &&
    typeof detail.field === 'string'
  ) {
    return detail.field;
  }
  return malformedFieldWording.exec(failure.message)?.[1];
}

/** What a refused Update means for the caller: fix the message (`validation_failed`) or not now (`conflict`). */
export function refusalOf(error: WorkflowUpdateFailedError, cancellationId: string): CancelflowError {
  const failure = error.cause;
  if (failure instanceof ApplicationFailure) {
    const field = malformedField(failure);
    if (failure.type === requestMalformed || (failure.type === 'RequestRefused' && field !== undefined)) {
      const details = field === undefined ? { cancellationId } : { cancellationId, field };
      return new CancelflowError('validation_failed', failure.message, details, { cause: error });
    }
  }
  const reason = failure instanceof Error ? failure.message : error.message;
  return new CancelflowError('conflict', reason, { cancellationId }, { cause: error });
}

async function send<T>(cancellationId: string, update: () => Promise<T>): Promise<T> {
  try {
    return await update();
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) throw refusalOf(error, cancellationId);
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
