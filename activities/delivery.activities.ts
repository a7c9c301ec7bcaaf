// Delivering outbox entries for the delivery workflows: one entry an attempt (the workflows of cancellations
// started before batches) or a batch an attempt, whose retry policy is the backoff; these activities say
// whether another attempt can help and record the end. And handing entries to their delivery workflows.
import { activityInfo, ApplicationFailure, heartbeat } from '@temporalio/activity';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
} from '@temporalio/common';
import {
  NOTIFICATION_BATCH_DELIVERY_WORKFLOW_TYPE,
  NOTIFICATION_DELIVERY_WORKFLOW_TYPE,
  notificationBatchDeliveryWorkflowId,
  notificationDeliveryWorkflowId,
  type DeliveryOptions,
  type DeliveryResult,
} from '../contracts/delivery.contract';
import type { ActivityDeps } from './deps';
import { claimOutboxEntries, markOutboxFailed, type OutboxClaim } from '../models/outbox';
import { deliverClaimedEntry, type OutboxSettings } from './outbox';
import { FAILURE } from '../contracts/failures.contract';

/** How often a batch reports progress while its sends run: well inside the workflow's 30 s heartbeat timeout. */
const HEARTBEAT_EVERY_MS = 5_000;

/** What one attempt at one entry came to: an end, or a reason to try again (not before `until`). */
type Attempt =
  | { kind: 'ended'; result: DeliveryResult }
  | { kind: 'refusedForGood'; error: string }
  | { kind: 'notFound'; error: string }
  | { kind: 'again'; error: string; type: string; until?: Date };

/** One attempt at one entry, claimed alone or with its batch; no claim: the outbox has no such entry. */
async function attemptDelivery(
  deps: ActivityDeps & OutboxSettings,
  key: string,
  claim: OutboxClaim | undefined,
): Promise<Attempt> {
  if (!claim) return { kind: 'notFound', error: `no notification ${key} in the outbox` };
  const outcome = await deliverClaimedEntry(deps, key, claim);
  switch (outcome.status) {
    case 'sent':
      return { kind: 'ended', result: { key, status: 'sent', alreadyDone: outcome.alreadySent } };
    case 'failed':
      return { kind: 'ended', result: { key, status: 'failed', alreadyDone: true } };
    case 'busy':
      // Another attempt may still be sending it: try again once its claim has run out.
      return {
        kind: 'again',
        error: `another attempt holds ${key} until ${outcome.until.toISOString()}`,
        type: FAILURE.notificationBusy,
        until: outcome.until,
      };
    case 'refused':
      return outcome.permanent
        ? { kind: 'refusedForGood', error: outcome.error }
        : { kind: 'again', error: outcome.error, type: FAILURE.providerUnavailable };
  }
}

/**
 * Starts the delivery workflow of entries recorded together, as a workflow of its own (no parent) on this
 * worker's task queue, and notes its id on each entry. One per batch, ever: a retry finds the running one
 * (USE_EXISTING) or the finished one (REJECT_DUPLICATE) and starts nothing; the outbox's claim and mark keep a
 * sent message from going twice.
 */
