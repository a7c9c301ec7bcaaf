// `tsx scripts/generate.ts --orders 1000 --seed 7 [--mongodb-uri …]`: generates a shop's books from a seed
// (generators/books) and loads them into MongoDB (scripts/load-books.ts), or only counts them.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadConfig, mongoUri } from '../lib/config';
import { connectModels } from '../models';
import { BooksGenerator, type Books } from '../generators/books';
import { loadBooks, type LoadReport } from './load-books';
import { startMongoServer, type MongoServer } from './servers';

const usage = `usage: tsx scripts/generate.ts --orders N [--seed S] [--mongodb-uri URI | --embedded] [options]

Generates the books of a tea-ware shop from a seed (customers, products, stock and its ledger, orders in every
status, payments, refunds with vouchers, shipments, purchase orders) and loads them into MongoDB. The same
seed gives the same books; loading a set again changes nothing, and finishes an interrupted load.

  --orders N         orders to generate (required), a whole number from 1
  --seed S           seed of the data, a whole number from 0 to 4294967295 (default 1)
  --mongodb-uri URI  the MongoDB to load into (default: MONGODB_URI, else the embedded one npm start runs)
  --database NAME    database to load into (default: MONGODB_DATABASE, cancelflow)
  --embedded         load into a throwaway embedded MongoDB (in memory) started for the run, and time it
  --heap SIZE        Java heap of --embedded's server (default 6g: 100,000 orders do not fit in 4g)
  --batch N          documents per insertMany (default 2000)
  --dry-run          generate only, and print what would be written
  --help             this text`;

class UsageError extends Error {}

function wholeNumber(name: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < min || Number(text) > max) {
    throw new UsageError(
      `--${name} must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? '' : ` to ${max}`}, not "${text}"`,
    );
  }
  return Number(text);
}

function readOptions(args: string[]) {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        orders: { type: 'string' },
        seed: { type: 'string', default: '1' },
        'mongodb-uri': { type: 'string' },
        database: { type: 'string' },
        embedded: { type: 'boolean', default: false },
        heap: { type: 'string', default: '6g' },
        batch: { type: 'string', default: '2000' },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    // parseArgs refuses unknown options, positionals and missing values with a TypeError that says which.
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return undefined;
  if (values.orders === undefined) throw new UsageError('--orders is required');
  if (values.embedded && values['mongodb-uri'] !== undefined)
    throw new UsageError('--embedded and --mongodb-uri exclude each other');
  if (values['mongodb-uri'] !== undefined && !values['mongodb-uri'].startsWith('mongodb'))
    throw new UsageError(
      `--mongodb-uri must be a mongodb:// or mongodb+srv:// URI, not "${values['mongodb-uri']}"`,
    );
  if (!/^\d+[mg]$/.test(values.heap))
    throw new UsageError(`--heap must be a size such as 512m or 6g, not "${values.heap}"`);
  return {
    orders: wholeNumber('orders', values.orders, 1),
    seed: wholeNumber('seed', values.seed, 0, 0xffffffff),
    uri: values['mongodb-uri'],
    database: values.database,
    embedded: values.embedded,
    heap: values.heap,
    batch: wholeNumber('batch', values.batch, 1),
    dryRun: values['dry-run'],
  };
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

function dryRun(options: { orders: number; seed: number; batch: number }): void {
  const started = performance.now();
  const generator = new BooksGenerator(options.seed);
  const totals = new Map<string, number>();
  const statuses = new Map<string, number>();
  while (generator.orderCount < options.orders) {
    const books = generator.next(Math.min(options.batch, options.orders - generator.orderCount));
    for (const [collection, documents] of Object.entries(books) as [keyof Books, unknown[]][])
      totals.set(collection, (totals.get(collection) ?? 0) + documents.length);
    for (const order of books.salesOrders) statuses.set(order.status, (statuses.get(order.status) ?? 0) + 1);
  }
  totals.set('stockLevels', generator.stockLevels().length);
  console.log(
    `Generated ${options.orders.toLocaleString('en')} orders from seed ${options.seed} in ${seconds(started)} (nothing written):`,
  );
  for (const [collection, count] of totals)
    console.log(`  ${collection.padEnd(15)} ${count.toLocaleString('en').padStart(10)}`);
  console.log(`Orders by status: ${[...statuses].map(([status, count]) => `${status} ${count}`).join(', ')}`);
}

function report(result: LoadReport, target: string, elapsed: string): void {
  if (result.alreadyLoaded) {
    console.log(`${target} already holds this set: nothing written (${elapsed}).`);
    return;
  }
  console.log(`Generated and loaded into ${target} in ${elapsed}:`);
  for (const [collection, count] of Object.entries(result.counts)) {
    const skipped =
      count.alreadyThere > 0 ? ` (${count.alreadyThere.toLocaleString('en')} already there)` : '';
    console.log(`  ${collection.padEnd(15)} ${count.written.toLocaleString('en').padStart(10)}${skipped}`);
  }
  const levels = result.stockLevels;
  console.log(
    `  ${'stockLevels'.padEnd(15)} ${(levels.created + levels.updated).toLocaleString('en').padStart(10)} (each its ledger's sum)`,
  );
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2));
  if (!options) {
    console.log(usage);
    return;
  }
  if (options.dryRun) return dryRun(options);

  const config = loadConfig();
  let server: MongoServer | undefined;
  if (options.embedded) {
    process.stderr.write(`starting a throwaway embedded MongoDB (${options.heap} heap)…\n`);
    server = await startMongoServer({ port: 0, maxHeap: options.heap });
  }
  const uri = server?.uri ?? options.uri ?? mongoUri(config);
  const database = options.database ?? config.MONGODB_DATABASE;
  try {
    const models = await connectModels(uri, database);
    try {
      const started = performance.now();
      const result = await loadBooks(models, {
        seed: options.seed,
        orders: options.orders,
        batchSize: options.batch,
        onProgress: (written) =>
          process.stderr.write(
            `\r  ${written.toLocaleString('en')} of ${options.orders.toLocaleString('en')} orders written (${seconds(started)})`,
          ),
      });
      process.stderr.write('\n');
      report(result, server ? 'the embedded MongoDB' : `database ${database}`, seconds(started));
    } finally {
      await models.db.close();
    }
  } finally {
    await server?.stop();
  }
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`${error.message}\n\n${usage}`);
    process.exitCode = 2;
    return;
  }
  console.error(`generate: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
