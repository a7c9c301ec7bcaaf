// R15 end to end: an approver who is away names a delegate for a period; the approval steps found while it is in
// force wait for the delegate too (their message centre, `waitingFor=me`), the delegate decides on the
// approver's behalf, and the decision and the timeline say so. On the run's Temporal server and database, over
// the HTTP API and the CLI, as each person with their own key.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decideApproval, withdrawCancellation } from '../client/cancellation-decisions';
import { CancelflowApiError, type CancelflowClient } from '../client/cancelflow-client';
import { run } from '../cli/main';
import type { Output } from '../cli/output';
import { CredentialsStore } from '../cli/credentials-store';
import type { CancellationView } from '../contracts/cancellation.contract';
import { addCustomer, addPeople, addProduct, placePaidOrder, receiveStock } from '../generators/demo-data';
import { issueApiKey } from '../models/credentials';
import { waitForState } from './support/cancellation-state';
import { eventually } from './support/eventually';
import { recordHistory } from './support/histories';
import { startTestStack, type TestStack } from './support/stack';

let stack: TestStack;
let orderCount = 0;
const waiting = 'awaitingApproval.waitingForDecision';
const inADay = () => new Date(Date.now() + 24 * 3_600_000).toISOString();

beforeAll(async () => {
  stack = await startTestStack('delegation');
  await addPeople(stack.models); // clerk-1 (requester), manager-1 (level 1), director-1 (level 2), ops-1 (admin)
  await stack.models.Person.create([
    {
      personId: 'manager-2',
      name: 'Grace Lin',
      email: 'grace.lin@cancelflow.local',
      language: 'en',
      department: 'sales',
      roles: ['approver'],
      approvalLevel: 1,
    },
    {
      // Requests cancellations and approves others': never their own, not even as someone's delegate.
      personId: 'lead-1',
      name: '王芳',
      language: 'zh-CN',
      department: 'sales',
      roles: ['requester', 'approver'],
      approvalLevel: 1,
    },
  ]);
  await addCustomer(stack.models, {
    customerId: 'C-VIP',
    name: 'Emily Carter',
    email: 'emily@example.com',
    language: 'en',
    tier: 'vip', // medium risk: one approval of level 1
  });
  await addProduct(stack.models, {
    sku: 'POT-1',
    name: 'Yixing teapot',
    unitPriceMinor: 38800,
    currency: 'CNY',
  });
  await receiveStock(stack.models, 'POT-1', 50);
});

afterAll(async () => {
  await stack.stop();
});

async function cancelNewOrder(requester = 'clerk-1') {
  orderCount += 1;
  const orderNumber = `SO-DELEGATION-${orderCount}`;
  await placePaidOrder(stack.models, {
    orderNumber,
    customerId: 'C-VIP',
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'POT-1', quantity: 1, unitPriceMinor: 38800 }],
  });
  const accepted = await (
    await stack.as(requester)
  ).createCancellation({ orderNumber, reasonCode: 'customer_changed_mind', confirm: ['awaiting_shipment'] });
  const handle = stack.temporal.workflow.getHandle(accepted.workflowId);
  return { cancellationId: accepted.cancellationId, handle, view: await waitForState(handle, waiting) };
}

async function refusal(call: Promise<unknown>): Promise<CancelflowApiError> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof CancelflowApiError)) throw new Error(`expected a refusal, got ${String(error)}`);
  return error;
}

const delegate = (client: CancelflowClient, delegateId: string, period: { from?: string; until: string }) =>
  client.createDelegation({ delegateId, ...period });

test('a delegate of a lower level, themselves, or a period already over is refused with the reason', async () => {
  const director = await stack.as('director-1');
  const lower = await refusal(delegate(director, 'manager-2', { until: inADay() }));
  expect(lower.status).toBe(409);
  expect(lower.body.message).toBe(
    "manager-2 approves at level 1, below director-1's level 2: a delegate must be of the same or a higher level",
  );
  expect((await refusal(delegate(director, 'director-1', { until: inADay() }))).body.message).toBe(
    'an approver may not delegate to themselves',
  );
  expect((await refusal(delegate(director, 'clerk-1', { until: inADay() }))).body.message).toBe(
    'clerk-1 is not an active approver',
  );
  const over = await refusal(delegate(director, 'director-1', { until: '2020-01-01T00:00:00Z' }));
  expect(over.status).toBe(409);
  // A period that ends before it starts is malformed: 400, naming the field.
  const backwards = await refusal(
    delegate(director, 'manager-1', { from: '2030-02-01T00:00:00Z', until: '2030-01-01T00:00:00Z' }),
  );
  expect(backwards.status).toBe(400);
  expect(backwards.body.details).toMatchObject({ field: 'until' });
  // The delegator is the caller: a body naming one is refused.
  const named = await refusal(
    director.createDelegation({
      delegateId: 'manager-1',
      until: inADay(),
      delegatorId: 'manager-1',
    } as never),
  );
  expect(named.status).toBe(400);
  // Only approvers delegate.
  expect((await refusal(delegate(await stack.as('clerk-1'), 'manager-1', { until: inADay() }))).status).toBe(
    403,
  );
  expect(await stack.models.Delegation.countDocuments()).toBe(0);
});

