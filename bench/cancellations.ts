// Cancellations against the engine's limit and under the loads issue #13 names: `npm run bench [-- options]`.
//
// Scenarios, each on every stack measured, all reported in one Markdown and one JSON file with the commit
// measured (bench/results/<date>-<commit>.{md,json}, or --out):
// - throughput (bench/throughput.ts): auto-approved cancellations per second at each --concurrency against a
//   no-op workflow of 8 activities (throughputRatio), and history events against a hand-written workflow
//   (historyRatio);
// - hot SKU (bench/hot-sku.ts): N cancellations at once of orders all on one SKU, against N on distinct SKUs;
//   the hot SKU's stock checked exact;
// - many waiting (bench/waiting.ts): N cancellations that need an approval started at once, the worker's
//   memory while they wait, then all approved: the time to drain;
// - growth (bench/growth.ts): list and lookup times at 1k, 10k and 100k cancellations.
//
// The stack (bench/stack.ts) is started here as `npm start` runs it, for each of --stacks (the embedded MongoDB
// on file storage by default, as `npm start`; or in memory), on free ports and a temporary data directory: the
// embedded MongoDB, Temporal's dev server (SQLite file), the simulators and the API in this process, and the
// worker in a process of its own through the very helper `npm start` uses; generated books loaded. Or, with
// --api and --temporal, a stack already running is measured as it is.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { isCancelflowError } from '../lib/errors';
import { loadConfig, mongoUri } from '../lib/config';
import { javaAvailable, projectRoot } from '../scripts/servers';
import { commitMeasured, positiveInteger, progress, UsageError } from './common';
import { growthMarkdown, runGrowth, type GrowthEntry } from './growth';
import { hotSkuMarkdown, runHotSku, type HotSkuEntry } from './hot-sku';
import { attachStack, STACK_NAMES, STACKS, startStack, type Stack, type StackKind } from './stack';
import { NOOP_STEPS, runThroughput, throughputMarkdown, throughputTable, type Entry } from './throughput';
import { runWaiting, waitingMarkdown, type WaitingEntry } from './waiting';

const SCENARIOS = ['throughput', 'hot-sku', 'waiting', 'growth'] as const;
type Scenario = (typeof SCENARIOS)[number];

const usage = `usage: npm run bench -- [scenarios] [options]

Scenarios (without any of these: throughput alone, as before; each one given runs, all in one results file):
  --scenarios LIST  throughput, hot-sku, waiting, growth, or all, comma-separated, at their default sizes
  --hot-sku N       N cancellations at once of orders all on one SKU, against N on distinct SKUs; the SKU's
                    stock checked exact afterwards (default N 500)
  --waiting N       N cancellations needing an approval started at once; the worker's memory while they wait;
                    then all approved through the API as an approver: the time to drain (default N 10000)
  --waiting-concurrency  requests in flight at once while asking and approving (default 50)
  --growth SIZES    list and lookup times at these numbers of cancellations, ascending (default 1000,10000,100000);
                    the records are inserted directly into the database (the output says so)
  --growth-iterations  timed requests per kind and size (default 20)

Throughput:
  --concurrency     cancellations in flight, one level after another (default 20,50)
  --count           cancellations per level (default 100); a level also stops taking new ones after --duration
  --duration        seconds after which a level takes no new cancellations (default 900)
  --baseline-count  no-op workflows per baseline measurement (default: the larger of --count and 4 x concurrency)
  --history-sample  cancellations per level whose histories are counted (default 5)

The stack:
  --stacks          file, memory or file,memory: the embedded database's storage (default file, as npm start)
  --memory          the same as --stacks memory
  --orders          generated orders loaded before measuring (default 100000; e.g. 2000 for a quick run)
  --heap            the embedded database's Java heap (default 512m on file storage, as npm start; 6g in memory)
  --seed            the generated books' seed (default 1, as npm start)
  --api URL         measure a stack already running (e.g. npm start's, http://127.0.0.1:3000) instead of starting
                    one; needs --temporal. The bench writes into its books (orders, customers, cancellations,
                    two API keys it revokes at the end; growth's inserted records are removed again), and the
                    stack's own settings hold (its rate limit: refused requests are repeated and counted).
  --temporal ADDR   that stack's Temporal (e.g. 127.0.0.1:7233)
  --mongodb URI     that stack's database (default: MONGODB_URI, else the embedded one at MONGODB_PORT)
  --task-queue Q    that stack's task queue (default: TEMPORAL_TASK_QUEUE), to find its worker's pid
  --timeout         seconds one cancellation (or no-op workflow, or request) may take (default 600)
  --out DIR         where the results go (default bench/results)
  --keep            keep the temporary data directory (default: removed)
  --profile-worker DIR  the worker writes V8 CPU profiles (.cpuprofile, one a thread) into DIR when it stops:
                    where its CPU goes (open them in Chrome DevTools' Performance panel)
  --help            this text

Quick runs: --orders 2000 --concurrency 5 --count 20; --hot-sku 50; --waiting 200; --growth 1000,10000.`;

