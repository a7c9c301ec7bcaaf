// Bulk cancellation (issue #16, row 29) against the running stack: the dry run's figures, a job over generated
// orders that cancels each like a person would (one refund per refunded order at the gateway simulator), leaves
// alone an order already cancelled, one already refunded and one someone else is cancelling, and waits for an
// approver on one that needs approval; pause, resume and stop, as the signed-in person; the CSV report; and the
// API's refusals of bad input.
import { setTimeout as wait } from 'node:timers/promises';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import {
  CancelflowApiError,
  type BulkJobView,
  type CancelflowClient,
  type CreateBulkJobRequest,
} from '../client/cancelflow-client';
import { addCustomer, addPeople, addProduct, placePaidOrder, receiveStock } from '../generators/demo-data';
import { pauseBulkJobUpdate } from '../contracts/bulk-cancellation.contract';
import { issueApiKey } from '../models/credentials';
import { eventually } from './support/eventually';
import { recordHistory } from './support/histories';
import { startTestStack, type TestStack } from './support/stack';

let stack: TestStack;
let clerk: CancelflowClient;

const SKU = 'BULK-DISC';
const PRICE = 4500;
/** Orders of the discontinued product: 24 cheap ones (no approval), and one costly one (an approver's). */
const CHEAP = Array.from({ length: 24 }, (_, index) => `SO-BULK-${String(index + 1).padStart(3, '0')}`);
const COSTLY = 'SO-BULK-900';
const ALREADY_CANCELLED = CHEAP[0] as string;
const ALREADY_REFUNDED = CHEAP[1] as string;
const BEING_CANCELLED = 'SO-BULK-901';

async function placeOrder(orderNumber: string, customerId: string, sku: string, unitPriceMinor: number) {
  await addCustomer(stack.models, {
    customerId,
    name: `Customer ${customerId}`,
    email: `${customerId}@example.com`,
    language: 'en',
  });
  await placePaidOrder(stack.models, {
    orderNumber,
    customerId,
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku, quantity: 1, unitPriceMinor }],
  });
}

function apiError(error: unknown): { status: number; error: string; message: string; field?: unknown } {
  if (!(error instanceof CancelflowApiError)) throw error;
  return {
    status: error.status,
    error: error.body.error,
    message: error.body.message,
    field: error.body.details?.field,
  };
}

async function until(
  jobId: string,
  done: (job: BulkJobView) => boolean,
  timeoutMs = 60_000,
): Promise<BulkJobView> {
  return eventually(async () => {
    const job = await clerk.getBulkCancellation(jobId);
    if (!done(job)) throw new Error(`job ${jobId} is ${job.state}: ${JSON.stringify(job.phases)}`);
    return job;
  }, timeoutMs);
}

