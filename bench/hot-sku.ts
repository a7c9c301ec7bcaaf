// The hot-SKU scenario (issue #13): N concurrent auto-approved cancellations of orders that all hold the same SKU,
// against N of orders on N distinct SKUs in the same run (goal: at least 0.5 x their throughput), and the hot
// SKU's stock exact afterwards: its level is the sum of its ledger's movements, and exactly what the completed
// cancellations released came back (onHand unchanged, reserved down by their units).
import { randomUUID } from 'node:crypto';
import type { Models } from '../models';
import { BENCH_WAREHOUSE, cancelOne, placeBenchOrders, repeats, type BenchOrders } from './cancelling';
import { fixed, median, percentile, progress, runSlots } from './common';
import type { Stack } from './stack';

export interface HotSkuOptions {
  count: number;
  timeoutMs: number;
}

export interface HotSkuRun {
  skus: number;
  attempted: number;
  completed: number;
  failed: number;
  seconds: number;
  perSecond: number;
  medianSeconds: number;
  p95Seconds: number;
  /** Requests the API could not take at once (503, 429, no answer), repeated with their key. */
  repeats: number;
  failures: string[];
}

export interface StockCheck {
  sku: string;
  warehouse: string;
  received: number;
  reservedBefore: number;
  /** The level as the books hold it afterwards. */
  onHand: number;
  reserved: number;
  /** The same, summed from the ledger's applied movements. */
  ledgerOnHand: number;
  ledgerReserved: number;
  /** `release` movements applied, and their units; expected: one a completed cancellation, `quantity` each. */
  releases: number;
  releasedUnits: number;
  expectedReleasedUnits: number;
  /** Movements noted on the level but not yet marked applied, and movements pending or rejected. */
  pendingOnLevel: number;
  unappliedMovements: number;
  exact: boolean;
}

export interface HotSkuEntry {
  stack: string;
  stackName: string;
  cancellations: number;
  quantityPerOrder: number;
  setupSeconds: number;
  distinct: HotSkuRun;
  hot: HotSkuRun;
  /** hot.perSecond ÷ distinct.perSecond (goal ≥ 0.5). */
  ratio: number;
  stock: StockCheck;
  /** The distinct SKUs' levels checked the same way: how many are exact. */
  distinctStock: { skus: number; exact: number; inexact: string[] };
}

/** Checks each SKU's level against its ledger and against what the completed cancellations should release. */
async function checkStock(
  models: Models,
  orders: BenchOrders,
  completedOrders: ReadonlySet<string>,
): Promise<StockCheck[]> {
  const skus = [...new Set(orders.skus)];
  const [levels, movements] = await Promise.all([
    models.StockLevel.find({ sku: { $in: skus }, warehouse: BENCH_WAREHOUSE }).lean(),
    models.StockMovement.find(
      { sku: { $in: skus }, warehouse: BENCH_WAREHOUSE },
      { sku: 1, type: 1, state: 1, onHandDelta: 1, reservedDelta: 1, document: 1 },
    ).lean(),
  ]);
  return skus.map((sku) => {
    const level = levels.find((candidate) => candidate.sku === sku);
    const own = movements.filter((movement) => movement.sku === sku);
    const applied = own.filter((movement) => movement.state === 'applied');
    const releases = applied.filter((movement) => movement.type === 'release');
    const ordersOfSku = orders.orderNumbers.filter((_, index) => orders.skus[index] === sku);
    const received = ordersOfSku.length * orders.quantity;
    const expectedReleasedUnits =
      ordersOfSku.filter((orderNumber) => completedOrders.has(orderNumber)).length * orders.quantity;
    const check = {
      sku,
      warehouse: BENCH_WAREHOUSE,
      received,
      reservedBefore: received,
      onHand: level?.onHand ?? Number.NaN,
      reserved: level?.reserved ?? Number.NaN,
      ledgerOnHand: applied.reduce((sum, movement) => sum + movement.onHandDelta, 0),
      ledgerReserved: applied.reduce((sum, movement) => sum + movement.reservedDelta, 0),
      releases: releases.length,
      releasedUnits: releases.reduce((sum, movement) => sum - movement.reservedDelta, 0),
      expectedReleasedUnits,
      pendingOnLevel: level?.pendingMovements.length ?? 0,
      unappliedMovements: own.length - applied.length,
    };
    return {
      ...check,
      exact:
        check.onHand === check.ledgerOnHand &&
        check.reserved === check.ledgerReserved &&
        check.onHand === received &&
        check.reserved === received - expectedReleasedUnits &&
        check.releasedUnits === expectedReleasedUnits &&
        check.pendingOnLevel === 0 &&
        check.unappliedMovements === 0,
    };
  });
}