const OPTIONS = {
  scenarios: { type: 'string' },
  'hot-sku': { type: 'string' },
  waiting: { type: 'string' },
  'waiting-concurrency': { type: 'string', default: '50' },
  growth: { type: 'string' },
  'growth-iterations': { type: 'string', default: '20' },
  orders: { type: 'string', default: '100000' },
  concurrency: { type: 'string', default: '20,50' },
  count: { type: 'string', default: '100' },
  duration: { type: 'string', default: '900' },
  'baseline-count': { type: 'string' },
  stacks: { type: 'string' },
  memory: { type: 'boolean', default: false },
  'history-sample': { type: 'string', default: '5' },
  timeout: { type: 'string', default: '600' },
  heap: { type: 'string' },
  seed: { type: 'string', default: '1' },
  api: { type: 'string' },
  temporal: { type: 'string' },
  mongodb: { type: 'string' },
  'task-queue': { type: 'string' },
  out: { type: 'string' },
  keep: { type: 'boolean', default: false },
  'profile-worker': { type: 'string' },
  help: { type: 'boolean', default: false },
} as const;

type Options = ReturnType<typeof readOptions>;

function wholeNumber(name: string, text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) > 0xffffffff)
    throw new UsageError(`--${name} must be a whole number from 0 to 4294967295, not "${text}"`);
  return Number(text);
}

const list = (name: string, text: string) =>
  text.split(',').map((item) => positiveInteger(name, item.trim()));

