// Who hears of each moment of a cancellation (R6, R12, R17, R18, R24): the default departments per moment, the
// customer's own moments, and how a completed cancellation narrows finance and purchasing. Pure, table-driven.
import {
  DEPARTMENTS,
  NOTICE_MOMENTS,
  type Department,
  type NoticeMoment,
} from '../contracts/cancellation.contract';
import {
  concernsDepartment,
  CUSTOMER_MOMENTS,
  customerHearsOf,
  DEPARTMENTS_BY_MOMENT,
} from '../rules/notices.rules';

describe('every moment has its default departments (R6, R24)', () => {
  const expected: Record<NoticeMoment, Department[]> = {
    received: ['sales', 'logistics'],
    approved: ['sales', 'finance'],
    rejected: ['sales', 'logistics'],
    withdrawn: ['sales', 'logistics'],
    completed: ['sales', 'finance', 'purchasing', 'logistics'],
    recall_requested: ['sales', 'logistics'],
    options_offered: ['sales', 'logistics'],
    return_overdue: ['sales', 'logistics'],
    redelivery: ['sales', 'finance', 'logistics'],
  };

  test.each(NOTICE_MOMENTS.map((moment) => [moment, expected[moment]] as const))(
    '%s: %j',
    (moment, departments) => {
      expect(DEPARTMENTS_BY_MOMENT[moment]).toEqual(departments);
      // Known departments, each once; sales follows every moment.
      expect(departments.every((department) => DEPARTMENTS.includes(department))).toBe(true);
      expect(new Set(departments).size).toBe(departments.length);
      expect(departments).toContain('sales');
    },
  );

  test('no row for a moment that does not exist', () => {
    expect(Object.keys(DEPARTMENTS_BY_MOMENT).sort()).toEqual([...NOTICE_MOMENTS].sort());
  });
});

describe('the customer hears of their own moments only (R12, R18)', () => {
  test.each<[NoticeMoment, boolean]>([
    ['received', true],
    ['approved', false], // told as the cancellation's completion
    ['rejected', true],
    ['withdrawn', true],
    ['completed', false], // a message of its own (notifyCustomer)
    ['recall_requested', false],
    ['options_offered', true],
    ['return_overdue', false],
    ['redelivery', true],
  ])('%s: %s', (moment, hears) => {
    expect(customerHearsOf(moment)).toBe(hears);
  });

  test('exactly CUSTOMER_MOMENTS, each a notice moment', () => {
    expect(NOTICE_MOMENTS.filter(customerHearsOf)).toEqual([...CUSTOMER_MOMENTS]);
    expect(CUSTOMER_MOMENTS.every((moment) => (NOTICE_MOMENTS as readonly string[]).includes(moment))).toBe(
      true,
    );
  });
});

describe('a completed cancellation tells finance only if money moved, purchasing only if POs did (R6, R24)', () => {
  const did = (refunded: boolean, changedPurchasing: boolean) => ({ refunded, changedPurchasing });

  test.each<[string, { refunded: boolean; changedPurchasing: boolean }, Department[]]>([
    [
      'refunded and purchase orders changed: all four',
      did(true, true),
      ['sales', 'finance', 'purchasing', 'logistics'],
    ],
    ['refunded, purchasing untouched: no purchasing', did(true, false), ['sales', 'finance', 'logistics']],
    [
      'nothing refunded, purchase orders changed: no finance',
      did(false, true),
      ['sales', 'purchasing', 'logistics'],
    ],
    ['neither: sales and logistics', did(false, false), ['sales', 'logistics']],
  ])('completed, %s', (_case, what, departments) => {
    expect(
      DEPARTMENTS_BY_MOMENT.completed.filter((department) =>
        concernsDepartment(department, 'completed', what),
      ),
    ).toEqual(departments);
  });

  test.each<[Department, NoticeMoment, { refunded: boolean; changedPurchasing: boolean }, boolean]>([
    ['finance', 'completed', did(true, false), true],
    ['finance', 'completed', did(false, true), false],
    ['purchasing', 'completed', did(false, true), true],
    ['purchasing', 'completed', did(true, false), false],
    ['sales', 'completed', did(false, false), true],
    ['logistics', 'completed', did(false, false), true],
    // Only completion narrows: before it, nothing has moved yet, so whoever the moment names hears of it.
    ['finance', 'approved', did(false, false), true],
    ['finance', 'redelivery', did(false, false), true],
    ['purchasing', 'received', did(false, false), true],
    ['sales', 'rejected', did(false, false), true],
    ['logistics', 'return_overdue', did(false, false), true],
  ])('%s at %s, having done %j: concerned %s', (department, moment, what, concerned) => {
    expect(concernsDepartment(department, moment, what)).toBe(concerned);
  });
});
