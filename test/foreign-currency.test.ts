// R11: refunds go back in the original payment's currency. An order priced in CNY and paid partly with a
// foreign card (USD) gives back each payment's share in its own currency, at the rate of its capture: a whole
// refund returns exactly what each payment took, by the gateway or by finance's hand, with a voucher in each
// currency, and the customer's message names both amounts. On the dev server, against real parts.
import { settleRefund } from '../client/cancellation-decisions';
import { CancelflowApiError } from '../client/cancelflow-client';
import { createPaymentActivities } from '../activities/payment.activities';
import { formatMoney } from '../activities/templates/render';
import { linkToOrder } from '../models/order-links';
import { reserveRefund } from '../models/refund-ledger';
import { addCustomer, addPeople, addProduct, placePaidOrder, receiveStock } from '../generators/demo-data';
import type { CancellationView } from '../contracts/cancellation.contract';
import { waitForState } from './support/cancellation-state';
import { eventually } from './support/eventually';
import { startTestStack, type TestStack } from './support/stack';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack('foreign-currency');
  await addPeople(stack.models); // clerk-1 (requester), finance-1 (finance clerk)
  await addCustomer(stack.models, {
    customerId: 'C-FX',
    name: 'Mary Jones',
    email: 'mary.jones@example.com',
    language: 'en',
  });
  // A second customer, so that the first one's earlier cancellations do not raise the risk into an approval.
  await addCustomer(stack.models, {
    customerId: 'C-FX-2',
    name: 'John Smith',
    email: 'john.smith@example.com',
    language: 'en',
  });
  await addProduct(stack.models, {
    sku: 'VASE-1',
    name: 'Celadon vase',
    unitPriceMinor: 50000,
    currency: 'CNY',
  });
  await receiveStock(stack.models, 'VASE-1', 20);
});

afterAll(async () => {
  await stack.stop();
});

/**
 * An order of two vases (500.00 CNY each), paid `cnyMinor` in CNY and the rest with a USD card that captured
 * `usdMinor` cents for it; `usdFirst` makes the card the older payment.
 */
async function paidInTwoCurrencies(
  orderNumber: string,
  payments: { cnyMinor: number; usdMinor: number; usdFirst?: boolean; usdWorthKnown?: boolean },
  customerId = 'C-FX',
) {
  await placePaidOrder(stack.models, {
    orderNumber,
    customerId,
    currency: 'CNY',
    lines: [
      { lineId: 'L1', sku: 'VASE-1', quantity: 1, unitPriceMinor: 50000 },
      { lineId: 'L2', sku: 'VASE-1', quantity: 1, unitPriceMinor: 50000 },
    ],
  });
  const cnyAt = new Date(Date.now() - (payments.usdFirst ? 0 : 60_000));
  const usdAt = new Date(Date.now() - (payments.usdFirst ? 60_000 : 0));
  await stack.models.Payment.collection.updateOne(
    { paymentId: `PAY-${orderNumber}` },
    { $set: { capturedMinor: payments.cnyMinor, createdAt: cnyAt } },
  );
  await linkToOrder(stack.models, orderNumber, { paymentIds: [`PAY-${orderNumber}-USD`] });
  await stack.models.Payment.create({
    paymentId: `PAY-${orderNumber}-USD`,
    orderNumber,
    capturedMinor: payments.usdMinor,
    currency: 'USD',
    ...(payments.usdWorthKnown === false ? {} : { orderCurrencyMinor: 100000 - payments.cnyMinor }),
    method: 'card',
    providerReference: `ch_${orderNumber.toLowerCase()}_usd`,
    createdAt: usdAt,
  });
}

async function cancel(orderNumber: string, lines?: { lineId: string; quantity: number }[]) {
  const accepted = await (
    await stack.as('clerk-1')
  ).createCancellation({
    orderNumber,
    lines,
    reasonCode: 'customer_changed_mind',
    confirm: ['awaiting_shipment'],
  });
  const handle = stack.temporal.workflow.getHandle(accepted.workflowId);
  return { cancellationId: accepted.cancellationId, handle };
}