function readOptions() {
  let parsed;
  try {
    parsed = parseArgs({ options: OPTIONS });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  // Which scenarios: those named by --scenarios, and those given a size; throughput alone when none is.
  const named = (values.scenarios ?? '')
    .split(',')
    .map((scenario) => scenario.trim())
    .filter(Boolean)
    .flatMap((scenario) => (scenario === 'all' ? [...SCENARIOS] : [scenario]));
  for (const scenario of named)
    if (!(SCENARIOS as readonly string[]).includes(scenario))
      throw new UsageError(`--scenarios takes ${SCENARIOS.join(', ')} or all, not "${scenario}"`);
  const sized: Scenario[] = [
    ...(values['hot-sku'] !== undefined ? (['hot-sku'] as const) : []),
    ...(values.waiting !== undefined ? (['waiting'] as const) : []),
    ...(values.growth !== undefined ? (['growth'] as const) : []),
  ];
  const chosen = new Set([...(named as Scenario[]), ...sized]);
  const scenarios = chosen.size
    ? SCENARIOS.filter((scenario) => chosen.has(scenario))
    : (['throughput'] as Scenario[]);

  if (values.memory && values.stacks !== undefined)
    throw new UsageError('--memory and --stacks exclude each other');
  const stacks = (values.memory ? 'memory' : (values.stacks ?? 'file'))
    .split(',')
    .map((stack) => stack.trim());
  for (const stack of stacks)
    if (!(STACKS as readonly string[]).includes(stack))
      throw new UsageError(`--stacks takes ${STACKS.join(', ')}, not "${stack}"`);
  if (values.heap !== undefined && !/^\d+[mg]$/.test(values.heap))
    throw new UsageError(`--heap must be a size such as 512m or 6g, not "${values.heap}"`);
  if ((values.api === undefined) !== (values.temporal === undefined))
    throw new UsageError('--api and --temporal go together: the API and the Temporal of the running stack');
  if (values.api === undefined && (values.mongodb !== undefined || values['task-queue'] !== undefined))
    throw new UsageError(
      '--mongodb and --task-queue describe a running stack: give --api and --temporal too',
    );
  if (values.api !== undefined && (values.stacks !== undefined || values.memory))
    throw new UsageError('--api measures the stack that runs; --stacks and --memory choose one to start');
  if (values.api !== undefined && !/^https?:\/\/[^/]+/.test(values.api))
    throw new UsageError(`--api must be the API's URL, e.g. http://127.0.0.1:3000, not "${values.api}"`);
  const growth = list('growth', values.growth ?? '1000,10000,100000');
  const out = values.out ?? join(projectRoot, 'bench', 'results');
  return {
    scenarios,
    hotSku: positiveInteger('hot-sku', values['hot-sku'] ?? '500'),
    waiting: positiveInteger('waiting', values.waiting ?? '10000'),
    waitingConcurrency: positiveInteger('waiting-concurrency', values['waiting-concurrency']),
    growth: [...growth].sort((a, b) => a - b),
    growthIterations: positiveInteger('growth-iterations', values['growth-iterations']),
    orders: positiveInteger('orders', values.orders),
    concurrency: list('concurrency', values.concurrency),
    count: positiveInteger('count', values.count),
    durationMs: positiveInteger('duration', values.duration) * 1000,
    baselineCount: values['baseline-count']
      ? positiveInteger('baseline-count', values['baseline-count'])
      : undefined,
    stacks: [...new Set(stacks)] as StackKind[],
    historySample: positiveInteger('history-sample', values['history-sample']),
    timeoutMs: positiveInteger('timeout', values.timeout) * 1000,
    heap: values.heap,
    seed: wholeNumber('seed', values.seed),
    running:
      values.api !== undefined && values.temporal !== undefined
        ? {
            apiUrl: values.api,
            temporalAddress: values.temporal,
            mongodbUri: values.mongodb,
            taskQueue: values['task-queue'],
          }
        : undefined,
    out: isAbsolute(out) ? out : resolve(out),
    keep: values.keep,
    profileWorker: values['profile-worker'] === undefined ? undefined : resolve(values['profile-worker']),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Reporting

interface Results {
  entries: Entry[];
  hotSku: HotSkuEntry[];
  waiting: WaitingEntry[];
  growth: GrowthEntry[];
  incidents: string[];
}

function writeResults(results: Results, options: Options, startedAt: Date): string {
  const { commit, dirty } = commitMeasured();
  // The date with the time (UTC) the run started, so two runs of a day on one commit keep both results.
  const date = startedAt
    .toISOString()
    .slice(0, 16)
    .replace(/[T:]/g, (mark) => (mark === 'T' ? '-' : ''));
  mkdirSync(options.out, { recursive: true });
  const base = join(options.out, `${date}-${commit}${dirty ? '-dirty' : ''}`);
  const machine = { cpus: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version };
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
  const json = {
    benchmark: 'cancellations',
    issue: 13,
    commit,
    dirty,
    startedAt: startedAt.toISOString(),
    machine,
    command,
    scenarios: options.scenarios,
    options,
    baseline: {
      throughput: `${NOOP_STEPS} sequential no-op activities in one workflow (bench/baseline.workflows.ts), same dev server, same concurrency, measured before and after; throughputRatio divides by their mean. Its worker runs in a process of its own, as the cancellation worker does`,
      history:
        'handWrittenCancellationWorkflow: one no-op activity per run of a business activity in the sampled cancellations (activities other than recordCancellationState, recordCancellationSteps and startDeliveryWorkflows), then one delivery activity per message they recorded (outbox entry), all in the same workflow',
    },
    /** The throughput scenario: one entry per stack and concurrency, with throughputRatio and historyRatio. */
    entries: results.entries,
    hotSku: results.hotSku,
    waiting: results.waiting,
    growth: results.growth,
    incidents: results.incidents,
  };
  writeFileSync(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
  const stacks = options.running
    ? `the stack already running at ${options.running.apiUrl} (Temporal ${options.running.temporalAddress})`
    : options.stacks.map((stack) => STACK_NAMES[stack]).join('; ');
  const markdown = [
    `# Cancellations: throughput, history, hot SKU, many waiting, growth (issue #13)`,
    '',
    `Commit ${commit}${dirty ? ' (with uncommitted changes in the tree)' : ''}, ${startedAt.toISOString()}; ${machine.cpus} cores, ${machine.memoryGb} GB, Node ${machine.node}. ` +
      `\`${command}\`: ${options.scenarios.join(', ')} on ${stacks}. The worker runs in a process of its own, started as \`npm start\` starts it.`,
    '',
    ...(options.scenarios.includes('throughput')
      ? throughputMarkdown(results.entries, options.historySample)
      : []),
    ...hotSkuMarkdown(results.hotSku),
    ...waitingMarkdown(results.waiting),
    ...growthMarkdown(results.growth),
    ...(results.incidents.length
      ? ['## Incidents', '', ...results.incidents.map((incident) => `- ${incident}`), '']
      : []),
  ].join('\n');
  writeFileSync(`${base}.md`, markdown);
  return base;
}

// ---------------------------------------------------------------------------------------------------------

// Each scenario's results are written as soon as it ends, and a scenario that fails is reported as an incident
// while the next one still runs: a full-size run takes hours, and one scenario's failure (or a stop by hand)
// must not lose what the others measured.
async function measure(stack: Stack, options: Options, results: Results, startedAt: Date): Promise<void> {
  for (const scenario of options.scenarios) {
    progress(`\n## ${scenario} on ${stack.name}`);
    try {
      await measureScenario(scenario, stack, options, results);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      progress(`  ${scenario} stopped: ${reason}`);
      results.incidents.push(`${scenario} on ${stack.name} stopped: ${reason}`);
    }
    progress(`  results so far: ${writeResults(results, options, startedAt)}.md`);
  }
}

async function measureScenario(
  scenario: Scenario,
  stack: Stack,
  options: Options,
  results: Results,
): Promise<void> {
  switch (scenario) {
    case 'throughput':
      results.entries.push(...(await runThroughput(stack, options)));
      break;
    case 'hot-sku':
      results.hotSku.push(await runHotSku(stack, { count: options.hotSku, timeoutMs: options.timeoutMs }));
      break;
    case 'waiting':
      results.waiting.push(
        await runWaiting(stack, {
          count: options.waiting,
          concurrency: options.waitingConcurrency,
          timeoutMs: options.timeoutMs,
        }),
      );
      break;
    case 'growth':
      results.growth.push(
        await runGrowth(stack, {
          sizes: options.growth,
          iterations: options.growthIterations,
          timeoutMs: options.timeoutMs,
        }),
      );
      break;
  }
}

async function main(): Promise<void> {
  const options = readOptions();
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const startedAt = new Date();
  const results: Results = { entries: [], hotSku: [], waiting: [], growth: [], incidents: [] };
  const baseline = options.scenarios.includes('throughput');
  if (options.running) {
    // The running stack's settings, as `npm start` read them: its database, namespace and task queue.
    const config = loadConfig();
    const dataDir = mkdtempSync(join(tmpdir(), 'cancelflow-bench-running-'));
    progress(`\n# Stack: ${STACK_NAMES.running} at ${options.running.apiUrl}`);
    const stack = await attachStack({
      apiUrl: options.running.apiUrl,
      temporalAddress: options.running.temporalAddress,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: options.running.taskQueue ?? config.TEMPORAL_TASK_QUEUE,
      mongodbUri: options.running.mongodbUri ?? mongoUri(config),
      database: config.MONGODB_DATABASE,
      baseline,
      dataDir,
    });
    try {
      await measure(stack, options, results, startedAt);
    } finally {
      progress('• disconnecting…');
      results.incidents.push(...stack.incidents);
      await stack.stop();
      if (options.keep) progress(`  logs kept in ${dataDir}`);
      else rmSync(dataDir, { recursive: true, force: true });
    }
  } else {
    if (!javaAvailable()) throw new Error('the embedded database needs Java 17+');
    for (const kind of options.stacks) {
      const dataDir = mkdtempSync(join(tmpdir(), `cancelflow-bench-${kind}-`));
      progress(`\n# Stack: ${STACK_NAMES[kind]} (data in ${dataDir})`);
      const stack = await startStack(kind, {
        orders: options.orders,
        seed: options.seed,
        heap: options.heap,
        baseline,
        dataDir,
        workerProfileDir: options.profileWorker,
      });
      try {
        await measure(stack, options, results, startedAt);
      } finally {
        progress('• stopping the stack…');
        results.incidents.push(...stack.incidents);
        await stack.stop();
        if (options.keep) progress(`  data kept in ${dataDir}`);
        else rmSync(dataDir, { recursive: true, force: true });
      }
    }
  }
  const base = writeResults(results, options, startedAt);
  // A level where no cancellation completed measured nothing; an inexact stock is a defect: say so by the exit
  // code too.
  if (
    results.entries.some((entry) => entry.cancellations.completed === 0) ||
    results.hotSku.some((entry) => !entry.stock.exact || entry.hot.completed === 0) ||
    results.waiting.some((entry) => entry.drain.unfinished > 0 || entry.drain.ended === 0) ||
    results.incidents.length > 0
  )
    process.exitCode = 1;
  if (results.entries.length) console.log(`\n${throughputTable(results.entries)}\n`);
  for (const section of [
    hotSkuMarkdown(results.hotSku),
    waitingMarkdown(results.waiting),
    growthMarkdown(results.growth),
  ])
    if (section.length) console.log(section.join('\n'));
  console.log(`Written: ${base}.md and ${base}.json`);
}

main()
  .then(() => process.exit(process.exitCode ?? 0))
  .catch((error: unknown) => {
    console.error(isCancelflowError(error) ? error.message : error);
    if (error instanceof UsageError) console.error(usage);
    process.exit(1);
  });