test('during the period the delegate is asked, sees the step, and decides on the approver’s behalf', async () => {
  const manager = await stack.as('manager-1');
  const made = await manager.createDelegation(
    { delegateId: 'manager-2', until: inADay() },
    { idempotencyKey: 'away-in-march-1' },
  );
  expect(made).toMatchObject({
    delegatorId: 'manager-1',
    delegateId: 'manager-2',
    status: 'in_force',
    existing: false,
  });
  // A repeat with the same key answers the same delegation; another request under it is a conflict.
  const again = await manager.createDelegation(
    { delegateId: 'manager-2', until: made.until, from: made.from },
    { idempotencyKey: 'away-in-march-1' },
  );
  expect(again).toMatchObject({ delegationId: made.delegationId, existing: true });
  expect(
    (
      await refusal(
        manager.createDelegation(
          { delegateId: 'director-1', until: inADay() },
          { idempotencyKey: 'away-in-march-1' },
        ),
      )
    ).status,
  ).toBe(409);

  const { cancellationId, handle, view } = await cancelNewOrder();
  expect(view.approval?.delegates).toEqual([{ delegate: 'manager-2', onBehalfOf: 'manager-1' }]);

  // Waiting for the delegate: in their message centre, on the approver's behalf, and in waitingFor=me.
  const delegateClient = await stack.as('manager-2');
  await eventually(async () => {
    const messages = await delegateClient.listMessages();
    expect(messages.items.map((message) => message.title)).toContain(
      `cancellation of ${view.orderNumber} awaits your approval on behalf of manager-1`,
    );
  });
  await eventually(async () => {
    const page = await delegateClient.listCancellations({ waitingFor: 'me' });
    expect(page.items.map((item) => item.cancellationId)).toContain(cancellationId);
  });

  const decided = await delegateClient.decide(cancellationId, { approved: true, comment: 'Li Lei is away' });
  expect(decided.approval?.decisions).toEqual([
    { approver: 'manager-2', approved: true, reason: 'Li Lei is away', level: 1, onBehalfOf: 'manager-1' },
  ]);
  const result = (await handle.result()) as CancellationView;
  expect(result.outcome).toBe('completed');
  await recordHistory(handle, 'delegate-approved-on-behalf');

  const resource = await delegateClient.getCancellation(cancellationId);
  expect(resource.timeline.map((entry) => entry.note).filter(Boolean)).toEqual([
    'manager-2 approved on behalf of manager-1',
  ]);
  expect(resource.approval?.decisions[0]).toMatchObject({ approver: 'manager-2', onBehalfOf: 'manager-1' });

  // Only the delegator (or an admin) ends it.
  expect((await refusal(delegateClient.endDelegation(made.delegationId))).status).toBe(403);
  expect(await manager.endDelegation(made.delegationId)).toMatchObject({
    status: 'revoked',
    revokedBy: 'manager-1',
  });
});

test('after it was ended the delegate no longer decides on the approver’s behalf', async () => {
  const manager = await stack.as('manager-1');
  const made = await delegate(manager, 'manager-2', { until: inADay() });
  const { cancellationId, view } = await cancelNewOrder();
  expect(view.approval?.delegates).toEqual([{ delegate: 'manager-2', onBehalfOf: 'manager-1' }]);
  await manager.endDelegation(made.delegationId);

  // The delegate's inbox no longer shows the step for manager-1; being an approver of level 1 in their own
  // right, they still see and decide it as themselves, never on manager-1's behalf.
  const decided = await (await stack.as('manager-2')).decide(cancellationId, { approved: true });
  expect(decided.approval?.decisions).toEqual([{ approver: 'manager-2', approved: true, level: 1 }]);
});

test('before the period the step does not take the delegate on the approver’s behalf (409 from the workflow)', async () => {
  const manager = await stack.as('manager-1');
  const made = await delegate(manager, 'manager-2', {
    from: new Date(Date.now() + 3_600_000).toISOString(),
    until: inADay(),
  });
  expect(made.status).toBe('scheduled');
  const { cancellationId, view } = await cancelNewOrder();
  expect(view.approval?.delegates).toEqual([]);

  // Even straight to the workflow, claiming the delegation is refused by its validator.
  await expect(
    decideApproval(stack.temporal, cancellationId, {
      approver: 'manager-2',
      approved: true,
      onBehalfOf: 'manager-1',
    }),
  ).rejects.toMatchObject({
    code: 'conflict',
    message:
      'cannot approve: manager-2 is not a delegate of manager-1 for this step (no delegation was in force when ' +
      'its approvers were found)',
  });
  await manager.endDelegation(made.delegationId);
  await withdrawCancellation(stack.temporal, cancellationId, { by: 'clerk-1' });
});

