// R20: how risky a cancellation is, financially, for the customer relationship and for the supply chain. A pure
// function of what the review found and what the books say of the customer and the purchase orders: the
// activity loads those facts, this decides. Each factor that raises the level is named with its reason; the
// level is the highest any factor reached.
import type { ReasonCode, RiskAssessment, RiskLevel, OrderReview } from '../contracts/cancellation.contract';
import type { CancellationPolicy } from '../contracts/policy.contract';

/** What the books say beyond the review: the customer's record and purchase orders already with suppliers. */
export interface RiskFacts {
  customer?: { cancellationCount: number; tier: string };
  /** Purchase orders already sent to suppliers that were raised for the cancelled lines. */
  purchaseOrdersWithSuppliers: string[];
}

export interface RiskFactor {
  kind: 'financial' | 'reason' | 'customer' | 'supply_chain';
  level: Exclude<RiskLevel, 'low'>;
  reason: string;
}

const RANK: Record<RiskLevel, number> = { low: 0, medium: 1, high: 2 };

/**
 * Financial exposure: what the cancellation costs, not only what goes back: the refund, goods that reached the
 * customer (they may come back used or not at all, and cannot be counted on to be resold), and the payment
 * fees the gateway keeps. Each part is named; their sum is weighed against the thresholds.
 */
function financialFactor(review: OrderReview, rules: CancellationPolicy['risk']): RiskFactor | undefined {
  const parts = [`refund of ${review.refundableMinor} ${review.currency} minor units`];
  const delivered = new Set(
    review.goods?.stage === 'delivered'
      ? review.goods.parcels.flatMap((parcel) => parcel.lines.map((line) => line.lineId))
      : [],
  );
  const unsellableMinor = review.lines
    .filter((line) => delivered.has(line.lineId))
    .reduce((sum, line) => sum + line.amountMinor, 0);
  if (unsellableMinor > 0) parts.push(`delivered goods worth ${unsellableMinor} may not be resold`);
  const feesMinor = Math.round((review.refundableMinor * rules.paymentFeePercent) / 100);
  if (feesMinor > 0) parts.push(`payment fees of ${feesMinor} are not returned`);
  const exposureMinor = review.refundableMinor + unsellableMinor + feesMinor;
  const reason = `financial exposure ${exposureMinor}: ${parts.join('; ')}`;
  if (exposureMinor >= rules.highRefundMinor) return { kind: 'financial', level: 'high', reason };
  if (exposureMinor >= rules.mediumRefundMinor) return { kind: 'financial', level: 'medium', reason };
  return undefined;
}

/** Every factor that raises the risk, in the order they are told. */
export function riskFactors(
  review: OrderReview,
  reasonCode: ReasonCode,
  rules: CancellationPolicy['risk'],
  facts: RiskFacts,
): RiskFactor[] {
  const factors: (RiskFactor | undefined)[] = [
    financialFactor(review, rules),
    rules.highRiskReasons.includes(reasonCode)
      ? { kind: 'reason', level: 'high', reason: `reason: ${reasonCode}` }
      : undefined,
    // Customer relationship: frequent cancellers and valued customers.
    facts.customer && facts.customer.cancellationCount >= rules.frequentCancellerCount
      ? {
          kind: 'customer',
          level: 'medium',
          reason: `customer cancelled ${facts.customer.cancellationCount} orders before`,
        }
      : undefined,
    facts.customer && rules.relationshipTiers.includes(facts.customer.tier)
      ? { kind: 'customer', level: 'medium', reason: `${facts.customer.tier} customer` }
      : undefined,
    // Supply chain: goods already ordered from suppliers for these lines (R29: changes strain suppliers).
    facts.purchaseOrdersWithSuppliers.length > 0
      ? {
          kind: 'supply_chain',
          level: 'medium',
          reason: `purchase orders already with suppliers: ${facts.purchaseOrdersWithSuppliers.join(', ')}`,
        }
      : undefined,
  ];
  return factors.filter((factor): factor is RiskFactor => factor !== undefined);
}

/** R20: the level is the highest factor's; low when nothing raised it. */
export function assessRisk(
  review: OrderReview,
  reasonCode: ReasonCode,
  rules: CancellationPolicy['risk'],
  facts: RiskFacts,
): RiskAssessment {
  const factors = riskFactors(review, reasonCode, rules, facts);
  const level = factors.reduce<RiskLevel>(
    (highest, factor) => (RANK[factor.level] > RANK[highest] ? factor.level : highest),
    'low',
  );
  return { level, reasons: factors.map((factor) => factor.reason) };
}
