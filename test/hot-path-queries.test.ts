// Issue #13: every query on a cancellation's path is served by `_id` or a unique key. The embedded database
// (mongo-java-server) keeps no secondary indexes: it answers a query from an index only when the filter names
// exactly the fields of one of its unique indexes (`_id` included), each by value or, for a single-field index,
// by `$in` (AbstractUniqueIndex.canHandle); any other filter, one more field included, reads every document of
// the collection. So a guard such as `history.key: {$ne: k}` next to the unique key makes the query a scan.
// This test watches every operation mongoose sends while one auto-approved cancellation of a paid order runs
// through the API, the workflow, its activities and the notice deliveries, and fails on any that would scan.
import type { Models } from '../models';
import type { CancellationView } from '../contracts/cancellation.contract';
import { addCustomer, addPeople, addProduct, placePaidOrder, receiveStock } from '../generators/demo-data';
import { eventually } from './support/eventually';
import { startTestStack, type TestStack } from './support/stack';

interface Operation {
  collection: string;
  method: string;
  filter: Record<string, unknown> | undefined;
}

/**
 * Methods whose first argument is the filter. Inserts are answered by key (the unique indexes checked on
 * insert are lookups); `estimatedDocumentCount` reads the collection's size.
 */
const FILTERED = new Set([
  'find',
  'findOne',
  'updateOne',
  'updateMany',
  'replaceOne',
  'deleteOne',
  'deleteMany',
  'findOneAndUpdate',
  'findOneAndDelete',
  'findOneAndReplace',
  'countDocuments',
]);
/** Methods that read the whole collection on the embedded server, whatever they ask. */
const ALWAYS_SCAN = new Set(['aggregate', 'distinct', 'count', 'mapReduce']);
const NO_FILTER = new Set([
  'insertOne',
  'insertMany',
  'estimatedDocumentCount',
  'createIndex',
  'createIndexes',
]);

/**
 * Operations on the path allowed to scan, each with the reason. Keep it short: an entry here is a query that
 * slows every cancellation as its collection grows.
 */
const ALLOWED: { collection: string; method: string; fields: string[]; why: string }[] = [
  // Small collections, bounded by the organisation rather than by the books.
  { collection: 'people', method: 'find', fields: ['department', 'active'], why: 'staff, a few hundred' },
  // Each step asks which webhook subscriptions want its event (activities/cancellation-events.ts).
  {
    collection: 'webhooksubscriptions',
    method: 'find',
    fields: ['active'],
    why: 'outside systems subscribed by admins, a handful',
  },
];

/** The field sets of each collection's unique indexes (`_id` always), as its schema declares them. */
function uniqueKeys(models: Models): Map<string, { fields: string[]; sparse: boolean }[]> {
  const byCollection = new Map<string, { fields: string[]; sparse: boolean }[]>();
  for (const model of Object.values(models.db.models)) {
    const keys = [{ fields: ['_id'], sparse: false }];
    for (const [fields, options] of model.schema.indexes()) {
      const opts = options as { unique?: boolean; sparse?: boolean; partialFilterExpression?: unknown };
      if (opts.unique && !opts.partialFilterExpression) {
        keys.push({ fields: Object.keys(fields), sparse: opts.sparse === true });
      }
    }
    byCollection.set(model.collection.collectionName, keys);
  }
  return byCollection;
}

const isPlainValue = (value: unknown) =>
  value === null ||
  ['string', 'number', 'boolean', 'bigint'].includes(typeof value) ||
  value instanceof Date ||
  (typeof value === 'object' && '_bsontype' in value);

