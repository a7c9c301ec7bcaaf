// Who may do what to a cancellation (R3, R9, R11, R12, R15, R26): pure verdicts over plain data, table-driven.
// The refusals' wording is pinned: the API and the workflow's refused Updates show it to people as it is.
import {
  awaitsCarrierAnswer,
  eligibleApprovers,
  mayChoose,
  mayConfirmReturn,
  mayDecide,
  mayRequest,
  mayResume,
  maySettle,
  mayWithdraw,
  type Verdict,
} from '../rules/permissions.rules';

const allowed: Verdict = { allowed: true };
/** A refusal; `final` when this person may never do this in this cancellation. */
const refused = (reason: string, final = false): Verdict => ({ allowed: false, reason, final });

describe('who may request a cancellation (R3, R26)', () => {
  test.each<[string, Parameters<typeof mayRequest>[1], Verdict]>([
    ['an active requester may', { active: true, roles: ['requester'] }, allowed],
    [
      'an active requester who holds other roles too may',
      { active: true, roles: ['approver', 'requester'] },
      allowed,
    ],
    [
      'someone the books do not know may not, for good',
      null,
      refused('clerk-9 is not a person in the books, so may not request cancellations', true),
    ],
    [
      'no record at all is the same as an unknown person',
      undefined,
      refused('clerk-9 is not a person in the books, so may not request cancellations', true),
    ],
    [
      'a requester who left may not, for good',
      { active: false, roles: ['requester'] },
      refused('clerk-9 is no longer active, so may not request cancellations', true),
    ],
    [
      'an active person without the requester role may not, for good',
      { active: true, roles: ['approver', 'finance_clerk'] },
      refused('clerk-9 does not have the requester role, so may not request cancellations', true),
    ],
    [
      'an active person with no roles may not',
      { active: true, roles: [] },
      refused('clerk-9 does not have the requester role, so may not request cancellations', true),
    ],
    [
      'someone who left and never had the role is told they left',
      { active: false, roles: [] },
      refused('clerk-9 is no longer active, so may not request cancellations', true),
    ],
  ])('%s', (_case, person, expected) => {
    expect(mayRequest('clerk-9', person)).toEqual(expected);
  });
});