const refundsOf = async (cancellationId: string) =>
  (await stack.models.Refund.find({ cancellationId }).sort({ paymentId: 1, createdAt: 1 }).lean()).map(
    (refund) => ({
      paymentId: refund.paymentId,
      status: refund.status,
      amountMinor: refund.amountMinor,
      currency: refund.currency,
      // What it gave back of the order, in CNY; recorded only where the currency is another.
      ...(refund.orderCurrencyMinor == null ? {} : { worth: refund.orderCurrencyMinor }),
    }),
  );

test('a partial cancellation takes the older payment first, then the USD share at the rate of its capture', async () => {
  // 200.00 CNY, then 112.00 USD for the other 800.00 CNY (7.1428… CNY to the dollar).
  await paidInTwoCurrencies('SO-FX-1', { cnyMinor: 20000, usdMinor: 11200 });

  const first = await cancel('SO-FX-1', [{ lineId: 'L1', quantity: 1 }]);
  expect((await first.handle.result()) as CancellationView).toMatchObject({
    outcome: 'completed',
    refundedMinor: 50000,
  });
  // 200.00 CNY from the card in CNY, and 300.00 CNY worth of the USD card: 300 / 800 of 112.00 = 42.00 USD.
  expect(await refundsOf(first.cancellationId)).toEqual([
    { paymentId: 'PAY-SO-FX-1', status: 'succeeded', amountMinor: 20000, currency: 'CNY' },
    { paymentId: 'PAY-SO-FX-1-USD', status: 'succeeded', amountMinor: 4200, currency: 'USD', worth: 30000 },
  ]);

  // The rest: what is left of the USD card goes back whole, and the two cancellations add up to the payments.
  const second = await cancel('SO-FX-1');
  expect((await second.handle.result()) as CancellationView).toMatchObject({
    outcome: 'completed',
    refundedMinor: 50000,
  });
  expect(await refundsOf(second.cancellationId)).toEqual([
    { paymentId: 'PAY-SO-FX-1-USD', status: 'succeeded', amountMinor: 7000, currency: 'USD', worth: 50000 },
  ]);
  const payments = await stack.models.Payment.find({ orderNumber: 'SO-FX-1' }).sort({ paymentId: 1 }).lean();
  expect(
    payments.map((payment) => [
      payment.currency,
      payment.capturedMinor,
      payment.refundedMinor,
      payment.refundedOrderCurrencyMinor,
    ]),
  ).toEqual([
    ['CNY', 20000, 20000, undefined],
    ['USD', 11200, 11200, 80000],
  ]);
  // The gateway was asked in each payment's currency, against that payment.
  expect(
    stack.gateway.refunds
      .filter((refund) => refund.payment.startsWith('ch_so-fx-1'))
      .map((refund) => [refund.payment, refund.amount, refund.currency]),
  ).toEqual([
    ['ch_so-fx-1', 20000, 'CNY'],
    ['ch_so-fx-1_usd', 4200, 'USD'],
    ['ch_so-fx-1_usd', 7000, 'USD'],
  ]);
});

