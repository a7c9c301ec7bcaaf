// Approval deadlines, reminders and escalation (R3, R8, R15) on the time-skipping test server: days pass in
// milliseconds. Activities run on the real database, SMTP and simulators. Time is moved with env.sleep;
// waiting on an Update's result does not skip time on this server (sdk-typescript #1549).
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { addCustomer, addPeople, addProduct, placePaidOrder, receiveStock } from '../generators/demo-data';
import {
  cancellationWorkflowId,
  getCancellationQuery,
  WORKFLOW_TYPE,
  type CancellationView,
} from '../contracts/cancellation.contract';
import { searchAttributeKeys } from '../contracts/search-attributes';
import type { CancellationWorkflowInput } from '../workflows/cancellation.workflow';
import { eventually } from './support/eventually';
import { recordHistory } from './support/histories';
import { startTestStack, type TestStack } from './support/stack';
import { startTimeSkippingEnvironment } from './support/time-skipping';

let env: TestWorkflowEnvironment;
let stack: TestStack;

beforeAll(async () => {
  env = await startTimeSkippingEnvironment();
  stack = await startTestStack('deadlines', env);
  await addPeople(stack.models);
  await addCustomer(stack.models, {
    customerId: 'C-VIP',
    name: '李娜',
    email: 'li.na@example.cn',
    language: 'zh-CN',
    tier: 'vip',
  });
  await addProduct(stack.models, { sku: 'TEA-9', name: '普洱茶', unitPriceMinor: 9900, currency: 'CNY' });
  await receiveStock(stack.models, 'TEA-9', 20);
});

afterAll(async () => {
  await stack.stop();
  await env.teardown();
});

async function start(orderNumber: string, options: Pick<CancellationWorkflowInput, 'historyLimit'> = {}) {
  await placePaidOrder(stack.models, {
    orderNumber,
    customerId: 'C-VIP',
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'TEA-9', quantity: 1, unitPriceMinor: 9900 }],
  });
  const input: CancellationWorkflowInput = {
    ...options,
    cancellationId: `cxl-${orderNumber}`,
    orderNumber,
    reasonCode: 'other',
    requestedBy: 'clerk-1',
    confirmed: ['awaiting_shipment'],
    requestedAt: new Date().toISOString(),
  };
  await stack.models.Cancellation.create({
    cancellationId: input.cancellationId,
    workflowId: cancellationWorkflowId(input.cancellationId),
    orderNumber,
    customerId: 'C-VIP',
    reasonCode: input.reasonCode,
    requestedBy: input.requestedBy,
    state: 'requested',
  });
  const handle = await stack.temporal.workflow.start(WORKFLOW_TYPE, {
    taskQueue: stack.taskQueue,
    workflowId: cancellationWorkflowId(input.cancellationId),
    args: [input],
  });
  const view = () => handle.query(getCancellationQuery);
  await eventually(async () => expect((await view()).state).toBe('awaitingApproval.waitingForDecision'));
  return { handle, view, cancellationId: input.cancellationId };
}

const hours = (count: number) => `${count} hours`;

test('reminders every 8 hours, escalation to level 2 at 24 hours, rejection at the final deadline', async () => {
  const { handle, view, cancellationId } = await start('SO-DEADLINE-1');
  const approvalMessages = () =>
    stack.models.MessageCentreEntry.find({ cancellationId, category: 'action_required' })
      .sort({ createdAt: 1 })
      .lean();

  // The first request went to both approvers (levels 1 and 2 may decide a level-1 step).
  await eventually(async () => expect(await approvalMessages()).toHaveLength(2));
  // Its deadline is shown, live and in the database copy the inboxes list.
  const firstDecideBy = Date.parse((await view()).approval?.decideBy ?? '');
  expect(Number.isNaN(firstDecideBy)).toBe(false);
  await eventually(async () =>
    expect((await stack.models.Cancellation.findOne({ cancellationId }).lean())?.approval).toMatchObject({
      decideBy: new Date(firstDecideBy).toISOString(),
    }),
  );

  await env.sleep(hours(8.5 * 1));
  await eventually(async () => expect(await approvalMessages()).toHaveLength(4)); // first reminder
  await env.sleep(hours(8));
  await eventually(async () => expect(await approvalMessages()).toHaveLength(6)); // second reminder

  // 24 hours without a decision: escalated to level 2, where only the director may decide.
  await env.sleep(hours(8));
  await eventually(async () =>
    expect((await view()).approval).toMatchObject({
      escalations: 1,
      requiredLevel: 2,
      eligibleApprovers: ['director-1'],
    }),
  );
  expect((await view()).state).toBe('awaitingApproval.waitingForDecision');
  // The escalated step's deadline: the policy's escalation deadline (24 hours) from the first one.
  const escalatedDecideBy = Date.parse((await view()).approval?.decideBy ?? '');
  expect(Math.abs(escalatedDecideBy - firstDecideBy - 24 * 3_600_000)).toBeLessThan(60_000);

  // The escalated step waits the policy's escalation deadline (24 hours), then the policy rejects.
  await env.sleep(hours(25));
  const result = (await handle.result()) as CancellationView;
  expect(result).toMatchObject({ outcome: 'rejected', state: 'rejected' });
  expect(result.refusal).toContain('final deadline');
  await recordHistory(handle, 'rejected-on-timeout-after-escalation');
  expect(await stack.models.SalesOrder.findOne({ orderNumber: 'SO-DEADLINE-1' }).lean()).toMatchObject({
    status: 'allocated',
  });
});

