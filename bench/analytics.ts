// The analytics benchmark (R22, R23, R29): `npm run bench:analytics [-- --count 100000 --iterations 5]`.
//
// Loads `count` cancellation records straight into the collections in bulk (generators/cancellation-records.ts:
// the records as the flow leaves them, with the stock ledger's movements and the purchase orders reduced),
// then times every figure of GET /v1/analytics/… through the API in-process (fastify's inject: routing, access,
// validation, the aggregation, serialisation), as JSON and as CSV, over the whole year and over its last 30
// days, and the console's page, which computes them all; before them, once, the page's first read after
// loading, which builds the daily rollups the figures then read (models/analytics-rollups.ts). On the embedded
// database (mongo-java-server), and also on MongoDB when MONGODB_URI is set. Results go to bench/results/<date>-<commit>-analytics.{md,json}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { apiSettingsFrom, buildApp } from '../api/app';
import { ANALYTICS_FIGURES, type AnalyticsFigure } from '../contracts/analytics.contract';
import { addPeople } from '../generators/demo-data';
import {
  CancellationRecordsGenerator,
  RECORDS_END,
  RECORDS_SPAN_MS,
} from '../generators/cancellation-records';
import { loadConfig, type Config } from '../lib/config';
import { createLogger } from '../lib/logger';
import { loadPolicyFile } from '../lib/policy';
import { connectModels, type Models } from '../models';
import { issueApiKey } from '../models/credentials';
import { projectRoot, startMongoServer, type MongoServer } from '../scripts/servers';
import { commitMeasured, elapsed, percentile, positiveInteger, progress, UsageError } from './common';

const DAY_MS = 86_400_000;
const WARM_UP = 1;

const usage = `usage: npm run bench:analytics -- [--count 100000] [--iterations 5] [--seed 7]
  --count       cancellation records to load (default 100000)
  --iterations  timed calls per figure, format and window, after ${WARM_UP} warm-up (default 5)
  --seed        seed of the generated records (default 7)
  --batch       records per insertMany (default 5000)
  --heap        the embedded database's Java heap (default 3g)
  --out DIR     where the results go (default bench/results)`;

function readOptions() {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '100000' },
      iterations: { type: 'string', default: '5' },
      seed: { type: 'string', default: '7' },
      batch: { type: 'string', default: '5000' },
      heap: { type: 'string', default: '3g' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  if (!/^\d+[mg]$/.test(values.heap))
    throw new UsageError(`--heap must be a size such as 3g, not "${values.heap}"`);
  const out = values.out ?? join(projectRoot, 'bench', 'results');
  return {
    count: positiveInteger('count', values.count),
    iterations: positiveInteger('iterations', values.iterations),
    seed: positiveInteger('seed', values.seed),
    batch: positiveInteger('batch', values.batch),
    heap: values.heap,
    out: isAbsolute(out) ? out : resolve(out),
  };
}
type Options = ReturnType<typeof readOptions>;

/** A window of the generated year, as the API takes it. */
const WINDOWS = [
  {
    name: 'year',
    from: new Date(RECORDS_END.getTime() - RECORDS_SPAN_MS).toISOString().slice(0, 10),
    to: new Date(RECORDS_END.getTime() - DAY_MS).toISOString().slice(0, 10),
  },
  {
    name: 'last 30 days',
    from: new Date(RECORDS_END.getTime() - 30 * DAY_MS).toISOString().slice(0, 10),
    to: new Date(RECORDS_END.getTime() - DAY_MS).toISOString().slice(0, 10),
  },
] as const;

/** What each figure is asked beside the window: the over-time figure by week, the long lists' first 50 rows. */
const EXTRA: Partial<Record<AnalyticsFigure, string>> = {
  'over-time': '&granularity=week',
  products: '&limit=50',
  customers: '&limit=50',
  'repeat-cancellers': '&limit=50',
};