test('a whole cancellation returns exactly what each payment took, with a voucher and a message in each currency', async () => {
  // 300.00 CNY, then 98.37 USD for the other 700.00 CNY: an uneven rate, so only exact arithmetic gives it all back.
  await paidInTwoCurrencies('SO-FX-2', { cnyMinor: 30000, usdMinor: 9837 });
  const { cancellationId, handle } = await cancel('SO-FX-2');
  expect((await handle.result()) as CancellationView).toMatchObject({
    outcome: 'completed',
    refundedMinor: 100000,
  });
  expect(await refundsOf(cancellationId)).toEqual([
    { paymentId: 'PAY-SO-FX-2', status: 'succeeded', amountMinor: 30000, currency: 'CNY' },
    { paymentId: 'PAY-SO-FX-2-USD', status: 'succeeded', amountMinor: 9837, currency: 'USD', worth: 70000 },
  ]);
  const vouchers = await stack.models.Voucher.find({ 'document.id': new RegExp(`^${cancellationId}:`) })
    .sort({ currency: 1 })
    .lean();
  expect(vouchers.map((voucher) => [voucher.currency, voucher.lines.map((line) => line.debitMinor)])).toEqual(
    [
      ['CNY', [30000, 0]],
      ['USD', [9837, 0]],
    ],
  );

  // The API's resource lists each refund, in its payment's currency, with its worth in the order's.
  expect((await (await stack.as('clerk-1')).getCancellation(cancellationId)).refunds).toEqual([
    expect.objectContaining({
      paymentId: 'PAY-SO-FX-2',
      amountMinor: 30000,
      currency: 'CNY',
      status: 'succeeded',
    }),
    expect.objectContaining({
      paymentId: 'PAY-SO-FX-2-USD',
      amountMinor: 9837,
      currency: 'USD',
      orderCurrencyMinor: 70000,
      status: 'succeeded',
    }),
  ]);

  const mail = await stack.mail.waitForMessage(
    (message) => message.subject.includes('SO-FX-2') && message.text.includes('refunded'),
  );
  expect(mail.text).toContain(`${formatMoney('en', 30000, 'CNY')} and ${formatMoney('en', 9837, 'USD')}`);
});

test('a USD refund the gateway refuses is settled by finance in USD, and the CNY part by hand too', async () => {
  await paidInTwoCurrencies('SO-FX-3', { cnyMinor: 50000, usdMinor: 7000, usdFirst: true }, 'C-FX-2');
  stack.gateway.setBehaviour({ mode: 'fail_final', times: 1 });
  const { cancellationId, handle } = await cancel('SO-FX-3');

  const waiting = await waitForState(handle, 'awaitingSettlement.waitingForFinance');
  expect(waiting.settlement).toMatchObject({ outstandingMinor: 100000 });
  // Finance are told what to pay back to each payment, in its own currency, as the settlement will record it.
  const request = await eventually(async () => {
    const found = await stack.models.MessageCentreEntry.findOne({
      cancellationId,
      recipientId: 'finance-1',
    }).lean();
    expect(found).not.toBeNull();
    return found;
  });
  const language = request?.language === 'en' ? 'en' : 'zh-CN';
  for (const [paymentId, amountMinor, currency] of [
    ['PAY-SO-FX-3-USD', 7000, 'USD'],
    ['PAY-SO-FX-3', 50000, 'CNY'],
  ] as const) {
    expect(request?.body).toContain(paymentId);
    expect(request?.body).toContain(formatMoney(language, amountMinor, currency));
  }
  await settleRefund(stack.temporal, cancellationId, { by: 'finance-1', reference: 'BOC-FX-0001' });
  expect((await handle.result()) as CancellationView).toMatchObject({
    outcome: 'completed',
    refundedMinor: 100000,
  });
  expect(await refundsOf(cancellationId)).toEqual([
    { paymentId: 'PAY-SO-FX-3', status: 'settled_manually', amountMinor: 50000, currency: 'CNY' },
    { paymentId: 'PAY-SO-FX-3-USD', status: 'failed', amountMinor: 7000, currency: 'USD', worth: 50000 },
    {
      paymentId: 'PAY-SO-FX-3-USD',
      status: 'settled_manually',
      amountMinor: 7000,
      currency: 'USD',
      worth: 50000,
    },
  ]);
});

test('a foreign payment whose worth in the order currency is unknown is refused up front, naming it', async () => {
  await paidInTwoCurrencies('SO-FX-4', { cnyMinor: 50000, usdMinor: 7000, usdWorthKnown: false }, 'C-FX-2');
  const refusal = await cancel('SO-FX-4').catch((error: unknown) => error);
  expect(refusal).toBeInstanceOf(CancelflowApiError);
  expect(refusal).toMatchObject({ body: { error: 'not_cancellable' } });
  expect((refusal as Error).message).toContain('payment PAY-SO-FX-4-USD was made in USD');
  expect(await stack.models.Refund.countDocuments({ orderNumber: 'SO-FX-4' })).toBe(0);
});

