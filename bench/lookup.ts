// The order lookup benchmark (R13): `npm run bench:lookup [-- --sizes 10000,100000 --iterations 20]`.
//
// Fills a database with generated orders (generators/books) and times each kind of search through
// `searchOrders`, side by side on the indexed orders collection and on an unindexed copy of it (same documents,
// only the _id index), at each size in turn, so the ratio between the two and the growth from one size to the
// next come from one run on one machine: a bigger size adds orders to the smaller one's, and the generator's
// first N orders are the same whatever the size. The embedded database by default (100,000 orders); a real
// MongoDB through MONGODB_URI (1,000,000 orders).
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { OrderSearchQuery } from '../client/contract';
import { loadConfig } from '../lib/config';
import { containsHan, normalizePhone, pinyinInitialsOf, pinyinOf } from '../lib/text-normalize';
import { connectModels, type Models } from '../models';
import { searchOrders, type OrderSearchModels } from '../models/order-search';
import { salesOrderSchema } from '../models/sales-order.model';
import {
  BooksGenerator,
  FIRST_ORDER_AT,
  ORDER_INTERVAL_MS,
  orderNumberOf,
  pick,
  seededRandom,
  SKUS,
  type CustomerDocument,
  type Random,
} from '../generators/books';
import { startMongoServer, type MongoServer } from '../scripts/servers';

const WARM_UP = 3;
const DAY_MS = 86_400_000;

const usage = `usage: tsx bench/lookup.ts [--sizes 10000,100000] [--iterations 20] [--seed 7]
  --sizes       order counts to measure at, ascending (default 10000,100000; 10000,100000,1000000 with MONGODB_URI)
  --iterations  timed queries per kind of search and collection (default 20)
  --seed        seed of the generated data and queries (default 7); the customer base grows with the orders
  --batch       orders per insertMany (default 2000)
  --limit       page size of each search (default 20)
  --heap        the embedded database's Java heap (default 3g: at 1g it runs out near 45,000 orders per collection)`;

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`--${name} must be a positive integer\n${usage}`);
  return value;
}

function readOptions(realMongo: boolean) {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string' },
      iterations: { type: 'string', default: '20' },
      seed: { type: 'string', default: '7' },
      batch: { type: 'string', default: '2000' },
      limit: { type: 'string', default: '20' },
      heap: { type: 'string', default: '3g' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const sizes = (values.sizes ?? (realMongo ? '10000,100000,1000000' : '10000,100000'))
    .split(',')
    .map((size) => positiveInteger('sizes', size.trim()))
    .sort((a, b) => a - b);
  return {
    sizes,
    iterations: positiveInteger('iterations', values.iterations),
    seed: positiveInteger('seed', values.seed),
    batch: positiveInteger('batch', values.batch),
    limit: Math.min(100, positiveInteger('limit', values.limit)),
    heap: values.heap,
  };
}

type QueryMaker = (random: Random) => OrderSearchQuery;

/** The phone's national number (no country code), as a clerk would type it. */
function nationalNumber(phone: string): string {
  const normalized = normalizePhone(phone) ?? '';
  if (normalized.startsWith('+86')) return normalized.slice(3);
  if (normalized.startsWith('+1')) return normalized.slice(2);
  return normalized.replace(/^\+/, '');
}

/** The kinds of search a clerk makes (R1), each drawing its values from the data at the current size. */
function searchKinds(customers: readonly CustomerDocument[], size: number): [string, QueryMaker][] {
  const chinese = customers.filter((customer) => containsHan(customer.name));
  const english = customers.filter((customer) => !containsHan(customer.name));
  const phones = customers.flatMap((customer) => (customer.phone ? [nationalNumber(customer.phone)] : []));
  const emails = customers.flatMap((customer) => (customer.email ? [customer.email] : []));
  const anyOrder = (random: Random) => orderNumberOf(Math.floor(random() * size));
  const filledDays = Math.max(1, Math.floor((size * ORDER_INTERVAL_MS) / DAY_MS));
  const day = (random: Random, offset = 0) =>
    new Date(FIRST_ORDER_AT + (Math.floor(random() * filledDays) + offset) * DAY_MS)
      .toISOString()
      .slice(0, 10);
  const pinyinPrefix = (name: string) => {
    // The surname's pinyin and the first letter of the given name: 王芳 → wangf.
    const surnameLength = name.length > 3 ? 2 : 1;
    return `${pinyinOf(name.slice(0, surnameLength)) ?? ''}${(pinyinOf(name.slice(surnameLength)) ?? '').slice(0, 1)}`;
  };
  return [
    ['order number, exact', (random) => ({ orderNumber: anyOrder(random).toLowerCase() })],
    ['order number, prefix', (random) => ({ orderNumberPrefix: anyOrder(random).slice(0, -2) })],
    ['name, Chinese prefix (王芳)', (random) => ({ customer: pick(random, chinese).name.slice(0, 2) })],
    ['name, Latin prefix (emi)', (random) => ({ customer: pick(random, english).name.slice(0, 3) })],
    ['name, pinyin prefix (wangf)', (random) => ({ customer: pinyinPrefix(pick(random, chinese).name) })],
    ['name, initials (wf)', (random) => ({ customer: pinyinInitialsOf(pick(random, chinese).name) ?? 'w' })],
    ['phone, national number', (random) => ({ phone: pick(random, phones) })],
    ['email, prefix', (random) => ({ email: pick(random, emails).split('@')[0] ?? '' })],
    ['SKU', (random) => ({ sku: pick(random, SKUS) })],
    [
      'date range, one day',
      (random) => {
        const date = day(random);
        return { createdFrom: date, createdTo: date };
      },
    ],
    ['status', (random) => ({ status: pick(random, ['picking', 'draft', 'partially_cancelled'] as const) })],
    [
      'combined: pinyin + statuses + 30 days',
      (random) => {
        const from = day(random, -30);
        const to = new Date(Date.parse(from) + 30 * DAY_MS).toISOString().slice(0, 10);
        return {
          customer: pinyinPrefix(pick(random, chinese).name),
          status: ['completed', 'delivered'],
          createdFrom: from,
          createdTo: to,
        };
      },
    ],
    ['latest orders (no criteria)', () => ({})],
  ];
}

interface Timing {
  indexed: number[];
  unindexed: number[];
  matches: number[];
}

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const ms = (value: number) =>
  value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);

