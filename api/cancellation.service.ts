// Starting and reading cancellations. A request is checked against the order before anything starts, so bad
// input gets a 4xx at once; the workflow reviews again, as the source of truth, when it runs.
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { QueryFilter } from 'mongoose';
import { type z } from 'zod';
import type { DecisionSender } from '../client/cancellation-decisions';
import {
  approvalProgress,
  attentionNeeded,
  type cancellationListQuery,
  createCancellationBody,
  goodsView,
  riskAssessment,
  settlementProgress,
  type CancellationAccepted,
  type CancellationPage,
  type CancellationResource,
  type CancellationSummary,
} from '../client/contract';
import type { RequestChannel } from '../contracts/analytics.contract';
import type { PersonRole } from '../contracts/books.contract';
import { CancelflowError, isCancelflowError } from '../lib/errors';
import { withinDeadline, type Deadlines } from './deadlines';
import { prefixPattern } from '../lib/text-normalize';
import type { Models } from '../models';
import { cancellationResourceOf } from '../models/cancellation-resource';
import { delegationsInForce } from '../models/delegations';
import { refundsOfCancellation } from '../models/refund-ledger';
import type { ReviewRules } from '../rules/review.rules';
import {
  getCancellationQuery,
  type CancellationView,
  type StepDelegate,
} from '../contracts/cancellation.contract';
import {
  cancellationStartOf,
  recordCancellationRequest,
  type CancellationRequestDeps,
  type StoredCancellation,
} from '../models/cancellation-requests';
import { decodeCursor, encodeCursor } from './request-parts';

type CancellationFilter = QueryFilter<StoredCancellation>;
export type CancellationListCriteria = z.output<typeof cancellationListQuery>;

/** Who lists: the caller's roles say what waits for them; `ownOnly` keeps a requester to their own. */
export interface Lister {
  personId: string;
  roles: readonly PersonRole[];
  ownOnly: boolean;
}