test('a delegate who requested the cancellation may still not decide it', async () => {
  const manager = await stack.as('manager-1');
  const made = await delegate(manager, 'lead-1', { until: inADay() });
  const { cancellationId, view } = await cancelNewOrder('lead-1');
  expect(view.approval?.eligibleApprovers).not.toContain('lead-1');
  expect(view.approval?.delegates).toEqual([]);
  const lead = await stack.as('lead-1');
  const page = await lead.listCancellations({ waitingFor: 'me' });
  expect(page.items.map((item) => item.cancellationId)).not.toContain(cancellationId);
  const refused = await refusal(lead.decide(cancellationId, { approved: true }));
  expect(refused.status).toBe(409);
  expect(refused.body.message).toContain('the requester may not decide their own cancellation');
  await expect(
    decideApproval(stack.temporal, cancellationId, {
      approver: 'lead-1',
      approved: true,
      onBehalfOf: 'manager-1',
    }),
  ).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining('requester') });
  await manager.endDelegation(made.delegationId);
  await withdrawCancellation(stack.temporal, cancellationId, { by: 'lead-1' });
});

test('lists: each sees those they gave and received; ops and admins see all; an admin ends any', async () => {
  const director = await stack.as('director-1');
  const toManager2 = await (
    await stack.as('manager-1')
  ).createDelegation({ delegateId: 'manager-2', until: inADay() });
  const mine = await (await stack.as('manager-2')).listDelegations();
  expect(mine.every((item) => item.delegatorId === 'manager-2' || item.delegateId === 'manager-2')).toBe(
    true,
  );
  expect(mine.map((item) => item.delegationId)).toContain(toManager2.delegationId);
  expect(await director.listDelegations()).toEqual([]);
  const all = await (await stack.as('ops-1')).listDelegations();
  expect(all.length).toBeGreaterThanOrEqual(mine.length);
  expect(await (await stack.as('ops-1')).endDelegation(toManager2.delegationId)).toMatchObject({
    status: 'revoked',
    revokedBy: 'ops-1',
  });
  expect((await refusal(director.endDelegation('no-such-delegation'))).status).toBe(404);
});

describe('the CLI', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'cancelflow-delegation-cli-'));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  async function cli(personId: string, ...args: string[]) {
    const person = await stack.models.Person.findOne({ personId }).lean();
    const { token } = await issueApiKey(stack.models, {
      name: `cli ${personId}`,
      personId,
      scopes: person?.roles ?? [],
      createdBy: 'test',
    });
    const lines: string[] = [];
    const notes: string[] = [];
    const out: Output = {
      line: (text = '') => void lines.push(text),
      json: (value) => void lines.push(JSON.stringify(value)),
      note: (text) => void notes.push(text),
    };
    const code = await run(['node', 'cancelflow', '--api', stack.apiUrl, '--api-key', token, ...args], {
      out,
      store: new CredentialsStore(join(home, `${personId}.json`)),
    });
    return { code, stdout: lines.join('\n'), stderr: notes.join('\n') };
  }

  test('delegate, delegations, delegations end: tables by default, --json, exit 0/1/2', async () => {
    const made = await cli('manager-1', 'delegate', 'manager-2', '--until', '2099-12-31', '--json');
    expect(made.code).toBe(0);
    const delegation = JSON.parse(made.stdout) as { delegationId: string; until: string; status: string };
    expect(delegation).toMatchObject({ until: '2100-01-01T00:00:00.000Z', status: 'in_force' });

    const listed = await cli('manager-2', 'delegations');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/DELEGATION\s+DELEGATOR\s+DELEGATE/);
    expect(listed.stdout).toContain(delegation.delegationId);

    const lower = await cli('director-1', 'delegate', 'manager-2', '--until', '2099-12-31');
    expect(lower.code).toBe(1);
    expect(lower.stderr).toContain('below director-1');

    expect((await cli('manager-1', 'delegate', 'manager-2', '--until', 'next week')).code).toBe(2);

    const ended = await cli('manager-1', 'delegations', 'end', delegation.delegationId);
    expect(ended).toMatchObject({
      code: 0,
      stdout: `ended ${delegation.delegationId} (manager-1 → manager-2)`,
    });
  });
});
