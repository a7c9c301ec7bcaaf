// The refund plan's arithmetic (R11): pure, so every edge is cheap to pin down.
import {
  inPaymentCurrency,
  leftInOrderCurrency,
  shareOf,
  type RefundablePayment,
} from '../models/refund-plan';

// 112.00 USD captured for 800.00 CNY of the order.
const usdCard: RefundablePayment = {
  paymentId: 'PAY-USD',
  currency: 'USD',
  capturedMinor: 11200,
  refundedMinor: 0,
  orderCurrencyMinor: 80000,
};

test.each([
  ['in the order currency, what is left as it is', { ...usdCard, currency: 'CNY' }, 11200],
  ['untouched, all it settled', usdCard, 80000],
  ['after 42.00 USD went back, the rest at the same rate', { ...usdCard, refundedMinor: 4200 }, 50000],
  ['refunded in full, nothing', { ...usdCard, refundedMinor: 11200 }, 0],
  // 1 cent left of 11200 is worth 7.14 fen: rounded down, never promising more than the payment holds.
  ['a cent left, rounded down', { ...usdCard, refundedMinor: 11199 }, 7],
])('left in the order currency: %s', (_case, payment, expected) => {
  expect(leftInOrderCurrency(payment, 'CNY')).toBe(expected);
});

test.each([
  ['a share, rounded to the nearest cent', 30000, 4200],
  ['an uneven share', 12345, 1728], // 12345 × 11200 / 80000 = 1728.3
  ['all that is left takes it all', 80000, 11200],
  ['more than is left takes only what is left', 90000, 11200],
  ['a sliver worth under half a cent still gives back a cent', 1, 1],
])('in the payment currency: %s', (_case, orderAmount, expected) => {
  expect(inPaymentCurrency(usdCard, 'CNY', orderAmount)).toBe(expected);
});

test('shares of a payment refunded bit by bit add up to exactly what it captured', () => {
  // 98.37 USD for 700.00 CNY: no whole number of fen per cent, so rounding is exercised on every share.
  let payment: RefundablePayment = { ...usdCard, capturedMinor: 9837, orderCurrencyMinor: 70000 };
  let given = 0;
  let worth = 0;
  for (const ask of [333, 12345, 1, 20000, 7777, 99999]) {
    const share = shareOf(payment, 'CNY', ask);
    given += share.amountMinor;
    worth += share.orderCurrencyMinor;
    payment = { ...payment, refundedMinor: payment.refundedMinor + share.amountMinor };
  }
  expect(given).toBe(9837);
  expect(worth).toBeLessThanOrEqual(70000);
  expect(leftInOrderCurrency(payment, 'CNY')).toBe(0);
});

test('amounts whose products pass 2^53 are still exact', () => {
  const large: RefundablePayment = {
    ...usdCard,
    capturedMinor: 9_000_000_000_001,
    orderCurrencyMinor: 63_000_000_000_007,
  };
  expect(leftInOrderCurrency(large, 'CNY')).toBe(63_000_000_000_007);
  expect(inPaymentCurrency(large, 'CNY', 7_000_000_000_000)).toBe(1_000_000_000_000);
});

test('a foreign payment that does not say what it settled of the order cannot be refunded by guess', () => {
  const { orderCurrencyMinor: _unknown, ...unknownWorth } = usdCard;
  expect(() => leftInOrderCurrency(unknownWorth, 'CNY')).toThrow(
    'payment PAY-USD was made in USD, and the books do not say what it settled of the order in CNY',
  );
  // Its currency is the order's: nothing to convert, nothing missing.
  expect(leftInOrderCurrency({ ...unknownWorth, currency: 'CNY' }, 'CNY')).toBe(11200);
});
