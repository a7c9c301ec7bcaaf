// Recording a request for a cancellation: the one path every cancellation is created by, whether a person asks
// through the API or the console, or a bulk job asks for each of its orders (activities/bulk.activities.ts).
// It refuses what the rules refuse, answers a repeated request (same Idempotency-Key, or the same order while
// its cancellation runs) with the cancellation already recorded, and records a new one holding its order
// (`activeForOrder`, unique), so that one order is never cancelled twice at once. Starting the workflow is the
// caller's (it holds the Temporal client and its deadline); `cancellationStartOf` says how, the same for all.
import { createHash, randomUUID } from 'node:crypto';
import type { WorkflowStartOptions } from '@temporalio/client';
import type { RequestChannel } from '../contracts/analytics.contract';
import {
  CANCELLATION_WORKFLOW_TASK_TIMEOUT,
  cancellationWorkflowId,
  WORKFLOW_TYPE,
  type CancellationInput,
  type ConfirmableStage,
  type Department,
  type ReasonCode,
  type RequestedLine,
} from '../contracts/cancellation.contract';
import { searchAttributeKeys } from '../contracts/search-attributes';
import { CancelflowError } from '../lib/errors';
import { mayRequest } from '../rules/permissions.rules';
import { reviewOrder, type ReviewRules } from '../rules/review.rules';
import { analyticsSummaryOf } from './analytics-summary';
import type { CancellationRecord } from './cancellation.model';
import type { Models } from './index';
import { isDuplicateKey } from './mongo-errors';
import { paymentsOf, shipmentsOf } from './order-links';

export type StoredCancellation = CancellationRecord & { createdAt: Date; updatedAt: Date };

/** A request as the API's body schema parses it (client/contract.ts `createCancellationBody`). */
export interface CancellationRequestFields {
  orderNumber: string;
  lines?: RequestedLine[];
  reasonCode: ReasonCode;
  note?: string;
  confirm: ConfirmableStage[];
}

export interface CancellationRequestDeps {
  models: Models;
  /** The policy requests are checked against before anything starts; the workflow loads its own at start. */
  policy: ReviewRules;
  /** The workflow's status name (RUNNING, COMPLETED…), or undefined when it was never started. */
  workflowStatus(workflowId: string): Promise<string | undefined>;
}

export function cancellationInputOf(record: StoredCancellation): CancellationInput {
  return {
    cancellationId: record.cancellationId,
    orderNumber: record.orderNumber,
    lines: record.requestedLines?.map((line) => ({
      lineId: line.lineId ?? '',
      quantity: line.quantity ?? 0,
    })),
    reasonCode: record.reasonCode,
    note: record.note ?? undefined,
    requestedBy: record.requestedBy,
    confirmed: record.confirmed as CancellationInput['confirmed'],
    requestedAt: record.createdAt.toISOString(),
  };
}

/** How a recorded cancellation's workflow is started, by whoever starts it: the same id, input and policies. */
export function cancellationStartOf(
  record: StoredCancellation,
  taskQueue: string,
): WorkflowStartOptions & { workflowType: string } {
  return {
    workflowType: WORKFLOW_TYPE,
    taskQueue,
    workflowId: record.workflowId,
    args: [cancellationInputOf(record)],
    // Findable in the Temporal UI from the first moment; the workflow keeps state and risk current.
    typedSearchAttributes: [
      { key: searchAttributeKeys.orderNumber, value: record.orderNumber },
      { key: searchAttributeKeys.reason, value: record.reasonCode },
      { key: searchAttributeKeys.customer, value: record.customerId },
      { key: searchAttributeKeys.state, value: 'requested' },
    ],
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    workflowIdConflictPolicy: 'USE_EXISTING',
    // The steps on our own database run as local activities within one workflow task (PATCHES.leanHistory),
    // and what they did is kept only when the task completes, or when the worker heartbeats the task at 80 % of
    // this timeout. At Temporal's default of 10 s, a task whose local activities took longer than 8 s was
    // lost with every worker killed sooner, and started over: `npm run chaos` (a kill every 3–10 s) left
    // cancellations in `refunding` for good, their closing steps never kept. At 5 s progress is kept every 4 s,
    // and a task lost with its worker is handed out again after 5 s rather than 10. A continued run keeps it.
    workflowTaskTimeout: CANCELLATION_WORKFLOW_TASK_TIMEOUT,
  };
}

/**
 * The cancellation a request repeats: the one recorded under its Idempotency-Key (a different request under
 * the same key is a conflict), else the one running for its order. A record whose workflow failed or was
 * terminated no longer holds its order.
 */