describe('the refund activities, called again as Temporal retries them', () => {
  const payments = () => createPaymentActivities(stack.deps);

  test('a retried refund asks for the shares it planned, foreign one included, and nothing more', async () => {
    await paidInTwoCurrencies('SO-FX-5', { cnyMinor: 20000, usdMinor: 11200 }, 'C-FX-2');
    const refunding = {
      cancellationId: 'retry-fx-5',
      orderNumber: 'SO-FX-5',
      amountMinor: 50000,
      currency: 'CNY',
    };
    const first = await payments().refundPayment(refunding);
    const gatewayCalls = stack.gateway.refunds.length;
    expect(await payments().refundPayment(refunding)).toEqual(first);
    expect(first.refundedMinor).toBe(50000);
    expect(stack.gateway.refunds).toHaveLength(gatewayCalls);
    expect(await refundsOf('retry-fx-5')).toEqual([
      { paymentId: 'PAY-SO-FX-5', status: 'succeeded', amountMinor: 20000, currency: 'CNY' },
      { paymentId: 'PAY-SO-FX-5-USD', status: 'succeeded', amountMinor: 4200, currency: 'USD', worth: 30000 },
    ]);
  });

  test('what went back so far is summed in the order currency, whatever currency it went back in', async () => {
    await paidInTwoCurrencies('SO-FX-6', { cnyMinor: 50000, usdMinor: 7000 }, 'C-FX-2');
    const cancellationId = 'mixed-fx-6';
    // The books' record of the cancellation names its order, whose payments key its refunds.
    await stack.models.Cancellation.create({
      cancellationId,
      workflowId: `cancellation-${cancellationId}`,
      orderNumber: 'SO-FX-6',
      customerId: 'C-FX-2',
      reasonCode: 'customer_changed_mind',
      requestedBy: 'clerk-1',
      state: 'refunding',
    });
    // The CNY part goes back; then the gateway refuses the USD part for good.
    await payments().refundPayment({
      cancellationId,
      orderNumber: 'SO-FX-6',
      amountMinor: 50000,
      currency: 'CNY',
    });
    stack.gateway.setBehaviour({ mode: 'fail_final', times: 1 });
    await expect(
      payments().refundPayment({
        cancellationId,
        orderNumber: 'SO-FX-6',
        amountMinor: 100000,
        currency: 'CNY',
      }),
    ).rejects.toMatchObject({ type: 'RefundRefused' });
    expect(await payments().refundedForCancellation({ cancellationId })).toBe(50000);

    // Finance settle the rest by hand: the card's 70.00 USD, worth 500.00 CNY.
    expect(
      await payments().recordManualSettlement({
        cancellationId,
        orderNumber: 'SO-FX-6',
        amountMinor: 50000,
        currency: 'CNY',
        by: 'finance-1',
        reference: 'BOC-FX-0006',
      }),
    ).toBe(50000);
    expect(await payments().refundedForCancellation({ cancellationId })).toBe(100000);
    expect(await stack.models.Payment.findOne({ paymentId: 'PAY-SO-FX-6-USD' }).lean()).toMatchObject({
      refundedMinor: 7000,
      refundedOrderCurrencyMinor: 50000,
      pendingRefunds: [],
    });
  });
});

