import type { CancellationView } from '../contracts/cancellation.contract';
import type { ActivityDeps } from './deps';
import { analyticsSummaryOf } from '../models/analytics-summary';
import { nextRevision } from '../models/revision';
import { recordCancellationEvents } from './cancellation-events';

export interface CancellationProgress {
  view: CancellationView;
  /** How many state changes came before this one: the timeline's idempotency key. */
  step: number;
  at: string;
  final: boolean;
  /** What the timeline says of this step beyond its state, e.g. "manager-2 approved on behalf of manager-1". */
  note?: string;
}

/** The database copy's fields that follow the workflow's view. */
function copiedFrom(view: CancellationView) {
  return {
    state: view.state,
    policyVersion: view.policyVersion,
    approval: view.approval,
    purchasing: view.purchasing,
    settlement: view.settlement,
    attention: view.attention ?? null,
    goods: view.goods,
    outcome: view.outcome,
    refusal: view.refusal,
    risk: view.risk,
    refundedMinor: view.refundedMinor,
    currency: view.review?.currency,
    lines: view.review?.lines ?? [],
    notifications: view.notifications,
  };
}

export function createRecordActivities(deps: ActivityDeps) {
  const { models } = deps;

  /**
   * Brings the database copy up to the last of `steps` (consecutive, oldest first) in one write, each step on
   * the timeline once, and records each step's event for webhook subscribers (cancellation-events.ts).
   */
  async function recordSteps(steps: readonly CancellationProgress[]): Promise<void> {
    const last = steps.at(-1);
    if (!last) return;
    const { cancellationId } = last.view;
    // Read by key, written by key and the revision read (their unique index serves both, issue #13): a step
    // already on the timeline is not recorded again, and the timeline is written whole from the record as
    // read, so applying the write twice to one revision records each step once.
    for (let attempt = 0; ; attempt += 1) {
      if (attempt === 10) throw new Error(`cancellation ${cancellationId} keeps changing; will retry`);
      const record = await models.Cancellation.findOne(
        { cancellationId },
        { timeline: 1, updatedAt: 1, activeForOrder: 1 },
      ).lean();
      if (!record) return;
      // A step on the timeline in another state was written by a workflow task whose history was lost: it timed
      // out after its local activities ran (Temporal was down, the worker was killed), and its retry took another
      // path, having seen an Update the lost attempt had not. Found by `npm run chaos` (#15): a withdrawal's
      // final step was taken for "recorded" and the copy stayed in awaitingApproval for good. The retry's task
      // started later, at least a task timeout after the lost one (`at` is the workflow's clock), so the later
      // write of a step wins and the lost steps after it go; an earlier one is the lost attempt arriving late,
      // and changes nothing.
      const onTimeline = new Map(record.timeline.map((entry) => [entry.step, entry]));
      const firstNew = steps.findIndex(({ step, view }) => onTimeline.get(step)?.state !== view.state);
      const unrecorded = firstNew === -1 ? [] : steps.slice(firstNew);
      const replaced = unrecorded[0] && onTimeline.get(unrecorded[0].step);
      if (replaced?.at && unrecorded[0] && replaced.at > new Date(unrecorded[0].at)) return;
      const kept = record.timeline.filter((entry) => (entry.step ?? 0) < (unrecorded[0]?.step ?? Infinity));
      // An ended cancellation no longer holds its order: the next one may start.
      const release = last.final && record.activeForOrder != null;
      if (unrecorded.length === 0 && !release) break;
      const copied = copiedFrom(last.view);
      const timeline = [
        ...kept,
        ...unrecorded.map(({ step, view, at, note }) => ({
          step,
          state: view.state,
          at: new Date(at),
          note,
        })),
      ];
      const written = await models.Cancellation.updateOne(
        { cancellationId, updatedAt: record.updatedAt },
        {
          $set: {
            ...(unrecorded.length === 0
              ? {}
              : {
                  ...copied,
                  timeline,
                  // What the analytics read, from the timeline and lines of this very write (issue #14).
                  analytics: analyticsSummaryOf({ ...copied, timeline }),
                }),
            updatedAt: nextRevision(record.updatedAt),
          },
          ...(release ? { $unset: { activeForOrder: 1 } } : {}),
        },
        { timestamps: false },
      );
      if (written.matchedCount === 1) break;
    }
    // Also for steps recorded before: the attempt that recorded them may have stopped short of their events.
    await recordCancellationEvents(deps, steps);
  }

  return {
    /** Keeps the database copy of the cancellation in step with the workflow, once per state change. */
    async recordCancellationState(progress: CancellationProgress): Promise<void> {
      await recordSteps([progress]);
    },
    /**
     * The same for the steps a workflow task took before the workflow waits (PATCHES.recordStepsTogether): one
     * read and one write for all of them, where each cost its own.
     */
    async recordCancellationSteps(steps: CancellationProgress[]): Promise<void> {
      await recordSteps(steps);
    },
  };
}
