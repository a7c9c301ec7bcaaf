// One durable workflow per cancellation. It owns time and I/O; the statechart owns the rules: the workflow
// feeds the machine events (effect results, timers, people's decisions) and carries out the effects it names.
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  patched,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { initialTransition, transition, type SnapshotFrom, type StateValue } from 'xstate';
import {
  getCancellationQuery,
  type CancellationInput,
  type CancellationView,
} from '../contracts/cancellation.contract';
import {
  createEffectRunner,
  recordProgress,
  recordSteps,
  type RunningClock,
  type RunningDeadline,
} from './cancellation.effects';
import { timelineNote } from './cancellation.context';
import { cancellationMachine, stateName, type CancellationContext } from './cancellation.machine';
import { type CancellationEvent, type EffectParams } from '../contracts/effects.contract';
import { PATCHES, type UsesPatch } from './patches';
import type { CancellationProgress } from '../activities/record.activities';
import { refusalOf, registerPersonActions, type PersonAction, type PersonEvent } from './person-actions';
import { searchAttributeKeys } from '../contracts/search-attributes';
import { FAILURE } from '../contracts/failures.contract';

type Snapshot = SnapshotFrom<typeof cancellationMachine>;

/**
 * The cancellation as the API and the database copy show it. `approvalClock`, the approval clock running now,
 * gives the step's deadline as a moment on the workflow's (deterministic) clock.
 */
function toView(snapshot: Snapshot, approvalClock?: RunningClock): CancellationView {
  const { context } = snapshot;
  const approval = context.approval && {
    step: context.approval.step,
    steps: context.approval.steps,
    requiredLevel: context.approval.requiredLevel,
    escalations: context.approval.escalations,
    eligibleApprovers: context.approval.eligibleApprovers,
    ...(context.approval.delegates ? { delegates: context.approval.delegates } : {}),
    decisions: context.approval.decisions,
    ...(approvalClock
      ? { decideBy: new Date(Date.now() + approvalClock.deadlineMs - approvalClock.elapsedMs).toISOString() }
      : {}),
  };
  return {
    cancellationId: context.request.cancellationId,
    orderNumber: context.request.orderNumber,
    state: stateName(snapshot.value),
    outcome: snapshot.status === 'done' ? context.outcome : undefined,
    refusal: context.refusal,
    policyVersion: context.policy?.version,
    approval,
    purchasing: context.purchasing,
    settlement: context.settlement && {
      failure: context.settlement.failure,
      outstandingMinor: context.settlement.outstandingMinor,
      by: context.settlement.by,
      reference: context.settlement.reference,
    },
    attention: context.attention && { from: context.attention.from, reason: context.attention.reason },
    goods: context.goods && {
      recalls: context.goods.recalls,
      offer: context.goods.offer,
      choice: context.goods.choice,
      returned: context.goods.returned,
      returnOverdue: context.goods.returnOverdue,
    },
    reasonCode: context.request.reasonCode,
    review: context.review,
    risk: context.risk,
    refundedMinor: context.refundedMinor,
    notifications: context.notifications,
  };
}

/**
 * What a cancellation carries into its next run when its history grows long: the machine's state and
 * context, the step count (the database timeline's key), events not yet taken, and the approval clock.
 */
export interface ContinuedCancellation {
  value: StateValue;
  context: CancellationContext;
  step: number;
  inbox: CancellationEvent[];
  clock?: RunningClock;
  deadline?: RunningDeadline;
}

export type CancellationWorkflowInput = CancellationInput & {
  continued?: ContinuedCancellation;
  /** Continue as new once the history has this many events (default: when the server suggests it). */
  historyLimit?: number;
};

