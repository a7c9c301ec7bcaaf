// R20, R27, R29 end to end: a back-ordered line whose purchase order is already with the supplier raises the
// supply-chain risk, and once approved, the cancellation takes those units off the purchase order.
import { decideApproval } from '../client/cancellation-decisions';
import { addCustomer, addPeople, addProduct, placePaidOrder, receiveStock } from '../generators/demo-data';
import { getCancellationQuery, type CancellationView } from '../contracts/cancellation.contract';
import { linkToOrder } from '../models/order-links';
import { eventually } from './support/eventually';
import { startTestStack, type TestStack } from './support/stack';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack('purchasing');
  await addPeople(stack.models);
  await addCustomer(stack.models, {
    customerId: 'C-5',
    name: '周杰',
    email: 'zhou.jie@example.cn',
    language: 'zh-CN',
  });
  await addProduct(stack.models, { sku: 'SET-1', name: '茶具套装', unitPriceMinor: 20000, currency: 'CNY' });
  await receiveStock(stack.models, 'SET-1', 2);
  // Two units came from stock; three more were back-ordered from the supplier on PO-77, already sent.
  await placePaidOrder(stack.models, {
    orderNumber: 'SO-BACK-1',
    customerId: 'C-5',
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'SET-1', quantity: 2, unitPriceMinor: 20000 }],
  });
  await stack.models.SalesOrder.updateOne(
    { orderNumber: 'SO-BACK-1' },
    {
      $set: { totalMinor: 100000 },
      $push: {
        lines: {
          lineId: 'L2',
          sku: 'SET-1',
          warehouse: 'WH-SH-01',
          quantity: 3,
          reservedQuantity: 0,
          cancelledQuantity: 0,
          unitPriceMinor: 20000,
        },
      },
    },
  );
  await stack.models.Payment.updateOne({ orderNumber: 'SO-BACK-1' }, { $set: { capturedMinor: 100000 } });
  await linkToOrder(stack.models, 'SO-BACK-1', { purchaseOrderNumbers: ['PO-77'] });
  await stack.models.PurchaseOrder.create({
    poNumber: 'PO-77',
    supplier: { supplierId: 'SUP-9', name: '宜兴陶瓷厂', email: 'orders@yixing.example.cn' },
    status: 'sent',
    currency: 'CNY',
    warehouse: 'WH-SH-01',
    lines: [
      {
        lineId: 'P1',
        sku: 'SET-1',
        unitCostMinor: 12000,
        orderedQuantity: 3,
        raisedFor: [{ orderNumber: 'SO-BACK-1', lineId: 'L2', kind: 'back_order', quantity: 3 }],
      },
    ],
  });
});

afterAll(async () => {
  await stack.stop();
});

test('a purchase order already with the supplier raises the risk, and its units come off once approved', async () => {
  const accepted = await (
    await stack.as('clerk-1')
  ).createCancellation({
    orderNumber: 'SO-BACK-1',
    reasonCode: 'delivery_delay',
    confirm: ['awaiting_shipment'],
  });
  const handle = stack.temporal.workflow.getHandle(accepted.workflowId);
  const waiting = await eventually(async () => {
    const view = await handle.query(getCancellationQuery);
    expect(view.state).toBe('awaitingApproval.waitingForDecision');
    return view;
  });
  expect(waiting.risk).toEqual({
    level: 'medium',
    reasons: ['purchase orders already with suppliers: PO-77'],
  });

  await decideApproval(stack.temporal, accepted.cancellationId, { approver: 'manager-1', approved: true });
  const result = (await handle.result()) as CancellationView;
  expect(result).toMatchObject({ outcome: 'completed', refundedMinor: 100000 });
  // Only the back-ordered units come off the purchase order; the two from stock went back to stock.
  expect(result.purchasing?.reduced).toEqual([
    expect.objectContaining({ poNumber: 'PO-77', salesLineId: 'L2', quantity: 3, supplierMustBeTold: true }),
  ]);
  const po = await stack.models.PurchaseOrder.findOne({ poNumber: 'PO-77' }).lean();
  expect(po).toMatchObject({ status: 'cancelled' });
  expect(po?.lines[0]).toMatchObject({ orderedQuantity: 3, cancelledQuantity: 3 });
  expect(await stack.models.StockLevel.findOne({ sku: 'SET-1' }).lean()).toMatchObject({
    onHand: 2,
    reserved: 0,
  });
});
