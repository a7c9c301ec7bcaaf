// R15: who may name whom as delegate, when a delegation holds, and which delegations count for an approval
// step: pure verdicts over plain data, table-driven. The refusals' wording is pinned: the API shows it as it is.
import type { StepDelegate } from '../contracts/cancellation.contract';
import { inForce, mayDelegate, stepDelegates, type DelegationParty } from '../rules/delegation.rules';
import { mayDecide, type Verdict } from '../rules/permissions.rules';

const allowed: Verdict = { allowed: true };
const refused = (reason: string, final = false): Verdict => ({ allowed: false, reason, final });

const now = new Date('2026-03-10T08:00:00Z');
const at = (iso: string) => new Date(iso);
const approver = (approvalLevel: number, extra: Partial<DelegationParty> = {}): DelegationParty => ({
  active: true,
  roles: ['approver'],
  approvalLevel,
  ...extra,
});
const week = { from: at('2026-03-10T00:00:00Z'), until: at('2026-03-17T00:00:00Z') };

describe('who may name whom as delegate, for which period (R15)', () => {
  test.each<
    [string, DelegationParty | null, string, DelegationParty | null, { from: Date; until: Date }, Verdict]
  >([
    ['a delegate of the same level may', approver(1), 'manager-2', approver(1), week, allowed],
    ['a delegate of a higher level may', approver(1), 'director-1', approver(2), week, allowed],
    [
      'a period that starts later may',
      approver(2),
      'director-2',
      approver(2),
      { from: at('2026-04-01T00:00:00Z'), until: at('2026-04-08T00:00:00Z') },
      allowed,
    ],
    [
      'a delegate of a lower level may not',
      approver(2),
      'manager-2',
      approver(1),
      week,
      refused(
        "manager-2 approves at level 1, below manager-1's level 2: a delegate must be of the same or a higher level",
      ),
    ],
    [
      'not to themselves',
      approver(1),
      'manager-1',
      approver(1),
      week,
      refused('an approver may not delegate to themselves'),
    ],
    [
      'not to someone the books do not know',
      approver(1),
      'manager-2',
      null,
      week,
      refused('manager-2 is not a person in the books'),
    ],
    [
      'not to someone who left',
      approver(1),
      'manager-2',
      approver(1, { active: false }),
      week,
      refused('manager-2 is not an active approver'),
    ],
    [
      'not to someone without the approver role',
      approver(1),
      'manager-2',
      approver(1, { roles: ['requester'] }),
      week,
      refused('manager-2 is not an active approver'),
    ],
    [
      'not to someone of level 0',
      approver(1),
      'manager-2',
      approver(0),
      week,
      refused('manager-2 is not an active approver'),
    ],
    [
      'not by someone who is no approver',
      approver(0),
      'manager-2',
      approver(1),
      week,
      refused('manager-1 is not an active approver, so has no decisions to delegate'),
    ],
    [
      'not by someone the books do not know',
      null,
      'manager-2',
      approver(1),
      week,
      refused('manager-1 is not an active approver, so has no decisions to delegate'),
    ],
    [
      'not for a period that ends before it starts',
      approver(1),
      'manager-2',
      approver(1),
      { from: week.until, until: week.from },
      refused('the period must end after it starts'),
    ],
    [
      'not for a period of no length',
      approver(1),
      'manager-2',
      approver(1),
      { from: week.from, until: week.from },
      refused('the period must end after it starts'),
    ],
    [
      'not for a period already over',
      approver(1),
      'manager-2',
      approver(1),
      { from: at('2026-03-01T00:00:00Z'), until: at('2026-03-10T08:00:00Z') },
      refused('the period has already ended'),
    ],
    [
      'not for a period with no valid end',
      approver(1),
      'manager-2',
      approver(1),
      { from: week.from, until: at('not a date') },
      refused('the period needs a valid start and end'),
    ],
  ])('%s', (_case, delegator, delegateId, delegate, period, expected) => {
    expect(
      mayDelegate(
        { personId: 'manager-1', person: delegator },
        { personId: delegateId, person: delegate },
        period,
        now,
      ),
    ).toEqual(expected);
  });
});