test('a decision before the deadline stops the clock', async () => {
  const { handle, cancellationId } = await start('SO-DEADLINE-2');
  await env.sleep(hours(2));
  await handle.executeUpdate('decideApproval', { args: [{ approver: 'manager-1', approved: true }] });
  const result = (await handle.result()) as CancellationView;
  expect(result.outcome).toBe('completed');
  await recordHistory(handle, 'approved-before-deadline');
  // No reminder followed the decision, though far more than 8 hours of workflow time could pass.
  await env.sleep(hours(48));
  expect(
    await stack.models.MessageCentreEntry.countDocuments({ cancellationId, category: 'action_required' }),
  ).toBe(2);
});

test('a long history continues as new, carrying the state, the clock and the decisions still to come', async () => {
  // A small limit stands in for the server's suggestion, which comes only after thousands of events. The run
  // waits for a decision at 28 events; each reminder adds 7, and a run sees its length as it was when the
  // workflow task began: at the second reminder, 35 ≥ 33, where the first saw 28.
  const { handle, view, cancellationId } = await start('SO-DEADLINE-3', { historyLimit: 33 });
  const firstRun = (await handle.describe()).runId;

  // A burst of refused decisions (none enters history) and reminders every 8 hours (each adds events).
  const refusals = await Promise.all(
    Array.from({ length: 20 }, (_, index) =>
      handle
        .executeUpdate('decideApproval', { args: [{ approver: `stranger-${index}`, approved: true }] })
        .then(
          () => 'accepted',
          () => 'refused',
        ),
    ),
  );
  expect(new Set(refusals)).toEqual(new Set(['refused']));
  await env.sleep(hours(8.5));
  await env.sleep(hours(8));
  const latest = stack.temporal.workflow.getHandle(handle.workflowId);
  await eventually(async () => expect((await latest.describe()).runId).not.toBe(firstRun));

  // The new run is where the old one was: same state, same clock (the escalation still comes at 24 hours).
  expect(await view()).toMatchObject({
    state: 'awaitingApproval.waitingForDecision',
    approval: { escalations: 0 },
  });
  await env.sleep(hours(8));
  await eventually(async () =>
    expect((await latest.query(getCancellationQuery)).approval).toMatchObject({
      escalations: 1,
      requiredLevel: 2,
    }),
  );
  const described = await latest.describe();
  expect(described.typedSearchAttributes.get(searchAttributeKeys.state)).toBe(
    'awaitingApproval.waitingForDecision',
  );

  await latest.executeUpdate('decideApproval', { args: [{ approver: 'director-1', approved: true }] });
  expect(await latest.result()).toMatchObject({ outcome: 'completed' });
  await recordHistory(handle, 'continued-as-new-first-run');
  await recordHistory(latest, 'continued-as-new-second-run');
  // One request and two reminders at level 1 (to two approvers), one request at level 2: never a duplicate.
  const asked = await stack.models.MessageCentreEntry.find({
    cancellationId,
    category: 'action_required',
  }).lean();
  expect(asked).toHaveLength(2 + 2 + 2 + 1);
  const timeline = (await stack.models.Cancellation.findOne({ cancellationId }).lean())?.timeline ?? [];
  expect(new Set(timeline.map((entry) => entry.step)).size).toBe(timeline.length);
});
