// How risky a cancellation is (R20, R29): financial exposure, the reason, the customer, the supply chain. Pure,
// table-driven, against the thresholds of the shipped policy: medium from 2,000.00, high from 10,000.00, fees
// of 0.6 %, three cancellations make a frequent canceller, vip customers, suspected fraud is high risk.
import { readFileSync } from 'node:fs';
import {
  REASON_CODES,
  type CancelledLine,
  type GoodsOutside,
  type OrderReview,
  type ReasonCode,
  type RiskLevel,
} from '../contracts/cancellation.contract';
import type { CancellationPolicy } from '../contracts/policy.contract';
import { parsePolicy } from '../lib/policy';
import { assessRisk, riskFactors, type RiskFacts } from '../rules/risk.rules';

const policy = parsePolicy(JSON.parse(readFileSync('policies/cancellation-policy.json', 'utf8')));
const rules = policy.risk;
const noFees: CancellationPolicy['risk'] = { ...rules, paymentFeePercent: 0 };
/** Every refund is exposure worth telling: the financial reason shows how it was summed. */
const anyExposure: CancellationPolicy['risk'] = { ...rules, mediumRefundMinor: 1 };

test("the thresholds are the shipped policy's (R8, R20)", () => {
  expect(rules).toMatchObject({
    mediumRefundMinor: 200000,
    highRefundMinor: 1000000,
    frequentCancellerCount: 3,
    paymentFeePercent: 0.6,
    relationshipTiers: ['vip'],
    highRiskReasons: ['suspected_fraud'],
  });
});

const line = (lineId: string, amountMinor: number): CancelledLine => ({
  lineId,
  sku: `SKU-${lineId}`,
  warehouse: 'WH-1',
  quantity: 1,
  reservedQuantity: 0,
  amountMinor,
});

const review = (refundableMinor: number, extra: Partial<OrderReview> = {}): OrderReview => ({
  orderNumber: 'SO-1',
  customerId: 'C-1',
  currency: 'CNY',
  lines: [line('L1', refundableMinor)],
  cancelsWholeOrder: true,
  refundableMinor,
  ...extra,
});

/** Goods out of the warehouse: each parcel carries one unit of the lines named. */
const goods = (stage: GoodsOutside['stage'], ...parcels: string[][]): GoodsOutside => ({
  stage,
  recall: false,
  parcels: parcels.map((lineIds, index) => ({
    shipmentId: `SH-${index + 1}`,
    carrier: 'SF',
    warehouse: 'WH-1',
    lines: lineIds.map((lineId) => ({ lineId, sku: `SKU-${lineId}`, quantity: 1 })),
  })),
});

const noFacts: RiskFacts = { purchaseOrdersWithSuppliers: [] };
const calm: ReasonCode = 'customer_changed_mind';

