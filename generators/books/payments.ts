// Payments: how each provider (Alipay, WeChat Pay, UnionPay, cards, PayPal, store credit) writes its payment and
// refund references, which methods each market uses, and the captured payments of a confirmed order.
import type { Books, PaymentDocument, PaymentMethodName } from './documents';
import { ID_KINDS } from './numbering';
import type { Market } from './organisation';
import { alphanumeric, between, digits, weighted, type Random } from './random';
import type { RunState } from './state';

interface PaymentMethod {
  reference: (random: Random, at: Date) => string;
  refundReference: (random: Random) => string;
}
const yyyymmdd = (at: Date) => at.toISOString().slice(0, 10).replace(/-/g, '');
/** How each provider writes its references (shapes only; the numbers are random). */
export const PAYMENT_METHODS = {
  alipay: {
    reference: (random, at) => `${yyyymmdd(at)}2200${digits(random, 16)}`,
    refundReference: (random) => `RF${digits(random, 24)}`,
  },
  wechat_pay: {
    reference: (random, at) => `4200${digits(random, 6)}${yyyymmdd(at)}${digits(random, 10)}`,
    refundReference: (random) => `50300${digits(random, 23)}`,
  },
  unionpay: { reference: (random) => digits(random, 21), refundReference: (random) => digits(random, 21) },
  card: {
    reference: (random) => `ch_${alphanumeric(random, 24)}`,
    refundReference: (random) => `re_${alphanumeric(random, 24)}`,
  },
  paypal: {
    reference: (random) => `PAYID-${alphanumeric(random, 24, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`,
    refundReference: (random) => alphanumeric(random, 17, '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'),
  },
  store_credit: {
    reference: (random) => `SC-${digits(random, 10)}`,
    refundReference: (random) => `SCR-${digits(random, 10)}`,
  },
} satisfies Record<PaymentMethodName, PaymentMethod>;
const METHOD_SHARES: Record<Market, readonly (readonly [PaymentMethodName, number])[]> = {
  CN: [
    ['alipay', 40],
    ['wechat_pay', 35],
    ['unionpay', 10],
    ['card', 15],
  ],
  US: [
    ['card', 75],
    ['paypal', 25],
  ],
};
export const REFUND_FAILURES = ['card expired', 'account closed', 'refund window passed at the provider'];

/** The captured payments of a confirmed order: one, or (one order in twenty) store credit and the rest. */
export function pay(
  state: RunState,
  books: Books,
  random: Random,
  orderNumber: string,
  market: Market,
  currency: string,
  totalMinor: number,
  at: Date,
): PaymentDocument[] {
  const method = weighted(random, METHOD_SHARES[market]);
  const credit =
    random() < 0.05 && totalMinor > 2000 ? between(random, 1, Math.floor(totalMinor / 200)) * 100 : 0;
  const parts: [PaymentMethodName, number][] =
    credit > 0
      ? [
          ['store_credit', credit],
          [method, totalMinor - credit],
        ]
      : [[method, totalMinor]];
  const payments = parts.map(([name, capturedMinor], part) => ({
    _id: state.id(ID_KINDS.payment, at),
    paymentId: part === 0 ? `PAY-${orderNumber}` : `PAY-${orderNumber}-${part + 1}`,
    orderNumber,
    capturedMinor,
    refundedMinor: 0,
    currency,
    method: name,
    providerReference: PAYMENT_METHODS[name].reference(random, at),
    pendingRefunds: [],
    revision: 0,
    createdAt: new Date(at.getTime() + part * 1000),
    updatedAt: new Date(at.getTime() + part * 1000),
  }));
  books.payments.push(...payments);
  return payments;
}
