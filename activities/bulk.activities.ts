// What a bulk cancellation job does in the world (issue #16): lists its orders, asks for each order's
// cancellation exactly as a person's request does (models/cancellation-requests.ts: the same record, the same
// idempotency, the same "one running cancellation per order"), starts that cancellation's workflow as the API
// would, and keeps the job's items in step with their cancellations' database copies. The job's workflow
// (workflows/bulk-cancellation.workflow.ts) decides when; these do the I/O.
import { ApplicationFailure, heartbeat, Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type {
  BulkControlEntry,
  BulkItemPhase,
  BulkJobState,
  BulkPhaseCounts,
} from '../contracts/bulk-cancellation.contract';
import type { ConfirmableStage, ReasonCode } from '../contracts/cancellation.contract';
import { FAILURE } from '../contracts/failures.contract';
import type { RequestChannel } from '../contracts/analytics.contract';
import { CancelflowError, isCancelflowError } from '../lib/errors';
import { loadPolicyFile } from '../lib/policy';
import {
  alreadyDone,
  phaseCounts,
  phaseOfCancellation,
  recordBulkJobChange,
  selectOrderNumbers,
} from '../models/bulk-jobs';
import {
  cancellationStartOf,
  recordCancellationRequest,
  type CancellationRequestDeps,
  type StoredCancellation,
} from '../models/cancellation-requests';
import { paymentsOf } from '../models/order-links';
import type { BulkSelection } from '../contracts/bulk-cancellation.contract';
import { recordBulkJobEvent } from './bulk-job-events';
import type { ActivityDeps } from './deps';

/** How long a call to Temporal may take before it counts as failed (and the activity retries). */
const TEMPORAL_CALL_MS = 10_000;
/** How often the wait for a cancellation to move reads the books. */
const POLL_MS = 250;
const INSERT_BATCH = 500;

/** The idempotency key of a job's request for one order: a retry finds the cancellation it already asked for. */
export const bulkRequestKey = (jobId: string, orderNumber: string) => `bulk:${jobId}:${orderNumber}`;

interface JobRecord {
  jobId: string;
  requestedBy: string;
  channel?: RequestChannel | null;
  selection: BulkSelection;
  reasonCode: ReasonCode;
  note?: string | null;
  confirm: string[];
}

export function createBulkActivities(deps: ActivityDeps) {
  const { models, temporal, policyFile } = deps;

  async function workflowStatus(workflowId: string): Promise<string | undefined> {
    try {
      const description = await temporal.withDeadline(Date.now() + TEMPORAL_CALL_MS, () =>
        temporal.workflow.getHandle(workflowId).describe(),
      );
      return description.status.name;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }

  async function job(jobId: string): Promise<JobRecord> {
    const found = await models.BulkJob.findOne({ jobId }).lean<JobRecord>();
    if (!found) throw new Error(`bulk job ${jobId} is not in the books`);
    return found;
  }

  function setItem(jobId: string, orderNumber: string, fields: Record<string, unknown>) {
    return models.BulkJobItem.updateOne({ jobId, orderNumber }, { $set: fields });
  }

  async function started(jobId: string, orderNumber: string, record: StoredCancellation, taskQueue: string) {
    const { workflowType, ...start } = cancellationStartOf(record, taskQueue);
    try {
      await temporal.withDeadline(Date.now() + TEMPORAL_CALL_MS, () =>
        temporal.workflow.start(workflowType, start),
      );
    } catch (error) {
      // Started before (by an earlier attempt of this activity): nothing to do.
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
    await setItem(jobId, orderNumber, {
      status: 'started',
      phase: phaseOfCancellation(record),
      cancellationId: record.cancellationId,
      state: record.state,
      outcome: record.outcome ?? undefined,
    });
  }

  /** Asks for one order's cancellation, or records why the job leaves the order alone. */
  async function startItem(
    current: JobRecord,
    requestDeps: CancellationRequestDeps,
    orderNumber: string,
    taskQueue: string,
  ) {
    const { jobId } = current;
    const requestKey = bulkRequestKey(jobId, orderNumber);
    // Asked for before (an attempt that stopped short of marking the item): that cancellation is this job's.
    const ours = await models.Cancellation.findOne({ requestKey }).lean<StoredCancellation>();
    if (ours) return started(jobId, orderNumber, ours, taskQueue);
    const order = await models.SalesOrder.findOne({ orderNumber }).lean();
    if (order) {
      const done = alreadyDone(order, await paymentsOf(models, order));
      if (done) return setItem(jobId, orderNumber, { ...done, phase: 'done' });
    }
    try {
      const { record, existing } = await recordCancellationRequest(
        requestDeps,
        {
          orderNumber,
          reasonCode: current.reasonCode,
          ...(current.note ? { note: current.note } : {}),
          confirm: current.confirm as ConfirmableStage[],
        },
        current.requestedBy,
        requestKey,
        current.channel ?? undefined,
      );
      if (existing && record.requestKey !== requestKey) {
        // Someone else's cancellation runs for this order: reported, and never asked for (or refunded) twice.
        return setItem(jobId, orderNumber, {
          status: 'being_cancelled',
          phase: 'done',
          cancellationId: record.cancellationId,
          reason: `cancellation ${record.cancellationId} by ${record.requestedBy} is running for it`,
        });
      }
      return started(jobId, orderNumber, record, taskQueue);
    } catch (error) {
      // The rules' refusal (not cancellable, a confirmation missing, an unknown order, a requester the books
      // no longer allow) is this order's answer; anything else (the database, Temporal) is retried.
      if (isCancelflowError(error) && error.code !== 'unavailable' && error.code !== 'internal') {
        return setItem(jobId, orderNumber, { status: 'refused', phase: 'done', reason: error.message });
      }
      throw error;
    }
  }

  /** Brings the started items up to date with their cancellations; true when any changed phase. */
  async function refresh(jobId: string, phases: BulkItemPhase[]): Promise<boolean> {
    const items = await models.BulkJobItem.find(
      { jobId, phase: { $in: phases } },
      { orderNumber: 1, cancellationId: 1, phase: 1, state: 1, outcome: 1, refundedMinor: 1 },
    ).lean();
    if (items.length === 0) return false;
    const cancellations = await models.Cancellation.find(
      {
        cancellationId: { $in: items.flatMap((item) => (item.cancellationId ? [item.cancellationId] : [])) },
      },
      { cancellationId: 1, state: 1, outcome: 1, refundedMinor: 1, currency: 1, refusal: 1 },
    ).lean();
    const byId = new Map(cancellations.map((cancellation) => [cancellation.cancellationId, cancellation]));
    let phaseChanged = false;
    const writes = [];
    for (const item of items) {
      const cancellation = item.cancellationId ? byId.get(item.cancellationId) : undefined;
      if (!cancellation) continue;
      const phase = phaseOfCancellation(cancellation);
      const refundedMinor = cancellation.refundedMinor ?? 0;
      if (
        phase === item.phase &&
        cancellation.state === item.state &&
        (cancellation.outcome ?? undefined) === (item.outcome ?? undefined) &&
        refundedMinor === item.refundedMinor
      )
        continue;
      if (phase !== item.phase) phaseChanged = true;
      writes.push({
        updateOne: {
          filter: { jobId, orderNumber: item.orderNumber },
          update: {
            $set: {
              phase,
              state: cancellation.state,
              outcome: cancellation.outcome ?? undefined,
              refundedMinor,
              currency: cancellation.currency ?? undefined,
              ...(cancellation.refusal ? { reason: cancellation.refusal } : {}),
            },
          },
        },
      });
    }
    if (writes.length > 0) await models.BulkJobItem.bulkWrite(writes, { ordered: false });
    return phaseChanged;
  }

  return {
    /**
     * Lists the job's orders as its items, once: a retry, or a run after continue-as-new, finds them listed.
     * Answers how many there are.
     */
    async selectBulkOrders({ jobId, maxOrders }: { jobId: string; maxOrders: number }): Promise<number> {
      const listed = await models.BulkJobItem.countDocuments({ jobId });
      const current = await job(jobId);
      let total = listed;
      if (listed === 0) {
        const orderNumbers = await selectOrderNumbers(models, current.selection, maxOrders).catch(
          (error: unknown) => {
            // Orders added since the API's check took the selection past BULK_MAX_ORDERS: retrying cannot
            // help, so the job fails (and the watcher, bulk-job-watcher.ts, records it `failed` with this reason).
            if (isCancelflowError(error) && error.code === 'validation_failed')
              throw ApplicationFailure.nonRetryable(error.message, FAILURE.bulkSelectionRefused);
            throw error;
          },
        );
        for (let start = 0; start < orderNumbers.length; start += INSERT_BATCH) {
          const batch = orderNumbers.slice(start, start + INSERT_BATCH).map((orderNumber, index) => ({
            jobId,
            seq: start + index,
            orderNumber,
            status: 'pending',
            phase: 'pending',
          }));
          // An earlier attempt may have written some: upserts by key change nothing twice.
          await models.BulkJobItem.bulkWrite(
            batch.map((item) => ({
              updateOne: {
                filter: { jobId, orderNumber: item.orderNumber },
                update: { $setOnInsert: item },
                upsert: true,
              },
            })),
            { ordered: false },
          );
          heartbeat(start);
        }
        total = orderNumbers.length;
      }
      await models.BulkJob.updateOne({ jobId }, { $set: { total } });
      return total;
    },

    /**
     * One step of a job: brings its started items up to date; when `fill`, asks for the next orders' cancellations
     * until `concurrency` are being processed; then waits (up to `waitMs`, heartbeating) for one of those to end
     * or to wait for a person, and answers the counts by phase.
     */
    async advanceBulkJob({
      jobId,
      concurrency,
      fill,
      waitMs,
    }: {
      jobId: string;
      concurrency: number;
      fill: boolean;
      waitMs: number;
    }): Promise<BulkPhaseCounts> {
      const { taskQueue } = Context.current().info;
      await refresh(jobId, ['active', 'waiting']);
      if (fill) {
        const policy = await loadPolicyFile(policyFile);
        const requestDeps: CancellationRequestDeps = { models, policy, workflowStatus };
        const current = await job(jobId);
        // Orders left alone take no slot: keep filling until the slots are taken or nothing is pending.
        for (;;) {
          const active = await models.BulkJobItem.countDocuments({ jobId, phase: 'active' });
          const free = concurrency - active;
          if (free <= 0) break;
          const next = await models.BulkJobItem.find({ jobId, phase: 'pending' }, { orderNumber: 1 })
            .sort({ seq: 1 })
            .limit(free)
            .lean();
          if (next.length === 0) break;
          await Promise.all(next.map((item) => startItem(current, requestDeps, item.orderNumber, taskQueue)));
          heartbeat();
        }
      }
      const until = Date.now() + waitMs;
      while (Date.now() < until) {
        const active = await models.BulkJobItem.countDocuments({ jobId, phase: 'active' });
        if (active === 0) break;
        heartbeat();
        if (await refresh(jobId, ['active'])) break;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      return phaseCounts(models, jobId);
    },

    /**
     * Who may pause, resume or stop the job, as the books say now: the person who started it (while active) and
     * the active people with the ops or admin role. The workflow's Updates check the person the API names
     * against it, so that a caller who reaches Temporal directly gains nothing the books do not allow.
     */
    async bulkJobStewards({ jobId }: { jobId: string }): Promise<string[]> {
      const current = await job(jobId);
      const people = await models.Person.find(
        { $or: [{ personId: current.requestedBy }, { roles: { $in: ['ops', 'admin'] } }] },
        { personId: 1, active: 1 },
      ).lean();
      return people.filter((person) => person.active !== false).map((person) => person.personId);
    },

    /** The job was stopped: the orders not asked for yet never will be. */
    async stopPendingBulkItems({ jobId }: { jobId: string }): Promise<number> {
      const stopped = await models.BulkJobItem.updateMany(
        { jobId, phase: 'pending' },
        {
          $set: {
            status: 'not_started',
            phase: 'done',
            reason: 'the job was stopped before this order was asked for',
          },
        },
      );
      return stopped.modifiedCount;
    },

    /**
     * Keeps the job's database copy in step with its workflow: its state, and who paused, resumed or stopped it;
     * and records the change's webhook event. Once per scheduled activity (its run and activity id): a retry
     * writes nothing again and records the same event. A state the workflow decided before the one the books
     * hold (its write overtaken by a later one) is not written and makes no event.
     */
    async recordBulkJobState({
      jobId,
      state,
      control,
    }: {
      jobId: string;
      state: BulkJobState;
      control?: BulkControlEntry;
    }): Promise<void> {
      const { workflowExecution, activityId, scheduledTimestampMs } = Context.current().info;
      // The workflow's activities take the SDK's default ids, their sequence in the run: the version that keeps
      // an older write, arriving last, from replacing a newer one (recordBulkJobChange).
      const seq = Number(activityId);
      if (!workflowExecution || !Number.isSafeInteger(seq))
        throw new CancelflowError(
          'internal',
          'recordBulkJobState is scheduled by a bulk job workflow only, with its default activity ids',
        );
      const change = await recordBulkJobChange(models, {
        jobId,
        state,
        ...(control ? { control } : {}),
        key: `${workflowExecution.runId}:${activityId}`,
        version: { runId: workflowExecution.runId, seq, scheduledAt: new Date(scheduledTimestampMs) },
      });
      if (change) await recordBulkJobEvent(deps, jobId, change, control?.action);
    },
  };
}

export type BulkActivities = ReturnType<typeof createBulkActivities>;