describe('financial exposure: refund, delivered goods and fees against the thresholds (R20)', () => {
  test.each<[string, OrderReview, CancellationPolicy['risk'], RiskLevel, string | undefined]>([
    ['nothing refunded, nothing delivered: no exposure', review(0), rules, 'low', undefined],
    ['a small refund stays low', review(100000), rules, 'low', undefined],
    // 198,806 + fees of round(1,192.836) = 199,999.
    ['one under mediumRefundMinor, fees included', review(198806), rules, 'low', undefined],
    // 198,807 + fees of round(1,192.842) = 200,000.
    [
      'exactly mediumRefundMinor, fees included',
      review(198807),
      rules,
      'medium',
      'financial exposure 200000: refund of 198807 CNY minor units; payment fees of 1193 are not returned',
    ],
    [
      'a refund of mediumRefundMinor itself, plus its fees',
      review(200000),
      rules,
      'medium',
      'financial exposure 201200: refund of 200000 CNY minor units; payment fees of 1200 are not returned',
    ],
    // 994,035 + fees of round(5,964.21) = 999,999.
    [
      'one under highRefundMinor, fees included',
      review(994035),
      rules,
      'medium',
      'financial exposure 999999: refund of 994035 CNY minor units; payment fees of 5964 are not returned',
    ],
    // 994,036 + fees of round(5,964.216) = 1,000,000.
    [
      'exactly highRefundMinor, fees included',
      review(994036),
      rules,
      'high',
      'financial exposure 1000000: refund of 994036 CNY minor units; payment fees of 5964 are not returned',
    ],
    [
      'a refund of highRefundMinor itself, plus its fees',
      review(1000000),
      rules,
      'high',
      'financial exposure 1006000: refund of 1000000 CNY minor units; payment fees of 6000 are not returned',
    ],
    ['without fees, one under mediumRefundMinor', review(199999), noFees, 'low', undefined],
    [
      'without fees, exactly mediumRefundMinor, and no fee is told',
      review(200000),
      noFees,
      'medium',
      'financial exposure 200000: refund of 200000 CNY minor units',
    ],
    [
      'without fees, one under highRefundMinor',
      review(999999),
      noFees,
      'medium',
      'financial exposure 999999: refund of 999999 CNY minor units',
    ],
    [
      'without fees, exactly highRefundMinor',
      review(1000000),
      noFees,
      'high',
      'financial exposure 1000000: refund of 1000000 CNY minor units',
    ],
    [
      'delivered goods are counted: they may not be resold',
      review(150000, { lines: [line('L1', 60000), line('L2', 90000)], goods: goods('delivered', ['L1']) }),
      rules,
      'medium',
      'financial exposure 210900: refund of 150000 CNY minor units; delivered goods worth 60000 may not be resold; payment fees of 900 are not returned',
    ],
    [
      'every delivered line, over all parcels',
      review(150000, {
        lines: [line('L1', 60000), line('L2', 90000)],
        goods: goods('delivered', ['L1'], ['L2']),
      }),
      rules,
      'medium',
      'financial exposure 300900: refund of 150000 CNY minor units; delivered goods worth 150000 may not be resold; payment fees of 900 are not returned',
    ],
    [
      'a line delivered in two parcels is counted once',
      review(150000, {
        lines: [line('L1', 60000), line('L2', 90000)],
        goods: goods('delivered', ['L1'], ['L1']),
      }),
      rules,
      'medium',
      'financial exposure 210900: refund of 150000 CNY minor units; delivered goods worth 60000 may not be resold; payment fees of 900 are not returned',
    ],
    [
      'goods still in transit are not counted (they may be stopped or come back unused)',
      review(150000, {
        lines: [line('L1', 60000), line('L2', 90000)],
        goods: goods('in_transit', ['L1', 'L2']),
      }),
      rules,
      'low',
      undefined,
    ],
    [
      'delivered goods alone, with nothing refunded, reach high',
      review(0, { lines: [line('L1', 1000000)], goods: goods('delivered', ['L1']) }),
      rules,
      'high',
      'financial exposure 1000000: refund of 0 CNY minor units; delivered goods worth 1000000 may not be resold',
    ],
  ])('%s', (_case, reviewed, riskRules, level, reason) => {
    const financial = riskFactors(reviewed, calm, riskRules, noFacts).filter((f) => f.kind === 'financial');
    expect(financial).toEqual(reason ? [{ kind: 'financial', level, reason }] : []);
    expect(assessRisk(reviewed, calm, riskRules, noFacts)).toEqual({
      level,
      reasons: reason ? [reason] : [],
    });
  });

  test.each<[string, number, string]>([
    [
      'a fee under half a minor unit is none, and not told',
      83,
      'financial exposure 83: refund of 83 CNY minor units',
    ],
    [
      'a fee just over half a minor unit is one',
      84,
      'financial exposure 85: refund of 84 CNY minor units; payment fees of 1 are not returned',
    ],
    [
      'a fee of exactly half a minor unit rounds up',
      250,
      'financial exposure 252: refund of 250 CNY minor units; payment fees of 2 are not returned',
    ],
    [
      'another exact half rounds up too',
      750,
      'financial exposure 755: refund of 750 CNY minor units; payment fees of 5 are not returned',
    ],
    [
      'fees of 1,192.842 round up to 1,193',
      198807,
      'financial exposure 200000: refund of 198807 CNY minor units; payment fees of 1193 are not returned',
    ],
    [
      'fees of 5,964.216 round down to 5,964',
      994036,
      'financial exposure 1000000: refund of 994036 CNY minor units; payment fees of 5964 are not returned',
    ],
  ])('fee rounding: %s', (_case, refundableMinor, reason) => {
    expect(riskFactors(review(refundableMinor), calm, anyExposure, noFacts)[0]?.reason).toBe(reason);
  });
});

describe('the reason for cancelling (R20, R22)', () => {
  test.each(REASON_CODES.map((code) => [code, code === 'suspected_fraud' ? 'high' : 'low'] as const))(
    '%s: %s risk under the shipped policy',
    (code, level) => {
      expect(assessRisk(review(1000), code, rules, noFacts)).toEqual({
        level,
        reasons: level === 'high' ? [`reason: ${code}`] : [],
      });
    },
  );

  test.each<[ReasonCode, RiskLevel]>([
    ['duplicate_order', 'high'],
    ['suspected_fraud', 'high'],
    ['out_of_stock', 'low'],
  ])('a policy naming more high-risk reasons: %s is %s', (code, level) => {
    const stricter = { ...rules, highRiskReasons: ['suspected_fraud', 'duplicate_order'] as ReasonCode[] };
    expect(assessRisk(review(1000), code, stricter, noFacts).level).toBe(level);
  });
});

