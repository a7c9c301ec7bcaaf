// R11: refunds go back in the original payment's currency. An order priced in CNY and paid partly with a
// foreign card (USD) gives back each payment's share in its own currency, at the rate of its capture: a whole
// refund returns exactly what each payment took, by the gateway or by finance's hand, with a voucher in each
// currency, and the customer's message names both amounts. On the dev server, against real parts.
import { settleRefund } from '../client/cancellation-decisions';
import { CancelflowApiError } from '../client/cancelflow-client';
import { formatMoney } from '../activities/templates/render';
import { addCustomer, addPeople, addProduct, placePaidOrder, receiveStock } from '../scripts/demo-data';
import type { CancellationView } from '../workflows/cancellation.contract';
import { waitForState } from './support/cancellation-state';
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
  const accepted = await stack.api.createCancellation({
    orderNumber,
    lines,
    reasonCode: 'customer_changed_mind',
    requestedBy: 'clerk-1',
    confirm: ['awaiting_shipment'],
  });
  const handle = stack.temporal.workflow.getHandle(accepted.workflowId);
  return { cancellationId: accepted.cancellationId, handle };
}

const refundsOf = async (cancellationId: string) =>
  (await stack.models.Refund.find({ cancellationId }).sort({ paymentId: 1 }).lean()).map((refund) => ({
    paymentId: refund.paymentId,
    status: refund.status,
    amountMinor: refund.amountMinor,
    currency: refund.currency,
  }));

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
    { paymentId: 'PAY-SO-FX-1-USD', status: 'succeeded', amountMinor: 4200, currency: 'USD' },
  ]);

  // The rest: what is left of the USD card goes back whole, and the two cancellations add up to the payments.
  const second = await cancel('SO-FX-1');
  expect((await second.handle.result()) as CancellationView).toMatchObject({
    outcome: 'completed',
    refundedMinor: 50000,
  });
  expect(await refundsOf(second.cancellationId)).toEqual([
    { paymentId: 'PAY-SO-FX-1-USD', status: 'succeeded', amountMinor: 7000, currency: 'USD' },
  ]);
  const payments = await stack.models.Payment.find({ orderNumber: 'SO-FX-1' }).sort({ paymentId: 1 }).lean();
  expect(payments.map((payment) => [payment.currency, payment.capturedMinor, payment.refundedMinor])).toEqual(
    [
      ['CNY', 20000, 20000],
      ['USD', 11200, 11200],
    ],
  );
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
    { paymentId: 'PAY-SO-FX-2-USD', status: 'succeeded', amountMinor: 9837, currency: 'USD' },
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
  await settleRefund(stack.temporal, cancellationId, { by: 'finance-1', reference: 'BOC-FX-0001' });
  expect((await handle.result()) as CancellationView).toMatchObject({
    outcome: 'completed',
    refundedMinor: 100000,
  });
  expect(await refundsOf(cancellationId)).toEqual([
    { paymentId: 'PAY-SO-FX-3', status: 'settled_manually', amountMinor: 50000, currency: 'CNY' },
    { paymentId: 'PAY-SO-FX-3-USD', status: 'failed', amountMinor: 7000, currency: 'USD' },
    { paymentId: 'PAY-SO-FX-3-USD', status: 'settled_manually', amountMinor: 7000, currency: 'USD' },
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