/** A Mixed field of the database copy in its wire shape, or nothing when it does not have that shape. */
function stored<T>(schema: z.ZodType<T>, value: unknown): T | undefined {
  if (value === undefined || value === null) return undefined;
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

function storedRisk(risk: StoredCancellation['risk']) {
  return risk?.level ? stored(riskAssessment, { level: risk.level, reasons: risk.reasons ?? [] }) : undefined;
}

/**
 * What waits for a person in each of their roles, as the database copy shows it: an approval step they are
 * eligible for; a refund for finance to settle by hand; a cancellation stopped for ops; parcels the
 * warehouse expects back; the customer's choice, for the requester who asked to pass it on.
 */
function waitingFor(lister: Lister, deciding: readonly StepDelegate[]): CancellationFilter[] {
  const approval = prefixPattern('awaitingApproval');
  // R15: the steps that found the caller as the delegate of an approver whose delegation is still in force.
  const forOthers = deciding.map((pair): CancellationFilter => ({
    state: approval,
    'approval.delegates': { $elemMatch: { delegate: pair.delegate, onBehalfOf: pair.onBehalfOf } },
  }));
  const byRole: Record<PersonRole, CancellationFilter[]> = {
    approver: [{ state: approval, 'approval.eligibleApprovers': lister.personId }, ...forOthers],
    finance_clerk: [{ state: prefixPattern('awaitingSettlement') }],
    ops: [{ state: prefixPattern('needsAttention') }],
    warehouse_clerk: [{ state: prefixPattern('awaitingReturn') }],
    requester: [{ state: prefixPattern('agreeingWithCustomer'), requestedBy: lister.personId }],
    admin: [],
  };
  return lister.roles.flatMap((role) => byRole[role]);
}

/** A date-time bound is inclusive; a date as the upper bound includes the whole of that day (UTC). */
function createdRange(from: string | undefined, to: string | undefined): CancellationFilter | undefined {
  if (!from && !to) return undefined;
  const range: Record<string, Date> = {};
  if (from) range.$gte = new Date(from);
  if (to) {
    const at = new Date(to);
    if (to.includes('T')) range.$lte = at;
    else {
      at.setUTCDate(at.getUTCDate() + 1);
      range.$lt = at;
    }
  }
  return { createdAt: range };
}

/** The cancellations after a page's last one, newest first, then by id. */
function afterCursor(cursor: string): CancellationFilter {
  const { createdAt, id: cancellationId } = decodeCursor(cursor);
  return {
    $or: [{ createdAt: { $lt: createdAt } }, { createdAt, cancellationId: { $lt: cancellationId } }],
  };
}

/** The conditions as one filter: one flat object when they name different fields (simplest for a planner). */
function allOf(conditions: CancellationFilter[]): CancellationFilter {
  const keys = conditions.flatMap((condition) => Object.keys(condition));
  if (new Set(keys).size === keys.length) return Object.assign({}, ...conditions) as CancellationFilter;
  return { $and: conditions };
}

function summaryOf(record: StoredCancellation): CancellationSummary {
  return {
    cancellationId: record.cancellationId,
    workflowId: record.workflowId,
    orderNumber: record.orderNumber,
    customerId: record.customerId,
    reasonCode: record.reasonCode,
    note: record.note ?? undefined,
    requestedBy: record.requestedBy,
    state: record.state,
    outcome: record.outcome ?? undefined,
    refusal: record.refusal ?? undefined,
    risk: storedRisk(record.risk),
    approval: stored(approvalProgress, record.approval),
    settlement: stored(settlementProgress, record.settlement),
    attention: stored(attentionNeeded, record.attention),
    refundedMinor: record.refundedMinor ?? 0,
    currency: record.currency ?? undefined,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
  };
}

export function createCancellationService(deps: {
  models: Models;
  temporal: Client;
  taskQueue: string;
  /** The policy the API checks requests against before starting; the workflow loads its own at start. */
  policy: ReviewRules;
  deadlines: Pick<Deadlines, 'temporalMs' | 'temporalUpdateMs'>;
}) {
  const { models, temporal, taskQueue, policy, deadlines } = deps;

  /** Starts the record's workflow unless it was started before (even if it has since closed). */
  async function ensureStarted(record: StoredCancellation): Promise<void> {
    const { workflowType, ...start } = cancellationStartOf(record, taskQueue);
    try {
      await withinDeadline(
        temporal,
        deadlines.temporalMs,
        'the cancellation was recorded but not started; retry with the same Idempotency-Key',
        () => temporal.workflow.start(workflowType, start),
      );
    } catch (error) {
      if (isCancelflowError(error)) throw error;
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
  async function workflowStatus(workflowId: string, what: string): Promise<string | undefined> {
    try {
      const description = await withinDeadline(temporal, deadlines.temporalMs, what, () =>
        temporal.workflow.getHandle(workflowId).describe(),
      );
      return description.status.name;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      if (isCancelflowError(error)) throw error;
      throw new CancelflowError('unavailable', 'the workflow service did not answer', undefined, {
        cause: error,
      });
    }
  }

  const requests: CancellationRequestDeps = {
    models,
    policy,
    // A cancellation whose workflow failed, or that ops terminated or cancelled, no longer holds its order.
    workflowStatus: (workflowId) =>
      workflowStatus(workflowId, "the order's running cancellation could not be checked"),
  };

  return {
    /**
     * `requester`: the signed-in person or the key's identity, never a name from the body; or the customer whose
     * signed order link was used (`{ customerId }`): models/cancellation-requests.ts.
     * `channel`: how it was asked for (the console, the API as a person or a system), for the analytics.
     */
    async create(
      body: unknown,
      requester: string | { customerId: string },
      idempotencyKey?: string,
      channel?: RequestChannel,
    ): Promise<CancellationAccepted> {
      const parsed = createCancellationBody.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = issue?.path.join('.') || 'body';
        throw new CancelflowError('validation_failed', `${field}: ${issue?.message ?? 'invalid'}`, { field });
      }
      const { record, existing } = await recordCancellationRequest(
        requests,
        parsed.data,
        requester,
        idempotencyKey,
        channel,
      );
      return accepted(record, existing);
    },

    async get(cancellationId: string): Promise<CancellationResource> {
      const record = await models.Cancellation.findOne({ cancellationId }).lean<StoredCancellation>();
      if (!record) throw new CancelflowError('not_found', `cancellation ${cancellationId} does not exist`);
      const refunds = await refundsOfCancellation(models, record);
      // While it runs the workflow answers (bounded in time); a closed or unreachable one leaves the database
      // copy to answer, and says so in `source`.
      let live: CancellationView | undefined;
      if (!record.outcome) {
        live = await temporal
          .withDeadline(Date.now() + deadlines.temporalMs, async () => {
            const handle = temporal.workflow.getHandle(record.workflowId);
            const { status } = await handle.describe();
            return status.name === 'RUNNING' ? handle.query(getCancellationQuery) : undefined;
          })
          .catch(() => undefined);
      }
      // The same function builds the events outbound webhooks carry (activities/cancellation-events.ts).
      return cancellationResourceOf(record, refunds, live, {
        approval: stored(approvalProgress, record.approval),
        risk: storedRisk(record.risk),
        goods: stored(goodsView, record.goods),
      });
    },

    /**
     * One page of cancellations from the database copy, newest first, and how many match in all. A lister
     * who may see only their own gets their own: the filter, not a refusal.
     */
    async list(criteria: CancellationListCriteria, lister: Lister): Promise<CancellationPage> {
      const conditions: CancellationFilter[] = [];
      if (lister.ownOnly) conditions.push({ requestedBy: lister.personId });
      if (criteria.requestedBy) conditions.push({ requestedBy: criteria.requestedBy });
      if (criteria.state) conditions.push({ state: prefixPattern(criteria.state) });
      if (criteria.outcome) conditions.push({ outcome: criteria.outcome });
      if (criteria.reasonCode) conditions.push({ reasonCode: criteria.reasonCode });
      if (criteria.risk) conditions.push({ 'risk.level': criteria.risk });
      if (criteria.orderNumber) conditions.push({ orderNumber: criteria.orderNumber });
      if (criteria.customerId) conditions.push({ customerId: criteria.customerId });
      const created = createdRange(criteria.createdFrom, criteria.createdTo);
      if (created) conditions.push(created);
      if (criteria.waitingFor === 'me') {
        const deciding = lister.roles.includes('approver')
          ? await delegationsInForce(models, { delegate: lister.personId }, new Date())
          : [];
        const waiting = waitingFor(lister, deciding);
        // Nothing of a cancellation waits for the roles this caller has (an admin, say).
        if (waiting.length === 0) return { items: [], total: 0 };
        conditions.push(waiting.length === 1 ? (waiting[0] as CancellationFilter) : { $or: waiting });
      }
      const page = criteria.cursor ? [...conditions, afterCursor(criteria.cursor)] : conditions;
      const [found, total] = await Promise.all([
        models.Cancellation.find(allOf(page))
          .sort({ createdAt: -1, cancellationId: -1 })
          .limit(criteria.limit + 1)
          .lean<StoredCancellation[]>(),
        models.Cancellation.countDocuments(allOf(conditions)),
      ]);
      const items = found.slice(0, criteria.limit);
      const last = items[items.length - 1];
      return {
        items: items.map(summaryOf),
        ...(found.length > criteria.limit && last
          ? { nextCursor: encodeCursor({ createdAt: last.createdAt, id: last.cancellationId }) }
          : {}),
        total,
      };
    },

    /**
     * R15: the eligible approver of the step under way on whose behalf `approver` decides: one whose delegation
     * to them is in force now and that the step found (its approvers were found while it was in force).
     * Undefined when there is none: they decide in their own right, if the step is theirs to decide.
     */
    async decidingOnBehalfOf(cancellationId: string, approver: string): Promise<string | undefined> {
      const record = await models.Cancellation.findOne({ cancellationId }, { approval: 1 }).lean<
        Pick<StoredCancellation, 'approval'>
      >();
      const step = stored(approvalProgress, record?.approval);
      const delegators = (step?.delegates ?? [])
        .filter((pair) => pair.delegate === approver)
        .map((pair) => pair.onBehalfOf);
      if (delegators.length === 0) return undefined;
      const inForceNow = await delegationsInForce(models, { delegators, delegate: approver }, new Date());
      return inForceNow[0]?.onBehalfOf;
    },

    /**
     * Sends a person's action to the cancellation's workflow (its validators decide whether they may, now)
     * and answers with the cancellation after it. An unknown cancellation is a 404; one whose workflow no
     * longer runs (it ended) is a conflict: it exists, and nothing more can be done to it.
     */
    async act<Payload>(
      send: DecisionSender<Payload>,
      cancellationId: string,
      payload: Payload,
      options: { updateId?: string } = {},
    ): Promise<CancellationView> {
      const record = await models.Cancellation.findOne(
        { cancellationId },
        { state: 1, outcome: 1, workflowId: 1 },
      ).lean<Pick<StoredCancellation, 'state' | 'outcome' | 'workflowId'>>();
      if (!record) throw new CancelflowError('not_found', `cancellation ${cancellationId} does not exist`);
      const noLongerRunning = (cause: unknown) =>
        new CancelflowError(
          'conflict',
          `cancellation ${cancellationId} is no longer running (${record.outcome ?? record.state})`,
          { cancellationId },
          { cause },
        );
      // A short call first: an Update may rightly wait for the worker, so its deadline is long; an unreachable
      // Temporal should not cost the caller that long (the client's retries overrun a deadline by seconds).
      const status = await workflowStatus(
        record.workflowId,
        `cancellation ${cancellationId} could not be reached`,
      );
      // A repeat of an action by its idempotency key still goes to Temporal when the workflow has ended, which
      // answers an Update it has seen with the first one's result (the answer that was lost).
      if (status !== 'RUNNING' && !options.updateId) throw noLongerRunning(undefined);
      try {
        return await withinDeadline(
          temporal,
          deadlines.temporalUpdateMs,
          `cancellation ${cancellationId} may not have taken the action (read it before retrying)`,
          () => send(temporal, cancellationId, payload, options),
        );
      } catch (error) {
        if (isCancelflowError(error) && error.code === 'not_found') throw noLongerRunning(error);
        throw error;
      }
    },
  };
}

export type CancellationService = ReturnType<typeof createCancellationService>;
