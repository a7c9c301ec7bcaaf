// `cancelflow bulk …` run as people run it (a child process through cli/bin.js) against a running stack, as a
// requester's API key: the dry run's figures, starting a job and watching it to its end, its report as CSV, ops
// steering it, and the exit codes: 0 done, 1 refused (the API's reason on stderr), 2 usage.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addCustomer, addPeople, addProduct, placePaidOrder, receiveStock } from '../generators/demo-data';
import { issueApiKey } from '../models/credentials';
import { startTestStack, type TestStack } from './support/stack';

const BIN = join(__dirname, '..', 'cli', 'bin.js');
let stack: TestStack;
let scratch: string;
const keys: Record<string, string> = {};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(personId: string, args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CANCELFLOW_CONFIG_DIR: join(scratch, personId),
    CANCELFLOW_API_URL: stack.apiUrl,
    CANCELFLOW_API_KEY: keys[personId],
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const ORDERS = ['SO-BCLI-1', 'SO-BCLI-2', 'SO-BCLI-3', 'SO-BCLI-4', 'SO-BCLI-5'];
const SELECT = ['--sku', 'BCLI-MUG', '--reason', 'out_of_stock', '--confirm', 'awaiting_shipment'];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cancelflow-bulk-cli-'));
  stack = await startTestStack('bulk-cli');
  await addPeople(stack.models);
  for (const personId of ['clerk-1', 'ops-1']) {
    const person = await stack.models.Person.findOne({ personId }).lean();
    keys[personId] = (
      await issueApiKey(stack.models, {
        name: `bulk cli ${personId}`,
        personId,
        scopes: person?.roles ?? [],
        createdBy: 'test',
      })
    ).token;
  }
  await addProduct(stack.models, { sku: 'BCLI-MUG', name: 'Mug', unitPriceMinor: 2500, currency: 'CNY' });
  await receiveStock(stack.models, 'BCLI-MUG', 50);
  for (const [index, orderNumber] of ORDERS.entries()) {
    await addCustomer(stack.models, {
      customerId: `CBC-${index}`,
      name: `Customer ${index}`,
      email: `cbc${index}@example.com`,
      language: 'en',
    });
    await placePaidOrder(stack.models, {
      orderNumber,
      customerId: `CBC-${index}`,
      currency: 'CNY',
      lines: [{ lineId: 'L1', sku: 'BCLI-MUG', quantity: 2, unitPriceMinor: 2500 }],
    });
  }
});

afterAll(async () => {
  await stack?.stop();
  await rm(scratch, { recursive: true, force: true });
});

test('bulk dry-run, start, watch, show, report, and the refusals, with their exit codes', async () => {
  const dryRun = await cli('clerk-1', ['bulk', 'dry-run', ...SELECT]);
  expect(dryRun).toMatchObject({ code: 0, stderr: '' });
  expect(dryRun.stdout).toMatch(/Orders found:\s+5/);
  expect(dryRun.stdout).toMatch(/Would cancel:\s+5 orders, 5 lines/);
  expect(dryRun.stdout).toMatch(/Would refund:\s+250.00 CNY/);

  // Usage: no orders named and no filter (2); bad input the API refuses, with its reason (1).
  expect(await cli('clerk-1', ['bulk', 'start', '--reason', 'out_of_stock'])).toMatchObject({
    code: 2,
    stderr: expect.stringContaining('name the orders'),
  });
  expect(await cli('clerk-1', ['bulk', 'start', '--sku', 'NO-SUCH', '--reason', 'other'])).toMatchObject({
    code: 1,
    stderr: expect.stringContaining('refused (400 validation_failed): selection: it finds no orders'),
  });

  const started = await cli('clerk-1', ['bulk', 'start', ...SELECT, '--note', 'mug discontinued']);
  expect(started).toMatchObject({ code: 0, stderr: expect.stringContaining('cancelflow bulk watch') });
  const jobId = started.stdout.trim();

  const watched = await cli('clerk-1', ['bulk', 'watch', jobId, '--interval', '0.5', '--timeout', '120']);
  expect(watched.code).toBe(0);
  expect(watched.stdout.trim().split('\n').at(-1)).toMatch(
    /completed: 5 done, 0 running, 0 waiting for people, 0 not started; refunded .*250/,
  );

  const shown = await cli('clerk-1', ['--json', 'bulk', 'show', jobId]);
  expect(JSON.parse(shown.stdout)).toMatchObject({
    jobId,
    state: 'completed',
    byState: { completed: 5 },
    failureCount: 0,
  });
  expect((await cli('ops-1', ['bulk', 'list'])).stdout).toContain(jobId);

  const file = join(scratch, 'report.csv');
  expect(await cli('clerk-1', ['bulk', 'report', jobId, '--output', file])).toMatchObject({ code: 0 });
  const csv = await readFile(file, 'utf8');
  expect(csv.startsWith('\uFEFForderNumber,standing,')).toBe(true);
  expect(csv.trim().split('\r\n')).toHaveLength(6);

  // It ended: nothing left to stop (409, its reason on stderr).
  expect(await cli('ops-1', ['bulk', 'stop', jobId])).toMatchObject({
    code: 1,
    stderr: expect.stringContaining('refused (409 conflict)'),
  });
}, 180_000);

test('a failed job says why in show and watch', async () => {
  // As the worker's bulk job watcher records one whose workflow ended unfinished (activities/bulk-job-watcher.ts).
  const jobId = 'bulk-cli-failed';
  await stack.models.BulkJob.create({
    jobId,
    workflowId: `bulk-cancellation-${jobId}`,
    requestedBy: 'clerk-1',
    selection: { orderNumbers: ['SO-NONE'] },
    reasonCode: 'out_of_stock',
    confirm: ['awaiting_shipment'],
    concurrency: 1,
    state: 'failed',
    failureReason: 'workflow terminated: the supplier list was wrong',
    endedAt: new Date(),
  });
  const shown = await cli('ops-1', ['bulk', 'show', jobId]);
  expect(shown.stdout).toMatch(/Failed because:\s+workflow terminated: the supplier list was wrong/);
  const watched = await cli('ops-1', ['bulk', 'watch', jobId]);
  expect(watched.stdout).toContain('failed: workflow terminated: the supplier list was wrong');
}, 60_000);
