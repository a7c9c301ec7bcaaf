// The growth scenario (issue #13): how list and lookup times through the API grow with the number of
// cancellations in the books, at each of --growth's sizes (1,000, 10,000 and 100,000 by default). Creating that
// many real cancellations would take hours at the throughput measured, so the records are inserted directly
// into the database with the Cancellation model recordCancellationState writes through, shaped as ended
// cancellations write them (the output says so). The API has no report or analytics endpoint; each list answer
// counts every match (`total`), which is what a report would read, and is measured with the lists.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CancelflowApiError, type CancelflowClient } from '../client/cancelflow-client';
import { cancellationWorkflowId, REASON_CODES } from '../contracts/cancellation.contract';
import { seededRandom } from '../generators/books';
import { repeats } from './cancelling';
import { fixed, percentile, progress, sleep } from './common';
import type { Stack } from './stack';

export interface GrowthOptions {
  sizes: number[];
  iterations: number;
  /** How long to wait for what ran before to end. */
  timeoutMs: number;
}

export interface GrowthKind {
  name: string;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  meanMs: number;
  iterations: number;
}

export interface GrowthLevel {
  /** Cancellations in the books when measured (the bench's inserted ones and any others). */
  cancellations: number;
  insertedByBench: number;
  insertSeconds: number;
  kinds: GrowthKind[];
}

export interface GrowthEntry {
  stack: string;
  stackName: string;
  iterations: number;
  insertedDirectly: true;
  reportEndpoints: string;
  levels: GrowthLevel[];
}

const REPORTS_NOTE =
  'none: the API has no report or analytics endpoint; every GET /v1/cancellations answer counts all matches (`total`), measured with the lists';

const STEPS = [
  'requested',
  'loadingPolicy',
  'reviewing',
  'assessingRisk',
  'releasingStock',
  'refunding',
  'closingOrder',
  'notifyingCustomer',
];

/** An ended cancellation as recordCancellationState leaves it: completed mostly, some rejected or withdrawn. */
function endedCancellation(run: string, index: number, at: Date) {
  const cancellationId = randomUUID();
  const outcome = index % 20 === 0 ? 'rejected' : index % 20 === 1 ? 'withdrawn' : 'completed';
  const steps = outcome === 'completed' ? [...STEPS, 'completed'] : ['requested', 'reviewing', outcome];
  return {
    cancellationId,
    workflowId: cancellationWorkflowId(cancellationId),
    orderNumber: `BG-${run}-${String(index + 1).padStart(7, '0')}`,
    customerId: `BG-${run}-C${String(index % 1_000).padStart(4, '0')}`,
    policyVersion: '2026-11-28.3',
    reasonCode: REASON_CODES[index % REASON_CODES.length],
    requestedBy: index % 2 ? 'clerk-1' : 'manager-1',
    confirmed: ['awaiting_shipment'],
    state: outcome,
    outcome,
    risk: { level: 'low', reasons: [] },
    refundedMinor: outcome === 'completed' ? 17_600 : 0,
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: `BENCH-G-${run}`, warehouse: 'WH-SH-01', quantity: 2, amountMinor: 17_600 }],
    notifications:
      outcome === 'completed'
        ? [
            { channel: 'email', status: 'sent' },
            { channel: 'sms', status: 'sent' },
          ]
        : [],
    timeline: steps.map((state, step) => ({ step, state, at: new Date(at.getTime() + step * 1_000) })),
    createdAt: at,
    updatedAt: new Date(at.getTime() + steps.length * 1_000),
  };
}

/** One request's time, in ms; one the API could not take now (429, 503) is repeated and not counted. */
async function timed(send: () => Promise<unknown>): Promise<number> {
  for (;;) {
    const started = performance.now();
    try {
      await send();
      return performance.now() - started;
    } catch (error) {
      if (!(error instanceof CancelflowApiError && (error.status === 429 || error.status === 503)))
        throw error;
      repeats.count += 1;
      await sleep(1_000);
    }
  }
}

