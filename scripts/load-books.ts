// Writes generated books (generators/books) into the database through the models, in batches: `insertMany`
// for the documents, `bulkWrite` for the customers' cancellation counts and the stock levels.
//
// Every document has a unique key, and a write that finds its key taken skips it, so a load interrupted part
// way is finished by loading the same set again. Stock levels follow the ledger once its movements are in: a
// load that wrote every movement of its set adds their sums to the levels (each level was its ledger's sum
// before, so it still is); a load that found some already there (it finishes an interrupted one) sums the
// ledger in the database instead. Each customer's cancellations are counted once, as closing a cancellation
// does. The set's last order is written last: when it is there, the whole set is.
//
// For a database no one else writes to while it loads (start-up seeding, benchmarks, tests, a fresh database):
// a stock level with a ledger movement in flight is refused rather than overwritten.
import { CancelflowError } from '../lib/errors';
import type { Model } from 'mongoose';
import type { Models } from '../models';
import { isDuplicateKey } from '../models/mongo-errors';
import { addWarehouse } from '../generators/demo-data';
import {
  BooksGenerator,
  emptyBooks,
  orderNumberOf,
  SKUS,
  type Books,
  type SalesOrderDocument,
  type StockLevelFigures,
  type StockMovementDocument,
  WAREHOUSES,
} from '../generators/books';

export type BooksCollection = keyof Books;
export type WriteCounts = Record<BooksCollection, { written: number; alreadyThere: number }>;

const DEFAULT_BATCH = 2000;

/** The write errors of an unordered insertMany, when every one of them is a duplicate key. */
function duplicatesOnly(error: unknown): number | undefined {
  const writeErrors = (error as { writeErrors?: unknown } | null)?.writeErrors;
  if (!Array.isArray(writeErrors) || writeErrors.length === 0) return undefined;
  return writeErrors.every(isDuplicateKey) ? writeErrors.length : undefined;
}

/** Inserts in batches, each unordered: one duplicate does not stop the rest, and only duplicates are forgiven. */
async function insertAll<T>(
  documents: readonly T[],
  batchSize: number,
  insert: (batch: T[]) => Promise<unknown>,
): Promise<{ written: number; alreadyThere: number }> {
  let alreadyThere = 0;
  for (let start = 0; start < documents.length; start += batchSize) {
    try {
      await insert(documents.slice(start, start + batchSize));
    } catch (error) {
      const duplicates = duplicatesOnly(error);
      if (duplicates === undefined) throw error;
      alreadyThere += duplicates;
    }
  }
  return { written: documents.length - alreadyThere, alreadyThere };
}

const UNORDERED_LEAN = { lean: true, ordered: false } as const;

/** The model each collection of generated books goes into, in the order they are written (sales orders last). */
const MODEL_OF = {
  products: 'Product',
  customers: 'Customer',
  stockMovements: 'StockMovement',
  purchaseOrders: 'PurchaseOrder',
  payments: 'Payment',
  refunds: 'Refund',
  vouchers: 'Voucher',
  shipments: 'Shipment',
  cancellations: 'Cancellation',
  salesOrders: 'SalesOrder',
} as const satisfies Record<BooksCollection, keyof Models>;

/**
 * Writes one batch of generated books, collection by collection in the order of `MODEL_OF` (sales orders last),
 * then counts the cancellations on their customers. Documents already there (an earlier, interrupted load of
 * the same set) are skipped. Stock levels are not written here: see `refreshStockLevels`.
 */
export async function writeBooks(
  models: Models,
  books: Books,
  batchSize = DEFAULT_BATCH,
): Promise<WriteCounts> {
  // Lean: the documents are whole (defaults included), and each model's insertMany hook still derives its
  // search fields. The customers' copies on the orders are provided, so no order reads its customer.
  const counts = {} as WriteCounts;
  for (const collection of Object.keys(MODEL_OF) as BooksCollection[]) {
    // Each collection's documents fit its own model; the table pairs them, so one call serves all ten.
    const model = models[MODEL_OF[collection]] as unknown as Pick<Model<unknown>, 'insertMany'>;
    const documents: readonly unknown[] = books[collection];
    counts[collection] = await insertAll(documents, batchSize, (batch) =>
      model.insertMany(batch, UNORDERED_LEAN),
    );
  }
  // Counted once per cancellation, guarded by its id like markOrderCancelled does: a repeat changes nothing.
  for (let start = 0; start < books.cancellations.length; start += batchSize) {
    await models.Customer.bulkWrite(
      books.cancellations.slice(start, start + batchSize).map((cancellation) => ({
        updateOne: {
          filter: {
            customerId: cancellation.customerId,
            cancellationIds: { $ne: cancellation.cancellationId },
          },
          update: { $push: { cancellationIds: cancellation.cancellationId }, $inc: { cancellationCount: 1 } },
        },
      })),
      { ordered: false },
    );
  }
  return counts;
}