describe('the customer relationship (R20, R29)', () => {
  test.each<[string, RiskFacts['customer'], string[]]>([
    ['no record of the customer: nothing', undefined, []],
    ['a first cancellation: nothing', { cancellationCount: 0, tier: 'standard' }, []],
    ['one under frequentCancellerCount: nothing', { cancellationCount: 2, tier: 'standard' }, []],
    [
      'exactly frequentCancellerCount: a frequent canceller',
      { cancellationCount: 3, tier: 'standard' },
      ['customer cancelled 3 orders before'],
    ],
    ['well past it', { cancellationCount: 12, tier: 'standard' }, ['customer cancelled 12 orders before']],
    ['a vip customer, however rarely they cancel', { cancellationCount: 0, tier: 'vip' }, ['vip customer']],
    [
      'a vip customer who cancels often: both, frequency first',
      { cancellationCount: 3, tier: 'vip' },
      ['customer cancelled 3 orders before', 'vip customer'],
    ],
    ['a tier the policy does not value: nothing', { cancellationCount: 0, tier: 'gold' }, []],
  ])('%s', (_case, customer, reasons) => {
    const facts: RiskFacts = { ...noFacts, ...(customer ? { customer } : {}) };
    expect(riskFactors(review(1000), calm, rules, facts)).toEqual(
      reasons.map((reason) => ({ kind: 'customer', level: 'medium', reason })),
    );
    expect(assessRisk(review(1000), calm, rules, facts)).toEqual({
      level: reasons.length > 0 ? 'medium' : 'low',
      reasons,
    });
  });
});

test.each<[string, string[], string[]]>([
  ['no purchase orders with suppliers: nothing', [], []],
  ['one purchase order already with a supplier', ['PO-1'], ['purchase orders already with suppliers: PO-1']],
  ['several, all named', ['PO-1', 'PO-7'], ['purchase orders already with suppliers: PO-1, PO-7']],
])('the supply chain (R20, R29): %s', (_case, purchaseOrdersWithSuppliers, reasons) => {
  const facts: RiskFacts = { purchaseOrdersWithSuppliers };
  expect(riskFactors(review(1000), calm, rules, facts)).toEqual(
    reasons.map((reason) => ({ kind: 'supply_chain', level: 'medium', reason })),
  );
  expect(assessRisk(review(1000), calm, rules, facts).level).toBe(reasons.length > 0 ? 'medium' : 'low');
});

describe("the level is the highest factor's, and every factor is told in order (R20)", () => {
  const frequentVip: RiskFacts = {
    customer: { cancellationCount: 5, tier: 'vip' },
    purchaseOrdersWithSuppliers: ['PO-1'],
  };

  test.each<[string, number, ReasonCode, RiskFacts, RiskLevel, string[]]>([
    ['nothing raises it: low', 1000, calm, noFacts, 'low', []],
    [
      'mediums do not add up to high',
      300000,
      calm,
      frequentVip,
      'medium',
      [
        'financial exposure 301800: refund of 300000 CNY minor units; payment fees of 1800 are not returned',
        'customer cancelled 5 orders before',
        'vip customer',
        'purchase orders already with suppliers: PO-1',
      ],
    ],
    [
      'suspected fraud on a small refund is high',
      1000,
      'suspected_fraud',
      noFacts,
      'high',
      ['reason: suspected_fraud'],
    ],
    [
      'a medium exposure with suspected fraud is high',
      300000,
      'suspected_fraud',
      noFacts,
      'high',
      [
        'financial exposure 301800: refund of 300000 CNY minor units; payment fees of 1800 are not returned',
        'reason: suspected_fraud',
      ],
    ],
    [
      'a high exposure stays high whatever else is medium',
      1000000,
      calm,
      { customer: { cancellationCount: 0, tier: 'vip' }, purchaseOrdersWithSuppliers: [] },
      'high',
      [
        'financial exposure 1006000: refund of 1000000 CNY minor units; payment fees of 6000 are not returned',
        'vip customer',
      ],
    ],
    [
      'everything at once: financial, reason, customer, supply chain',
      1000000,
      'suspected_fraud',
      frequentVip,
      'high',
      [
        'financial exposure 1006000: refund of 1000000 CNY minor units; payment fees of 6000 are not returned',
        'reason: suspected_fraud',
        'customer cancelled 5 orders before',
        'vip customer',
        'purchase orders already with suppliers: PO-1',
      ],
    ],
  ])('%s', (_case, refundableMinor, reasonCode, facts, level, reasons) => {
    expect(assessRisk(review(refundableMinor), reasonCode, rules, facts)).toEqual({ level, reasons });
  });
});