export async function runGrowth(stack: Stack, options: GrowthOptions): Promise<GrowthEntry> {
  const run = randomUUID().slice(0, 6);
  const random = seededRandom(13);
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)] as T;
  const { Cancellation } = stack.models;
  const ids: string[] = [];
  const orderNumbers: string[] = [];
  const customers = new Set<string>();
  const levels: GrowthLevel[] = [];
  // Older than anything else in the books, a minute apart: lists newest first start with the real ones.
  const firstAt = Date.now() - 365 * 86_400_000;
  try {
    for (const size of options.sizes) {
      const before = await Cancellation.countDocuments();
      const missing = Math.max(0, size - before);
      const started = performance.now();
      if (missing > 0)
        progress(
          `• growth: inserting ${missing.toLocaleString('en')} ended cancellations (to ${size.toLocaleString('en')})…`,
        );
      for (let done = 0; done < missing; done += 1_000) {
        const batch = Array.from({ length: Math.min(1_000, missing - done) }, (_, offset) => {
          const index = ids.length + offset;
          return endedCancellation(run, index, new Date(firstAt + index * 60_000));
        });
        await Cancellation.insertMany(batch, { ordered: false, timestamps: false });
        for (const record of batch) {
          ids.push(record.cancellationId);
          orderNumbers.push(record.orderNumber);
          customers.add(record.customerId);
        }
        if (missing > 5_000)
          process.stderr.write(
            `\r  ${(done + batch.length).toLocaleString('en')} of ${missing.toLocaleString('en')}`,
          );
      }
      if (missing > 5_000) process.stderr.write('\n');
      const insertSeconds = (performance.now() - started) / 1000;
      const cancellations = await Cancellation.countDocuments();
      if (ids.length === 0) throw new Error('growth: no cancellations of the bench to look up');
      await stack.settle(options.timeoutMs);
      const customerIds = [...customers];
      const firstPage = await stack.approver.listCancellations({});
      const cursor = firstPage.nextCursor;
      type Request = (clients: {
        approver: CancelflowClient;
        requester: CancelflowClient;
      }) => Promise<unknown>;
      const nextPage: [string, Request][] = cursor
        ? [['list: the next page (cursor)', ({ approver }) => approver.listCancellations({ cursor })]]
        : [];
      const kinds: [string, Request][] = [
        [
          'list: newest first, first page of 20 (an approver: all)',
          ({ approver }) => approver.listCancellations({}),
        ],
        ["list: a requester's own (filter, not a 403)", ({ requester }) => requester.listCancellations({})],
        ['list: by state (completed)', ({ approver }) => approver.listCancellations({ state: 'completed' })],
        [
          'list: by order number',
          ({ approver }) => approver.listCancellations({ orderNumber: pick(orderNumbers) }),
        ],
        [
          'list: by customer',
          ({ approver }) => approver.listCancellations({ customerId: pick(customerIds) }),
        ],
        ...nextPage,
        [
          'list: waiting for me (an approver)',
          ({ approver }) => approver.listCancellations({ waitingFor: 'me' }),
        ],
        [
          'lookup: GET /v1/cancellations/:id (ended: the database copy)',
          ({ approver }) => approver.getCancellation(pick(ids)),
        ],
      ];
      progress(
        `• growth at ${cancellations.toLocaleString('en')} cancellations: ${kinds.length} kinds × ${options.iterations}…`,
      );
      const clients = { approver: stack.approver, requester: stack.api };
      const measured: GrowthKind[] = [];
      for (const [name, request] of kinds) {
        for (let warm = 0; warm < 2; warm += 1) await timed(() => request(clients));
        const times: number[] = [];
        for (let iteration = 0; iteration < options.iterations; iteration += 1)
          times.push(await timed(() => request(clients)));
        measured.push({
          name,
          p50Ms: percentile(times, 50),
          p95Ms: percentile(times, 95),
          p99Ms: percentile(times, 99),
          meanMs: times.reduce((sum, time) => sum + time, 0) / times.length,
          iterations: times.length,
        });
        progress(
          `    ${name}: p50 ${fixed(percentile(times, 50), 1)} ms, p99 ${fixed(percentile(times, 99), 1)} ms`,
        );
      }
      levels.push({ cancellations, insertedByBench: ids.length, insertSeconds, kinds: measured });
    }
  } finally {
    // A stack of someone else's keeps its books as they were; the bench's own is thrown away whole.
    if (stack.kind === 'running' && ids.length > 0) {
      progress(`• growth: removing the ${ids.length.toLocaleString('en')} cancellations it inserted…`);
      await Cancellation.deleteMany({ orderNumber: { $regex: `^BG-${run}-` } });
    }
  }
  return {
    stack: stack.kind,
    stackName: stack.name,
    iterations: options.iterations,
    insertedDirectly: true,
    reportEndpoints: REPORTS_NOTE,
    levels,
  };
}

export function growthMarkdown(entries: readonly GrowthEntry[]): string[] {
  const lines: string[] = [];
  for (const entry of entries) {
    if (entry.levels.length === 0) continue;
    const header = entry.levels.map((level) => `${level.cancellations.toLocaleString('en')}: p50 / p99 ms`);
    lines.push(
      `## Growth of list and lookup times (${entry.stackName})`,
      '',
      `| request | ${header.join(' | ')} |`,
      `| --- | ${header.map(() => '---:').join(' | ')} |`,
    );
    for (const [index, kind] of (entry.levels[0]?.kinds ?? []).entries()) {
      const cells = entry.levels.map((level) => {
        const measured = level.kinds.find((candidate) => candidate.name === kind.name) ?? level.kinds[index];
        return measured ? `${fixed(measured.p50Ms, 1)} / ${fixed(measured.p99Ms, 1)}` : '–';
      });
      lines.push(`| ${kind.name} | ${cells.join(' | ')} |`);
    }
    lines.push(
      `| report or analytics endpoint | ${entry.levels.map(() => 'none').join(' | ')} |`,
      '',
      `**Inserted directly, not run:** the cancellations measured against were written straight into the database with the Cancellation model (the one recordCancellationState writes through), shaped as ended cancellations leave it (90 % completed, 5 % rejected, 5 % withdrawn, half each of two requesters, 1,000 customers), ${entry.levels
        .map(
          (level) =>
            `${level.insertedByBench.toLocaleString('en')} of ${level.cancellations.toLocaleString('en')} inserted (${level.insertSeconds.toFixed(0)} s)`,
        )
        .join(', ')}; creating that many real ones would take hours at the throughput measured. ` +
        `${entry.iterations} timed requests per kind and size after 2 untimed, one at a time through the API (p99 of ${entry.iterations} is nearly the slowest), once no workflow of an earlier measurement is left running. Reports: ${entry.reportEndpoints}.`,
      '',
    );
  }
  return lines;
}
