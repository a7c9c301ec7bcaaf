// Bulk cancellation jobs over the API (issue #16): the dry run, starting a job (its workflow does the rest),
// its progress from the books, pause/resume/stop as the job workflow's Updates sent as the caller, and the
// CSV report. Every cancellation a job asks for is requested as the person who started it, so that person must
// be a requester the books allow (R3, R26), as for one cancellation.
import { randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { z } from 'zod';
import {
  createBulkJobBody,
  type BulkDryRun,
  type BulkJobAccepted,
  type BulkJobList,
  type BulkJobSummary,
  type BulkJobView,
} from '../client/bulk.contract';
import type { RequestChannel } from '../contracts/analytics.contract';
import type { PersonRole } from '../contracts/books.contract';
import {
  BULK_WORKFLOW_TYPE,
  bulkJobWorkflowId,
  pauseBulkJobUpdate,
  resumeBulkJobUpdate,
  stopBulkJobUpdate,
  type BulkControl,
  type BulkItemStatus,
  type BulkJobInput,
  type BulkJobStatus,
  type BulkSelection,
} from '../contracts/bulk-cancellation.contract';
import { toCsv } from '../lib/csv';
import { CancelflowError, isCancelflowError } from '../lib/errors';
import type { Models } from '../models';
import type { BulkJobItemRecord, BulkJobRecord } from '../models/bulk-job.model';
import type { QueryFilter } from 'mongoose';
import {
  dryRunFigures,
  itemsOfJob,
  itemStanding,
  phaseCounts,
  selectOrderNumbers,
} from '../models/bulk-jobs';
import { refuseUnlessRequester } from '../models/cancellation-requests';
import type { ReviewRules } from '../rules/review.rules';
import { withinDeadline, type Deadlines } from './deadlines';

export interface BulkSettings {
  concurrency: number;
  maxOrders: number;
  historyLimit: number;
}

type StoredJob = BulkJobRecord & { createdAt: Date; updatedAt: Date };

/** Who asks: ops and admins see and steer every job; anyone else their own. */
export interface BulkCaller {
  personId: string;
  roles: readonly PersonRole[];
}

const STEERS_ANY: readonly PersonRole[] = ['ops', 'admin'];
const MAX_FAILURES_SHOWN = 100;

/** Not cancelled: left alone, refused, or a cancellation that ended otherwise or whose workflow failed. */
const FAILED_ITEMS: QueryFilter<BulkJobItemRecord> = {
  $or: [
    { status: { $nin: ['pending', 'started'] as BulkItemStatus[] } },
    { outcome: { $in: ['refused', 'rejected', 'withdrawn', 'redelivered'] } },
    { state: /^workflow / },
  ],
};

function parse<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path ?? [];
  const field =
    (issue?.code === 'unrecognized_keys' ? [...path, issue.keys[0]] : path)
      .map((part, index) =>
        typeof part === 'number' ? `[${part}]` : `${index > 0 ? '.' : ''}${String(part)}`,
      )
      .join('') || 'body';
  const why =
    issue?.code === 'unrecognized_keys' ? 'is not a field of this request' : (issue?.message ?? 'is invalid');
  throw new CancelflowError('validation_failed', `${field}: ${why}`, { field });
}

function summaryOf(job: StoredJob): BulkJobSummary {
  return {
    jobId: job.jobId,
    workflowId: job.workflowId,
    state: job.state,
    requestedBy: job.requestedBy,
    channel: job.channel ?? undefined,
    reasonCode: job.reasonCode,
    note: job.note ?? undefined,
    total: job.total ?? undefined,
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
    endedAt: job.endedAt?.toISOString(),
  };
}

