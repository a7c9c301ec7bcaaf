// One durable workflow per cancellation. It owns time and I/O; the statechart owns the rules: the workflow
// feeds the machine events (effect results, people's decisions) and carries out the effects it names.
import { ApplicationFailure, condition, defineUpdate, setHandler } from '@temporalio/workflow';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import { getCancellationQuery, type CancellationInput, type CancellationView } from './cancellation.contract';
import { isEffect, recordProgress, runEffect } from './cancellation.effects';
import { cancellationMachine, type CancellationEvent, type EffectParams } from './cancellation.machine';

export interface ApprovalDecision {
  approver: string;
  approved: boolean;
  reason?: string;
}

/** An approver's decision (R3). The validator refuses what the machine would not accept now. */
export const decideApprovalUpdate = defineUpdate<CancellationView, [ApprovalDecision]>('decideApproval');

type Snapshot = SnapshotFrom<typeof cancellationMachine>;

function toView(snapshot: Snapshot): CancellationView {
  const { context } = snapshot;
  return {
    cancellationId: context.request.cancellationId,
    orderNumber: context.request.orderNumber,
    state: snapshot.value,
    outcome: snapshot.status === 'done' ? snapshot.output?.outcome : undefined,
    refusal: context.refusal,
    reasonCode: context.request.reasonCode,
    review: context.review,
    risk: context.risk,
    refundedMinor: context.refundedMinor,
    notifications: context.notifications,
  };
}

function approvalEvent(decision: ApprovalDecision): CancellationEvent {
  return decision.approved
    ? { type: 'APPROVAL_GRANTED', approver: decision.approver }
    : {
        type: 'APPROVAL_REJECTED',
        approver: decision.approver,
        reason: decision.reason ?? 'no reason given',
      };
}

export async function cancellationWorkflow(input: CancellationInput): Promise<CancellationView> {
  let [snapshot, actions] = initialTransition(cancellationMachine, input);
  let step = 0;
  const inbox: CancellationEvent[] = [];

  setHandler(getCancellationQuery, () => toView(snapshot));
  setHandler(
    decideApprovalUpdate,
    async (decision) => {
      const before = step;
      inbox.push(approvalEvent(decision));
      await condition(() => step > before);
      return toView(snapshot);
    },
    {
      validator: (decision: ApprovalDecision) => {
        if (!snapshot.can(approvalEvent(decision))) {
          throw ApplicationFailure.nonRetryable(
            `cannot ${decision.approved ? 'approve' : 'reject'} now: the cancellation is ${String(snapshot.value)}` +
              (decision.approver === input.requestedBy
                ? ' and the requester may not decide their own request'
                : ''),
            'DecisionRefused',
          );
        }
      },
    },
  );

  const record = () =>
    recordProgress({
      view: toView(snapshot),
      step,
      at: new Date().toISOString(), // the workflow's deterministic clock
      final: snapshot.status === 'done',
    });

  await record();
  while (snapshot.status !== 'done') {
    for (const action of actions) {
      if (isEffect(action.type)) {
        inbox.push(await runEffect(action.type, action.params as EffectParams[typeof action.type]));
      }
    }
    await condition(() => inbox.length > 0);
    const event = inbox.shift() as CancellationEvent;
    [snapshot, actions] = transition(cancellationMachine, snapshot, event);
    step += 1;
    await record();
  }
  return toView(snapshot);
}
