// R11: refunds go back in each payment's own currency. An order is priced in one currency, but a customer may
// pay part of it in another (a foreign card): such a payment records what it settled of the order, in the
// order's currency, at the rate of its capture. A cancellation asks for an amount in the order's currency; each
// payment gives back its share of it in its own currency, at that same rate, so a whole refund returns exactly
// what each payment captured, and the customer neither gains nor loses on the exchange.
//
// Pure, so the review (what can be refunded) and the refund itself (how much of each payment) agree.
import { CancelflowError } from '../lib/errors';

export interface RefundablePayment {
  paymentId: string;
  currency: string;
  capturedMinor: number;
  /** Reserved or refunded so far, in the payment's currency. */
  refundedMinor: number;
  /** What the payment settled of the order, in the order's currency; needed only when the currencies differ. */
  orderCurrencyMinor?: number | null;
}

/** Exact for any amounts in minor units: the product of two of them may pass 2^53. */
function scale(amount: number, numerator: number, denominator: number, rounding: 'down' | 'nearest'): number {
  const product = BigInt(amount) * BigInt(numerator);
  const divisor = BigInt(denominator);
  return Number(rounding === 'down' ? product / divisor : (product + divisor / 2n) / divisor);
}

function rateOf(payment: RefundablePayment, orderCurrency: string): number {
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

/** What is left to refund of a payment, in the order's currency (rounded down: never promise more). */
export function leftInOrderCurrency(payment: RefundablePayment, orderCurrency: string): number {
  const left = payment.capturedMinor - payment.refundedMinor;
  if (payment.currency === orderCurrency || left <= 0) return Math.max(0, left);
  return scale(left, rateOf(payment, orderCurrency), payment.capturedMinor, 'down');
}

/**
 * How much of the payment, in its own currency, gives back `orderAmountMinor` of the order. Asking for all that
 * is left takes all that is left, so rounding never strands a remainder on the payment.
 */
export function inPaymentCurrency(
  payment: RefundablePayment,
  orderCurrency: string,
  orderAmountMinor: number,
): number {
  if (payment.currency === orderCurrency) return orderAmountMinor;
  const left = payment.capturedMinor - payment.refundedMinor;
  if (orderAmountMinor >= leftInOrderCurrency(payment, orderCurrency)) return Math.max(0, left);
  const amount = scale(orderAmountMinor, payment.capturedMinor, rateOf(payment, orderCurrency), 'nearest');
  // A sliver worth less than half a minor unit of the payment still gives something back.
  return Math.min(left, Math.max(1, amount));
}

export interface RefundShare {
  paymentId: string;
  currency: string;
  /** What goes back, in the payment's currency. */
  amountMinor: number;
  /** What that gives back of the order, in the order's currency. */
  orderCurrencyMinor: number;
}

/** The share of the next payment (oldest first) in refunding `outstandingMinor` of the order; 0 when it has none. */
export function shareOf(
  payment: RefundablePayment,
  orderCurrency: string,
  outstandingMinor: number,
): RefundShare {
  const orderCurrencyMinor = Math.min(outstandingMinor, leftInOrderCurrency(payment, orderCurrency));
  return {
    paymentId: payment.paymentId,
    currency: payment.currency,
    amountMinor: orderCurrencyMinor > 0 ? inPaymentCurrency(payment, orderCurrency, orderCurrencyMinor) : 0,
    orderCurrencyMinor,
  };
}