export interface StockDelta extends StockLevelFigures {
  /** How many movements make up the change (a level's revision counts its movements). */
  movements: number;
}

/** What the movements add to each stock level, per SKU and warehouse. */
export function stockDeltas(movements: readonly StockMovementDocument[]): StockDelta[] {
  const deltas = new Map<string, StockDelta>();
  for (const movement of movements) {
    const place = `${movement.sku}\u0000${movement.warehouse}`;
    const delta = deltas.get(place) ?? {
      sku: movement.sku,
      warehouse: movement.warehouse,
      onHand: 0,
      reserved: 0,
      movements: 0,
    };
    delta.onHand += movement.onHandDelta;
    delta.reserved += movement.reservedDelta;
    delta.movements += 1;
    deltas.set(place, delta);
  }
  return [...deltas.values()];
}

/**
 * Adds movements just written to the ledger to their stock levels, creating the missing ones, under the
 * ledger's guard: nothing below zero, never more reserved than on hand (refused with `conflict`).
 */
export async function addToStockLevels(
  models: Models,
  deltas: readonly StockDelta[],
  batchSize = DEFAULT_BATCH,
): Promise<{ created: number; updated: number; unchanged: number }> {
  const existing = new Set(
    (
      await models.StockLevel.find(
        { sku: { $in: [...new Set(deltas.map((delta) => delta.sku))] } },
        { sku: 1, warehouse: 1 },
      ).lean()
    ).map((level) => `${level.sku}\u0000${level.warehouse}`),
  );
  const writes: Parameters<Models['StockLevel']['bulkWrite']>[0] = deltas.map((delta) => {
    const { sku, warehouse, onHand, reserved, movements } = delta;
    if (!existing.has(`${sku}\u0000${warehouse}`)) {
      return {
        insertOne: {
          document: { sku, warehouse, onHand, reserved, pendingMovements: [], revision: movements },
        },
      };
    }
    return {
      updateOne: {
        filter: {
          sku,
          warehouse,
          onHand: { $gte: Math.max(0, -onHand) },
          reserved: { $gte: Math.max(0, -reserved) },
          $expr: { $gte: [{ $add: ['$onHand', onHand] }, { $add: ['$reserved', reserved] }] },
        },
        update: { $inc: { onHand, reserved, revision: movements } },
      },
    };
  });
  await bulkWriteAll(models, writes, batchSize);
  const created = writes.filter((write) => 'insertOne' in write).length;
  return { created, updated: writes.length - created, unchanged: 0 };
}

/** Writes in batches; every update must find its level as its filter describes it. */
async function bulkWriteAll(
  models: Models,
  writes: Parameters<Models['StockLevel']['bulkWrite']>[0],
  batchSize: number,
): Promise<void> {
  for (let start = 0; start < writes.length; start += batchSize) {
    const batch = writes.slice(start, start + batchSize);
    const outcome = await models.StockLevel.bulkWrite(batch, { ordered: false }).catch((error: unknown) => {
      if (duplicatesOnly(error) === undefined) throw error;
      return undefined;
    });
    if (
      outcome === undefined ||
      outcome.matchedCount !== batch.filter((write) => 'updateOne' in write).length
    ) {
      throw new CancelflowError(
        'conflict',
        'stock levels changed while the loader wrote them, or would go below zero; load again',
        { field: 'sku' },
      );
    }
  }
}

/**
 * Sets the stock levels of the given SKUs to what their applied ledger movements add up to, creating the
 * missing ones. Each update applies only to the revision read; a level with a movement in flight (noted in
 * `pendingMovements`) is refused with `conflict`, since the ledger does not show that movement yet.
 */
export async function refreshStockLevels(
  models: Models,
  skus: readonly string[],
  batchSize = DEFAULT_BATCH,
): Promise<{ created: number; updated: number; unchanged: number }> {
  const sums = await models.StockMovement.aggregate<{
    _id: { sku: string; warehouse: string };
    onHand: number;
    reserved: number;
    movements: number;
  }>([
    { $match: { sku: { $in: [...skus] }, state: 'applied' } },
    {
      $group: {
        _id: { sku: '$sku', warehouse: '$warehouse' },
        onHand: { $sum: '$onHandDelta' },
        reserved: { $sum: '$reservedDelta' },
        movements: { $sum: 1 },
      },
    },
  ]);
  const place = (sku: string, warehouse: string) => `${sku}\u0000${warehouse}`;
  const levels = new Map(
    (await models.StockLevel.find({ sku: { $in: [...skus] } }).lean()).map((level) => [
      place(level.sku, level.warehouse),
      level,
    ]),
  );
  const result = { created: 0, updated: 0, unchanged: 0 };
  const writes: Parameters<Models['StockLevel']['bulkWrite']>[0] = [];
  for (const sum of sums) {
    const { sku, warehouse } = sum._id;
    const level = levels.get(place(sku, warehouse));
    if (!level) {
      result.created += 1;
      writes.push({
        insertOne: {
          document: {
            sku,
            warehouse,
            onHand: sum.onHand,
            reserved: sum.reserved,
            pendingMovements: [],
            revision: sum.movements,
          },
        },
      });
      continue;
    }
    if (level.pendingMovements.length > 0) {
      throw new CancelflowError(
        'conflict',
        `stock of ${sku} in ${warehouse} has movements in flight (${level.pendingMovements.join(', ')}); ` +
          'load again once they are applied',
        { field: 'sku', sku, warehouse },
      );
    }
    if (level.onHand === sum.onHand && level.reserved === sum.reserved) {
      result.unchanged += 1;
      continue;
    }
    result.updated += 1;
    writes.push({
      updateOne: {
        filter: { sku, warehouse, revision: level.revision, pendingMovements: { $size: 0 } },
        update: { $set: { onHand: sum.onHand, reserved: sum.reserved }, $inc: { revision: 1 } },
      },
    });
  }
  await bulkWriteAll(models, writes, batchSize);
  return result;
}