async function timed(models: OrderSearchModels, query: OrderSearchQuery) {
  const started = performance.now();
  const page = await searchOrders(models, query);
  return { elapsed: performance.now() - started, numbers: page.items.map((item) => item.orderNumber) };
}

async function measure(
  indexed: OrderSearchModels,
  unindexed: OrderSearchModels,
  makeQuery: QueryMaker,
  random: Random,
  options: { iterations: number; limit: number },
): Promise<Timing> {
  const timing: Timing = { indexed: [], unindexed: [], matches: [] };
  for (let round = 0; round < WARM_UP + options.iterations; round += 1) {
    const query = { ...makeQuery(random), limit: options.limit };
    // Alternate which copy goes first, so neither always profits from the other's warm caches.
    const [first, second] = round % 2 === 0 ? [indexed, unindexed] : [unindexed, indexed];
    const a = await timed(first, query);
    const b = await timed(second, query);
    if (a.numbers.join() !== b.numbers.join())
      throw new Error(`indexed and unindexed answers differ for ${JSON.stringify(query)}`);
    if (round < WARM_UP) continue;
    const [onIndexed, onUnindexed] = round % 2 === 0 ? [a, b] : [b, a];
    timing.indexed.push(onIndexed.elapsed);
    timing.unindexed.push(onUnindexed.elapsed);
    if (timing.matches.length < 5) {
      const page = await searchOrders(indexed, { ...query, limit: 1, count: true });
      timing.matches.push(page.total ?? 0);
    }
  }
  return timing;
}

/**
 * Adds the generator's next orders up to `to`, with the customers who joined meanwhile. Only what the search
 * reads is written: the rest of the books (ledger, payments, shipments, …) would only slow the fill.
 */
async function fill(
  models: Models,
  copy: OrderSearchModels['SalesOrder'],
  generator: BooksGenerator,
  customers: CustomerDocument[],
  options: { batch: number },
  to: number,
): Promise<void> {
  const from = generator.orderCount;
  const started = performance.now();
  while (generator.orderCount < to) {
    const books = generator.next(Math.min(options.batch, to - generator.orderCount));
    customers.push(...books.customers);
    if (books.customers.length > 0) await models.Customer.insertMany(books.customers, { lean: true });
    // Lean: the generator writes whole documents, with their customer's copy, and the model's insertMany hook
    // still derives the other search fields. The very same documents then go to the copy.
    await models.SalesOrder.insertMany(books.salesOrders, { lean: true });
    await copy.collection.insertMany(books.salesOrders);
    process.stderr.write(`\r  inserted ${generator.orderCount.toLocaleString('en')} orders`);
  }
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(
    `\r  inserted ${(to - from).toLocaleString('en')} orders into both collections in ${seconds.toFixed(1)} s\n`,
  );
}