interface Measurement {
  target: string;
  window: string;
  what: string;
  format: 'json' | 'csv' | 'html';
  rows: number;
  bytes: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** The status of a call that failed (a 503 when the database did not answer in time); the run carries on. */
  failedStatus?: number;
}

async function load(
  models: Models,
  options: Options,
): Promise<{ seconds: number; counts: Record<string, number> }> {
  const started = performance.now();
  const generator = new CancellationRecordsGenerator(options.seed, options.count);
  await addPeople(models);
  await models.Product.collection.insertMany(generator.products());
  const counts = { cancellations: 0, stockMovements: 0, purchaseOrders: 0 };
  while (generator.count < options.count) {
    const batch = generator.next(options.batch);
    // Straight to the collections: the records as the flow leaves them, without mongoose's per-document work.
    await models.Cancellation.collection.insertMany(batch.cancellations, { ordered: false });
    if (batch.stockMovements.length)
      await models.StockMovement.collection.insertMany(batch.stockMovements, { ordered: false });
    if (batch.purchaseOrders.length)
      await models.PurchaseOrder.collection.insertMany(batch.purchaseOrders, { ordered: false });
    counts.cancellations += batch.cancellations.length;
    counts.stockMovements += batch.stockMovements.length;
    counts.purchaseOrders += batch.purchaseOrders.length;
    process.stderr.write(`\r  loaded ${generator.count.toLocaleString('en')} cancellations`);
  }
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(
    `\r  loaded ${options.count.toLocaleString('en')} cancellations in ${seconds.toFixed(1)} s\n`,
  );
  return { seconds, counts };
}