/** Per-batch deltas added up per place. */
function sumDeltas(deltas: readonly StockDelta[]): StockDelta[] {
  const sums = new Map<string, StockDelta>();
  for (const delta of deltas) {
    const place = `${delta.sku}\u0000${delta.warehouse}`;
    const sum = sums.get(place);
    if (!sum) sums.set(place, { ...delta });
    else {
      sum.onHand += delta.onHand;
      sum.reserved += delta.reserved;
      sum.movements += delta.movements;
    }
  }
  return [...sums.values()];
}

export interface LoadOptions {
  seed: number;
  orders: number;
  batchSize?: number;
  /** Told after each batch: how many of the orders are written. */
  onProgress?: (ordersWritten: number) => void;
}

export interface LoadReport {
  /** The whole set was already in the database: nothing was written. */
  alreadyLoaded: boolean;
  counts: WriteCounts;
  stockLevels: { created: number; updated: number; unchanged: number };
}

const noCounts = (): WriteCounts => {
  const books = emptyBooks();
  return Object.fromEntries(
    Object.keys(books).map((collection) => [collection, { written: 0, alreadyThere: 0 }]),
  ) as WriteCounts;
};

/**
 * Generates the set (`seed`, `orders`) and writes it, batch by batch, without holding it whole in memory.
 * Nothing is written when the set is already there; an interrupted load of it is finished. A database holding
 * orders generated from another seed is refused with `conflict`: their keys would collide.
 */
export async function loadBooks(models: Models, options: LoadOptions): Promise<LoadReport> {
  const { seed, orders } = options;
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  if (!Number.isInteger(orders) || orders < 1) {
    throw new CancelflowError('validation_failed', `orders: a whole number of at least 1, not ${orders}`, {
      field: 'orders',
    });
  }
  const first = new BooksGenerator(seed).next(1).salesOrders[0] as SalesOrderDocument;
  const stored = await models.SalesOrder.findOne(
    { orderNumber: first.orderNumber },
    { customerId: 1, totalMinor: 1 },
  ).lean();
  if (stored && (stored.customerId !== first.customerId || stored.totalMinor !== first.totalMinor)) {
    throw new CancelflowError(
      'conflict',
      `the database holds ${first.orderNumber} generated from another seed than ${seed}: load into another database`,
      { field: 'seed' },
    );
  }
  // The warehouses are the same at any size: written (once) before the orders that ship from them.
  for (const warehouse of WAREHOUSES) await addWarehouse(models, warehouse);
  const counts = noCounts();
  const stockLevels = { created: 0, updated: 0, unchanged: 0 };
  if (await models.SalesOrder.exists({ orderNumber: orderNumberOf(orders - 1) })) {
    return { alreadyLoaded: true, counts, stockLevels };
  }

  const generator = new BooksGenerator(seed);
  let last: SalesOrderDocument | undefined;
  const deltas: StockDelta[] = [];
  const add = (written: WriteCounts) => {
    for (const [collection, count] of Object.entries(written) as [
      BooksCollection,
      WriteCounts[BooksCollection],
    ][]) {
      counts[collection].written += count.written;
      counts[collection].alreadyThere += count.alreadyThere;
    }
  };
  while (generator.orderCount < orders) {
    const books = generator.next(Math.min(batchSize, orders - generator.orderCount));
    if (generator.orderCount === orders) last = books.salesOrders.pop();
    add(await writeBooks(models, books, batchSize));
    deltas.push(...stockDeltas(books.stockMovements));
    options.onProgress?.(generator.orderCount - (last ? 1 : 0));
  }
  Object.assign(
    stockLevels,
    counts.stockMovements.alreadyThere === 0
      ? await addToStockLevels(models, sumDeltas(deltas), batchSize)
      : await refreshStockLevels(models, SKUS, batchSize),
  );
  if (last) add(await writeBooks(models, { ...emptyBooks(), salesOrders: [last] }, batchSize));
  options.onProgress?.(orders);
  return { alreadyLoaded: false, counts, stockLevels };
}