describe('two cancellations sharing a foreign payment', () => {
  const payments = () => createPaymentActivities(stack.deps);
  /** As Temporal does: an attempt that fails retryably (a plain error) is made again. */
  async function retried<T>(attempt: () => Promise<T>): Promise<T> {
    for (let tries = 1; ; tries += 1) {
      try {
        return await attempt();
      } catch (error) {
        if (tries >= 5 || (error as { type?: string }).type !== undefined) throw error;
      }
    }
  }
  const onPlan = (
    payment: { capturedMinor: number; orderCurrencyMinor?: number | null } & Record<string, unknown>,
  ) =>
    Math.floor(
      ((payment.refundedOrderCurrencyMinor as number) * payment.capturedMinor) /
        (payment.orderCurrencyMinor ?? 1),
    );

  test('a share planned on counts another refund has moved is refused as stale, then planned again', async () => {
    await paidInTwoCurrencies('SO-FX-8', { cnyMinor: 30000, usdMinor: 9837, usdFirst: true }, 'C-FX-2');
    const usd = await stack.models.Payment.findOne({ paymentId: 'PAY-SO-FX-8-USD' }).lean().orFail();
    const stale = { refundedMinor: 0, refundedOrderCurrencyMinor: 0 };
    await payments().refundPayment({
      cancellationId: 'fx8-a',
      orderNumber: 'SO-FX-8',
      amountMinor: 11100,
      currency: 'CNY',
    });
    await expect(
      reserveRefund(stack.models, {
        idempotencyKey: 'fx8-b:refund:PAY-SO-FX-8-USD',
        paymentId: usd.paymentId,
        orderNumber: 'SO-FX-8',
        cancellationId: 'fx8-b',
        amountMinor: 4684,
        currency: 'USD',
        orderCurrencyMinor: 33333,
        plannedFrom: stale,
      }),
    ).rejects.toMatchObject({ code: 'refund_plan_stale' });
    // The activity plans it again on the counts as they are now, under the same key, and the card stays on plan.
    await payments().refundPayment({
      cancellationId: 'fx8-b',
      orderNumber: 'SO-FX-8',
      amountMinor: 33333,
      currency: 'CNY',
    });
    const after = await stack.models.Payment.findOne({ paymentId: usd.paymentId }).lean().orFail();
    expect(after).toMatchObject({ refundedOrderCurrencyMinor: 44433, pendingRefunds: [] });
    expect(after.refundedMinor).toBe(onPlan(after));
    // On the untouched card 333.33 CNY was 46.84 USD; after the first cancellation's 15.59 USD (111.00 CNY),
    // the cumulative rate gives 46.85 (6,244 cents for 444.33 CNY, less 15.59).
    expect(await refundsOf('fx8-b')).toEqual([
      {
        paymentId: usd.paymentId,
        status: 'succeeded',
        amountMinor: 4685,
        currency: 'USD',
        worth: 33333,
      },
    ]);
  });

  test('refunded at once, the shares of both stay on the card’s rate, and the rest goes back exactly', async () => {
    await paidInTwoCurrencies('SO-FX-9', { cnyMinor: 30000, usdMinor: 9837, usdFirst: true }, 'C-FX-2');
    const refund = (cancellationId: string, amountMinor: number) =>
      retried(() =>
        payments().refundPayment({ cancellationId, orderNumber: 'SO-FX-9', amountMinor, currency: 'CNY' }),
      );
    await Promise.all([refund('fx9-a', 12345), refund('fx9-b', 23456), refund('fx9-c', 7777)]);
    const card = await stack.models.Payment.findOne({ paymentId: 'PAY-SO-FX-9-USD' }).lean().orFail();
    expect(card).toMatchObject({ refundedOrderCurrencyMinor: 12345 + 23456 + 7777, pendingRefunds: [] });
    expect(card.refundedMinor).toBe(onPlan(card));

    await refund('fx9-d', 70000 - (12345 + 23456 + 7777) + 30000);
    expect(await stack.models.Payment.find({ orderNumber: 'SO-FX-9' }).sort({ paymentId: 1 }).lean()).toEqual(
      [
        expect.objectContaining({ capturedMinor: 30000, refundedMinor: 30000 }),
        expect.objectContaining({
          capturedMinor: 9837,
          refundedMinor: 9837,
          refundedOrderCurrencyMinor: 70000,
        }),
      ],
    );
  });
});