export async function findExistingCancellation(
  deps: CancellationRequestDeps,
  orderNumber: string,
  idempotencyKey: string | undefined,
  requestHash: string,
): Promise<StoredCancellation | null> {
  const { models } = deps;
  const byKey = idempotencyKey
    ? await models.Cancellation.findOne({ requestKey: idempotencyKey }).lean<StoredCancellation>()
    : null;
  if (
    byKey &&
    (byKey.orderNumber !== orderNumber || (byKey.requestHash && byKey.requestHash !== requestHash))
  ) {
    throw new CancelflowError(
      'conflict',
      `Idempotency-Key ${idempotencyKey} was already used for a different request (order ${byKey.orderNumber})`,
      { field: 'Idempotency-Key' },
    );
  }
  if (byKey) return byKey;
  const active = await models.Cancellation.findOne({
    activeForOrder: orderNumber,
  }).lean<StoredCancellation>();
  if (!active) return null;
  const status = await deps.workflowStatus(active.workflowId);
  if (status === undefined || status === 'RUNNING') return active;
  await models.Cancellation.updateOne(
    { cancellationId: active.cancellationId, outcome: { $exists: false } },
    { $unset: { activeForOrder: 1 }, $set: { state: `workflow ${status.toLowerCase()}` } },
  );
  return null;
}

/**
 * R3, R26: the rules say who may ask for a cancellation; the books say who the person is (and their
 * department, which the record keeps for the analytics).
 */
export async function refuseUnlessRequester(
  models: Models,
  personId: string,
): Promise<{ department?: Department }> {
  const person = await models.Person.findOne({ personId }).lean();
  const verdict = mayRequest(personId, person);
  if (!verdict.allowed) {
    throw new CancelflowError('forbidden', verdict.reason);
  }
  return { department: person?.department };
}

/** How a customer who asked for a cancellation themselves (from their order link) is named as its requester. */
export const customerRequester = (customerId: string) => `customer:${customerId}`;

/**
 * Records a request for a cancellation, or finds the one it repeats (`existing`). `requester` is the
 * signed-in person or the key's identity (a bulk job: the person who started it), never a name from a body; or
 * the customer whose signed order link was used (`{ customerId }`), who may ask only for their own order and
 * is recorded as `customer:<customerId>` on the channel `customer_link`.
 * Refusals are CancelflowErrors: the rules' review (`not_cancellable`, `confirmation_required`…), an unknown
 * order, a requester the books do not allow.
 */
export async function recordCancellationRequest(
  deps: CancellationRequestDeps,
  request: CancellationRequestFields,
  requester: string | { customerId: string },
  idempotencyKey?: string,
  channel?: RequestChannel,
): Promise<{ record: StoredCancellation; existing: boolean }> {
  const { models, policy } = deps;
  const customer = typeof requester === 'string' ? undefined : requester.customerId;
  const requestedBy = typeof requester === 'string' ? requester : customerRequester(requester.customerId);
  const requestHash = createHash('sha256')
    .update(JSON.stringify({ ...request, requestedBy }))
    .digest('hex');
  const existing = await findExistingCancellation(deps, request.orderNumber, idempotencyKey, requestHash);
  // A replay of a request already accepted (same key, same body) answers as the first time did, even if
  // its requester has left since; any other request is checked, even one that would join a running one.
  if (existing && idempotencyKey !== undefined && existing.requestKey === idempotencyKey) {
    return { record: existing, existing: true };
  }
  // A customer is no person of the books: the order being theirs is what lets them ask (checked below).
  const { department } = customer === undefined ? await refuseUnlessRequester(models, requestedBy) : {};
  if (existing) {
    if (customer !== undefined && existing.customerId !== customer)
      throw new CancelflowError('forbidden', `order ${request.orderNumber} is not this customer's`);
    return { record: existing, existing: true };
  }

  const order = await models.SalesOrder.findOne({ orderNumber: request.orderNumber }).lean();
  if (!order)
    throw new CancelflowError('not_found', `order ${request.orderNumber} does not exist`, {
      field: 'orderNumber',
    });
  if (customer !== undefined && order.customerId !== customer)
    throw new CancelflowError('forbidden', `order ${request.orderNumber} is not this customer's`);
  // Read by the keys the order lists (models/order-links.ts): by order number, each would scan (#13).
  const [payments, shipments] = await Promise.all([paymentsOf(models, order), shipmentsOf(models, order)]);
  const review = reviewOrder(
    order,
    payments,
    { lines: request.lines, confirmed: request.confirm },
    policy,
    shipments,
  );
  if (!review.ok)
    throw new CancelflowError(review.code, review.reason, review.field ? { field: review.field } : undefined);

  const cancellationId = randomUUID();
  try {
    const record = await models.Cancellation.create({
      cancellationId,
      workflowId: cancellationWorkflowId(cancellationId),
      orderNumber: request.orderNumber,
      customerId: order.customerId,
      activeForOrder: request.orderNumber,
      requestKey: idempotencyKey,
      requestHash,
      reasonCode: request.reasonCode,
      note: request.note,
      requestedBy,
      requesterDepartment: department,
      channel: customer === undefined ? channel : 'customer_link',
      confirmed: request.confirm,
      requestedLines: request.lines,
      state: 'requested',
      // No timeline or lines yet: the analytics' summary of nothing, current, so no backfill looks at it.
      analytics: analyticsSummaryOf({}),
    });
    return { record: record.toObject(), existing: false };
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    // A concurrent request for the same order or key won the race: answer with its cancellation.
    const winner = await findExistingCancellation(deps, request.orderNumber, idempotencyKey, requestHash);
    if (!winner) {
      throw new CancelflowError('conflict', 'a concurrent request for this order just finished; retry', {
        field: 'orderNumber',
      });
    }
    return { record: winner, existing: true };
  }
}
