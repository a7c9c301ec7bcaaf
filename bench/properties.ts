// The books' property at scale (issue #4): `npm run bench:properties [-- --runs 10000 --seed 42]`.
//
// Runs the property of test/books.properties.test.ts (generators/books-property) over many random sequences
// against MongoDB at MONGODB_URI, or an embedded server it starts itself, and prints what ran and whether
// every invariant held, or fast-check's report with the shrunk counterexample and the seed to replay it.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { loadConfig } from '../lib/config';
import { CancelflowError, isCancelflowError } from '../lib/errors';
import { connectModels } from '../models';
import { startMongoServer, type MongoServer } from '../scripts/servers';
import { booksProperty, createBooksWorld, MAX_COMMANDS, type BooksStats } from '../generators/books-property';

const usage = `usage: tsx bench/properties.ts [--runs 10000] [--seed N [--path P]] [--max-commands ${MAX_COMMANDS}] [--heap 3g]
  --runs          random sequences to run (default 10000)
  --seed          fast-check's seed (default: a random one, printed)
  --path          with --seed, replays the counterexample a failure reported (seed and path)
  --max-commands  commands per sequence, at most (default ${MAX_COMMANDS}, as in the test)
  --heap          the embedded database's Java heap (default 3g: the property's documents stay in memory
                  for the whole run)`;

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new CancelflowError('validation_failed', `--${name} must be a positive integer\n${usage}`);
  return value;
}

const OPTIONS = {
  runs: { type: 'string', default: '10000' },
  seed: { type: 'string' },
  path: { type: 'string' },
  'max-commands': { type: 'string', default: String(MAX_COMMANDS) },
  heap: { type: 'string', default: '3g' },
  help: { type: 'boolean', default: false },
} as const;

function readOptions() {
  let parsed;
  try {
    parsed = parseArgs({ options: OPTIONS });
  } catch (error) {
    // A misspelt or unknown option says so, with the usage, rather than a stack trace.
    throw new CancelflowError('validation_failed', `${(error as Error).message}\n${usage}`, undefined, {
      cause: error,
    });
  }
  const { values } = parsed;
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
  if (!Number.isInteger(seed))
    throw new CancelflowError('validation_failed', `--seed must be an integer\n${usage}`);
  if (values.path !== undefined && values.seed === undefined)
    throw new CancelflowError('validation_failed', `--path needs --seed\n${usage}`);
  return {
    runs: positiveInteger('runs', values.runs),
    seed,
    path: values.path,
    maxCommands: positiveInteger('max-commands', values['max-commands']),
    heap: values.heap,
  };
}

function figures(stats: BooksStats, seconds: number): [string, string][] {
  const count = (value: number) => value.toLocaleString('en');
  return [
    ['sequences run, every invariant checked', count(stats.sequences)],
    ['commands (a concurrent group is one)', count(stats.commands)],
    ['operations performed', count(stats.operations)],
    ['refusals with an expected code (short stock, over-return, over-refund)', count(stats.refusals)],
    ['repeats with an earlier key (retries and concurrent twins)', count(stats.retries)],
    ['concurrent groups (2–4 operations at once)', count(stats.concurrentGroups)],
    ['operations cut short as by a crash', count(stats.crashes)],
    ['refunds of a payment in another currency than its order', count(stats.foreignRefunds)],
    ['such payments refunded in full, both currencies exactly', count(stats.foreignRefundedInFull)],
    ['commands without a target yet (skipped)', count(stats.skipped)],
    [
      'wall time',
      `${seconds.toFixed(1)} s (${((seconds * 1000) / Math.max(1, stats.sequences)).toFixed(0)} ms a sequence)`,
    ],
  ];
}

async function main(): Promise<void> {
  const options = readOptions();
  const config = loadConfig();
  let server: MongoServer | undefined;
  if (config.MONGODB_URI === undefined) {
    process.stderr.write(`starting the embedded database (mongo-java-server, ${options.heap} heap)…\n`);
    server = await startMongoServer({ port: 0, maxHeap: options.heap });
  }
  const uri = config.MONGODB_URI ?? server?.uri ?? '';
  const models = await connectModels(uri, `bench_properties_${Date.now()}`);
  try {
    const world = await createBooksWorld(models);
    const started = performance.now();
    const progress = setInterval(() => {
      const seconds = (performance.now() - started) / 1000;
      process.stderr.write(
        `  ${world.stats.sequences.toLocaleString('en')} of ${options.runs.toLocaleString('en')} sequences, ${seconds.toFixed(0)} s\n`,
      );
    }, 30_000);
    progress.unref();
    const details = await fc.check(booksProperty(world, options.maxCommands), {
      numRuns: options.runs,
      seed: options.seed,
      ...(options.path === undefined ? {} : { path: options.path }),
    });
    clearInterval(progress);
    const seconds = (performance.now() - started) / 1000;

    const target =
      config.MONGODB_URI === undefined
        ? 'the embedded database (mongo-java-server)'
        : 'MongoDB at MONGODB_URI';
    console.log(`# The books' property\n`);
    console.log(
      `Target: ${target}. ${options.runs.toLocaleString('en')} runs of up to ${options.maxCommands} commands; ` +
        `seed ${details.seed}. Node ${process.version}.\n`,
    );
    console.log('| figure | value |');
    console.log('| --- | ---: |');
    for (const [name, value] of figures(world.stats, seconds)) console.log(`| ${name} | ${value} |`);
    if (details.failed) {
      console.log(`\nA property failed (figures above include the shrinking runs):\n`);
      console.log(fc.defaultReportMessage(details) ?? String(details.errorInstance));
      process.exitCode = 1;
    } else {
      console.log(`\nAll invariants held over ${details.numRuns.toLocaleString('en')} sequences.`);
    }
  } finally {
    await models.db.dropDatabase().catch(() => undefined);
    await models.db.close();
    await server?.stop();
  }
}

main().catch((error: unknown) => {
  // Bad options: the message and the usage. Anything else: the whole error, stack included.
  console.error(isCancelflowError(error) ? error.message : error);
  process.exitCode = 1;
});
