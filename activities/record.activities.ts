import type { CancellationView } from '../contracts/cancellation.contract';
import type { ActivityDeps } from './deps';
import { nextRevision } from '../models/revision';
import { recordCancellationEvent } from './cancellation-events';

export interface CancellationProgress {
  view: CancellationView;
  /** How many state changes came before this one: the timeline's idempotency key. */
  step: number;
  at: string;
  final: boolean;
  /** What the timeline says of this step beyond its state, e.g. "manager-2 approved on behalf of manager-1". */
  note?: string;
}

export function createRecordActivities(deps: ActivityDeps) {
  const { models } = deps;
  return {
    /**
     * Keeps the database copy of the cancellation in step with the workflow, once per state change, and records
     * the change's event for webhook subscribers (cancellation-events.ts).
     */
    async recordCancellationState({ view, step, at, final, note }: CancellationProgress): Promise<void> {
      const set = {
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
      // Read by key, written by key and the revision read (their unique index serves both, issue #13): a step
      // already on the timeline is not recorded again, and the timeline is written whole from the record as
      // read, so applying the write twice to one revision records the step once.
      const { cancellationId } = view;
      for (let attempt = 0; ; attempt += 1) {
        if (attempt === 10) throw new Error(`cancellation ${cancellationId} keeps changing; will retry`);
        const record = await models.Cancellation.findOne(
          { cancellationId },
          { timeline: 1, updatedAt: 1, activeForOrder: 1 },
        ).lean();
        if (!record) return;
        const recorded = record.timeline.some((entry) => entry.step === step);
        // An ended cancellation no longer holds its order: the next one may start.
        const release = final && record.activeForOrder != null;
        if (recorded && !release) break;
        const written = await models.Cancellation.updateOne(
          { cancellationId, updatedAt: record.updatedAt },
          {
            $set: {
              ...(recorded
                ? {}
                : {
                    ...set,
                    timeline: [...record.timeline, { step, state: view.state, at: new Date(at), note }],
                  }),
              updatedAt: nextRevision(record.updatedAt),
            },
            ...(release ? { $unset: { activeForOrder: 1 } } : {}),
          },
          { timestamps: false },
        );
        if (written.matchedCount === 1) break;
      }
      // Also when the step was recorded before: the attempt that recorded it may have stopped short of its event.
      await recordCancellationEvent(deps, { view, step, at, final });
    },
  };
}
