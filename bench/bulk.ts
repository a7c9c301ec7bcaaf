// The bulk cancellation benchmark and proof (issue #16): `npm run bench:bulk [-- --orders 2000 --single 200]`.
//
// On a stack started as `npm start` runs it (bench/stack.ts: embedded MongoDB with file storage, Temporal's dev
// server, the worker in a process of its own, the simulators, the API in this process), it places generated
// orders (one line each, paid, allocated, low risk, a customer of their own; one of them cancelled by hand
// first), measures single cancellations through POST /v1/cancellations with as many at once as a bulk job
// processes (BULK_CONCURRENCY), then runs one bulk job over the rest by SKU filter, SIGKILLs the worker half way
// through and starts another, and checks:
//   - the job completes, every order it cancelled is completed, the one cancelled by hand is reported as such;
//   - exactly one refund per cancelled order at the payment gateway simulator, none for the one cancelled before,
//     each of the order's amount;
//   - the books' invariants of the property test (generators/books-property/invariants.ts `checkBooks`: stock
//     levels = ledger, refunds ≤ captured and = the payments' counts, one balanced voucher per refund, no
//     idempotency key twice) over every order of the run.
// It prints orders per second of the bulk job against single cancellations per second in the same run.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { BulkJobView } from '../client/cancelflow-client';
import { checkBooks } from '../generators/books-property/invariants';
import { parseConfig } from '../lib/config';
import { startWorkerProcess } from '../scripts/servers';
import { cancelOne, placeBenchOrders } from './cancelling';
import {
  commitMeasured,
  elapsed,
  fixed,
  positiveInteger,
  progress,
  runSlots,
  sleep,
  UsageError,
} from './common';
import { startStack } from './stack';

const usage = `usage: tsx bench/bulk.ts [--orders 2000] [--single 200] [--skus 20] [--out FILE] [--keep]
  --orders  orders the bulk job selects (default 2000)
  --single  single cancellations measured first, as many at once as the job's concurrency (default 200)
  --skus    SKUs the job's orders are spread over; the job selects them by this SKU list (default 20)
  --out     also write the results (Markdown) to this file
  --keep    keep the stack's data directory`;

