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
  type BulkJobInput,
  type BulkJobStatus,
  type BulkSelection,
} from '../contracts/bulk-cancellation.contract';
import { toCsv } from '../lib/csv';
import { CancelflowError, isCancelflowError } from '../lib/errors';
import type { Models } from '../models';
import {
  bulkJobSummaryOf,
  bulkJobViewOf,
  dryRunFigures,
  itemsOfJob,
  itemStanding,
  selectOrderNumbers,
  type StoredJob,
} from '../models/bulk-jobs';
import { refuseUnlessRequester } from '../models/cancellation-requests';
import type { ReviewRules } from '../rules/review.rules';
import { withinDeadline, type Deadlines } from './deadlines';

export interface BulkSettings {
  concurrency: number;
  maxOrders: number;
  historyLimit: number;
}

/** Who asks: ops and admins see and steer every job; anyone else their own. */
export interface BulkCaller {
  personId: string;
  roles: readonly PersonRole[];
}

const STEERS_ANY: readonly PersonRole[] = ['ops', 'admin'];

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

  /** The job as GET shows it: the one home of its view, which its webhook events carry too. */
  const view = (jobId: string): Promise<BulkJobView> => bulkJobViewOf(models, jobId);

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
      return { items: jobs.map(bulkJobSummaryOf) };
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