describe('when a delegation holds (R15)', () => {
  test.each<[string, Date | null, Date, boolean]>([
    ['at its start', null, at('2026-03-10T00:00:00Z'), true],
    ['within its period', null, at('2026-03-12T00:00:00Z'), true],
    ['not before its start', null, at('2026-03-09T23:59:59Z'), false],
    ['not at its end (exclusive)', null, at('2026-03-17T00:00:00Z'), false],
    ['not after it was ended', at('2026-03-11T00:00:00Z'), at('2026-03-12T00:00:00Z'), false],
    ['before it was ended, it held', at('2026-03-11T00:00:00Z'), at('2026-03-10T12:00:00Z'), true],
  ])('%s', (_case, revokedAt, moment, expected) => {
    expect(inForce({ ...week, revokedAt }, moment)).toBe(expected);
  });
});

describe('which delegations count for an approval step (R3, R15)', () => {
  const pair = (delegate: string, onBehalfOf: string): StepDelegate => ({ delegate, onBehalfOf });
  test.each<[string, StepDelegate[], string[], { approver: string }[], StepDelegate[]]>([
    [
      'from an eligible approver, it counts',
      [pair('director-2', 'manager-1')],
      ['manager-1'],
      [],
      [pair('director-2', 'manager-1')],
    ],
    [
      'from someone not eligible for the step, it does not',
      [pair('director-2', 'manager-9')],
      ['manager-1'],
      [],
      [],
    ],
    ['to the requester, it does not', [pair('clerk-1', 'manager-1')], ['manager-1'], [], []],
    [
      'to someone who decided an earlier step, it does not',
      [pair('director-2', 'manager-1')],
      ['manager-1'],
      [{ approver: 'director-2' }],
      [],
    ],
    [
      'each pair once',
      [pair('director-2', 'manager-1'), pair('director-2', 'manager-1')],
      ['manager-1'],
      [],
      [pair('director-2', 'manager-1')],
    ],
    [
      'one delegate for two approvers: both',
      [pair('director-2', 'manager-1'), pair('director-2', 'manager-3')],
      ['manager-1', 'manager-3'],
      [],
      [pair('director-2', 'manager-1'), pair('director-2', 'manager-3')],
    ],
  ])('%s', (_case, delegations, eligible, earlier, expected) => {
    expect(stepDelegates(delegations, eligible, 'clerk-1', earlier)).toEqual(expected);
  });
});

describe('a delegate deciding a step on behalf of its approver (R3, R15)', () => {
  const step = {
    eligibleApprovers: ['manager-1', 'director-1'],
    requiredLevel: 1,
    delegates: [{ delegate: 'director-2', onBehalfOf: 'manager-1' }],
  };
  test.each<[string, string, string | undefined, Verdict]>([
    ['a delegate the step found may, on behalf of their approver', 'director-2', 'manager-1', allowed],
    [
      'not on behalf of another approver',
      'director-2',
      'director-1',
      refused(
        'director-2 is not a delegate of director-1 for this step (no delegation was in force when its approvers were found)',
      ),
    ],
    [
      'not on behalf of someone not eligible for the step',
      'director-2',
      'manager-9',
      refused('manager-9 is not an approver of this step, so no one decides on their behalf'),
    ],
    [
      'not someone the step did not find as delegate',
      'manager-2',
      'manager-1',
      refused(
        'manager-2 is not a delegate of manager-1 for this step (no delegation was in force when its approvers were found)',
      ),
    ],
    [
      'never the requester, even as a delegate, for good',
      'clerk-1',
      'manager-1',
      refused('the requester may not decide their own cancellation', true),
    ],
    [
      'without a delegation, in their own right only',
      'director-2',
      undefined,
      refused('director-2 is not an approver of level 1 or higher for this cancellation'),
    ],
  ])('%s', (_case, approverId, onBehalfOf, expected) => {
    expect(mayDecide(approverId, 'clerk-1', step, onBehalfOf)).toEqual(expected);
  });
});
