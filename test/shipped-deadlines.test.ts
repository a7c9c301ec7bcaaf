// The waits after shipment (R9, R12) on the time-skipping test server: a carrier that never answers, a
// customer who never chooses, goods that come back late. Days pass in milliseconds; activities run on the
// real database, SMTP and simulators. Time moves with env.sleep (waiting on an Update does not skip time).
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { confirmReturn } from '../client/cancellation-decisions';
import {
  addCustomer,
  addPeople,
  addProduct,
  placePaidOrder,
  receiveStock,
  shipOrder,
} from '../generators/demo-data';
import {
  cancellationWorkflowId,
  getCancellationQuery,
  WORKFLOW_TYPE,
  type CancellationView,
} from '../contracts/cancellation.contract';
import type { CancellationWorkflowInput } from '../workflows/cancellation.workflow';
import { waitForState } from './support/cancellation-state';
import { eventually } from './support/eventually';
import { recordHistory } from './support/histories';
import { startTestStack, type TestStack } from './support/stack';
import { startTimeSkippingEnvironment } from './support/time-skipping';

let env: TestWorkflowEnvironment;
let stack: TestStack;

beforeAll(async () => {
  env = await startTimeSkippingEnvironment();
  stack = await startTestStack('shipped-deadlines', env);
  await addPeople(stack.models);
  await addCustomer(stack.models, {
    customerId: 'C-8',
    name: '孙丽',
    email: 'sun.li@example.cn',
    language: 'zh-CN',
  });
  await addProduct(stack.models, { sku: 'LAMP-2', name: '台灯', unitPriceMinor: 25000, currency: 'CNY' });
  await receiveStock(stack.models, 'LAMP-2', 10);
});

afterAll(async () => {
  await stack.stop();
  await env.teardown();
});

test('carrier silent, customer silent, goods back late: the policy decides each wait, and the late goods still count', async () => {
  await placePaidOrder(stack.models, {
    orderNumber: 'SO-WAIT-1',
    customerId: 'C-8',
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'LAMP-2', quantity: 1, unitPriceMinor: 25000 }],
  });
  await shipOrder(stack.models, 'SO-WAIT-1', { shipmentId: 'SH-WAIT-1' });
  stack.carrier.setBehaviour({ mode: 'late' }); // pending now, and no answer ever posted
  const { cancellationId, workflowId } = await (
    await stack.as('clerk-1')
  ).createCancellation({
    orderNumber: 'SO-WAIT-1',
    reasonCode: 'delivery_delay',
    confirm: ['shipped'],
  });
  const handle = stack.temporal.workflow.getHandle(workflowId);
  const stateIs = (state: string) => waitForState(handle, state);

  await stateIs('awaitingCarrier');
  // The policy waits 2 days for the carrier, then asks the customer.
  await env.sleep('47 hours');
  expect((await handle.query(getCancellationQuery)).state).toBe('awaitingCarrier');
  await env.sleep('2 hours');
  const offered = await stateIs('agreeingWithCustomer');
  expect(offered.goods?.recalls[0]).toMatchObject({ status: 'pending' });

  // The customer does not answer within 7 days: the default (return) applies.
  await env.sleep('7 days');
  const returning = await stateIs('awaitingReturn.waitingForGoods');
  expect(returning.goods?.choice).toEqual({ option: 'return', by: 'policy', defaulted: true });
  expect(returning.goods?.returnOverdue).toBe(false);

  // 14 days on, the goods are still not back: logistics is reminded, the cancellation keeps waiting.
  await env.sleep('15 days');
  await eventually(async () =>
    expect((await handle.query(getCancellationQuery)).goods?.returnOverdue).toBe(true),
  );
  expect((await handle.query(getCancellationQuery)).state).toBe('awaitingReturn.waitingForGoods');

  await confirmReturn(stack.temporal, cancellationId, { shipmentId: 'SH-WAIT-1', by: 'warehouse-1' });
  const result = (await handle.result()) as CancellationView;
  expect(result).toMatchObject({ outcome: 'completed', refundedMinor: 25000 });
  await recordHistory(handle, 'shipped-carrier-silent-customer-silent-late-return');
  expect(
    await stack.models.StockMovement.countDocuments({ type: 'return', 'document.id': 'SH-WAIT-1' }),
  ).toBe(1);
});

test('a long history continues as new while the customer is asked, and the deadline goes on in the new run', async () => {
  await placePaidOrder(stack.models, {
    orderNumber: 'SO-WAIT-2',
    customerId: 'C-8',
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'LAMP-2', quantity: 1, unitPriceMinor: 25000 }],
  });
  await shipOrder(stack.models, 'SO-WAIT-2', { shipmentId: 'SH-WAIT-2', delivered: true });
  // Started directly, with a small limit standing in for the server's suggestion (thousands of events). The
  // run reaches the customer's wait in its first workflow task (its bookkeeping runs as local activities),
  // where it sees its history as it was when the task began: 3 events, so the limit is 3. The new run, which
  // has dealt with nothing yet, does not continue again.
  const input: CancellationWorkflowInput = {
    cancellationId: 'cxl-SO-WAIT-2',
    orderNumber: 'SO-WAIT-2',
    reasonCode: 'other',
    requestedBy: 'clerk-1',
    confirmed: ['shipped'],
    requestedAt: new Date().toISOString(),
    historyLimit: 3,
  };
  await stack.models.Cancellation.create({
    cancellationId: input.cancellationId,
    workflowId: cancellationWorkflowId(input.cancellationId),
    orderNumber: input.orderNumber,
    customerId: 'C-8',
    reasonCode: input.reasonCode,
    requestedBy: input.requestedBy,
    state: 'requested',
  });
  const first = await stack.temporal.workflow.start(WORKFLOW_TYPE, {
    taskQueue: stack.taskQueue,
    workflowId: cancellationWorkflowId(input.cancellationId),
    args: [input],
  });
  const latest = stack.temporal.workflow.getHandle(first.workflowId);
  await eventually(async () => expect((await latest.describe()).runId).not.toBe(first.firstExecutionRunId));
  const carried = await latest.query(getCancellationQuery);
  expect(carried.state).toBe('agreeingWithCustomer');
  expect(carried.goods?.offer).toMatchObject({ defaultOption: 'return', refundableMinor: 25000 });

  // The customer's 7 days run on in the new run: then the default applies.
  await env.sleep('6 days');
  expect((await latest.query(getCancellationQuery)).state).toBe('agreeingWithCustomer');
  await env.sleep('2 days');
  await eventually(async () =>
    expect((await latest.query(getCancellationQuery)).goods?.choice).toMatchObject({
      option: 'return',
      defaulted: true,
    }),
  );
  await eventually(async () =>
    expect((await latest.query(getCancellationQuery)).state).toBe('awaitingReturn.waitingForGoods'),
  );
  await confirmReturn(stack.temporal, input.cancellationId, { shipmentId: 'SH-WAIT-2', by: 'warehouse-1' });
  const result = (await latest.result()) as CancellationView;
  expect(result).toMatchObject({ outcome: 'completed', refundedMinor: 25000 });
});
