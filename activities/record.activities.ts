import type { CancellationView } from '../contracts/cancellation.contract';
import type { ActivityDeps } from './deps';

export interface CancellationProgress {
  view: CancellationView;
  /** How many state changes came before this one: the timeline's idempotency key. */
  step: number;
  at: string;
  final: boolean;
  /** What the timeline says of this step beyond its state, e.g. "manager-2 approved on behalf of manager-1". */
  note?: string;
}

export function createRecordActivities({ models }: ActivityDeps) {
  return {
    /** Keeps the database copy of the cancellation in step with the workflow, once per state change. */
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
      await models.Cancellation.updateOne(
        { cancellationId: view.cancellationId, 'timeline.step': { $ne: step } },
        { $set: set, $push: { timeline: { step, state: view.state, at: new Date(at), note } } },
      );
      // An ended cancellation no longer holds its order: the next one may start.
      if (final)
        await models.Cancellation.updateOne(
          { cancellationId: view.cancellationId },
          { $unset: { activeForOrder: 1 } },
        );
    },
  };
}
