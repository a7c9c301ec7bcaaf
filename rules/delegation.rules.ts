// R15: an approver who is away names a delegate for a period. Pure functions over plain data: the API asks
// `mayDelegate` before it records a delegation and `inForce` before it lets a delegate decide on someone's
// behalf; the approval step asks `stepDelegates` which of the delegations in force when its approvers were found
// count for it. Who the people are comes from the books; the clock is the caller's (never the workflow's).
import type { StepDelegate } from '../contracts/cancellation.contract';
import type { Verdict } from './permissions.rules';

const ALLOWED: Verdict = { allowed: true };
const refuse = (reason: string): Verdict => ({ allowed: false, reason, final: false });

/** What the rules need to know of a person of the books. */
export interface DelegationParty {
  active: boolean;
  roles: readonly string[];
  approvalLevel: number;
}

/** A delegation's period: from (inclusive) until (exclusive); ended early when revoked. */
export interface DelegationPeriod {
  from: Date;
  until: Date;
  revokedAt?: Date | null;
}

const isApprover = (person: DelegationParty) =>
  person.active && person.roles.includes('approver') && person.approvalLevel > 0;

/**
 * R15: an approver may name as delegate an active approver of the same or a higher level, not themselves, for
 * a period that ends after it starts and has not ended yet (`now`).
 */
export function mayDelegate(
  delegator: { personId: string; person: DelegationParty | null | undefined },
  delegate: { personId: string; person: DelegationParty | null | undefined },
  period: { from: Date; until: Date },
  now: Date,
): Verdict {
  if (!delegator.person || !isApprover(delegator.person)) {
    return refuse(`${delegator.personId} is not an active approver, so has no decisions to delegate`);
  }
  if (delegate.personId === delegator.personId) return refuse('an approver may not delegate to themselves');
  if (!delegate.person) return refuse(`${delegate.personId} is not a person in the books`);
  if (!isApprover(delegate.person)) return refuse(`${delegate.personId} is not an active approver`);
  if (delegate.person.approvalLevel < delegator.person.approvalLevel) {
    return refuse(
      `${delegate.personId} approves at level ${delegate.person.approvalLevel}, below ${delegator.personId}'s ` +
        `level ${delegator.person.approvalLevel}: a delegate must be of the same or a higher level`,
    );
  }
  if (Number.isNaN(period.from.getTime()) || Number.isNaN(period.until.getTime())) {
    return refuse('the period needs a valid start and end');
  }
  if (period.from.getTime() >= period.until.getTime()) return refuse('the period must end after it starts');
  if (period.until.getTime() <= now.getTime()) return refuse('the period has already ended');
  return ALLOWED;
}

/** Whether the delegation holds at `at`: within its period and not revoked by then. */
export function inForce(delegation: DelegationPeriod, at: Date): boolean {
  const time = at.getTime();
  const revoked = delegation.revokedAt != null && delegation.revokedAt.getTime() <= time;
  return !revoked && delegation.from.getTime() <= time && time < delegation.until.getTime();
}

/**
 * R3, R15: of the delegations in force when a step's approvers were found, those that count for it: from an
 * eligible approver of the step, to someone who is not the requester and did not decide an earlier step (a
 * delegate is a stand-in, not a way round the four eyes). Each pair once, in the order found.
 */
export function stepDelegates(
  delegations: readonly StepDelegate[],
  eligible: readonly string[],
  requestedBy: string,
  earlierDecisions: readonly { approver: string }[],
): StepDelegate[] {
  const kept: StepDelegate[] = [];
  for (const { delegate, onBehalfOf } of delegations) {
    if (!eligible.includes(onBehalfOf) || delegate === onBehalfOf) continue;
    if (delegate === requestedBy) continue;
    if (earlierDecisions.some((decision) => decision.approver === delegate)) continue;
    if (kept.some((pair) => pair.delegate === delegate && pair.onBehalfOf === onBehalfOf)) continue;
    kept.push({ delegate, onBehalfOf });
  }
  return kept;
}
