// The refund plan's arithmetic (R11): pure, so every edge is cheap to pin down, and whole ranges can be swept.
import {
  inPaymentCurrency,
  leftInOrderCurrency,
  planRefund,
  shareOf,
  type RefundablePayment,
  type RefundShare,
} from '../rules/refund-plan.rules';

// 112.00 USD captured for 800.00 CNY of the order.
const usdCard: RefundablePayment = {
  paymentId: 'PAY-USD',
  currency: 'USD',
  capturedMinor: 11200,
  refundedMinor: 0,
  orderCurrencyMinor: 80000,
};

/** The payment after a share of it was reserved, as the refund ledger updates it. */
const after = (payment: RefundablePayment, share: RefundShare): RefundablePayment => ({
  ...payment,
  refundedMinor: payment.refundedMinor + share.amountMinor,
  refundedOrderCurrencyMinor: (payment.refundedOrderCurrencyMinor ?? 0) + share.orderCurrencyMinor,
});

test.each([
  ['in the order currency, what is left as it is', { ...usdCard, currency: 'CNY' }, 11200],
  ['untouched, all it settled', usdCard, 80000],
  [
    'after 42.00 USD gave back 300.00 CNY, the other 500.00',
    { ...usdCard, refundedMinor: 4200, refundedOrderCurrencyMinor: 30000 },
    50000,
  ],
  ['refunded in full, nothing', { ...usdCard, refundedMinor: 11200, refundedOrderCurrencyMinor: 80000 }, 0],
])('left in the order currency: %s', (_case, payment, expected) => {
  expect(leftInOrderCurrency(payment, 'CNY')).toBe(expected);
});

test.each([
  ['a share, rounded down to the cent', 30000, 4200],
  ['an uneven share', 12345, 1728], // 12345 × 11200 / 80000 = 1728.3
  ['an uneven share a hair under the next cent', 12349, 1728], // 1728.86
  ['all that is left takes it all', 80000, 11200],
  ['more than is left takes only what is left', 90000, 11200],
  ['a sliver worth under half a cent still gives back a cent', 1, 1],
])('in the payment currency: %s', (_case, orderAmount, expected) => {
  expect(inPaymentCurrency(usdCard, 'CNY', orderAmount)).toBe(expected);
});

test.each([
  // 98.37 USD for 700.00 CNY: fewer minor units than the order's, no whole number of fen per cent.
  ['USD for CNY', { ...usdCard, capturedMinor: 9837, orderCurrencyMinor: 70000 }, 'CNY'],
  // 150,300 KRW (no decimals) for 100.00 EUR: more minor units than the order's.
  ['KRW for EUR', { ...usdCard, currency: 'KRW', capturedMinor: 150300, orderCurrencyMinor: 10000 }, 'EUR'],
])(
  '%s: any partial refund, then the rest, give back exactly what the payment took and settled',
  (_case, payment, orderCurrency) => {
    const settled = payment.orderCurrencyMinor ?? 0;
    for (let first = 1; first < settled; first += 1) {
      const partial = shareOf(payment, orderCurrency, first);
      const rest = shareOf(after(payment, partial), orderCurrency, settled);
      const exact =
        partial.orderCurrencyMinor === first &&
        partial.amountMinor + rest.amountMinor === payment.capturedMinor &&
        first + rest.orderCurrencyMinor === settled;
      if (!exact) throw new Error(`after ${first}: ${JSON.stringify({ partial, rest })}`);
    }
  },
);

test('many partial refunds never drift from the rate of capture', () => {
  let payment: RefundablePayment = { ...usdCard, capturedMinor: 9837, orderCurrencyMinor: 70000 };
  for (const ask of [333, 12345, 20000, 7777, 5000, 99999]) {
    payment = after(payment, shareOf(payment, 'CNY', ask));
    // Given back so far, in USD, is the worth given back at the rate, less under a cent.
    const exact = ((payment.refundedOrderCurrencyMinor ?? 0) * 9837) / 70000;
    expect(exact - payment.refundedMinor).toBeGreaterThanOrEqual(0);
    expect(exact - payment.refundedMinor).toBeLessThan(1);
  }
  expect(payment).toMatchObject({ refundedMinor: 9837, refundedOrderCurrencyMinor: 70000 });
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

describe('a plan over the payments', () => {
  const cny: RefundablePayment = {
    paymentId: 'PAY-CNY',
    currency: 'CNY',
    capturedMinor: 20000,
    refundedMinor: 0,
  };

  test('takes the oldest first, then the foreign share', () => {
    expect(planRefund([cny, usdCard], 'CNY', 50000)).toEqual({
      shares: [
        { paymentId: 'PAY-CNY', currency: 'CNY', amountMinor: 20000, orderCurrencyMinor: 20000 },
        { paymentId: 'PAY-USD', currency: 'USD', amountMinor: 4200, orderCurrencyMinor: 30000 },
      ],
      uncoveredMinor: 0,
    });
  });

  test('says what no payment could cover', () => {
    expect(planRefund([cny], 'CNY', 25000).uncoveredMinor).toBe(5000);
  });

  test('keeps the shares an earlier attempt planned, and never plans more than the amount in all', () => {
    // The first attempt found nothing left on the CNY payment (reserved elsewhere) and planned all of 500.00 on
    // the card. Meanwhile the CNY reservation was given back: the retry must not add a share of it on top.
    const earlier: RefundShare = {
      paymentId: 'PAY-USD',
      currency: 'USD',
      amountMinor: 7000,
      orderCurrencyMinor: 50000,
    };
    const retried = planRefund([cny, after(usdCard, earlier)], 'CNY', 50000, new Map([['PAY-USD', earlier]]));
    expect(retried).toEqual({ shares: [earlier], uncoveredMinor: 0 });
  });
});