async function cancelAllAtOnce(
  stack: Stack,
  label: string,
  orders: BenchOrders,
  options: HotSkuOptions,
): Promise<{ run: HotSkuRun; completed: Set<string> }> {
  const count = orders.orderNumbers.length;
  progress(`  • ${label}: ${count} cancellations at once…`);
  const repeatsBefore = repeats.count;
  const run = await runSlots(label, count, count, Number.POSITIVE_INFINITY, async (index) => {
    const orderNumber = orders.orderNumbers[index] as string;
    return { orderNumber, ...(await cancelOne(stack, orderNumber, options.timeoutMs)) };
  });
  const perSecond = run.results.length / run.seconds;
  progress(
    `    ${run.results.length} completed, ${run.failures.length} failed in ${run.seconds.toFixed(1)} s = ${perSecond.toFixed(3)}/s`,
  );
  for (const failure of run.failures.slice(0, 3)) progress(`      ${failure}`);
  const seconds = run.results.map((result) => result.seconds);
  return {
    run: {
      skus: new Set(orders.skus).size,
      attempted: count,
      completed: run.results.length,
      failed: run.failures.length,
      seconds: run.seconds,
      perSecond,
      medianSeconds: median(seconds),
      p95Seconds: percentile(seconds, 95),
      repeats: repeats.count - repeatsBefore,
      failures: run.failures.slice(0, 20),
    },
    completed: new Set(run.results.map((result) => result.orderNumber)),
  };
}

export async function runHotSku(stack: Stack, options: HotSkuOptions): Promise<HotSkuEntry> {
  const run = randomUUID().slice(0, 6);
  const quantity = 2;
  const unitPriceMinor = 8_800; // low risk: auto-approved
  progress(
    `• hot SKU: placing ${options.count} orders on one SKU and ${options.count} on distinct SKUs (run ${run})…`,
  );
  const hotSku = `BENCH-HOT-${run}`;
  const hotOrders = await placeBenchOrders(stack.models, {
    prefix: `BH-${run}`,
    count: options.count,
    quantity,
    unitPriceMinor,
    skuOf: () => hotSku,
  });
  const distinctOrders = await placeBenchOrders(stack.models, {
    prefix: `BD-${run}`,
    count: options.count,
    quantity,
    unitPriceMinor,
    skuOf: (index) => `BENCH-D-${run}-${String(index + 1).padStart(6, '0')}`,
  });
  // A few of the same kind first, untimed: the first cancellations after a start pay for warming the worker up.
  const warmUpOrders = await placeBenchOrders(stack.models, {
    prefix: `BU-${run}`,
    count: Math.min(5, options.count),
    quantity,
    unitPriceMinor,
    skuOf: (index) => `BENCH-U-${run}-${index + 1}`,
  });
  const setupSeconds = hotOrders.seconds + distinctOrders.seconds + warmUpOrders.seconds;
  progress(`  placed in ${setupSeconds.toFixed(1)} s`);
  await cancelAllAtOnce(stack, 'warm-up', warmUpOrders, options);

  // Each run starts once what ran before it has ended (its delivery workflows included): distinct SKUs first.
  await stack.settle(options.timeoutMs);
  const distinct = await cancelAllAtOnce(stack, 'distinct SKUs', distinctOrders, options);
  await stack.settle(options.timeoutMs);
  const hot = await cancelAllAtOnce(stack, `one SKU (${hotSku})`, hotOrders, options);

  const [stock] = await checkStock(stack.models, hotOrders, hot.completed);
  if (!stock) throw new Error(`no stock level for ${hotSku}`);
  const distinctChecks = await checkStock(stack.models, distinctOrders, distinct.completed);
  progress(
    `  stock of ${hotSku}: ${stock.exact ? 'exact' : 'NOT EXACT'} (on hand ${stock.onHand}/${stock.ledgerOnHand} by the ledger, reserved ${stock.reserved}/${stock.ledgerReserved}, released ${stock.releasedUnits} of ${stock.expectedReleasedUnits} expected)`,
  );
  return {
    stack: stack.kind,
    stackName: stack.name,
    cancellations: options.count,
    quantityPerOrder: quantity,
    setupSeconds,
    distinct: distinct.run,
    hot: hot.run,
    ratio: hot.run.perSecond / distinct.run.perSecond,
    stock,
    distinctStock: {
      skus: distinctChecks.length,
      exact: distinctChecks.filter((check) => check.exact).length,
      inexact: distinctChecks.filter((check) => !check.exact).map((check) => check.sku),
    },
  };
}