export function createBulkCancellationService(deps: {
  models: Models;
  temporal: Client;
  taskQueue: string;
  policy: ReviewRules;
  deadlines: Pick<Deadlines, 'temporalMs' | 'temporalUpdateMs'>;
  bulk: BulkSettings;
}) {
  const { models, temporal, taskQueue, policy, deadlines, bulk } = deps;

  async function ownJob(jobId: string, caller: BulkCaller): Promise<StoredJob> {
    const job = await models.BulkJob.findOne({ jobId }).lean<StoredJob>();
    if (!job) throw new CancelflowError('not_found', `bulk job ${jobId} does not exist`);
    if (job.requestedBy !== caller.personId && !caller.roles.some((role) => STEERS_ANY.includes(role)))
      throw new CancelflowError(
        'forbidden',
        `bulk job ${jobId} is ${job.requestedBy}'s: only they, ops and admins may see or steer it`,
      );
    return job;
  }

  async function ensureStarted(job: StoredJob): Promise<void> {
    const input: BulkJobInput = {
      jobId: job.jobId,
      concurrency: job.concurrency,
      maxOrders: bulk.maxOrders,
      historyLimit: bulk.historyLimit,
    };
    try {
      await withinDeadline(
        temporal,
        deadlines.temporalMs,
        'the bulk job was recorded but not started; retry with the same Idempotency-Key',
        () =>
          temporal.workflow.start(BULK_WORKFLOW_TYPE, {
            taskQueue,
            workflowId: job.workflowId,
            args: [input],
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
            workflowIdConflictPolicy: 'USE_EXISTING',
          }),
      );
    } catch (error) {
      if (isCancelflowError(error)) throw error;
      if (!(error instanceof WorkflowExecutionAlreadyStartedError))
        throw new CancelflowError(
          'unavailable',
          'the workflow service did not accept the bulk job; retry with the same Idempotency-Key',
          undefined,
          { cause: error },
        );
    }
  }

  async function selected(selection: BulkSelection): Promise<string[]> {
    const orderNumbers = await selectOrderNumbers(models, selection, bulk.maxOrders);
    if (orderNumbers.length === 0)
      throw new CancelflowError('validation_failed', 'selection: it finds no orders', { field: 'selection' });
    return orderNumbers;
  }

  async function control(
    update: UpdateDefinition<BulkJobStatus, [BulkControl]>,
    jobId: string,
    caller: BulkCaller,
    body: { note?: string },
  ): Promise<BulkJobView> {
    const job = await ownJob(jobId, caller);
    try {
      await withinDeadline(
        temporal,
        deadlines.temporalUpdateMs,
        `bulk job ${jobId} may not have taken it (read it before retrying)`,
        () =>
          temporal.workflow.getHandle(job.workflowId).executeUpdate(update, {
            args: [{ by: caller.personId, ...(body.note ? { note: body.note } : {}) }],
          }),
      );
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) {
        const reason = error.cause instanceof Error ? error.cause.message : error.message;
        throw new CancelflowError('conflict', reason, { jobId }, { cause: error });
      }
      if (error instanceof WorkflowNotFoundError)
        throw new CancelflowError('conflict', `bulk job ${jobId} is no longer running (${job.state})`, {
          jobId,
        });
      throw error;
    }
    return view(job.jobId);
  }

  async function view(jobId: string): Promise<BulkJobView> {
    const job = await models.BulkJob.findOne({ jobId }).lean<StoredJob>();
    if (!job) throw new CancelflowError('not_found', `bulk job ${jobId} does not exist`);
    const [phases, groups, refunded, failures, failureCount] = await Promise.all([
      phaseCounts(models, jobId),
      models.BulkJobItem.aggregate<{
        _id: { status: string; state?: string; outcome?: string };
        count: number;
      }>([
        { $match: { jobId } },
        { $group: { _id: { status: '$status', state: '$state', outcome: '$outcome' }, count: { $sum: 1 } } },
      ]),
      models.BulkJobItem.aggregate<{ _id: string; amountMinor: number }>([
        { $match: { jobId, refundedMinor: { $gt: 0 } } },
        { $group: { _id: '$currency', amountMinor: { $sum: '$refundedMinor' } } },
      ]),
      models.BulkJobItem.find({ jobId, ...FAILED_ITEMS })
        .sort({ seq: 1 })
        .limit(MAX_FAILURES_SHOWN)
        .lean(),
      models.BulkJobItem.countDocuments({ jobId, ...FAILED_ITEMS }),
    ]);
    const byState: Record<string, number> = {};
    for (const group of groups) {
      const standing = itemStanding({
        status: group._id.status as never,
        state: group._id.state ?? undefined,
        outcome: group._id.outcome ?? undefined,
      });
      byState[standing] = (byState[standing] ?? 0) + group.count;
    }
    return {
      ...summaryOf(job),
      selection: job.selection as Record<string, unknown>,
      confirm: job.confirm,
      concurrency: job.concurrency,
      control: job.control.map((entry) => ({
        action: entry.action as 'pause' | 'resume' | 'stop',
        by: entry.by ?? '',
        ...(entry.note ? { note: entry.note } : {}),
        at: entry.at?.toISOString() ?? '',
      })),
      phases,
      byState,
      refunded: refunded
        .map((group) => ({ currency: group._id, amountMinor: group.amountMinor }))
        .sort((a, b) => a.currency.localeCompare(b.currency)),
      failures: failures.map((item) => ({
        orderNumber: item.orderNumber,
        status: itemStanding(item),
        ...(item.reason ? { reason: item.reason } : {}),
        ...(item.cancellationId ? { cancellationId: item.cancellationId } : {}),
      })),
      failureCount,
    };
  }

  return {
    /** What a job would touch, without asking for anything. */
    async dryRun(body: unknown, requestedBy: string): Promise<BulkDryRun> {
      const request = parse(createBulkJobBody, body);
      await refuseUnlessRequester(models, requestedBy);
      return dryRunFigures(models, policy, await selected(request.selection), request);
    },

    /** Records the job and starts its workflow; a repeat with the same Idempotency-Key answers the same job. */
    async start(
      body: unknown,
      requestedBy: string,
      idempotencyKey?: string,
      channel?: RequestChannel,
    ): Promise<BulkJobAccepted> {
      const request = parse(createBulkJobBody, body);
      if (idempotencyKey) {
        const earlier = await models.BulkJob.findOne({ requestKey: idempotencyKey }).lean<StoredJob>();
        if (earlier) {
          if (earlier.requestedBy !== requestedBy)
            throw new CancelflowError('conflict', `Idempotency-Key ${idempotencyKey} was already used`, {
              field: 'Idempotency-Key',
            });
          await ensureStarted(earlier);
          return { jobId: earlier.jobId, workflowId: earlier.workflowId, existing: true };
        }
      }
      await refuseUnlessRequester(models, requestedBy);
      await selected(request.selection);
      const jobId = randomUUID();
      const job = await models.BulkJob.create({
        jobId,
        workflowId: bulkJobWorkflowId(jobId),
        requestKey: idempotencyKey,
        requestedBy,
        channel,
        selection: request.selection,
        reasonCode: request.reasonCode,
        note: request.note,
        confirm: request.confirm,
        concurrency: bulk.concurrency,
        state: 'selecting',
      });
      await ensureStarted(job.toObject());
      return { jobId, workflowId: job.workflowId, existing: false };
    },

    async get(jobId: string, caller: BulkCaller): Promise<BulkJobView> {
      await ownJob(jobId, caller);
      return view(jobId);
    },

    /** The newest jobs first: every job for ops and admins, one's own for anyone else. */
    async list(caller: BulkCaller): Promise<BulkJobList> {
      const filter = caller.roles.some((role) => STEERS_ANY.includes(role))
        ? {}
        : { requestedBy: caller.personId };
      const jobs = await models.BulkJob.find(filter)
        .sort({ createdAt: -1, jobId: -1 })
        .limit(50)
        .lean<StoredJob[]>();
      return { items: jobs.map(summaryOf) };
    },

    pause: (jobId: string, caller: BulkCaller, body: { note?: string }) =>
      control(pauseBulkJobUpdate, jobId, caller, body),
    resume: (jobId: string, caller: BulkCaller, body: { note?: string }) =>
      control(resumeBulkJobUpdate, jobId, caller, body),
    stop: (jobId: string, caller: BulkCaller, body: { note?: string }) =>
      control(stopBulkJobUpdate, jobId, caller, body),

    /** Every order of the job and what became of it, as CSV (lib/csv.ts: safe to open in a spreadsheet). */
    async report(jobId: string, caller: BulkCaller): Promise<string> {
      await ownJob(jobId, caller);
      const items = await itemsOfJob(models, jobId);
      return toCsv(
        [
          'orderNumber',
          'standing',
          'status',
          'cancellationId',
          'state',
          'outcome',
          'refundedMinor',
          'currency',
          'reason',
        ],
        items.map((item) => ({
          orderNumber: item.orderNumber,
          standing: itemStanding(item),
          status: item.status,
          cancellationId: item.cancellationId,
          state: item.state,
          outcome: item.outcome,
          refundedMinor: item.refundedMinor ?? 0,
          currency: item.currency,
          reason: item.reason,
        })),
      );
    },
  };
}

export type BulkCancellationService = ReturnType<typeof createBulkCancellationService>;