export async function startBatchDelivery(
  deps: ActivityDeps,
  cancellationId: string,
  keys: readonly string[],
): Promise<void> {
  if (keys.length === 0) return;
  const workflowId = notificationBatchDeliveryWorkflowId(cancellationId, keys);
  const args: [string[], DeliveryOptions] = [[...keys], deps.deliveryRetry ?? {}];
  // Noted first: once started, the workflow may already be reading its entries.
  await deps.models.Notification.updateMany(
    { idempotencyKey: { $in: [...keys] } },
    { $set: { deliveryWorkflowId: workflowId } },
  );
  try {
    await deps.temporal.workflow.start(NOTIFICATION_BATCH_DELIVERY_WORKFLOW_TYPE, {
      taskQueue: activityInfo().taskQueue,
      workflowId,
      args,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

export function createDeliveryActivities(deps: ActivityDeps & OutboxSettings) {
  /** Gives up on one entry for good, keeping the provider's last error (or the reason retries ended). */
  async function giveUp(key: string, reason: string): Promise<void> {
    await markOutboxFailed(deps.models, key, reason);
    deps.logger.warn({ key, reason }, 'notification given up');
  }

  return {
    /**
     * Sends the entry unless it was sent (or given up) already. A provider's temporary trouble is a retryable
     * failure; a refusal for good (an invalid number, a rejected address) is non-retryable and named.
     */
    async deliverNotification(key: string): Promise<DeliveryResult> {
      const claims = await claimOutboxEntries(deps.models, [key]);
      const attempt = await attemptDelivery(deps, key, claims.get(key));
      switch (attempt.kind) {
        case 'ended':
          return attempt.result;
        case 'notFound':
          throw ApplicationFailure.nonRetryable(attempt.error, FAILURE.notificationNotFound);
        case 'refusedForGood':
          throw ApplicationFailure.nonRetryable(attempt.error, FAILURE.notificationRejected);
        case 'again':
          throw ApplicationFailure.create({
            message: attempt.error,
            type: attempt.type,
            ...(attempt.until
              ? { nextRetryDelay: Math.max(attempt.until.getTime() - Date.now(), 1000) }
              : {}),
          });
      }
    },

    /**
     * Sends a batch's entries at once, each unless it was sent or given up already. A refusal for good ends
     * that entry alone (recorded as failed); temporary trouble with any entry fails the attempt after the others
     * went, and the retry skips what this attempt finished (its heartbeat details) and what the outbox marked.
     */
    async deliverNotifications(keys: readonly string[]): Promise<DeliveryResult[]> {
      const finished = new Map<string, DeliveryResult>(
        ((activityInfo().heartbeatDetails as DeliveryResult[] | undefined) ?? []).map((result) => [
          result.key,
          result,
        ]),
      );
      const report = () => heartbeat([...finished.values()]);
      const beating = setInterval(report, HEARTBEAT_EVERY_MS);
      const again: Extract<Attempt, { kind: 'again' }>[] = [];
      try {
        const unfinished = keys.filter((key) => !finished.has(key));
        const claims = await claimOutboxEntries(deps.models, unfinished);
        await Promise.all(
          unfinished.map(async (key) => {
            const attempt = await attemptDelivery(deps, key, claims.get(key));
            if (attempt.kind === 'again') {
              again.push(attempt);
              return;
            }
            if (attempt.kind === 'ended') finished.set(key, attempt.result);
            else {
              if (attempt.kind === 'refusedForGood') await giveUp(key, attempt.error);
              else deps.logger.warn({ key }, attempt.error);
              finished.set(key, { key, status: 'failed', alreadyDone: false });
            }
            report();
          }),
        );
      } finally {
        clearInterval(beating);
      }
      if (again.length > 0) {
        // Only entries held by another attempt: come back when the last claim runs out, not on the backoff.
        const busyUntil = again.every((attempt) => attempt.until)
          ? Math.max(...again.map((attempt) => attempt.until?.getTime() ?? 0))
          : undefined;
        throw ApplicationFailure.create({
          message: `${again.length} of ${keys.length} not sent yet: ${again.map((attempt) => attempt.error).join('; ')}`,
          type: again[0]?.type,
          ...(busyUntil !== undefined ? { nextRetryDelay: Math.max(busyUntil - Date.now(), 1000) } : {}),
        });
      }
      return keys.map((key) => finished.get(key) ?? { key, status: 'failed', alreadyDone: false });
    },

    /**
     * Starts the delivery workflow of each recorded entry, one per key: what cancellations started before
     * batches call. A retry, or a second notice naming the same key, starts nothing new.
     */
    async startDeliveryWorkflows(keys: readonly string[]): Promise<void> {
      const { taskQueue } = activityInfo();
      for (const key of keys) {
        try {
          const args: [string, DeliveryOptions] = [key, deps.deliveryRetry ?? {}];
          await deps.temporal.workflow.start(NOTIFICATION_DELIVERY_WORKFLOW_TYPE, {
            taskQueue,
            workflowId: notificationDeliveryWorkflowId(key),
            args,
            workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          });
        } catch (error) {
          if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        }
      }
    },

    async recordNotificationFailure(params: { key: string; reason: string }): Promise<void> {
      await giveUp(params.key, params.reason);
    },

    /** Gives up on a batch's entries still unsent (sent ones stay sent) and says how each ended. */
    async recordNotificationFailures(params: { keys: string[]; reason: string }): Promise<DeliveryResult[]> {
      const results: DeliveryResult[] = [];
      for (const key of params.keys) {
        const entry = await deps.models.Notification.findOne({ idempotencyKey: key }, { status: 1 }).lean();
        if (entry?.status === 'queued') await giveUp(key, params.reason);
        const sent = entry !== null && entry.status !== 'queued' && entry.status !== 'failed';
        results.push({ key, status: sent ? 'sent' : 'failed', alreadyDone: entry?.status !== 'queued' });
      }
      return results;
    },
  };
}