describe('who may decide a step of the approval (R3, R15)', () => {
  test.each<[string, string[], { approver: string }[], string[]]>([
    [
      'every approver found, when none is the requester and nothing was decided',
      ['mgr-1', 'mgr-2'],
      [],
      ['mgr-1', 'mgr-2'],
    ],
    [
      'never the requester, even one the books make an approver',
      ['mgr-1', 'clerk-1', 'mgr-2'],
      [],
      ['mgr-1', 'mgr-2'],
    ],
    ['never someone who decided an earlier step', ['mgr-1', 'dir-1'], [{ approver: 'mgr-1' }], ['dir-1']],
    [
      'neither, keeping the order the books found them in',
      ['dir-2', 'clerk-1', 'mgr-1', 'dir-1'],
      [{ approver: 'mgr-1' }],
      ['dir-2', 'dir-1'],
    ],
    ['no one, when the only one found decided before', ['mgr-1'], [{ approver: 'mgr-1' }], []],
    ['no one, when the books found no one', [], [], []],
  ])('eligible: %s', (_case, found, earlier, expected) => {
    expect(eligibleApprovers(found, 'clerk-1', earlier)).toEqual(expected);
  });

  const step = (requiredLevel: number, eligible: string[]) => ({
    requiredLevel,
    eligibleApprovers: eligible,
  });

  test.each<[string, string, Parameters<typeof mayDecide>[2], Verdict]>([
    ['an eligible approver of level 1 may', 'mgr-1', step(1, ['mgr-1', 'mgr-2']), allowed],
    ['an eligible approver of a level-2 step may', 'dir-1', step(2, ['dir-1']), allowed],
    [
      'the requester may not, for good',
      'clerk-1',
      step(1, ['mgr-1']),
      refused('the requester may not decide their own cancellation', true),
    ],
    [
      'the requester may not even if listed as eligible, for good',
      'clerk-1',
      step(1, ['clerk-1', 'mgr-1']),
      refused('the requester may not decide their own cancellation', true),
    ],
    [
      'the requester may not when no step is under way either, for good',
      'clerk-1',
      undefined,
      refused('the requester may not decide their own cancellation', true),
    ],
    [
      'someone not eligible for a level-1 step is told the level (not final: a later step may be theirs)',
      'mgr-9',
      step(1, ['mgr-1']),
      refused('mgr-9 is not an approver of level 1 or higher for this cancellation'),
    ],
    [
      'a level-1 approver at a level-2 step is told the level',
      'mgr-1',
      step(2, ['dir-1']),
      refused('mgr-1 is not an approver of level 2 or higher for this cancellation'),
    ],
    [
      'after escalation, the raised level is the one named',
      'dir-1',
      step(3, ['ceo-1']),
      refused('dir-1 is not an approver of level 3 or higher for this cancellation'),
    ],
    [
      'no one is eligible when the books found no one',
      'mgr-1',
      step(1, []),
      refused('mgr-1 is not an approver of level 1 or higher for this cancellation'),
    ],
    [
      'with no step under way, level 1 is named',
      'mgr-1',
      undefined,
      refused('mgr-1 is not an approver of level 1 or higher for this cancellation'),
    ],
  ])('%s', (_case, approver, decidingStep, expected) => {
    expect(mayDecide(approver, 'clerk-1', decidingStep)).toEqual(expected);
  });

  test('whoever decided step 1 may not decide step 2, even holding the level (R15)', () => {
    const eligible = eligibleApprovers(['dir-1', 'dir-2'], 'clerk-1', [{ approver: 'dir-1' }]);
    expect(mayDecide('dir-1', 'clerk-1', step(2, eligible))).toEqual(
      refused('dir-1 is not an approver of level 2 or higher for this cancellation'),
    );
    expect(mayDecide('dir-2', 'clerk-1', step(2, eligible))).toEqual(allowed);
  });
});

test.each<[string, string, Verdict]>([
  ['the requester may', 'clerk-1', allowed],
  ['anyone else may not, for good', 'clerk-2', refused('only the requester (clerk-1) may withdraw it', true)],
  [
    'not even an approver of it, for good',
    'mgr-1',
    refused('only the requester (clerk-1) may withdraw it', true),
  ],
  ['ids are matched exactly', 'CLERK-1', refused('only the requester (clerk-1) may withdraw it', true)],
])('withdrawing: %s', (_case, by, expected) => {
  expect(mayWithdraw(by, 'clerk-1')).toEqual(expected);
});

test.each<[string, (by: string, holders: readonly string[]) => Verdict, string, string[], Verdict]>([
  [
    'a finance clerk settles a refused refund by hand (R11, R28)',
    maySettle,
    'fin-1',
    ['fin-1', 'fin-2'],
    allowed,
  ],
  [
    'anyone else may not (not final: roles change)',
    maySettle,
    'ops-1',
    ['fin-1'],
    refused('ops-1 is not a finance clerk'),
  ],
  [
    'no one, when the books have no finance clerk',
    maySettle,
    'fin-1',
    [],
    refused('fin-1 is not a finance clerk'),
  ],
  ['an ops person resumes a stopped cancellation', mayResume, 'ops-1', ['ops-1'], allowed],
  ['anyone else may not resume it', mayResume, 'fin-1', ['ops-1'], refused('fin-1 is not an ops person')],
  [
    'no one resumes when the books have no ops person',
    mayResume,
    'ops-1',
    [],
    refused('ops-1 is not an ops person'),
  ],
])('%s', (_case, rule, by, holders, expected) => {
  expect(rule(by, holders)).toEqual(expected);
});

