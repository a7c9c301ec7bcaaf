// The model's own answer to "how much of a payment in another currency does a refund give back?" (R11),
// worked out from the rules rather than from the product's code, so that the property checks the product's
// plan (shareOf, rules/refund-plan.rules.ts) instead of repeating it. It imports nothing of the product.
//
// A foreign payment captured C minor units of its own currency and settled S of the order's: its rate, fixed
// at capture, is C per S. Refunds count cumulatively: once refunds worth D of the order have gone back in all,
// the payment has given back D × C / S of its own, rounded down (by less than one minor unit), so partial
// refunds never drift from the rate. The refund that gives back the last of S gives back exactly the last of
// C. And whole minor units: a partial refund gives back at least one (a sliver worth less still costs the
// payment a unit) and leaves at least one for the rest of the order's worth; when it cannot do both, it
// gives back nothing.

export interface ForeignPaymentCounts {
  /** What the payment captured, in its own currency. */
  capturedMinor: number;
  /** What it settled of the order, in the order's currency. */
  settledMinor: number;
  /** What its refunds gave back so far, in its own currency and in the order's. */
  refundedMinor: number;
  refundedOrderCurrencyMinor: number;
}

export interface ExpectedShare {
  /** What goes back, in the payment's currency. */
  amountMinor: number;
  /** What that gives back of the order, in the order's currency. */
  orderCurrencyMinor: number;
}

const NOTHING: ExpectedShare = { amountMinor: 0, orderCurrencyMinor: 0 };

/**
 * `worth` of the order in the payment's currency at the capture's rate, rounded down: the largest whole t with
 * t × settled ≤ worth × captured. In BigInt, as the product of two amounts may pass 2^53.
 */
function atCaptureRate(worth: number, captured: number, settled: number): number {
  return Number((BigInt(worth) * BigInt(captured)) / BigInt(settled));
}

/** What a refund asking for `askedMinor` of the order takes from the payment, as the rules above say. */
export function expectedForeignShare(payment: ForeignPaymentCounts, askedMinor: number): ExpectedShare {
  const { capturedMinor, settledMinor, refundedMinor, refundedOrderCurrencyMinor } = payment;
  const leftMinor = capturedMinor - refundedMinor;
  const leftWorth = settledMinor - refundedOrderCurrencyMinor;
  if (leftMinor <= 0 || leftWorth <= 0 || askedMinor <= 0) return NOTHING;
  const worth = Math.min(askedMinor, leftWorth);
  // The last of what it settled: the last of what it captured, both exactly.
  if (worth === leftWorth) return { amountMinor: leftMinor, orderCurrencyMinor: worth };
  // Partial: the cumulative amount at the rate, at least a unit more than already went back, a unit short of all.
  const inAll = atCaptureRate(refundedOrderCurrencyMinor + worth, capturedMinor, settledMinor);
  const givenBackInAll = Math.min(capturedMinor - 1, Math.max(refundedMinor + 1, inAll));
  const amountMinor = givenBackInAll - refundedMinor;
  return amountMinor > 0 ? { amountMinor, orderCurrencyMinor: worth } : NOTHING;
}