export async function cancellationWorkflow(input: CancellationWorkflowInput): Promise<CancellationView> {
  // Before anything else, in the run's first workflow task (PATCHES.decidedAtStart says why).
  const decidedAtStart = patched(PATCHES.decidedAtStart);
  const uses: UsesPatch = (patch) => decidedAtStart || patched(patch);
  const { continued, historyLimit, ...request } = input;
  let [snapshot, actions] = continued
    ? [cancellationMachine.resolveState({ value: continued.value, context: continued.context }), []]
    : initialTransition(cancellationMachine, {
        ...request,
        // Cancellations started before the order was read again after an approval keep going without it.
        recheckAfterApproval: uses(PATCHES.leanHistory) || uses(PATCHES.recheckAfterApproval),
      });
  let step = continued?.step ?? 0;
  const inbox: CancellationEvent[] = [...(continued?.inbox ?? [])];
  /** How the loop dealt with each person's event: taken by the machine, or ignored because it moved on. */
  const settled = new WeakMap<CancellationEvent, 'taken' | 'ignored'>();
  /** The events people sent (through Updates), who wait for the answer. */
  const fromPeople = new WeakSet<CancellationEvent>();
  // A call to a provider may take a while: the UI shows the state it is made in.
  const effects = createEffectRunner((event) => inbox.push(event), {
    beforeSlowStep: () => beforeWaiting(),
    uses,
  });
  /** The view now, with the deadline of the approval clock if one runs. */
  const currentView = () => toView(snapshot, effects.runningClock());
  if (continued?.clock) effects.resumeClock(continued.clock);
  if (continued?.deadline) effects.resumeDeadline(continued.deadline);

  /** Only while waiting for people or time, with no message being handled, is it safe to move on. */
  /**
   * Events this run has dealt with. A run that has dealt with none has nothing to shed by continuing: its
   * history is its start, and a suggestion that its start alone brings (a large carried context) would
   * otherwise make every new run continue again at once.
   */
  let eventsThisRun = 0;
  const timeToContinueAsNew = () => {
    const info = workflowInfo();
    const long =
      info.continueAsNewSuggested || (historyLimit !== undefined && info.historyLength >= historyLimit);
    return long && eventsThisRun > 0 && inbox.length === 0 && allHandlersFinished();
  };

  /**
   * Queues a person's event and answers once the machine has dealt with it. The validator checked it against
   * the state at that moment; if an event queued ahead of it (a deadline, another decision) moved the
   * cancellation on, it is refused now rather than silently dropped.
   */
  async function deliver(event: CancellationEvent, what: string): Promise<CancellationView> {
    fromPeople.add(event);
    inbox.push(event);
    await condition(() => settled.has(event));
    if (settled.get(event) === 'ignored') {
      throw ApplicationFailure.nonRetryable(
        `cannot ${what}: the cancellation moved on to ${stateName(snapshot.value)} first`,
        FAILURE.requestRefused,
      );
    }
    return currentView();
  }

  /**
   * The Update's validator: refuses, before anything enters history, what the machine would not take now.
   * Malformed input is told apart from a refusal (RequestMalformed, naming the field), so callers can answer
   * 400 rather than 409.
   */
  function refuseUnlessAccepted(event: PersonEvent, what: string): void {
    const malformedField = (field: string, problem: string) =>
      ApplicationFailure.create({
        type: FAILURE.requestMalformed,
        message: `cannot ${what}: ${field} ${problem}`,
        details: [{ field }],
        nonRetryable: true,
      });
    const malformed = Object.entries(event).find(
      ([key, value]) => key !== 'type' && value !== undefined && typeof value !== 'string',
    );
    if (malformed) throw malformedField(malformed[0], 'must be text');
    if ('by' in event && event.by.trim() === '') throw malformedField('by', 'must name who sends it');
    const why = refusalOf(snapshot, event);
    if (why !== undefined)
      throw ApplicationFailure.nonRetryable(`cannot ${what}: ${why}`, FAILURE.requestRefused);
  }

  setHandler(getCancellationQuery, currentView);
  registerPersonActions(<Payload>(action: PersonAction<Payload>) => {
    setHandler(action.update, (payload: Payload) => deliver(action.event(payload), action.verb(payload)), {
      validator: (payload: Payload) => refuseUnlessAccepted(action.event(payload), action.verb(payload)),
    });
  });

  // Ops find every cancellation in the Temporal UI by its state and risk (the database copy serves lists and
  // reports). Each write is an event in history, so runs under PATCHES.leanHistory write them
  // only when they changed and the workflow is about to wait; older histories wrote them on every step.
  let shownInSearch = '';
  const showInSearch = () => {
    const view = toView(snapshot);
    const attributes = [
      { key: searchAttributeKeys.state, value: view.state },
      ...(view.risk ? [{ key: searchAttributeKeys.risk, value: view.risk.level }] : []),
    ];
    const shown = JSON.stringify(attributes);
    if (shown === shownInSearch) return;
    upsertSearchAttributes(attributes);
    shownInSearch = shown;
  };
  const showWhenWaiting = () => {
    if (uses(PATCHES.leanHistory)) showInSearch();
  };

  /** Steps taken but not yet in the database copy (PATCHES.recordStepsTogether), oldest first. */
  const unrecorded: CancellationProgress[] = [];
  const recordUnrecorded = async () => {
    const last = unrecorded.at(-1);
    if (!last) return;
    // The machine has not moved since the last step was taken, but that step's effects may have started a
    // clock since: its view, taken again, shows the approval's deadline.
    last.view = currentView();
    await recordSteps(unrecorded.splice(0));
  };
  /** Before the workflow waits for a provider, a person or time: the UI and the database copy catch up. */
  const beforeWaiting = async () => {
    showWhenWaiting();
    await recordUnrecorded();
  };

  /** `note`: what the timeline says of the step beyond its state (who decided, on whose behalf). */
  const record = async (note?: string) => {
    const view = currentView();
    if (!uses(PATCHES.leanHistory)) {
      upsertSearchAttributes([
        { key: searchAttributeKeys.state, value: view.state },
        ...(view.risk ? [{ key: searchAttributeKeys.risk, value: view.risk.level }] : []),
      ]);
    }
    const progress: CancellationProgress = {
      view,
      step,
      at: new Date().toISOString(),
      final: snapshot.status === 'done',
      ...(note !== undefined ? { note } : {}),
    };
    if (uses(PATCHES.recordStepsTogether)) unrecorded.push(progress);
    else await recordProgress(progress);
  };

  if (!continued) await record();
  while (snapshot.status !== 'done') {
    for (const action of actions) {
      if (!effects.handles(action.type)) continue;
      const event = await effects.run(action.type, action.params as EffectParams[typeof action.type]);
      if (event) inbox.push(event);
    }
    if (inbox.length === 0) await beforeWaiting();
    await condition(() => inbox.length > 0 || timeToContinueAsNew());
    // Notices still being sent finish in this run; a message may arrive meanwhile, and is taken first.
    if (inbox.length === 0) await effects.drain();
    if (inbox.length === 0 && allHandlersFinished()) {
      const carried: ContinuedCancellation = {
        value: snapshot.value,
        context: snapshot.context,
        step,
        inbox,
        clock: effects.runningClock(),
        deadline: effects.runningDeadline(),
      };
      effects.stop();
      return await continueAsNew<typeof cancellationWorkflow>({
        ...request,
        historyLimit,
        continued: carried,
      });
    }
    const event = inbox.shift();
    if (!event) {
      // Nothing to take and no time to continue as new after all: the effects already ran; wait again.
      actions = [];
      continue;
    }
    eventsThisRun += 1;
    const [next, nextActions] = transition(cancellationMachine, snapshot, event);
    if (next === snapshot) {
      // A failure no state expects would leave the workflow waiting for nothing: fail it visibly instead.
      if (event.type === 'EFFECT_FAILED') {
        await recordUnrecorded();
        throw ApplicationFailure.nonRetryable(
          `${event.effect} failed in ${stateName(snapshot.value)}: ${event.reason}`,
        );
      }
      // An event the machine ignores now, e.g. a reminder from a clock that a decision already stopped.
      actions = [];
      settled.set(event, 'ignored');
    } else {
      [snapshot, actions] = [next, nextActions];
      step += 1;
      settled.set(event, 'taken');
      // A person waits for the answer, which leaves with the workflow task; the local activities of the steps
      // that follow would hold that task (seconds under load, past the API's deadline). A timer ends the task
      // here, and the steps run in the next.
      if (fromPeople.has(event) && uses(PATCHES.answerPeopleFirst)) await sleep(1);
      await record(timelineNote(event));
    }
  }
  await beforeWaiting();
  // The final state's own effects (the notices of its ending).
  for (const action of actions) {
    if (effects.handles(action.type))
      await effects.run(action.type, action.params as EffectParams[typeof action.type]);
  }
  effects.stop();
  await effects.drain();
  // Messages that arrived after the end are refused, and answered before the workflow completes.
  for (const late of inbox.splice(0)) settled.set(late, 'ignored');
  await condition(allHandlersFinished);
  return currentView();
}