beforeAll(async () => {
  stack = await startTestStack('bulk', undefined, {
    // Few slots and a short history: the job waits for slots and continues as new several times.
    settings: { BULK_CONCURRENCY: '4', BULK_HISTORY_LIMIT: '60' },
  });
  await addPeople(stack.models);
  clerk = await stack.as('clerk-1');
  await addProduct(stack.models, {
    sku: SKU,
    name: 'Discontinued kettle',
    unitPriceMinor: PRICE,
    currency: 'CNY',
  });
  await addProduct(stack.models, {
    sku: 'BULK-OTHER',
    name: 'Kept kettle',
    unitPriceMinor: PRICE,
    currency: 'CNY',
  });
  await receiveStock(stack.models, SKU, 200);
  await receiveStock(stack.models, 'BULK-OTHER', 200);
  // One customer per order: a customer who cancels often raises a cancellation's risk (and asks approval).
  for (const [index, orderNumber] of CHEAP.entries())
    await placeOrder(orderNumber, `CB-${index}`, SKU, PRICE);
  await placeOrder(COSTLY, 'CB-900', SKU, 300_000); // medium risk: a level-1 approver decides
  await placeOrder(BEING_CANCELLED, 'CB-901', SKU, 300_000);
  // Another product's order, which no SKU filter for the discontinued one finds.
  await placeOrder('SO-BULK-OTHER', 'CB-950', 'BULK-OTHER', PRICE);

  // Cancelled by hand before the job: already cancelled, refunded once.
  const first = await clerk.createCancellation({
    orderNumber: ALREADY_CANCELLED,
    reasonCode: 'other',
    confirm: ['awaiting_shipment'],
  });
  await stack.temporal.workflow.getHandle(first.workflowId).result();
  // Refunded in full some other way (the books say so), though not cancelled.
  await stack.models.Payment.updateOne(
    { paymentId: `PAY-${ALREADY_REFUNDED}` },
    { $set: { refundedMinor: PRICE } },
  );
  // Someone else's cancellation, waiting for an approver while the job runs.
  const manager = await stack.as('manager-1');
  const other = await manager.createCancellation({
    orderNumber: BEING_CANCELLED,
    reasonCode: 'customer_changed_mind',
    confirm: ['awaiting_shipment'],
  });
  await eventually(
    async () =>
      expect((await manager.getCancellation(other.cancellationId)).state).toMatch(/^awaitingApproval/),
    20_000,
  );
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

const byFilter: CreateBulkJobRequest & { note: string } = {
  selection: { skus: [SKU] },
  reasonCode: 'out_of_stock',
  note: 'the supplier discontinued the kettle',
  confirm: ['awaiting_shipment'],
};

test('bad input is refused with a 4xx that names the field and the reason', async () => {
  const refusals = await Promise.all([
    clerk.dryRunBulkCancellation({ ...byFilter, selection: {} }).catch(apiError),
    clerk.startBulkCancellation({ ...byFilter, selection: { skus: [] } }).catch(apiError),
    clerk.startBulkCancellation({ ...byFilter, reasonCode: 'bored' as never }).catch(apiError),
    clerk.startBulkCancellation({ ...byFilter, requestedBy: 'director-1' } as never).catch(apiError),
    clerk.startBulkCancellation({ ...byFilter, selection: { skus: ['NO-SUCH-SKU'] } }).catch(apiError),
    clerk
      .startBulkCancellation({
        ...byFilter,
        selection: { createdFrom: '2026-02-01', createdTo: 'yesterday' },
      })
      .catch(apiError),
  ]);
  expect(refusals).toEqual([
    expect.objectContaining({
      status: 400,
      field: 'selection',
      message: expect.stringContaining('name the orders'),
    }),
    expect.objectContaining({ status: 400, field: 'selection.skus' }),
    expect.objectContaining({ status: 400, field: 'reasonCode' }),
    expect.objectContaining({
      status: 400,
      field: 'requestedBy',
      message: expect.stringContaining('not a field'),
    }),
    expect.objectContaining({ status: 400, field: 'selection', message: 'selection: it finds no orders' }),
    expect.objectContaining({ status: 400, field: 'selection.createdTo' }),
  ]);
  expect(await stack.api.dryRunBulkCancellation(byFilter).catch(apiError)).toMatchObject({ status: 401 });
  // Every cancellation of a job is requested as its starter: the warehouse may not.
  const warehouse = await stack.as('warehouse-1');
  expect(await warehouse.dryRunBulkCancellation(byFilter).catch(apiError)).toMatchObject({ status: 403 });
  expect(await clerk.getBulkCancellation('no-such-job').catch(apiError)).toMatchObject({ status: 404 });
});

test('the dry run says how many orders, lines and how much money, and what it leaves alone, asking nothing', async () => {
  const before = await stack.models.Cancellation.countDocuments();
  const figures = await clerk.dryRunBulkCancellation(byFilter);
  expect(figures).toEqual({
    found: 26,
    toCancel: { orders: 23, lines: 23, money: [{ currency: 'CNY', amountMinor: 22 * PRICE + 300_000 }] },
    leftAlone: { already_cancelled: 1, already_refunded: 1, being_cancelled: 1, refused: 0 },
    examples: expect.arrayContaining([
      {
        orderNumber: ALREADY_CANCELLED,
        status: 'already_cancelled',
        reason: `${ALREADY_CANCELLED} is already cancelled`,
      },
      expect.objectContaining({ orderNumber: BEING_CANCELLED, status: 'being_cancelled' }),
    ]),
  });
  // Without confirming the stage, the rules would refuse each, and the dry run says so.
  const unconfirmed = await clerk.dryRunBulkCancellation({ ...byFilter, confirm: [] });
  expect(unconfirmed.leftAlone.refused).toBe(23);
  expect(await stack.models.Cancellation.countDocuments()).toBe(before);
});

test('a job cancels every order like one by hand: one refund each, the rest reported, approvals in the inbox', async () => {
  const refundsBefore = stack.gateway.refunds.length;
  const accepted = await clerk.startBulkCancellation(byFilter, { idempotencyKey: 'bulk-test-job-1' });
  expect(accepted).toMatchObject({ existing: false, workflowId: `bulk-cancellation-${accepted.jobId}` });
  // The same key answers the same job.
  expect(await clerk.startBulkCancellation(byFilter, { idempotencyKey: 'bulk-test-job-1' })).toEqual({
    ...accepted,
    existing: true,
  });

  // Everything but the costly order ends; that one waits for an approver, holding no slot.
  const waiting = await until(accepted.jobId, (job) => job.state === 'waiting', 90_000);
  expect(waiting.phases).toEqual({ pending: 0, active: 0, waiting: 1, done: 25 });
  expect(waiting.byState).toEqual({
    completed: 22,
    awaitingApproval: 1,
    already_cancelled: 1,
    already_refunded: 1,
    being_cancelled: 1,
  });
  expect(waiting.refunded).toEqual([{ currency: 'CNY', amountMinor: 22 * PRICE }]);
  expect(waiting.failures).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ orderNumber: ALREADY_REFUNDED, status: 'already_refunded' }),
      expect.objectContaining({
        orderNumber: BEING_CANCELLED,
        status: 'being_cancelled',
        reason: expect.stringContaining('manager-1'),
      }),
    ]),
  );

  // The approver finds it in their inbox like any other, and approves.
  const manager = await stack.as('manager-1');
  const inbox = await manager.listCancellations({ waitingFor: 'me' });
  const costly = inbox.items.find((item) => item.orderNumber === COSTLY);
  expect(costly).toMatchObject({ requestedBy: 'clerk-1', reasonCode: 'out_of_stock' });
  await manager.decide(costly?.cancellationId ?? '', { approved: true, comment: 'discontinued' });

  const done = await until(accepted.jobId, (job) => job.state === 'completed', 60_000);
  // Its history stayed short: the job continued as new on the way (BULK_HISTORY_LIMIT 60). The job's record
  // says completed from the workflow's last step, a moment before the workflow itself completes: wait for it.
  await stack.temporal.workflow.getHandle(accepted.workflowId).result();
  const described = await stack.temporal.workflow.getHandle(accepted.workflowId).describe();
  expect(described.status.name).toBe('COMPLETED');
  expect(described.raw.workflowExecutionInfo?.firstRunId).not.toBe(described.runId);
  // Its last run, continued as new, for the replay test (CANCELFLOW_RECORD_HISTORIES=1).
  await recordHistory(stack.temporal.workflow.getHandle(accepted.workflowId), 'bulk-job-continued-completed');
  expect(done.byState).toMatchObject({ completed: 23 });
  expect(done.refunded).toEqual([{ currency: 'CNY', amountMinor: 22 * PRICE + 300_000 }]);
  expect(done.failureCount).toBe(3);

  // Exactly one refund per order the job cancelled, none for those it left alone.
  const refunds = stack.gateway.refunds.slice(refundsBefore);
  const cancelled = CHEAP.slice(2).concat(COSTLY);
  expect(refunds).toHaveLength(cancelled.length);
  expect(new Set(refunds.map((refund) => refund.payment)).size).toBe(cancelled.length);
  for (const orderNumber of [ALREADY_CANCELLED, ALREADY_REFUNDED, BEING_CANCELLED, 'SO-BULK-OTHER']) {
    expect(refunds.filter((refund) => refund.payment.includes(orderNumber.toLowerCase()))).toEqual([]);
  }
  // Each is an ordinary cancellation, findable by its order, requested by the job's starter.
  const one = await clerk.listCancellations({ orderNumber: CHEAP[5] });
  expect(one.items).toEqual([
    expect.objectContaining({ requestedBy: 'clerk-1', outcome: 'completed', note: byFilter.note }),
  ]);

  // The report: every order, what became of it.
  const csv = await clerk.getBulkCancellationReport(accepted.jobId);
  const lines = csv
    .replace(/^\uFEFF/, '')
    .trim()
    .split('\r\n');
  expect(lines[0]).toBe(
    'orderNumber,standing,status,cancellationId,state,outcome,refundedMinor,currency,reason',
  );
  expect(lines).toHaveLength(27);
  expect(lines.find((line) => line.startsWith(`${COSTLY},`))).toMatch(
    /^SO-BULK-900,completed,started,[0-9a-f-]+,completed,completed,300000,CNY,$/,
  );
  expect(lines.find((line) => line.startsWith(`${ALREADY_CANCELLED},`))).toContain('already_cancelled');

  // Another requester neither sees nor steers it; ops do.
  expect(await manager.getBulkCancellation(accepted.jobId).catch(apiError)).toMatchObject({ status: 403 });
  const ops = await stack.as('ops-1');
  expect((await ops.listBulkCancellations()).items.map((job) => job.jobId)).toContain(accepted.jobId);
  expect(await ops.pauseBulkCancellation(accepted.jobId).catch(apiError)).toMatchObject({ status: 409 });
}, 240_000);