async function measureTarget(
  target: string,
  uri: string,
  config: Config,
  options: Options,
): Promise<{
  measurements: Measurement[];
  loadSeconds: number;
  counts: Record<string, number>;
  indexes: Record<string, string[]>;
}> {
  const models = await connectModels(uri, `bench_analytics_${Date.now()}`);
  const logger = createLogger({ LOG_LEVEL: 'silent' }, 'bench-analytics');
  // The analytics never call Temporal: a client that would connect on first use, and never does.
  const temporal = new Client({ connection: Connection.lazy({ address: config.TEMPORAL_ADDRESS }) });
  const app = buildApp({
    models,
    temporal,
    taskQueue: 'bench-analytics',
    policy: await loadPolicyFile(config.CANCELLATION_POLICY_FILE),
    logger,
    ...apiSettingsFrom(config),
    rateLimitPerMinute: 1_000_000,
  });
  await app.ready();
  try {
    progress(`${target}: loading ${options.count.toLocaleString('en')} cancellation records…`);
    const { seconds: loadSeconds, counts } = await load(models, options);
    const indexes: Record<string, string[]> = {};
    for (const model of [models.Cancellation, models.StockMovement, models.PurchaseOrder]) {
      indexes[model.collection.collectionName] = (await model.collection.indexes()).map((index) =>
        JSON.stringify(index.key),
      );
    }
    const { token } = await issueApiKey(models, {
      name: 'bench analytics',
      personId: 'finance-1',
      scopes: ['finance_clerk'],
      createdBy: 'bench',
    });
    const headers = { authorization: `Bearer ${token}` };

    const time = async (window: string, what: string, format: Measurement['format'], url: string) => {
      const samples: number[] = [];
      let rows = 0;
      let bytes = 0;
      for (let round = 0; round < WARM_UP + options.iterations; round += 1) {
        const started = performance.now();
        const response = await app.inject({ method: 'GET', url, headers });
        const ms = performance.now() - started;
        if (response.statusCode !== 200) {
          // Recorded as measured (how long until it failed) rather than ending the run and losing the rest.
          progress(`  ${window}, ${what} (${format}): ${response.statusCode} after ${ms.toFixed(0)} ms`);
          return {
            target,
            window,
            what,
            format,
            rows: 0,
            bytes: 0,
            p50Ms: ms,
            p95Ms: ms,
            maxMs: ms,
            failedStatus: response.statusCode,
          } satisfies Measurement;
        }
        if (round < WARM_UP) continue;
        samples.push(ms);
        bytes = response.rawPayload.length;
        rows =
          format === 'json'
            ? response.json<{ rows: unknown[] }>().rows.length
            : format === 'csv'
              ? response.body.split('\r\n').length - 2
              : (response.body.match(/<tr>/g) ?? []).length;
      }
      const measurement: Measurement = {
        target,
        window,
        what,
        format,
        rows,
        bytes,
        p50Ms: percentile(samples, 50),
        p95Ms: percentile(samples, 95),
        maxMs: Math.max(...samples),
      };
      progress(`  ${window}, ${what} (${format}): p50 ${measurement.p50Ms.toFixed(0)} ms, ${rows} rows`);
      return measurement;
    };

    const measurements: Measurement[] = [];
    // The first read after loading computes and stores the rollups of every day (models/analytics-rollups.ts):
    // timed once on its own, as the page asks for it, before the figures are timed on what it stored.
    {
      const [year] = WINDOWS;
      const url = `/console/analytics?from=${year.from}&to=${year.to}&granularity=week`;
      const started = performance.now();
      const response = await app.inject({ method: 'GET', url, headers });
      const took = performance.now() - started;
      progress(`  first read (builds the rollups): ${response.statusCode} after ${took.toFixed(0)} ms`);
      measurements.push({
        target,
        window: year.name,
        what: 'console page, first read after loading (builds every day’s rollups)',
        format: 'html',
        rows: (response.body.match(/<tr>/g) ?? []).length,
        bytes: response.rawPayload.length,
        p50Ms: took,
        p95Ms: took,
        maxMs: took,
        ...(response.statusCode === 200 ? {} : { failedStatus: response.statusCode }),
      });
    }
    for (const window of WINDOWS) {
      const query = `from=${window.from}&to=${window.to}`;
      for (const figure of ANALYTICS_FIGURES) {
        const url = `/v1/analytics/${figure}?${query}${EXTRA[figure] ?? ''}`;
        measurements.push(await time(window.name, figure, 'json', url));
        measurements.push(await time(window.name, figure, 'csv', `${url}&format=csv`));
      }
      measurements.push(
        await time(
          window.name,
          'console page (every figure)',
          'html',
          `/console/analytics?${query}&granularity=week`,
        ),
      );
    }
    return { measurements, loadSeconds, counts, indexes };
  } finally {
    await app.close();
    await temporal.connection.close().catch(() => undefined);
    await models.db.dropDatabase().catch(() => undefined);
    await models.db.close();
  }
}

const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));

