// What people (and the carrier's webhook) may send a running cancellation, one entry per action: the Update that
// carries it, the machine event it becomes, and the rule that decides who may send it. The workflow registers
// each entry the same way, so adding an action is one entry here and one transition in the machine.
//
// Why an action is refused comes from the rule that refused it (rules/permissions.rules.ts, which the machine's
// guards also ask), or from the machine's structure when the state takes no such event at all; never from
// matching state names.
import type { UpdateDefinition } from '@temporalio/common';
import { getStateNodes, type SnapshotFrom } from 'xstate';
import {
  chooseResolutionUpdate,
  confirmReturnUpdate,
  decideApprovalUpdate,
  reportCarrierOutcomeUpdate,
  resumeUpdate,
  settleRefundUpdate,
  withdrawUpdate,
  type CancellationView,
} from '../contracts/cancellation.contract';
import type { CancellationEvent } from '../contracts/effects.contract';
import {
  awaitsCarrierAnswer,
  mayChoose,
  mayConfirmReturn,
  mayDecide,
  mayResume,
  maySettle,
  mayWithdraw,
  type Verdict,
} from '../rules/permissions.rules';
import { goodsProgress, parcelsToReturn } from './cancellation.context';
import { cancellationMachine, stateName } from './cancellation.machine';

type Snapshot = SnapshotFrom<typeof cancellationMachine>;
export type PersonEvent = Extract<
  CancellationEvent,
  {
    type:
      | 'APPROVAL_GRANTED'
      | 'APPROVAL_REJECTED'
      | 'WITHDRAW'
      | 'REFUND_SETTLED'
      | 'RESUME'
      | 'RESOLUTION_CHOSEN'
      | 'RETURN_CONFIRMED'
      | 'CARRIER_ANSWERED';
  }
>;

export interface PersonAction<Payload> {
  update: UpdateDefinition<CancellationView, [Payload]>;
  /** What the person asked, for the refusal: "cannot <verb>: <why>". */
  verb: (payload: Payload) => string;
  /** The machine event, built field by field: a caller's payload never chooses the event type. */
  event: (payload: Payload) => PersonEvent;
}

/** Registers one entry of the table; the workflow passes a function that does so for any payload type. */
export type RegisterAction = <Payload>(action: PersonAction<Payload>) => void;

/** Every action, registered through `register` (the payload types differ, so each goes through it alone). */
export function registerPersonActions(register: RegisterAction): void {
  register({
    update: decideApprovalUpdate,
    verb: (decision) => (decision.approved ? 'approve' : 'reject'),
    event: (decision) =>
      decision.approved === true
        ? {
            type: 'APPROVAL_GRANTED',
            approver: decision.approver,
            reason: decision.reason,
            ...(decision.onBehalfOf !== undefined ? { onBehalfOf: decision.onBehalfOf } : {}),
          }
        : {
            type: 'APPROVAL_REJECTED',
            approver: decision.approver,
            reason: decision.reason ?? 'no reason given',
            ...(decision.onBehalfOf !== undefined ? { onBehalfOf: decision.onBehalfOf } : {}),
          },
  });
  register({
    update: settleRefundUpdate,
    verb: () => 'record the settlement',
    event: (settlement) => ({ type: 'REFUND_SETTLED', by: settlement.by, reference: settlement.reference }),
  });
  register({
    update: resumeUpdate,
    verb: () => 'resume',
    event: (resumption) => ({ type: 'RESUME', by: resumption.by, note: resumption.note }),
  });
  register({
    update: withdrawUpdate,
    verb: () => 'withdraw',
    event: (withdrawal) => ({ type: 'WITHDRAW', by: withdrawal.by, reason: withdrawal.reason }),
  });
  register({
    update: reportCarrierOutcomeUpdate,
    verb: () => "take the carrier's answer",
    event: (outcome) => ({
      type: 'CARRIER_ANSWERED',
      shipmentId: outcome.shipmentId,
      recallId: outcome.recallId,
      outcome: outcome.outcome,
      reason: outcome.reason,
    }),
  });
  register({
    update: chooseResolutionUpdate,
    verb: () => 'take the choice',
    event: (choice) => ({
      type: 'RESOLUTION_CHOSEN',
      option: choice.option,
      by: choice.by,
      note: choice.note,
    }),
  });
  register({
    update: confirmReturnUpdate,
    verb: () => 'confirm the return',
    event: (confirmation) => ({
      type: 'RETURN_CONFIRMED',
      shipmentId: confirmation.shipmentId,
      by: confirmation.by,
      note: confirmation.note,
    }),
  });
}

/** The rule that decides whether this person may send this event to this cancellation. */
function verdictOn(snapshot: Snapshot, event: PersonEvent): Verdict {
  const { context } = snapshot;
  const { requestedBy } = context.request;
  switch (event.type) {
    case 'APPROVAL_GRANTED':
    case 'APPROVAL_REJECTED':
      return mayDecide(event.approver, requestedBy, context.approval, event.onBehalfOf);
    case 'WITHDRAW':
      return mayWithdraw(event.by, requestedBy);
    case 'REFUND_SETTLED':
      return maySettle(event.by, context.settlement?.eligibleClerks ?? []);
    case 'RESUME':
      return mayResume(event.by, context.attention?.eligibleOps ?? []);
    case 'RESOLUTION_CHOSEN':
      return mayChoose(event.option, goodsProgress(context).offer?.options);
    case 'RETURN_CONFIRMED':
      return mayConfirmReturn(
        event.by,
        event.shipmentId,
        goodsProgress(context).eligibleClerks,
        parcelsToReturn(context),
      );
    case 'CARRIER_ANSWERED':
      return awaitsCarrierAnswer(event, goodsProgress(context).recalls);
  }
}

/** Whether the state (or a state it is in) has a transition for events of this type, whatever their guards. */
function takesEventsOfType(snapshot: Snapshot, type: CancellationEvent['type']): boolean {
  return getStateNodes(cancellationMachine.root, snapshot.value).some((node) =>
    node.ownEvents.includes(type),
  );
}

/**
 * Why the machine will not take this event now, or undefined when it will. In order: the rule refusing this
 * person for good (the requester deciding their own request); the state taking no such event (withdrawing past
 * the point of no return); the rule refusing them here and now (not an approver of this step's level).
 */
export function refusalOf(snapshot: Snapshot, event: PersonEvent): string | undefined {
  if (snapshot.can(event)) return undefined;
  const state = stateName(snapshot.value);
  const verdict = verdictOn(snapshot, event);
  if (!verdict.allowed && verdict.final) return verdict.reason;
  if (!takesEventsOfType(snapshot, event.type)) {
    return event.type === 'WITHDRAW' && snapshot.status !== 'done'
      ? `it is past the point of no return (${state}): stock or money has started to move`
      : `the cancellation is ${state}`;
  }
  return verdict.allowed ? `the cancellation is ${state}` : verdict.reason;
}
