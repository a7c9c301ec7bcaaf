// Starting and reading cancellations. A request is checked against the order before anything starts, so bad
// input gets a 4xx at once; the workflow reviews again, as the source of truth, when it runs.
import { createHash, randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { createCancellationBody } from '../client/contract';
import type { CancellationAccepted, CancellationResource } from '../client/contract';
import { CancelflowError } from '../lib/errors';
import type { Models } from '../models';
import type { CancellationRecord } from '../models/cancellation.model';
import { isDuplicateKey } from '../models/mongo-errors';
import { mayRequest } from '../rules/permissions.rules';
import { reviewOrder, type ReviewRules } from '../rules/review.rules';
import {
  cancellationWorkflowId,
  getCancellationQuery,
  WORKFLOW_TYPE,
  type ApprovalProgress,
  type GoodsView,
  type CancellationInput,
  type CancellationView,
} from '../contracts/cancellation.contract';
import { searchAttributeKeys } from '../contracts/search-attributes';

type StoredCancellation = CancellationRecord & { createdAt: Date; updatedAt: Date };

function toInput(record: StoredCancellation): CancellationInput {
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

export function createCancellationService(deps: {
  models: Models;
  temporal: Client;
  taskQueue: string;
  /** The policy the API checks requests against before starting; the workflow loads its own at start. */
  policy: ReviewRules;
}) {
  const { models, temporal, taskQueue, policy } = deps;

  /** Starts the record's workflow unless it was started before (even if it has since closed). */
  async function ensureStarted(record: StoredCancellation): Promise<void> {
    try {
      await temporal.workflow.start(WORKFLOW_TYPE, {
        taskQueue,
        workflowId: record.workflowId,
        args: [toInput(record)],
        // Findable in the Temporal UI from the first moment; the workflow keeps state and risk current.
        typedSearchAttributes: [
          { key: searchAttributeKeys.orderNumber, value: record.orderNumber },
          { key: searchAttributeKeys.reason, value: record.reasonCode },
          { key: searchAttributeKeys.customer, value: record.customerId },
          { key: searchAttributeKeys.state, value: 'requested' },
        ],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) {
        throw new CancelflowError(
          'unavailable',
          'the workflow service did not accept the cancellation; retry with the same Idempotency-Key',
          undefined,
          { cause: error },
        );
      }
    }
  }

  async function accepted(record: StoredCancellation, existing: boolean): Promise<CancellationAccepted> {
    await ensureStarted(record);
    return {
      cancellationId: record.cancellationId,
      workflowId: record.workflowId,
      orderNumber: record.orderNumber,
      existing,
    };
  }

  /** The workflow's status, or undefined when it was never started (a crash right after the record). */
  async function workflowStatus(workflowId: string): Promise<string | undefined> {
    try {
      const description = await temporal.withDeadline(Date.now() + 5_000, () =>
        temporal.workflow.getHandle(workflowId).describe(),
      );
      return description.status.name;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw new CancelflowError('unavailable', 'the workflow service did not answer', undefined, {
        cause: error,
      });
    }
  }

  async function findExisting(orderNumber: string, idempotencyKey: string | undefined, requestHash: string) {
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
    // A cancellation whose workflow failed, or that ops terminated or cancelled, no longer holds its order.
    const status = await workflowStatus(active.workflowId);
    if (status === undefined || status === 'RUNNING') return active;
    await models.Cancellation.updateOne(
      { cancellationId: active.cancellationId, outcome: { $exists: false } },
      { $unset: { activeForOrder: 1 }, $set: { state: `workflow ${status.toLowerCase()}` } },
    );
    return null;
  }

  /** R3, R26: the rules say who may ask for a cancellation; the books say who the person is. */
  async function refuseUnlessRequester(personId: string): Promise<void> {
    const verdict = mayRequest(personId, await models.Person.findOne({ personId }).lean());
    if (!verdict.allowed) {
      throw new CancelflowError('forbidden', verdict.reason);
    }
  }

  return {
    /** `requestedBy`: the signed-in person or the key's identity, never a name from the body. */
    async create(body: unknown, requestedBy: string, idempotencyKey?: string): Promise<CancellationAccepted> {
      const parsed = createCancellationBody.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = issue?.path.join('.') || 'body';
        throw new CancelflowError('validation_failed', `${field}: ${issue?.message ?? 'invalid'}`, { field });
      }
      const request = parsed.data;

      const requestHash = createHash('sha256')
        .update(JSON.stringify({ ...request, requestedBy }))
        .digest('hex');
      const existing = await findExisting(request.orderNumber, idempotencyKey, requestHash);
      // A replay of a request already accepted (same key, same body) answers as the first time did, even if
      // its requester has left since; any other request is checked, even one that would join a running one.
      if (existing && idempotencyKey !== undefined && existing.requestKey === idempotencyKey) {
        return accepted(existing, true);
      }
      await refuseUnlessRequester(requestedBy);
      if (existing) return accepted(existing, true);

      const order = await models.SalesOrder.findOne({ orderNumber: request.orderNumber }).lean();
      if (!order)
        throw new CancelflowError('not_found', `order ${request.orderNumber} does not exist`, {
          field: 'orderNumber',
        });
      const [payments, shipments] = await Promise.all([
        models.Payment.find({ orderNumber: request.orderNumber }).lean(),
        models.Shipment.find({ orderNumber: request.orderNumber }).sort({ shipmentId: 1 }).lean(),
      ]);
      const review = reviewOrder(
        order,
        payments,
        { lines: request.lines, confirmed: request.confirm },
        policy,
        shipments,
      );
      if (!review.ok)
        throw new CancelflowError(
          review.code,
          review.reason,
          review.field ? { field: review.field } : undefined,
        );

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
          confirmed: request.confirm,
          requestedLines: request.lines,
          state: 'requested',
        });
        return await accepted(record.toObject(), false);
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        // A concurrent request for the same order or key won the race: answer with its cancellation.
        const winner = await findExisting(request.orderNumber, idempotencyKey, requestHash);
        if (!winner) {
          throw new CancelflowError('conflict', 'a concurrent request for this order just finished; retry', {
            field: 'orderNumber',
          });
        }
        return accepted(winner, true);
      }
    },

    async get(cancellationId: string): Promise<CancellationResource> {
      const record = await models.Cancellation.findOne({ cancellationId }).lean<StoredCancellation>();
      if (!record) throw new CancelflowError('not_found', `cancellation ${cancellationId} does not exist`);
      const refunds = await models.Refund.find({ cancellationId })
        .sort({ createdAt: 1, paymentId: 1 })
        .lean();
      // While it runs the workflow answers (bounded in time); a closed or unreachable one leaves the database
      // copy to answer, and says so in `source`.
      let live: CancellationView | undefined;
      if (!record.outcome) {
        live = await temporal
          .withDeadline(Date.now() + 3_000, async () => {
            const handle = temporal.workflow.getHandle(record.workflowId);
            const { status } = await handle.describe();
            return status.name === 'RUNNING' ? handle.query(getCancellationQuery) : undefined;
          })
          .catch(() => undefined);
      }
      return {
        cancellationId: record.cancellationId,
        workflowId: record.workflowId,
        orderNumber: record.orderNumber,
        reasonCode: record.reasonCode,
        note: record.note ?? undefined,
        requestedBy: record.requestedBy,
        state: live?.state ?? record.state,
        outcome: live?.outcome ?? record.outcome ?? undefined,
        refusal: live?.refusal ?? record.refusal ?? undefined,
        policyVersion: live?.policyVersion ?? record.policyVersion ?? undefined,
        approval: live?.approval ?? (record.approval as ApprovalProgress | undefined),
        risk: live?.risk ?? (record.risk?.level ? (record.risk as CancellationResource['risk']) : undefined),
        goods: live?.goods ?? (record.goods as GoodsView | undefined),
        refundedMinor: live?.refundedMinor ?? record.refundedMinor ?? 0,
        currency: live?.review?.currency ?? record.currency ?? undefined,
        refunds: refunds.map((refund) => ({
          paymentId: refund.paymentId,
          amountMinor: refund.amountMinor,
          currency: refund.currency,
          orderCurrencyMinor: refund.orderCurrencyMinor ?? undefined,
          status: refund.status,
          reference: refund.providerRefundId ?? undefined,
        })),
        lines: (live?.review?.lines ?? record.lines).map((line) => ({
          lineId: line.lineId ?? '',
          sku: line.sku ?? '',
          warehouse: line.warehouse ?? '',
          quantity: line.quantity ?? 0,
          amountMinor: line.amountMinor ?? 0,
        })),
        notifications: (live?.notifications ?? record.notifications).map((n) => ({
          channel: n.channel ?? '',
          status: n.status ?? '',
          detail: n.detail ?? undefined,
        })),
        timeline: record.timeline.map((entry) => ({
          step: entry.step ?? 0,
          state: entry.state ?? '',
          at: (entry.at ?? record.createdAt).toISOString(),
        })),
        source: live ? 'workflow' : 'database',
        createdAt: record.createdAt.toISOString(),
        updatedAt: record.updatedAt.toISOString(),
      };
    },
  };
}

export type CancellationService = ReturnType<typeof createCancellationService>;