test('pause holds new cancellations back, resume lets them go on, stop leaves the rest alone, each as its sender', async () => {
  const orderNumbers = Array.from(
    { length: 20 },
    (_, index) => `SO-BULKP-${String(index + 1).padStart(3, '0')}`,
  );
  for (const [index, orderNumber] of orderNumbers.entries())
    await placeOrder(orderNumber, `CP-${index}`, 'BULK-OTHER', PRICE);
  const { jobId } = await clerk.startBulkCancellation({ ...byFilter, selection: { orderNumbers } });
  const paused = await clerk.pauseBulkCancellation(jobId, { note: 'checking with the supplier' });
  expect(paused.state).toBe('paused');
  expect(paused.control).toEqual([
    expect.objectContaining({ action: 'pause', by: 'clerk-1', note: 'checking with the supplier' }),
  ]);
  await wait(2_000);
  const held = await clerk.getBulkCancellation(jobId);
  expect(held.state).toBe('paused');
  expect(held.phases.pending).toBe(20);
  expect(await clerk.pauseBulkCancellation(jobId).catch(apiError)).toMatchObject({
    status: 409,
    message: expect.stringContaining('only a running job'),
  });

  const ops = await stack.as('ops-1');
  expect((await ops.resumeBulkCancellation(jobId)).state).toBe('running');
  await until(jobId, (job) => job.phases.pending < 20);
  // Past the API, straight to Temporal: the workflow checks the named person against the books.
  const handle = stack.temporal.workflow.getHandle(`bulk-cancellation-${jobId}`);
  const refused = await handle
    .executeUpdate(pauseBulkJobUpdate, { args: [{ by: 'warehouse-1' }] })
    .catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
  expect((refused as WorkflowUpdateFailedError).cause?.message).toMatch(/warehouse-1 may not steer this job/);
  const stopped = await clerk.stopBulkCancellation(jobId, { note: 'enough' });
  await handle.result();
  await recordHistory(handle, 'bulk-job-paused-resumed-stopped');
  expect(stopped.state).toBe('stopped');
  expect(stopped.control.map((entry) => [entry.action, entry.by])).toEqual([
    ['pause', 'clerk-1'],
    ['resume', 'ops-1'],
    ['stop', 'clerk-1'],
  ]);
  const notStarted = stopped.byState.not_started ?? 0;
  expect(notStarted).toBeGreaterThan(0);
  expect(stopped.phases.pending).toBe(0);
  // What was not asked for never is: no cancellation for those orders, even a while later.
  await wait(1_000);
  const cancellations = await stack.models.Cancellation.countDocuments({
    orderNumber: { $in: orderNumbers },
  });
  expect(cancellations).toBe(20 - notStarted);
  expect(await clerk.resumeBulkCancellation(jobId).catch(apiError)).toMatchObject({ status: 409 });
}, 120_000);

