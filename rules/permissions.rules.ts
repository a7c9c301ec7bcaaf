// R3, R9, R11, R12, R15, R26: who may do what to a cancellation. Pure functions over plain data: the
// statechart's guards call them, the workflow answers a refused Update with their reason, and the API checks a
// requester with them before anything starts. Who holds a role comes from the books (activities find the
// people); whether they may act here and now is decided only here.

/** A rule's answer. `final`: this person may never do this in this cancellation, whatever state it is in. */
export type Verdict = { allowed: true } | { allowed: false; reason: string; final?: boolean };

const ALLOWED: Verdict = { allowed: true };
const refuse = (reason: string, final = false): Verdict => ({ allowed: false, reason, final });

/** R3, R26: only an active person of the books with the `requester` role asks for a cancellation. */
export function mayRequest(
  personId: string,
  person: { active: boolean; roles: readonly string[] } | null | undefined,
): Verdict {
  const why = !person
    ? 'is not a person in the books'
    : !person.active
      ? 'is no longer active'
      : !person.roles.includes('requester')
        ? 'does not have the requester role'
        : undefined;
  return why ? refuse(`${personId} ${why}, so may not request cancellations`, true) : ALLOWED;
}

/**
 * R3, R15: who may decide a step, of the approvers the books have at its level: never the requester, and never
 * someone who decided an earlier step (each level of a multi-level approval is a different person's judgement).
 */
export function eligibleApprovers(
  found: readonly string[],
  requestedBy: string,
  earlierDecisions: readonly { approver: string }[],
): string[] {
  return found.filter(
    (id) => id !== requestedBy && !earlierDecisions.some((decision) => decision.approver === id),
  );
}

/**
 * R3, R15: an approver decides the step under way if it is theirs to decide; the requester never does, not even
 * as someone's delegate. `onBehalfOf`: a delegate decides for that eligible approver, which the step allows only
 * if it found that delegation in force when its approvers were found.
 */
export function mayDecide(
  approver: string,
  requestedBy: string,
  step:
    | {
        eligibleApprovers: readonly string[];
        requiredLevel: number;
        delegates?: readonly { delegate: string; onBehalfOf: string }[];
      }
    | undefined,
  onBehalfOf?: string,
): Verdict {
  if (approver === requestedBy) return refuse('the requester may not decide their own cancellation', true);
  if (onBehalfOf !== undefined) {
    if (!step?.eligibleApprovers.includes(onBehalfOf)) {
      return refuse(`${onBehalfOf} is not an approver of this step, so no one decides on their behalf`);
    }
    const delegated = step.delegates?.some(
      (pair) => pair.delegate === approver && pair.onBehalfOf === onBehalfOf,
    );
    return delegated
      ? ALLOWED
      : refuse(
          `${approver} is not a delegate of ${onBehalfOf} for this step (no delegation was in force when its ` +
            'approvers were found)',
        );
  }
  if (!step?.eligibleApprovers.includes(approver)) {
    return refuse(
      `${approver} is not an approver of level ${step?.requiredLevel ?? 1} or higher for this cancellation`,
    );
  }
  return ALLOWED;
}

/** Only the requester withdraws their request (the statechart says until when). */
export function mayWithdraw(by: string, requestedBy: string): Verdict {
  return by === requestedBy ? ALLOWED : refuse(`only the requester (${requestedBy}) may withdraw it`, true);
}

/** R11, R28: a refund the gateway refused is settled by hand by a finance clerk. */
export function maySettle(by: string, financeClerks: readonly string[]): Verdict {
  return financeClerks.includes(by) ? ALLOWED : refuse(`${by} is not a finance clerk`);
}

/** What stopped a cancellation is repaired, and the cancellation resumed, by an ops person. */
export function mayResume(by: string, ops: readonly string[]): Verdict {
  return ops.includes(by) ? ALLOWED : refuse(`${by} is not an ops person`);
}

/** R9: a warehouse clerk confirms that a parcel of this cancellation still expected back is back. */
export function mayConfirmReturn(
  by: string,
  shipmentId: string,
  warehouseClerks: readonly string[],
  parcelsExpected: readonly { shipmentId: string }[],
): Verdict {
  if (!warehouseClerks.includes(by)) return refuse(`${by} is not a warehouse clerk`);
  if (!parcelsExpected.some((parcel) => parcel.shipmentId === shipmentId)) {
    return refuse(`${shipmentId} is not a parcel of this cancellation still expected back`);
  }
  return ALLOWED;
}

/** R12: the customer (or customer service for them) chooses one of the options offered. */
export function mayChoose(option: string, offered: readonly string[] | undefined): Verdict {
  return offered?.includes(option)
    ? ALLOWED
    : refuse(`${option} is not offered (offered: ${offered?.join(', ') ?? 'none'})`);
}

/** R9: the carrier's later answer counts for a recall it has not answered yet. */
export function awaitsCarrierAnswer(
  answer: { shipmentId: string; recallId: string },
  recalls: readonly { shipmentId: string; recallId?: string; status: string }[],
): Verdict {
  const awaited = recalls.some(
    (recall) =>
      recall.shipmentId === answer.shipmentId &&
      recall.recallId === answer.recallId &&
      recall.status === 'pending',
  );
  return awaited
    ? ALLOWED
    : refuse(`no recall ${answer.recallId} of ${answer.shipmentId} is waiting for an answer`);
}