async function main(): Promise<void> {
  const config = loadConfig();
  const realMongo = config.MONGODB_URI !== undefined;
  const options = readOptions(realMongo);
  let server: MongoServer | undefined;
  if (!realMongo) {
    process.stderr.write(`starting the embedded database (mongo-java-server, ${options.heap} heap)…\n`);
    server = await startMongoServer({ port: 0, maxHeap: options.heap });
  }
  const uri = config.MONGODB_URI ?? server?.uri ?? '';
  const models = await connectModels(uri, `bench_lookup_${Date.now()}`);
  // The same schema and hooks on another collection, whose indexes are never built (autoIndex is off).
  const copy = models.db.model('SalesOrderUnindexed', salesOrderSchema, 'salesorders_unindexed');
  const indexed: OrderSearchModels = { SalesOrder: models.SalesOrder };
  const unindexed: OrderSearchModels = { SalesOrder: copy };

  try {
    const target = realMongo ? 'MongoDB at MONGODB_URI' : 'the embedded database (mongo-java-server)';
    console.log(`# Order lookup benchmark\n`);
    console.log(
      `Target: ${target}. Sizes: ${options.sizes.map((size) => size.toLocaleString('en')).join(', ')} orders; ` +
        `customers growing with the orders (100, and one more every ten orders; 70% Chinese, 30% English ` +
        'names); ' +
        `${options.iterations} timed queries per search and collection after ${WARM_UP} warm-up ones; ` +
        `pages of ${options.limit}, newest first; seed ${options.seed}. Node ${process.version}.`,
    );
    if (!realMongo) {
      console.log(
        '\nNote: the embedded database accepts non-unique secondary indexes but scans, so indexed/unindexed ' +
          'ratios near 1 are expected there; only the unique indexes (order number) are used. Point ' +
          'MONGODB_URI at a real MongoDB for index figures.',
      );
    }

    const generator = new BooksGenerator(options.seed);
    const customers: CustomerDocument[] = [];
    const results = new Map<string, Map<number, Timing>>();
    for (const size of options.sizes) {
      process.stderr.write(`filling to ${size.toLocaleString('en')} orders…\n`);
      await fill(models, copy, generator, customers, options, size);
      if (size === options.sizes[0]) {
        const names = async (model: typeof copy) =>
          (await model.collection.indexes()).map((index) => JSON.stringify(index.key)).join(', ');
        console.log(`\nIndexes of the orders collection: ${await names(models.SalesOrder)}`);
        console.log(`Indexes of its unindexed copy: ${await names(copy)}`);
      }

      console.log(`\n## ${size.toLocaleString('en')} orders\n`);
      console.log(
        '| search | matches (median) | indexed p50 ms | p99 ms | unindexed p50 ms | p99 ms | ratio p50 | ratio p99 |',
      );
      console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
      const kinds = searchKinds(customers, size);
      for (const [index, [kind, makeQuery]] of kinds.entries()) {
        process.stderr.write(`  ${kind}…\n`);
        const timing = await measure(
          indexed,
          unindexed,
          makeQuery,
          seededRandom(options.seed * 31 + index),
          options,
        );
        results.set(kind, (results.get(kind) ?? new Map<number, Timing>()).set(size, timing));
        const [ip50, ip99, up50, up99] = [
          percentile(timing.indexed, 50),
          percentile(timing.indexed, 99),
          percentile(timing.unindexed, 50),
          percentile(timing.unindexed, 99),
        ];
        console.log(
          `| ${kind} | ${percentile(timing.matches, 50).toLocaleString('en')} | ${ms(ip50)} | ${ms(ip99)} | ` +
            `${ms(up50)} | ${ms(up99)} | ${(up50 / ip50).toFixed(2)} | ${(up99 / ip99).toFixed(2)} |`,
        );
      }
    }
    console.log(
      '\nratio = unindexed time / indexed time (above 1: the index helps). ' +
        `p99 of ${options.iterations} samples is close to their maximum.`,
    );

    if (options.sizes.length > 1) {
      const [smallest, largest] = [options.sizes[0] ?? 0, options.sizes[options.sizes.length - 1] ?? 0];
      console.log(
        `\n## Growth of p50 from ${smallest.toLocaleString('en')} to ${largest.toLocaleString('en')} orders\n`,
      );
      const sizeColumns = options.sizes.map((size) => size.toLocaleString('en'));
      console.log(
        `| search | ${sizeColumns.map((size) => `indexed ${size}`).join(' | ')} | growth | ` +
          `${sizeColumns.map((size) => `unindexed ${size}`).join(' | ')} | growth |`,
      );
      console.log(`| --- |${' ---: |'.repeat(2 * options.sizes.length + 2)}`);
      for (const [kind, bySize] of results) {
        const p50s = (side: 'indexed' | 'unindexed') =>
          options.sizes.map((size) => percentile(bySize.get(size)?.[side] ?? [], 50));
        const growth = (values: number[]) => ((values[values.length - 1] ?? 0) / (values[0] ?? 1)).toFixed(1);
        const [i, u] = [p50s('indexed'), p50s('unindexed')];
        console.log(
          `| ${kind} | ${i.map(ms).join(' | ')} | ×${growth(i)} | ${u.map(ms).join(' | ')} | ×${growth(u)} |`,
        );
      }
      console.log(
        `\ngrowth = p50 at ${largest.toLocaleString('en')} / p50 at ${smallest.toLocaleString('en')} ` +
          `(×${(largest / smallest).toFixed(0)} the orders).`,
      );
    }
  } finally {
    await models.db.dropDatabase().catch(() => undefined);
    await models.db.close();
    await server?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
