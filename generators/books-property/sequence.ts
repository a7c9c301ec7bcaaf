// Running sequences: each under a fresh prefix, command by command (alone, or a group at once), checking each
// step's change and, at the end, the books' invariants; the figures of what ran; and the property itself.
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { addCustomer, addProduct, receiveStock } from '../demo-data';
import type { Models } from '../../models';
import {
  describeAction,
  NOTHING_REFUNDED,
  perform,
  sameCounts,
  type Action,
  type Outcome,
  type RefundedCounts,
} from './actions';
import {
  booksSequence,
  CUSTOMER_ID,
  MAX_COMMANDS,
  ORDER_WAREHOUSE,
  UNIT_PRICES_MINOR,
  type BooksSequence,
  type ConcurrentCommand,
  type RefundCommand,
  type RetryCommand,
  type StockCommand,
} from './commands';
import {
  compareFigures,
  emptyFigures,
  expectedChange,
  NOTHING,
  readFigures,
  reservationsKept,
  type Figures,
} from './figures';
import { checkBooks } from './invariants';
import { failure, register, resolve, type Planned, type Run } from './resolve';
import { removeRun, type RunScope } from './scope';

export interface BooksStats {
  /** Sequences that ran to the end with every invariant held. */
  sequences: number;
  /** Top-level commands of those sequences (a concurrent group is one). */
  commands: number;
  /** Operations performed (each member of a concurrent group is one). */
  operations: number;
  refusals: number;
  /** Operations repeated with an earlier key: retries, and twins inside concurrent groups. */
  retries: number;
  concurrentGroups: number;
  /** Operations cut short as by a crash, to be finished by a retry. */
  crashes: number;
  /** Commands without a target yet (a shipment before any order): nothing to do. */
  skipped: number;
  /** Refund operations on a payment in another currency than its order's. */
  foreignRefunds: number;
  /** Such payments refunded in full on plan at the end of a sequence, where both counts must reach the top. */
  foreignRefundedInFull: number;
}

export interface BooksWorld {
  models: Models;
  stats: BooksStats;
  /** Sequences started, shrinking included: each runs under its own prefix `r<n>`. */
  started: number;
}

export async function createBooksWorld(models: Models): Promise<BooksWorld> {
  await addCustomer(models, { customerId: CUSTOMER_ID, name: '属性测试', language: 'zh-CN' });
  return {
    models,
    started: 0,
    stats: {
      sequences: 0,
      commands: 0,
      operations: 0,
      refusals: 0,
      retries: 0,
      concurrentGroups: 0,
      crashes: 0,
      skipped: 0,
      foreignRefunds: 0,
      foreignRefundedInFull: 0,
    },
  };
}

function settle(world: BooksWorld, run: Run, planned: Planned, outcome: Outcome, mark: string): void {
  const { stats } = world;
  stats.operations += 1;
  if (planned.step.action.kind === 'refund' && planned.step.action.share) stats.foreignRefunds += 1;
  if (planned.repeat) stats.retries += 1;
  if (outcome.refused) stats.refusals += 1;
  else if (planned.crash) stats.crashes += 1;
  else {
    planned.step.completed = true;
    register(run, planned.step);
  }
  const result = outcome.refused
    ? `refused (${outcome.code})`
    : planned.crash
      ? 'cut short'
      : outcome.results.join(', ') || 'done';
  run.trace.push(
    `${mark}${planned.repeat ? 'again: ' : ''}${describeAction(planned.step.action)} → ${result}`,
  );
}

/**
 * Notes the foreign payments that may hold a share reserved on other counts than it was planned from. The
 * ledger's guards admit such shares when the intent does not say what it was planned on (the product's refunds
 * say it, `plannedFrom`, and a stale one is planned again: test/foreign-currency.test.ts; this model exercises
 * the guards without it), and two planned from the same counts can refund all of the payment in one currency
 * and not in the other, which shares planned one after another never do. A step with one share of the
 * payment reserves it on the counts before the step (a give-back only lowers both counts); shares racing in a
 * group are ordered by the database, so any change they make counts as off plan.
 */
function noteSharesOffPlan(run: Run, actions: Action[], before: Figures, after: Figures): void {
  const sharesByPayment = new Map<string, Map<string, RefundedCounts>>();
  for (const action of actions) {
    if (action.kind !== 'refund' || !action.share) continue;
    const shares = sharesByPayment.get(action.paymentId) ?? new Map<string, RefundedCounts>();
    sharesByPayment.set(action.paymentId, shares.set(action.key, action.share.plannedFrom));
  }
  for (const [paymentId, shares] of sharesByPayment) {
    const was = before.payments.get(paymentId) ?? NOTHING_REFUNDED;
    const now = after.payments.get(paymentId) ?? NOTHING_REFUNDED;
    if (sameCounts(was, now)) continue;
    const [plannedFrom, ...others] = [...shares.values()];
    const reservedOnPlan =
      others.length === 0 &&
      plannedFrom !== undefined &&
      (now.refundedMinor < was.refundedMinor || sameCounts(plannedFrom, was));
    if (!reservedOnPlan) run.offPlan.add(paymentId);
  }
}

