// R11: refunds go back in each payment's own currency. An order is priced in one currency, but a customer may
// pay part of it in another (a foreign card): such a payment records what it settled of the order, in the
// order's currency, at the rate of its capture. A cancellation asks for an amount in the order's currency; each
// payment gives back its share of it in its own currency, at that same rate.
//
// A foreign payment also counts what its refunds gave back of the order (`refundedOrderCurrencyMinor`), so the
// conversion is cumulative: after refunds worth D of its S settled, it has given back round(C × D / S) of its
// C captured (rounded down). Partial refunds therefore never drift from the rate, the last one returns exactly
// what is left in both currencies, and the customer neither gains nor loses on the exchange (a partial refund
// may hold back less than one minor unit, which the last one gives back).
//
// Pure, so the review (what can be refunded), the refund, the manual settlement and finance's instructions agree.
import { CancelflowError } from '../lib/errors';

export interface RefundablePayment {
  paymentId: string;
  currency: string;
  capturedMinor: number;
  /** Reserved or refunded so far, in the payment's currency. */
  refundedMinor: number;
  /** What the payment settled of the order, in the order's currency; needed only when the currencies differ. */
  orderCurrencyMinor?: number | null;
  /** What its refunds so far gave back of the order, in the order's currency (foreign payments only). */
  refundedOrderCurrencyMinor?: number | null;
}

/** Rounded down, exact for any amounts in minor units: the product of two of them may pass 2^53. */
function scaleDown(amount: number, numerator: number, denominator: number): number {
  return Number((BigInt(amount) * BigInt(numerator)) / BigInt(denominator));
}

function settledOf(payment: RefundablePayment, orderCurrency: string): number {
  if (payment.orderCurrencyMinor == null || payment.orderCurrencyMinor <= 0) {
    throw new CancelflowError(
      'validation_failed',
      `payment ${payment.paymentId} was made in ${payment.currency}, and the books do not say what it settled of ` +
        `the order in ${orderCurrency}; finance must record that before it can be refunded`,
      { field: 'orderCurrencyMinor' },
    );
  }
  return payment.orderCurrencyMinor;
}

/** What is left to refund of a payment, in the order's currency. */
export function leftInOrderCurrency(payment: RefundablePayment, orderCurrency: string): number {
  const left = payment.capturedMinor - payment.refundedMinor;
  if (payment.currency === orderCurrency) return Math.max(0, left);
  const settled = settledOf(payment, orderCurrency);
  if (left <= 0) return 0;
  return Math.max(0, settled - (payment.refundedOrderCurrencyMinor ?? 0));
}

/**
 * How much of the payment, in its own currency, gives back `orderAmountMinor` more of the order: the cumulative
 * amount at the capture's rate, rounded down, less what it gave back already. Asking for all that is left takes
 * all that is left, so what rounding held back goes with the last share. A partial share always leaves a minor
 * unit for the rest of the order's worth (else that rest could never go back), and a sliver worth less than one
 * minor unit of the payment still gives one back.
 */
export function inPaymentCurrency(
  payment: RefundablePayment,
  orderCurrency: string,
  orderAmountMinor: number,
): number {
  if (payment.currency === orderCurrency) return orderAmountMinor;
  const left = payment.capturedMinor - payment.refundedMinor;
  if (left <= 0 || orderAmountMinor <= 0) return 0;
  if (orderAmountMinor >= leftInOrderCurrency(payment, orderCurrency)) return left;
  const settled = settledOf(payment, orderCurrency);
  const givenBack = (payment.refundedOrderCurrencyMinor ?? 0) + orderAmountMinor;
  const amount = scaleDown(givenBack, payment.capturedMinor, settled) - payment.refundedMinor;
  return Math.max(0, Math.min(left - 1, Math.max(1, amount)));
}

export interface RefundShare {
  paymentId: string;
  currency: string;
  /** What goes back, in the payment's currency. */
  amountMinor: number;
  /** What that gives back of the order, in the order's currency. */
  orderCurrencyMinor: number;
}

/** The share of one payment in refunding `outstandingMinor` of the order; amounts 0 when it has nothing left. */
export function shareOf(
  payment: RefundablePayment,
  orderCurrency: string,
  outstandingMinor: number,
): RefundShare {
  const orderCurrencyMinor = Math.max(
    0,
    Math.min(outstandingMinor, leftInOrderCurrency(payment, orderCurrency)),
  );
  const amountMinor = inPaymentCurrency(payment, orderCurrency, orderCurrencyMinor);
  return {
    paymentId: payment.paymentId,
    currency: payment.currency,
    amountMinor,
    orderCurrencyMinor: amountMinor > 0 ? orderCurrencyMinor : 0,
  };
}

/**
 * How `amountMinor` of the order goes back over its payments, oldest first: the shares already planned (a
 * retried attempt, keyed per payment) stand as they were and count first; the rest comes from what each other
 * payment has left. Returns the shares in the payments' order and what none of them could cover.
 */
export function planRefund(
  payments: RefundablePayment[],
  orderCurrency: string,
  amountMinor: number,
  planned: ReadonlyMap<string, RefundShare> = new Map(),
): { shares: RefundShare[]; uncoveredMinor: number } {
  let outstanding = amountMinor;
  for (const share of planned.values()) outstanding -= share.orderCurrencyMinor;
  const shares: RefundShare[] = [];
  for (const payment of payments) {
    const earlier = planned.get(payment.paymentId);
    if (earlier) {
      shares.push(earlier);
      continue;
    }
    if (outstanding <= 0) continue;
    const share = shareOf(payment, orderCurrency, outstanding);
    if (share.amountMinor <= 0) continue;
    shares.push(share);
    outstanding -= share.orderCurrencyMinor;
  }
  return { shares, uncoveredMinor: Math.max(0, outstanding) };
}

/**
 * R12: what a refund without return keeps back when the customer keeps the goods: the policy's share of what
 * was refundable, rounded down (the customer's way).
 */
export function keptBackForKeptGoods(refundableMinor: number, deductionPercent: number): number {
  return Math.floor((refundableMinor * deductionPercent) / 100);
}