function markdown(
  results: {
    target: string;
    loadSeconds: number;
    counts: Record<string, number>;
    indexes: Record<string, string[]>;
    measurements: Measurement[];
  }[],
  options: Options,
  header: string,
): string {
  const lines = [
    `# Analytics: every figure at ${options.count.toLocaleString('en')} cancellations`,
    '',
    header,
    '',
  ];
  for (const result of results) {
    lines.push(`## ${result.target}`, '');
    lines.push(
      `Loaded ${result.counts.cancellations?.toLocaleString('en')} cancellations, ` +
        `${result.counts.stockMovements?.toLocaleString('en')} stock movements and ` +
        `${result.counts.purchaseOrders?.toLocaleString('en')} purchase orders in ${result.loadSeconds.toFixed(1)} s.`,
      '',
      'Indexes:',
      '',
      ...Object.entries(result.indexes).map(([collection, keys]) => `- ${collection}: ${keys.join(', ')}`),
      '',
    );
    for (const window of WINDOWS) {
      lines.push(`### ${window.name} (${window.from} to ${window.to})`, '');
      lines.push('| figure | JSON p50 ms | p95 ms | max ms | CSV p50 ms | p95 ms | rows |');
      lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
      const here = result.measurements.filter((measurement) => measurement.window === window.name);
      for (const what of [...new Set(here.map((measurement) => measurement.what))]) {
        const json = here.find((measurement) => measurement.what === what && measurement.format !== 'csv');
        const csv = here.find((measurement) => measurement.what === what && measurement.format === 'csv');
        if (!json) continue;
        if (json.failedStatus !== undefined) {
          lines.push(
            `| ${what}${json.format === 'html' ? ' (HTML)' : ''} | ${json.failedStatus} after ${ms(json.p50Ms)} | – | – | ` +
              `${csv ? (csv.failedStatus === undefined ? ms(csv.p50Ms) : `${csv.failedStatus} after ${ms(csv.p50Ms)}`) : '–'} | – | – |`,
          );
          continue;
        }
        lines.push(
          `| ${what}${json.format === 'html' ? ' (HTML)' : ''} | ${ms(json.p50Ms)} | ${ms(json.p95Ms)} | ${ms(json.maxMs)} | ` +
            `${csv ? ms(csv.p50Ms) : '–'} | ${csv ? ms(csv.p95Ms) : '–'} | ${json.rows.toLocaleString('en')} |`,
        );
      }
      lines.push('');
    }
  }
  if (results.length === 1)
    lines.push('MONGODB_URI was not set: the embedded database only, no measurement on MongoDB.', '');
  lines.push(
    `Each figure is called ${options.iterations} times after ${WARM_UP} warm-up, one call at a time, in-process ` +
      '(fastify inject: access, validation, aggregation, serialisation); p95 of a few samples is near their maximum.',
    '',
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const options = readOptions();
  const config = loadConfig();
  const startedAt = new Date();
  const targets: { name: string; uri: () => Promise<{ uri: string; stop?: () => Promise<void> }> }[] = [
    {
      name: 'the embedded database (mongo-java-server)',
      uri: async () => {
        progress(`starting the embedded database (mongo-java-server, ${options.heap} heap)…`);
        const server: MongoServer = await startMongoServer({ port: 0, maxHeap: options.heap });
        return { uri: server.uri, stop: () => server.stop() };
      },
    },
    ...(config.MONGODB_URI
      ? [{ name: 'MongoDB at MONGODB_URI', uri: () => Promise.resolve({ uri: config.MONGODB_URI ?? '' }) }]
      : []),
  ];
  const results = [];
  const began = performance.now();
  for (const target of targets) {
    const { uri, stop } = await target.uri();
    try {
      results.push({ target: target.name, ...(await measureTarget(target.name, uri, config, options)) });
    } finally {
      await stop?.();
    }
  }

  const { commit, dirty } = commitMeasured();
  const machine = { cpus: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version };
  const command = `npm run bench:analytics -- ${process.argv.slice(2).join(' ')}`.trim();
  const header =
    `Commit ${commit}${dirty ? ' (with uncommitted changes in the tree)' : ''}, ${startedAt.toISOString()}; ` +
    `${machine.cpus} cores, ${machine.memoryGb} GB, Node ${machine.node}. \`${command}\`, seed ${options.seed}; ` +
    `${elapsed(began)} in all.`;
  const date = startedAt
    .toISOString()
    .slice(0, 16)
    .replace(/[T:]/g, (mark) => (mark === 'T' ? '-' : ''));
  mkdirSync(options.out, { recursive: true });
  const base = join(options.out, `${date}-${commit}${dirty ? '-dirty' : ''}-analytics`);
  writeFileSync(
    `${base}.json`,
    `${JSON.stringify({ benchmark: 'analytics', issue: 14, commit, dirty, startedAt: startedAt.toISOString(), machine, command, options, results }, null, 2)}\n`,
  );
  const text = markdown(results, options, header);
  writeFileSync(`${base}.md`, text);
  console.log(text);
  progress(`results: ${base}.md and .json`);
}

main().catch((error: unknown) => {
  console.error(error instanceof UsageError ? `${error.message}\n${usage}` : error);
  process.exitCode = 1;
});
