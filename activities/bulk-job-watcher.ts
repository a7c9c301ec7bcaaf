// The bulk job watcher: finds the jobs whose workflow ended without finishing them, records them `failed` with
// why, and records their `bulk_job.failed` webhook event.
//
// Why from outside the workflow: a job's workflow records its own changes (recordBulkJobState), but a workflow
// that is terminated, cancelled or timed out runs no more code, and one that fails (a non-retryable activity
// failure, such as a selection grown past BULK_MAX_ORDERS) would need a new patch to record it. Asking Temporal
// how each open job's workflow stands covers every way of ending, with no workflow change. It is a loop in the
// worker process beside the event dispatcher (worker/main.ts). Any number of workers may run it side by side:
// a failure is recorded under a key of the ended run, so two watchers record it once and make one event.
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { BULK_FINAL_STATES } from '../contracts/bulk-cancellation.contract';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import type { Models } from '../models';
import { recordBulkJobChange } from '../models/bulk-jobs';
import { recordBulkJobEvent } from './bulk-job-events';

/** How a workflow may end without finishing its job (Temporal's execution status names). */
const ENDED_UNFINISHED = ['FAILED', 'TERMINATED', 'CANCELLED', 'TIMED_OUT'];
/** How long a call to Temporal may take before this look gives up on that job (the next look tries again). */
const TEMPORAL_CALL_MS = 10_000;
/** A reason is for people: a stack of causes is cut short. */
const MAX_REASON = 500;

export interface BulkJobWatchSettings {
  /** The pause between looks. */
  pollMs: number;
}

export const bulkJobWatchSettingsFrom = (config: Pick<Config, 'BULK_WATCH_MS'>): BulkJobWatchSettings => ({
  pollMs: config.BULK_WATCH_MS,
});

export interface BulkJobWatcher {
  /** One look at every open job; answers how many it recorded failed. */
  lookOnce(): Promise<number>;
  /** Looks again and again, until `stop`. */
  start(): void;
  stop(): Promise<void>;
}

/**
 * Why the run ended, for people: how (`workflow terminated`) and the innermost failure's message (a
 * termination's reason, the activity's own error rather than "Activity task failed").
 */
export function failureReasonOf(status: string, error: unknown): string {
  let message: string | undefined;
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause)
    if (cause.message && !(cause instanceof WorkflowFailedError)) message = cause.message;
  const reason = `workflow ${status.toLowerCase().replace('_', ' ')}${message ? `: ${message}` : ''}`;
  return reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 1)}…` : reason;
}

export function createBulkJobWatcher(
  deps: { models: Models; temporal: Client; logger: Logger },
  settings: BulkJobWatchSettings,
): BulkJobWatcher {
  const { models, temporal, logger } = deps;
  let running: Promise<void> | undefined;
  let stopping = false;
  const stopped = new AbortController();

  const withinDeadline = <T>(call: () => Promise<T>) =>
    temporal.withDeadline(Date.now() + TEMPORAL_CALL_MS, call);

  /** Records the job failed when its workflow's latest run ended without finishing it; true when it did. */
  async function check(job: { jobId: string; workflowId: string }): Promise<boolean> {
    let description;
    try {
      description = await withinDeadline(() => temporal.workflow.getHandle(job.workflowId).describe());
    } catch (error) {
      // Recorded but not started yet (the API's start is retried with the same Idempotency-Key): not an end.
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    }
    const status = description.status.name;
    if (!ENDED_UNFINISHED.includes(status)) return false;
    const ended = temporal.workflow.getHandle(job.workflowId, description.runId, { followRuns: false });
    const reason = await withinDeadline(() => ended.result()).then(
      () => failureReasonOf(status, undefined),
      (error: unknown) => failureReasonOf(status, error),
    );
    const change = await recordBulkJobChange(models, {
      jobId: job.jobId,
      state: 'failed',
      failureReason: reason,
      // The ended run's own: every look, by any watcher, finds this change recorded and makes no second event.
      key: `${description.runId}:ended`,
    });
    if (!change) return false;
    await recordBulkJobEvent(deps, job.jobId, change);
    logger.warn({ jobId: job.jobId, reason }, 'bulk job failed');
    return true;
  }

  async function lookOnce(): Promise<number> {
    // The open jobs only: a handful at a time, each one describe call.
    const open = await models.BulkJob.find(
      { state: { $nin: [...BULK_FINAL_STATES] } },
      { jobId: 1, workflowId: 1 },
    ).lean();
    let failed = 0;
    for (const job of open) {
      if (stopping) break;
      try {
        if (await check(job)) failed += 1;
      } catch (error) {
        logger.error(
          { err: error, jobId: job.jobId },
          'bulk job watcher could not check a job; trying again',
        );
      }
    }
    return failed;
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      try {
        await lookOnce();
      } catch (error) {
        logger.error({ err: error }, 'bulk job watcher could not read the jobs; trying again');
      }
      await sleep(settings.pollMs, undefined, { signal: stopped.signal }).catch(() => undefined);
    }
  }

  return {
    lookOnce,
    start() {
      if (running) return;
      running = loop();
    },
    async stop() {
      stopping = true;
      stopped.abort();
      await running;
      running = undefined;
    },
  };
}