test('the console: the form dry-runs and starts a job as the signed-in person, whose page shows its progress and steers it', async () => {
  const person = await stack.models.Person.findOne({ personId: 'clerk-1' }).lean();
  const { token } = await issueApiKey(stack.models, {
    name: 'bulk console',
    personId: 'clerk-1',
    scopes: person?.roles ?? [],
    createdBy: 'test',
  });
  const call = async (path: string, form?: string, htmx = false) => {
    const response = await fetch(`${stack.apiUrl}${path}`, {
      method: form === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        ...(form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
        ...(htmx ? { 'hx-request': 'true' } : {}),
      },
      body: form,
      redirect: 'manual',
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
  };
  const orderNumbers = ['SO-BULKC-1', 'SO-BULKC-2', 'SO-BULKC-3'];
  for (const [index, orderNumber] of orderNumbers.entries())
    await placeOrder(orderNumber, `CC-${index}`, 'BULK-OTHER', PRICE);

  const list = await call('/console/bulk');
  expect(list.status).toBe(200);
  expect(list.text).toContain('name="orderNumbers"');
  expect(list.text).toContain('href="/console/bulk"');

  const form = `orderNumbers=${orderNumbers.join('%0A')}&reasonCode=out_of_stock&confirm=awaiting_shipment&note=console`;
  const dryRun = await call('/console/bulk/dry-run', form, true);
  expect(dryRun.status).toBe(200);
  expect(dryRun.text).toContain('data-found="3" data-orders="3"');

  const started = await call('/console/bulk', form, true);
  expect(started.status).toBe(204);
  const location = started.headers.get('hx-redirect') ?? '';
  expect(location).toMatch(/^\/console\/bulk\/[0-9a-f-]+$/);
  const jobId = location.split('/').at(-1) ?? '';
  expect((await clerk.getBulkCancellation(jobId)).channel).toBe('console');

  const jobPage = await call(location);
  expect(jobPage.text).toContain('id="bulk-progress"');
  await until(jobId, (job) => job.state === 'completed');
  const progress = await call(`${location}/progress`, undefined, true);
  expect(progress.text).toContain('data-state="completed"');
  // Ended: the progress no longer polls, and a stop is refused with the reason.
  expect(progress.text).not.toContain('hx-trigger');
  const stop = await call(`${location}/stop`, '', true);
  expect(stop.status).toBe(409);
  expect(stop.text).toContain('is no longer running (completed)');
}, 120_000);