async function runAlone(
  world: BooksWorld,
  run: Run,
  command: StockCommand | RefundCommand | RetryCommand,
  index: number,
) {
  const planned = await resolve(world.models, run, command);
  if (!planned) {
    world.stats.skipped += 1;
    return;
  }
  const completedBefore = planned.step.completed;
  const before = run.figures;
  const outcome = await perform(world.models, planned.step.action, planned.crash);
  settle(world, run, planned, outcome, `#${index} `);
  const after = (run.figures = await readFigures(world.models, run));
  noteSharesOffPlan(run, [planned.step.action], before, after);

  let problems: string[] = [];
  if (planned.repeat) {
    // Repeating what completed changes nothing, and the ledger says it was already applied.
    if (completedBefore) {
      problems = compareFigures(before, after, NOTHING);
      if (!outcome.refused && outcome.results.some((result) => result !== 'already_applied'))
        problems.push(`a repeat of a completed operation answered ${outcome.results.join(', ')}`);
    }
  } else if (outcome.refused) {
    // A refusal changes nothing; placePaidOrder (demo data) reserves line by line, so a refused order keeps
    // the reservations of the lines before the refused one, and exactly those.
    const { action } = planned.step;
    problems = compareFigures(
      before,
      after,
      action.kind === 'order' ? reservationsKept(action, before, after) : NOTHING,
    );
  } else {
    problems = compareFigures(before, after, expectedChange(planned.step.action, planned.crash));
    if (outcome.results.some((result) => result !== 'applied'))
      problems.push(`a first attempt answered ${outcome.results.join(', ')}`);
  }
  if (problems.length > 0) throw failure(`step #${index} changed the books wrongly`, problems, run);
}

async function runTogether(world: BooksWorld, run: Run, group: ConcurrentCommand, index: number) {
  const planned: (Planned & { delayMs: number })[] = [];
  for (const item of group.items) {
    const previous = planned.at(-1);
    const resolved =
      item.command.kind === 'twin'
        ? previous && { ...previous, repeat: true }
        : await resolve(world.models, run, item.command, true);
    if (resolved) planned.push({ ...resolved, delayMs: item.delayMs });
    else world.stats.skipped += 1;
  }
  if (planned.length > 1) world.stats.concurrentGroups += 1;
  const before = run.figures;
  const outcomes = await Promise.allSettled(
    planned.map(async (entry) => {
      await sleep(entry.delayMs);
      return perform(world.models, entry.step.action, entry.crash);
    }),
  );
  const errors: unknown[] = [];
  for (const [position, outcome] of outcomes.entries()) {
    const entry = planned[position];
    if (!entry) continue;
    if (outcome.status === 'fulfilled') settle(world, run, entry, outcome.value, `#${index}.${position} ‖ `);
    else errors.push(outcome.reason);
  }
  if (errors.length > 0) {
    throw failure(
      `a concurrent group (#${index}) failed unexpectedly`,
      errors.map((error) => (error instanceof Error ? error.message : String(error))),
      run,
    );
  }
  run.figures = await readFigures(world.models, run);
  noteSharesOffPlan(
    run,
    planned.map((entry) => entry.step.action),
    before,
    run.figures,
  );
}

/**
 * Runs one sequence under a fresh prefix, checking each step and, at the end, the books' invariants. Its
 * documents are removed afterwards unless `keep` (the embedded server scans for all but unique indexes, so
 * 10,000 sequences' worth of documents would slow every later check).
 */
export async function runSequence(
  world: BooksWorld,
  sequence: BooksSequence,
  options: { keep?: boolean } = {},
): Promise<RunScope> {
  world.started += 1;
  const prefix = `r${world.started}`;
  const skus = UNIT_PRICES_MINOR.map((_, index) => `${prefix}-SKU-${index}`);
  const { models } = world;
  const run: Run = {
    prefix,
    skus,
    offPlan: new Set(),
    nextId: 0,
    orders: [],
    shipments: [],
    history: [],
    registered: new Set(),
    figures: emptyFigures(),
    trace: [],
  };
  try {
    await Promise.all(
      skus.map(async (sku, index) => {
        await addProduct(models, {
          sku,
          name: `属性 ${sku}`,
          unitPriceMinor: UNIT_PRICES_MINOR[index] ?? 1,
          currency: 'CNY',
        });
        const opening = sequence.opening[index] ?? 0;
        if (opening > 0) await receiveStock(models, sku, opening, ORDER_WAREHOUSE);
      }),
    );
    run.figures = await readFigures(models, run);
    for (const [index, command] of sequence.commands.entries()) {
      if (command.kind === 'concurrently') await runTogether(world, run, command, index);
      else await runAlone(world, run, command, index);
    }
    const problems = await checkBooks(models, run);
    if (problems.length > 0) throw failure('the books are wrong after the sequence', problems, run);
    world.stats.sequences += 1;
    world.stats.commands += sequence.commands.length;
    for (const { foreign } of run.orders) {
      if (!foreign || run.offPlan.has(foreign.paymentId)) continue;
      if (run.figures.payments.get(foreign.paymentId)?.refundedMinor === foreign.capturedMinor)
        world.stats.foreignRefundedInFull += 1;
    }
    return { prefix, skus, offPlan: run.offPlan };
  } finally {
    if (!options.keep) await removeRun(models, run);
  }
}

export function booksProperty(world: BooksWorld, maxCommands = MAX_COMMANDS) {
  return fc.asyncProperty(booksSequence(maxCommands), async (sequence) => {
    await runSequence(world, sequence);
  });
}
