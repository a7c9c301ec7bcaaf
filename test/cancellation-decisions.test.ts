// Refused decisions, mapped by kind, against the real workflow on the Temporal dev server: a malformed message
// is `validation_failed` naming its field, one not allowed now or not by that person is `conflict`, and a
// cancellation that is not running is `not_found`. None of them enters the workflow's history.
import { ApplicationFailure, WorkflowUpdateFailedError } from '@temporalio/client';
import {
  decideApproval,
  refusalOf,
  settleRefund,
  withdrawCancellation,
} from '../client/cancellation-decisions';
import { CancelflowError } from '../lib/errors';
import { addCustomer, addPeople, addProduct, placePaidOrder, receiveStock } from '../generators/demo-data';
import {
  getCancellationQuery,
  type ApprovalDecision,
  type CancellationView,
  type Withdrawal,
} from '../contracts/cancellation.contract';
import { eventually } from './support/eventually';
import { startTestStack, type TestStack } from './support/stack';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack('decisions');
  await addPeople(stack.models); // clerk-1 requests, manager-1 approves, finance-1 settles
  await addCustomer(stack.models, {
    customerId: 'C-VIP',
    name: 'Emily Carter',
    email: 'emily@example.com',
    language: 'en',
    tier: 'vip', // medium risk: the cancellation waits for an approver of level 1
  });
  await addProduct(stack.models, {
    sku: 'POT-1',
    name: 'Yixing teapot',
    unitPriceMinor: 38800,
    currency: 'CNY',
  });
  await receiveStock(stack.models, 'POT-1', 5);
  await placePaidOrder(stack.models, {
    orderNumber: 'SO-DECISIONS-1',
    customerId: 'C-VIP',
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'POT-1', quantity: 1, unitPriceMinor: 38800 }],
  });
});

afterAll(async () => {
  await stack.stop();
});

/** Sends a message as an outside caller could: its fields are whatever the caller put there. */
const untyped = <T>(message: Record<string, unknown>) => message as T;
/** Sends one message (only when called, so no refusal goes unhandled) and answers with what it threw. */
const refused = (send: () => Promise<unknown>) => send().catch((error: unknown) => error);

test('malformed is validation_failed naming the field; not now or not them is conflict; none enters history', async () => {
  const accepted = await (
    await stack.as('clerk-1')
  ).createCancellation({
    orderNumber: 'SO-DECISIONS-1',
    reasonCode: 'customer_changed_mind',
    confirm: ['awaiting_shipment'],
  });
  const { cancellationId } = accepted;
  const handle = stack.temporal.workflow.getHandle(accepted.workflowId);
  await eventually(async () =>
    expect((await handle.query(getCancellationQuery)).state).toBe('awaitingApproval.waitingForDecision'),
  );

  const malformed: [() => Promise<unknown>, string][] = [
    [
      () =>
        decideApproval(
          stack.temporal,
          cancellationId,
          untyped<ApprovalDecision>({ approver: 7, approved: true }),
        ),
      'approver',
    ],
    [
      () =>
        decideApproval(
          stack.temporal,
          cancellationId,
          untyped<ApprovalDecision>({ approver: 'manager-1', approved: false, reason: { why: 'no' } }),
        ),
      'reason',
    ],
    [
      () => withdrawCancellation(stack.temporal, cancellationId, untyped<Withdrawal>({ by: ['clerk-1'] })),
      'by',
    ],
  ];
  for (const [sent, field] of malformed) {
    const error = await refused(sent);
    expect(error).toBeInstanceOf(CancelflowError);
    expect(error).toMatchObject({
      code: 'validation_failed',
      httpStatus: 400,
      message: expect.stringContaining(`${field} must be text`) as unknown,
      details: { cancellationId, field },
    });
  }

  // Well formed but not allowed: by the requester herself, by someone who is no approver, or not now.
  const notAllowed: [() => Promise<unknown>, string][] = [
    [
      () => decideApproval(stack.temporal, cancellationId, { approver: 'clerk-1', approved: true }),
      'requester',
    ],
    [
      () => decideApproval(stack.temporal, cancellationId, { approver: 'finance-1', approved: true }),
      'not an approver',
    ],
    [
      () => settleRefund(stack.temporal, cancellationId, { by: 'finance-1', reference: 'ICBC-1' }),
      'the cancellation is awaitingApproval.waitingForDecision',
    ],
    [() => withdrawCancellation(stack.temporal, cancellationId, { by: 'manager-1' }), 'only the requester'],
  ];
  for (const [sent, why] of notAllowed) {
    const error = await refused(sent);
    expect(error).toMatchObject({
      code: 'conflict',
      httpStatus: 409,
      message: expect.stringContaining(why) as unknown,
      details: { cancellationId },
    });
    expect((error as CancelflowError).details).not.toHaveProperty('field');
  }

  // Nothing refused moved the cancellation or entered its history.
  expect((await handle.query(getCancellationQuery)).state).toBe('awaitingApproval.waitingForDecision');
  const history = await handle.fetchHistory();
  expect(
    (history.events ?? []).filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes),
  ).toEqual([]);

  await decideApproval(stack.temporal, cancellationId, { approver: 'manager-1', approved: true });
  expect((await handle.result()) as CancellationView).toMatchObject({ outcome: 'completed' });
});

test('a decision on a cancellation that is not running is not_found', async () => {
  const error = await refused(() =>
    decideApproval(stack.temporal, 'no-such-cancellation', { approver: 'manager-1', approved: true }),
  );
  expect(error).toMatchObject({ code: 'not_found', httpStatus: 404 });
});

test('a RequestMalformed failure maps to validation_failed, naming the field its details give', () => {
  const failure = (type: string, message: string, details?: unknown[]) =>
    new WorkflowUpdateFailedError(
      'Workflow Update failed',
      ApplicationFailure.create({ type, message, details, nonRetryable: true }),
    );
  expect(
    refusalOf(
      failure('RequestMalformed', 'cannot withdraw: reason is not text', [{ field: 'reason' }]),
      'c-1',
    ),
  ).toMatchObject({ code: 'validation_failed', details: { cancellationId: 'c-1', field: 'reason' } });
  // Without details it is still the caller's message to fix; the field is not guessed from the wording.
  const undetailed = refusalOf(failure('RequestMalformed', 'cannot approve: approver must be text'), 'c-1');
  expect(undetailed).toMatchObject({ code: 'validation_failed', details: { cancellationId: 'c-1' } });
  expect(undetailed.details).not.toHaveProperty('field');
  // A refusal of another kind keeps its meaning, whatever its wording.
  expect(
    refusalOf(failure('RequestRefused', 'cannot resume: ops-9 is not an ops person'), 'c-1'),
  ).toMatchObject({ code: 'conflict', details: { cancellationId: 'c-1' } });
});
