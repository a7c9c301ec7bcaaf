// Partial cancellation: some lines, or part of a line's quantity. Stock, refund and the order's status follow
// exactly the lines cancelled, and what remains can be cancelled later.
import { stockFromLedger } from '../models/stock-ledger';
import { addCustomer, addPeople, addProduct, placePaidOrder, receiveStock } from '../generators/demo-data';
import type { CancellationView } from '../contracts/cancellation.contract';
import { startTestStack, type TestStack } from './support/stack';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack('partial');
  await addPeople(stack.models); // clerk-1, the requester
  await addCustomer(stack.models, {
    customerId: 'C-2',
    name: 'Tom Baker',
    email: 'tom@example.com',
    language: 'en',
  });
  await addProduct(stack.models, { sku: 'CUP-1', name: 'Tea cup', unitPriceMinor: 4500, currency: 'CNY' });
  await addProduct(stack.models, { sku: 'TEA-2', name: 'Longjing', unitPriceMinor: 16800, currency: 'CNY' });
  await receiveStock(stack.models, 'CUP-1', 10);
  await receiveStock(stack.models, 'TEA-2', 10);
  await placePaidOrder(stack.models, {
    orderNumber: 'SO-PARTIAL-1',
    customerId: 'C-2',
    currency: 'CNY',
    lines: [
      { lineId: 'L1', sku: 'CUP-1', quantity: 4, unitPriceMinor: 4500 },
      { lineId: 'L2', sku: 'TEA-2', quantity: 1, unitPriceMinor: 16800 },
    ],
  });
});

afterAll(async () => {
  await stack.stop();
});

async function cancel(lines?: { lineId: string; quantity: number }[]) {
  const accepted = await (
    await stack.as('clerk-1')
  ).createCancellation({
    orderNumber: 'SO-PARTIAL-1',
    lines,
    reasonCode: 'out_of_stock',
    confirm: ['awaiting_shipment'],
  });
  return (await stack.temporal.workflow.getHandle(accepted.workflowId).result()) as CancellationView;
}

test('part of one line: the order is partially cancelled, and only those units and that money move', async () => {
  const result = await cancel([{ lineId: 'L1', quantity: 3 }]);
  expect(result).toMatchObject({ outcome: 'completed', refundedMinor: 3 * 4500 });

  const order = await stack.models.SalesOrder.findOne({ orderNumber: 'SO-PARTIAL-1' }).lean();
  expect(order?.status).toBe('partially_cancelled');
  expect(order?.lines).toEqual([
    expect.objectContaining({
      lineId: 'L1',
      cancelledQuantity: 3,
      reservedQuantity: 1,
      status: 'partially_cancelled',
    }),
    expect.objectContaining({ lineId: 'L2', cancelledQuantity: 0, reservedQuantity: 1, status: 'open' }),
  ]);
  const cups = await stack.models.StockLevel.findOne({ sku: 'CUP-1' }).lean();
  expect(cups).toMatchObject({ onHand: 10, reserved: 1 });
  expect(await stockFromLedger(stack.models, 'CUP-1', 'WH-SH-01')).toEqual({ onHand: 10, reserved: 1 });
  expect(await stack.models.StockLevel.findOne({ sku: 'TEA-2' }).lean()).toMatchObject({ reserved: 1 });
  expect(await stack.models.Payment.findOne({ orderNumber: 'SO-PARTIAL-1' }).lean()).toMatchObject({
    capturedMinor: 4 * 4500 + 16800,
    refundedMinor: 3 * 4500,
  });
});

test('more than is left of a line is refused up front, naming the line', async () => {
  const refusal = await (
    await stack.as('clerk-1')
  )
    .createCancellation({
      orderNumber: 'SO-PARTIAL-1',
      lines: [{ lineId: 'L1', quantity: 2 }],
      reasonCode: 'out_of_stock',
      confirm: ['awaiting_shipment'],
    })
    .catch((error: unknown) => error);
  expect(refusal).toMatchObject({ status: 400, body: { details: { field: 'lines[0].quantity' } } });
  expect((refusal as Error).message).toContain('line L1 has 1 left to cancel, not 2');
});

test('the rest of the order, later: it ends cancelled and the whole payment is refunded', async () => {
  const result = await cancel();
  expect(result.review?.lines.map((line) => [line.lineId, line.quantity])).toEqual([
    ['L1', 1],
    ['L2', 1],
  ]);
  // A whole cancellation refunds all that is left of the money (policy: all_captured).
  expect(result).toMatchObject({ outcome: 'completed', refundedMinor: 4500 + 16800 });
  const order = await stack.models.SalesOrder.findOne({ orderNumber: 'SO-PARTIAL-1' }).lean();
  expect(order?.status).toBe('cancelled');
  expect(order?.cancellation?.cancellationIds).toHaveLength(2);
  expect(
    await stack.models.StockLevel.find({}, { _id: 0, sku: 1, reserved: 1 }).sort({ sku: 1 }).lean(),
  ).toEqual([
    { sku: 'CUP-1', reserved: 0 },
    { sku: 'TEA-2', reserved: 0 },
  ]);
  const payment = await stack.models.Payment.findOne({ orderNumber: 'SO-PARTIAL-1' }).lean();
  expect(payment?.refundedMinor).toBe(payment?.capturedMinor);
  expect(stack.gateway.refunds).toHaveLength(2);
});
