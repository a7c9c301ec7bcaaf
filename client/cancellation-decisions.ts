// Decisions on a running cancellation, sent as Temporal Updates through the typed Temporal client: an
// approver's decision, the requester's withdrawal, finance's settlement, ops' resumption, the customer's
// choice and the warehouse's confirmation of returned goods. The workflow's validators refuse a request
// before it enters history; the refusal comes back here as a CancelflowError with the reason:
// `validation_failed` naming the field when the message itself is malformed, `conflict` when it is not
// allowed now or not by that person.
// (Their HTTP routes and sign-in come with a later issue.)
import type { UpdateDefinition } from '@temporalio/common';
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
  type CancellationView,
} from '../contracts/cancellation.contract';
import { FAILURE } from '../contracts/failures.contract';

/** The field a malformed message names (the workflow's validators put it in the failure's details). */
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
  return undefined;
}

/** What a refused Update means for the caller: fix the message (`validation_failed`) or not now (`conflict`). */
export function refusalOf(error: WorkflowUpdateFailedError, cancellationId: string): CancelflowError {
  const failure = error.cause;
  if (failure instanceof ApplicationFailure && failure.type === FAILURE.requestMalformed) {
    const field = malformedField(failure);
    const details = field === undefined ? { cancellationId } : { cancellationId, field };
    return new CancelflowError('validation_failed', failure.message, details, { cause: error });
  }
  const reason = failure instanceof Error ? failure.message : error.message;
  return new CancelflowError('conflict', reason, { cancellationId }, { cause: error });
}

/**
 * A function that sends one kind of decision to a running cancellation and answers with its view after it.
 * With an `updateId`, a repeat of the same request (a retry after a lost answer) is the same Update: Temporal
 * answers it with the first one's result instead of running the decision again.
 */
export type DecisionSender<Payload> = (
  temporal: Client,
  cancellationId: string,
  payload: Payload,
  options?: { updateId?: string },
) => Promise<CancellationView>;

/** Sends `update` to the cancellation's workflow, turning a refusal or a missing workflow into a CancelflowError. */
function sender<Payload>(update: UpdateDefinition<CancellationView, [Payload]>): DecisionSender<Payload> {
  return async (temporal, cancellationId, payload, options = {}) => {
    const handle = temporal.workflow.getHandle(cancellationWorkflowId(cancellationId));
    try {
      return await handle.executeUpdate(update, {
        args: [payload],
        ...(options.updateId ? { updateId: options.updateId } : {}),
      });
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) throw refusalOf(error, cancellationId);
      if (error instanceof WorkflowNotFoundError) {
        throw new CancelflowError('not_found', `cancellation ${cancellationId} is not running`, undefined, {
          cause: error,
        });
      }
      throw error;
    }
  };
}

/** R3, R15: an approver approves or rejects the step under way. */
export const decideApproval = sender(decideApprovalUpdate);
/** The requester withdraws the request, until stock or money moves. */
export const withdrawCancellation = sender(withdrawUpdate);
/** R11, R28: a finance clerk records that they refunded by hand what the gateway refused. */
export const settleRefund = sender(settleRefundUpdate);
/** An ops person resumes a cancellation that needed attention, once its cause is repaired. */
export const resumeCancellation = sender(resumeUpdate);
/** R12: the customer's choice (return, re-delivery, refund without return), passed on by customer service. */
export const chooseResolution = sender(chooseResolutionUpdate);
/** R9: a warehouse clerk confirms that a parcel of the cancellation is back in the warehouse. */
export const confirmReturn = sender(confirmReturnUpdate);