test.each<[string, string, string, { shipmentId: string }[], Verdict]>([
  [
    'a warehouse clerk confirms a parcel expected back (R9)',
    'wh-1',
    'SH-1',
    [{ shipmentId: 'SH-1' }],
    allowed,
  ],
  [
    'any of the parcels expected back',
    'wh-1',
    'SH-2',
    [{ shipmentId: 'SH-1' }, { shipmentId: 'SH-2' }],
    allowed,
  ],
  [
    'not a parcel this cancellation does not expect (or no longer does)',
    'wh-1',
    'SH-3',
    [{ shipmentId: 'SH-1' }],
    refused('SH-3 is not a parcel of this cancellation still expected back'),
  ],
  [
    'not when nothing is expected back',
    'wh-1',
    'SH-1',
    [],
    refused('SH-1 is not a parcel of this cancellation still expected back'),
  ],
  [
    'not someone who is not a warehouse clerk',
    'fin-1',
    'SH-1',
    [{ shipmentId: 'SH-1' }],
    refused('fin-1 is not a warehouse clerk'),
  ],
  [
    'who is asking is told first',
    'fin-1',
    'SH-3',
    [{ shipmentId: 'SH-1' }],
    refused('fin-1 is not a warehouse clerk'),
  ],
])('confirming a return: %s', (_case, by, shipmentId, expected, verdict) => {
  expect(mayConfirmReturn(by, shipmentId, ['wh-1', 'wh-2'], expected)).toEqual(verdict);
});

test.each<[string, string, string[] | undefined, Verdict]>([
  ['return, when offered (R12)', 'return', ['return', 'redelivery', 'refund_without_return'], allowed],
  ['redelivery, when offered', 'redelivery', ['return', 'redelivery'], allowed],
  ['a refund without return, when offered', 'refund_without_return', ['refund_without_return'], allowed],
  [
    'an option not offered, naming those that are',
    'refund_without_return',
    ['return', 'redelivery'],
    refused('refund_without_return is not offered (offered: return, redelivery)'),
  ],
  [
    'anything, before an offer was made',
    'return',
    undefined,
    refused('return is not offered (offered: none)'),
  ],
  [
    'an option cancelflow does not know',
    'store_credit',
    ['return'],
    refused('store_credit is not offered (offered: return)'),
  ],
])('the customer chooses %s', (_case, option, offered, expected) => {
  expect(mayChoose(option, offered)).toEqual(expected);
});

describe("the carrier's later answer on a recall (R9)", () => {
  const recalls = [
    { shipmentId: 'SH-1', recallId: 'RC-1', status: 'pending' },
    { shipmentId: 'SH-2', recallId: 'RC-2', status: 'accepted' },
    { shipmentId: 'SH-3', status: 'failed' },
  ];

  test.each<[string, { shipmentId: string; recallId: string }, Verdict]>([
    ['counts for a pending recall', { shipmentId: 'SH-1', recallId: 'RC-1' }, allowed],
    [
      'not for a recall already answered',
      { shipmentId: 'SH-2', recallId: 'RC-2' },
      refused('no recall RC-2 of SH-2 is waiting for an answer'),
    ],
    [
      'not for another recall id of a pending parcel',
      { shipmentId: 'SH-1', recallId: 'RC-9' },
      refused('no recall RC-9 of SH-1 is waiting for an answer'),
    ],
    [
      "not for a pending recall's id on another parcel",
      { shipmentId: 'SH-2', recallId: 'RC-1' },
      refused('no recall RC-1 of SH-2 is waiting for an answer'),
    ],
    [
      'not for a parcel whose recall request was refused outright',
      { shipmentId: 'SH-3', recallId: 'RC-3' },
      refused('no recall RC-3 of SH-3 is waiting for an answer'),
    ],
    [
      'not for a parcel never recalled',
      { shipmentId: 'SH-9', recallId: 'RC-1' },
      refused('no recall RC-1 of SH-9 is waiting for an answer'),
    ],
  ])('%s', (_case, answer, expected) => {
    expect(awaitsCarrierAnswer(answer, recalls)).toEqual(expected);
  });
});