/** Whether mongo-java-server answers this filter from a unique index (mirrors AbstractUniqueIndex.canHandle). */
function servedByKey(
  filter: Record<string, unknown>,
  keys: { fields: string[]; sparse: boolean }[],
): boolean {
  const named = Object.keys(filter);
  return keys.some(({ fields, sparse }) => {
    if (named.length !== fields.length || !fields.every((field) => named.includes(field))) return false;
    if (sparse && fields.every((field) => filter[field] == null)) return false;
    return fields.every((field) => {
      const value = filter[field];
      if (isPlainValue(value)) return true;
      if (fields.length > 1) return false; // compound: by value only
      return (
        typeof value === 'object' &&
        value !== null &&
        Object.keys(value).length === 1 &&
        Array.isArray((value as { $in?: unknown }).$in)
      );
    });
  });
}

function describe(operation: Operation): string {
  return `${operation.collection}.${operation.method}(${JSON.stringify(operation.filter)})`;
}

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack('hot-path-queries');
  await addPeople(stack.models);
  await addCustomer(stack.models, {
    customerId: 'C-1',
    name: '王芳',
    email: 'wang.fang@example.cn',
    phone: '+8613800138000',
    language: 'zh-CN',
  });
  await addProduct(stack.models, { sku: 'TEA-1', name: '龙井茶', unitPriceMinor: 16800, currency: 'CNY' });
  await receiveStock(stack.models, 'TEA-1', 10);
  await placePaidOrder(stack.models, {
    orderNumber: 'SO-HOT-1',
    customerId: 'C-1',
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'TEA-1', quantity: 2, unitPriceMinor: 16800 }],
  });
});

afterAll(async () => {
  await stack.stop();
});

test('an auto-approved cancellation reads and writes the books only by _id or a unique key', async () => {
  const clerk = await stack.as('clerk-1');
  const operations: Operation[] = [];
  const observe = (event: { collectionName: string; method: string; params?: unknown[] }) => {
    const params = event.params ?? [];
    if (event.method === 'bulkWrite') {
      for (const op of (params[0] ?? []) as Record<string, { filter?: Record<string, unknown> }>[]) {
        const [kind, body] = Object.entries(op)[0] ?? [];
        if (kind && kind !== 'insertOne') {
          operations.push({
            collection: event.collectionName,
            method: `bulkWrite.${kind}`,
            filter: body?.filter,
          });
        }
      }
      return;
    }
    const filter = event.method === 'distinct' ? params[1] : params[0];
    operations.push({
      collection: event.collectionName,
      method: event.method,
      filter: (filter ?? undefined) as Record<string, unknown> | undefined,
    });
  };
  stack.models.db.on('operation-start', observe);
  try {
    const started = await clerk.createCancellation({
      orderNumber: 'SO-HOT-1',
      reasonCode: 'customer_changed_mind',
      confirm: ['awaiting_shipment'],
    });
    const handle = stack.temporal.workflow.getHandle(started.workflowId);
    expect(await handle.result()).toMatchObject({ state: 'completed' } satisfies Partial<CancellationView>);
    // The notices go out in delivery workflows of their own: they are on the path too.
    await eventually(() => expect(stack.mail.messages.length).toBeGreaterThanOrEqual(2));
    await eventually(() => expect(stack.sms.messages).toHaveLength(2));
  } finally {
    stack.models.db.off('operation-start', observe);
  }

  const keys = uniqueKeys(stack.models);
  const scans = operations.filter((operation) => {
    if (NO_FILTER.has(operation.method)) return false;
    const allowed = ALLOWED.some(
      (entry) =>
        entry.collection === operation.collection &&
        entry.method === operation.method &&
        JSON.stringify(Object.keys(operation.filter ?? {}).sort()) ===
          JSON.stringify([...entry.fields].sort()),
    );
    if (allowed) return false;
    if (ALWAYS_SCAN.has(operation.method)) return true;
    if (!FILTERED.has(operation.method) && !operation.method.startsWith('bulkWrite.')) return true;
    return !servedByKey(operation.filter ?? {}, keys.get(operation.collection) ?? []);
  });
  if (process.env.HOT_PATH_REPORT) {
    console.log(`${operations.length} operations:\n${operations.map(describe).join('\n')}`);
  }
  expect(operations.length).toBeGreaterThan(0);
  expect(scans.map(describe)).toEqual([]);
});