const OPTIONS = {
  orders: { type: 'string', default: '2000' },
  single: { type: 'string', default: '200' },
  skus: { type: 'string', default: '20' },
  out: { type: 'string' },
  keep: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

function readOptions() {
  let values;
  try {
    values = parseArgs({ options: OPTIONS }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${usage}`);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  return {
    orders: positiveInteger('orders', values.orders),
    single: positiveInteger('single', values.single),
    skus: positiveInteger('skus', values.skus),
    out: values.out,
    keep: values.keep,
  };
}

const PRICE = 4500;

async function main(): Promise<number> {
  const options = readOptions();
  const startedAt = new Date();
  const concurrency = parseConfig({}).BULK_CONCURRENCY;
  const dataDir = await mkdtemp(join(tmpdir(), 'cancelflow-bench-bulk-'));
  // Generated books beside the run's orders, as `npm start` loads them.
  const stack = await startStack('file', { orders: 200, seed: 1, baseline: false, dataDir });
  const problems: string[] = [];
  const lines: string[] = [];
  try {
    let started = performance.now();
    const skus = Array.from({ length: options.skus }, (_, index) => `BLK-SKU-${index + 1}`);
    const bulkOrders = await placeBenchOrders(stack.models, {
      prefix: 'BLK',
      count: options.orders,
      quantity: 1,
      unitPriceMinor: PRICE,
      skuOf: (index) => skus[index % skus.length] as string,
    });
    const singleOrders = await placeBenchOrders(stack.models, {
      prefix: 'BSG',
      count: options.single,
      quantity: 1,
      unitPriceMinor: PRICE,
      skuOf: (index) => `BSG-SKU-${index + 1}`,
    });
    progress(`• placed ${options.orders} + ${options.single} orders (${elapsed(started)})`);

    // One of the job's orders cancelled by hand first: the job must report it, and never refund it again.
    const byHand = bulkOrders.orderNumbers[0] as string;
    await cancelOne(stack, byHand, 120_000);

    progress(`• ${options.single} single cancellations, ${concurrency} at once…`);
    const single = await runSlots('single', options.single, concurrency, Number.POSITIVE_INFINITY, (index) =>
      cancelOne(stack, singleOrders.orderNumbers[index] as string, 300_000),
    );
    if (single.failures.length)
      problems.push(`single: ${single.failures.length} failed: ${single.failures[0]}`);
    const singlePerSecond = single.results.length / single.seconds;
    progress(`  ${single.results.length} in ${single.seconds.toFixed(1)} s = ${fixed(singlePerSecond, 2)}/s`);

    const refundsBefore = stack.servers?.gateway.refunds.length ?? 0;
    progress(`• the bulk job over ${options.orders} orders (SKU filter), BULK_CONCURRENCY ${concurrency}…`);
    started = performance.now();
    const accepted = await stack.api.startBulkCancellation({
      selection: { skus },
      reasonCode: 'out_of_stock',
      note: 'bench: discontinued',
      confirm: ['awaiting_shipment'],
    });
    let job: BulkJobView = await stack.api.getBulkCancellation(accepted.jobId);
    let restarted: { atDone: number; seconds: number } | undefined;
    for (;;) {
      job = await stack.api.getBulkCancellation(accepted.jobId);
      if (
        job.state === 'completed' ||
        job.state === 'stopped' ||
        job.state === 'failed' ||
        job.state === 'waiting'
      )
        break;
      if (!restarted && stack.servers && job.phases.done >= options.orders / 2) {
        const { servers } = stack;
        const pid = servers.worker.workerPid;
        const since = performance.now();
        process.kill(pid, 'SIGKILL');
        await sleep(500);
        servers.worker = await startWorkerProcess({ ...servers.workerOptions, onUnexpectedExit: undefined });
        restarted = { atDone: job.phases.done, seconds: (performance.now() - since) / 1000 };
        progress(
          `  worker pid ${pid} SIGKILLed at ${job.phases.done} done; pid ${servers.worker.workerPid} polling ${restarted.seconds.toFixed(1)} s later`,
        );
      }
      await sleep(1_000);
    }
    const bulkSeconds = (performance.now() - started) / 1000;
    const cancelled = job.byState.completed ?? 0;
    const bulkPerSecond = cancelled / bulkSeconds;
    progress(
      `  ${job.state}: ${cancelled} completed in ${bulkSeconds.toFixed(1)} s = ${fixed(bulkPerSecond, 2)}/s`,
    );

    if (job.state !== 'completed') problems.push(`the job ended ${job.state}`);
    if (cancelled !== options.orders - 1)
      problems.push(`${cancelled} cancelled, expected ${options.orders - 1}`);
    const reported = job.failures.find((failure) => failure.orderNumber === byHand);
    if (job.failureCount !== 1 || reported?.status !== 'already_cancelled')
      problems.push(
        `not cancelled: ${JSON.stringify(job.failures.slice(0, 5))}, expected only ${byHand} already_cancelled`,
      );
    if (!restarted) problems.push('the worker was not restarted during the job');

    // Exactly one refund per cancelled order at the gateway, of its amount; none for the one cancelled before.
    const refunds = (stack.servers?.gateway.refunds ?? []).slice(refundsBefore);
    const byPayment = new Map<string, number[]>();
    for (const refund of refunds)
      byPayment.set(refund.payment, [...(byPayment.get(refund.payment) ?? []), refund.amount]);
    const twice = [...byPayment.entries()].filter(([, amounts]) => amounts.length > 1);
    if (twice.length)
      problems.push(`${twice.length} payments refunded more than once, e.g. ${twice[0]?.[0]}`);
    if (byPayment.size !== cancelled)
      problems.push(`${byPayment.size} payments refunded, ${cancelled} orders cancelled`);
    if ([...byPayment.values()].some((amounts) => amounts.some((amount) => amount !== PRICE)))
      problems.push(`a refund other than ${PRICE}`);
    if ([...byPayment.keys()].some((payment) => payment.includes(byHand.toLowerCase())))
      problems.push(`${byHand}, cancelled before, refunded again by the job`);

    // The books' invariants over every order of the run.
    const booksOf = async (prefix: string, runSkus: string[]) => {
      const refunds = await stack.models.Refund.find(
        { orderNumber: { $gte: `${prefix}-`, $lt: `${prefix}-\uffff` } },
        { idempotencyKey: 1 },
      ).lean();
      // The engine keys a refund's voucher by the refund (models/refund-ledger.ts), not by the run's prefix.
      const voucherKeys = refunds.map((refund) => `${refund.idempotencyKey}:voucher`);
      return checkBooks(stack.models, { prefix, skus: runSkus, offPlan: new Set(), voucherKeys });
    };
    const books = [...(await booksOf('BLK', skus)), ...(await booksOf('BSG', singleOrders.skus))];
    problems.push(...books);
    const incidents = stack.incidents.filter((incident) => !incident.includes('worker (pid'));

    const { commit, dirty } = commitMeasured();
    lines.push(
      '## Bulk cancellation',
      '',
      `Commit ${commit}${dirty ? ' (with uncommitted changes in the tree)' : ''}, ${startedAt.toISOString()}; ` +
        `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}. ` +
        `\`npm run bench:bulk -- ${process.argv.slice(2).join(' ')}\` on the stack \`npm start\` runs (embedded database on file storage).`,
      '',
      '| orders in the job | BULK_CONCURRENCY | single cancellations/s (n, at once) | bulk job orders/s (completed in s) | ratio | worker SIGKILLed | refunds at the gateway | books |',
      '| ---: | ---: | ---: | ---: | ---: | --- | --- | --- |',
      `| ${options.orders} | ${concurrency} | ${fixed(singlePerSecond, 2)} (${single.results.length}, ${concurrency}) | ${fixed(bulkPerSecond, 2)} (${cancelled} in ${bulkSeconds.toFixed(0)} s) | ${fixed(bulkPerSecond / singlePerSecond, 2)} | ${restarted ? `at ${restarted.atDone} done, polling again ${restarted.seconds.toFixed(1)} s later` : 'no'} | ${refunds.length} for ${byPayment.size} payments, ${twice.length} twice | ${books.length === 0 ? 'invariants hold' : `**${books.length} problems**`} |`,
      '',
      `One order (${byHand}) cancelled by hand first: ${reported ? `reported ${reported.status}` : 'not reported'}, refunded once. ` +
        'Single cancellations: POST /v1/cancellations, each waited for to its end, as many at once as the job processes. ' +
        'The job: POST /v1/bulk-cancellations by SKU filter, timed from the request to the job completed as GET shows it (polled each second).',
      ...(incidents.length ? ['', `Incidents: ${incidents.join('; ')}`] : []),
      ...(problems.length
        ? ['', 'Problems:', '', ...problems.slice(0, 20).map((problem) => `- ${problem}`)]
        : ['', 'No problems.']),
      '',
    );
    console.log(lines.join('\n'));
    if (options.out) await writeFile(options.out, lines.join('\n'));
    return problems.length === 0 ? 0 : 1;
  } finally {
    await stack.stop();
    if (!options.keep) await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof UsageError ? error.message : error);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