export function hotSkuMarkdown(entries: readonly HotSkuEntry[]): string[] {
  if (entries.length === 0) return [];
  const lines = [
    '## Hot SKU',
    '',
    '| stack | at once | distinct SKUs: cancellations/s (done/failed in s, median s) | one SKU: cancellations/s (done/failed in s, median s) | ratio (goal ≥ 0.5) | hot SKU stock | distinct SKUs exact |',
    '| --- | ---: | ---: | ---: | ---: | --- | ---: |',
  ];
  const figures = (run: HotSkuRun) =>
    `${fixed(run.perSecond, 3)} (${run.completed}/${run.failed} in ${run.seconds.toFixed(0)} s, ${fixed(run.medianSeconds, 1)})`;
  for (const entry of entries) {
    const { stock } = entry;
    lines.push(
      `| ${entry.stackName} | ${entry.cancellations} | ${figures(entry.distinct)} | ${figures(entry.hot)} | ${fixed(entry.ratio, 2)} | ${stock.exact ? 'exact' : '**not exact**'}: on hand ${stock.onHand} (ledger ${stock.ledgerOnHand}, received ${stock.received}), reserved ${stock.reserved} (ledger ${stock.ledgerReserved}), released ${stock.releasedUnits} in ${stock.releases} movements (expected ${stock.expectedReleasedUnits}) | ${entry.distinctStock.exact} of ${entry.distinctStock.skus} |`,
    );
  }
  const failures = entries.flatMap((entry) =>
    [...entry.distinct.failures.slice(0, 3), ...entry.hot.failures.slice(0, 3)].map(
      (failure) => `- ${entry.stack}: ${failure}`,
    ),
  );
  lines.push(
    '',
    `Each order: one line of ${entries[0]?.quantityPerOrder ?? 2} units, paid, allocated, low risk, a customer of its own; placed with the demo data's helpers (addCustomer, addProduct, receiveStock, placePaidOrder). ` +
      'All N cancellations start at once through POST /v1/cancellations and each is waited for to its end; after a warm-up of 5 untimed ones, the distinct SKUs run first, then the hot one, each once no workflow of an earlier run is left running. ' +
      "Exact: the level's on hand and reserved equal the sums of the ledger's applied movements, on hand is what was received, reserved dropped by exactly the units of the completed cancellations, one release movement each, and nothing is left pending.",
    ...(failures.length ? ['', 'Failures (first three per run):', '', ...failures] : []),
    '',
  );
  return lines;
}
