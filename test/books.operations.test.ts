// The books' operations against the real database: stock (release, return, correction by hand), purchase
// orders reduced for cancelled sales lines, refunds, and the message centre. Each is shown to change the
// books once per key, never to drive a figure below zero, to hold under many concurrent calls, and to refuse
// bad input by naming the field while changing nothing.
import { randomUUID } from 'node:crypto';
import { CancelflowError } from '../lib/errors';
import { connectModels, type Models } from '../models';
import {
  listMessages,
  markAllMessagesRead,
  markMessageRead,
  postMessage,
  unreadCount,
  type PostMessageInput,
} from '../models/message-centre';
import { linkToOrder } from '../models/order-links';
import type { PurchaseLine, PurchaseOrderStatus } from '../models/purchase-order.model';
import {
  recordSupplierShipment,
  reducePurchaseOrdersForCancelledLines,
  type ReducePurchaseOrdersInput,
} from '../models/purchasing';
import { completeRefund, reserveRefund } from '../models/refund-ledger';
import { applyStockMovement, stockFromLedger, type StockMovementRequest } from '../models/stock-ledger';
import {
  correctStockByHand,
  releaseReservedStock,
  returnShippedStock,
  type CorrectStockByHandInput,
  type ReleaseReservedStockInput,
  type ReturnShippedStockInput,
} from '../models/stock-operations';
import { testEnvironment } from './support/environment';

const WH = 'WH-SH-01';
let models: Models;

beforeAll(async () => {
  models = await connectModels(testEnvironment().mongoUri, `books_ops_${randomUUID().slice(0, 8)}`);
});

afterAll(async () => {
  await models.db.dropDatabase();
  await models.db.close();
});

test('every index a model declares exists in the database once connected, unique ones unique', async () => {
  for (const model of Object.values(models.db.models)) {
    const existing = (await model.listIndexes()) as { key: Record<string, number>; unique?: boolean }[];
    for (const [fields, options] of model.schema.indexes()) {
      const found = existing.find((index) => JSON.stringify(index.key) === JSON.stringify(fields));
      expect({ model: model.modelName, fields, unique: found?.unique === true }).toEqual({
        model: model.modelName,
        fields,
        unique: options.unique === true,
      });
      expect(found).toBeDefined();
    }
  }
});

// --- helpers ---------------------------------------------------------------------------------------------

async function addProduct(sku: string): Promise<void> {
  await models.Product.create({ sku, name: `商品 ${sku}`, unitPriceMinor: 1000, currency: 'CNY' });
}

function movement(
  key: string,
  sku: string,
  type: StockMovementRequest['type'],
  onHandDelta: number,
  reservedDelta: number,
): StockMovementRequest {
  return {
    idempotencyKey: key,
    type,
    sku,
    warehouse: WH,
    onHandDelta,
    reservedDelta,
    document: { kind: 'test', id: key },
    actor: 'test',
  };
}

/** A product with `onHand` units in stock and `reserved` of them reserved, one reservation per order line. */
async function stocked(sku: string, onHand: number, reservations: number[] = []): Promise<void> {
  await addProduct(sku);
  await applyStockMovement(models, movement(`${sku}:opening`, sku, 'adjust', onHand, 0));
  for (const [index, quantity] of reservations.entries()) {
    await applyStockMovement(models, movement(`${sku}:reserve:${index}`, sku, 'reserve', 0, quantity));
  }
}

async function level(sku: string, warehouse = WH) {
  return models.StockLevel.findOne({ sku, warehouse }).lean().orFail();
}

/** The level equals the ledger's sums, nothing is negative or over-reserved, and nothing is left in flight. */
async function expectLevelMatchesLedger(sku: string, warehouse = WH): Promise<void> {
  const current = await level(sku, warehouse);
  expect({ onHand: current.onHand, reserved: current.reserved }).toEqual(
    await stockFromLedger(models, sku, warehouse),
  );
  expect(current.reserved).toBeGreaterThanOrEqual(0);
  expect(current.onHand).toBeGreaterThanOrEqual(current.reserved);
  expect(current.pendingMovements).toEqual([]);
  expect(await models.StockMovement.countDocuments({ sku, warehouse, state: 'pending' })).toBe(0);
}

/** Everything the stock operations write, to show that a refused request wrote nothing. */
async function stockBooks() {
  const [levels, movements, shipments] = await Promise.all([
    models.StockLevel.find({}, { _id: 0, sku: 1, warehouse: 1, onHand: 1, reserved: 1, revision: 1 })
      .sort({ sku: 1, warehouse: 1 })
      .lean(),
    models.StockMovement.find({}, { _id: 0, idempotencyKey: 1, state: 1 }).sort({ idempotencyKey: 1 }).lean(),
    models.Shipment.find({}, { _id: 0, shipmentId: 1, lines: 1, revision: 1, returns: 1 })
      .sort({ shipmentId: 1 })
      .lean(),
  ]);
  return { levels, movements, shipments };
}

async function refusal(promise: Promise<unknown>): Promise<CancelflowError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(CancelflowError);
  return error as CancelflowError;
}

// --- stock -----------------------------------------------------------------------------------------------

describe('releasing reserved stock', () => {
  const release = (overrides: Partial<ReleaseReservedStockInput> = {}): ReleaseReservedStockInput => ({
    idempotencyKey: 'cancel-1:release',
    document: { kind: 'sales_order', id: 'SO-1' },
    actor: 'cancelflow',
    reason: 'cancellation cancel-1',
    lines: [
      { lineId: 'L1', sku: 'REL-A', warehouse: WH, quantity: 4 },
      { lineId: 'L2', sku: 'REL-B', warehouse: WH, quantity: 2 },
    ],
    ...overrides,
  });

  beforeAll(async () => {
    await stocked('REL-A', 10, [4]);
    await stocked('REL-B', 10, [3]);
  });

  test('gives reserved units back to available once, however often it is repeated with its key', async () => {
    const first = await releaseReservedStock(models, release());
    expect(first.map((line) => line.result)).toEqual(['applied', 'applied']);
    expect(await level('REL-A')).toMatchObject({ onHand: 10, reserved: 0 });
    expect(await level('REL-B')).toMatchObject({ onHand: 10, reserved: 1 });
    const after = await stockBooks();

    const again = await releaseReservedStock(models, release());
    expect(again.map((line) => line.result)).toEqual(['already_applied', 'already_applied']);
    expect(await stockBooks()).toEqual(after);
    const releases = await models.StockMovement.find({
      type: 'release',
      sku: { $in: ['REL-A', 'REL-B'] },
    }).lean();
    expect(releases).toHaveLength(2);
    expect(releases.find((entry) => entry.sku === 'REL-A')).toMatchObject({
      idempotencyKey: 'cancel-1:release:L1',
      reservedDelta: -4,
      onHandDelta: 0,
      state: 'applied',
      document: { kind: 'sales_order', id: 'SO-1', lineId: 'L1' },
      actor: 'cancelflow',
    });
    await expectLevelMatchesLedger('REL-A');
    await expectLevelMatchesLedger('REL-B');
  });

  test('refuses to release more than is reserved, naming the line, and releases nothing', async () => {
    const before = await stockBooks();
    const error = await refusal(
      releaseReservedStock(
        models,
        release({
          idempotencyKey: 'cancel-2:release',
          lines: [
            { lineId: 'L1', sku: 'REL-B', warehouse: WH, quantity: 1 },
            { lineId: 'L2', sku: 'REL-B', warehouse: WH, quantity: 1 },
          ],
        }),
      ),
    );
    expect(error).toMatchObject({ code: 'insufficient_stock', details: { field: 'lines[1].quantity' } });
    expect(await stockBooks()).toEqual(before);
    expect((await level('REL-B')).reserved).toBe(1);
  });
});

describe('returning shipped stock', () => {
  const back = (overrides: Partial<ReturnShippedStockInput> = {}): ReturnShippedStockInput => ({
    idempotencyKey: 'return-1',
    shipmentId: 'SH-1',
    warehouse: WH,
    actor: 'warehouse:li',
    reason: 'parcel recalled',
    lines: [{ lineId: 'L1', sku: 'RET-A', quantity: 2 }],
    ...overrides,
  });

  /** Ships `quantity` reserved units of `sku` in a new shipment with one line L1. */
  async function shipped(shipmentId: string, sku: string, quantity: number): Promise<void> {
    await stocked(sku, 10, [quantity]);
    await applyStockMovement(models, movement(`${shipmentId}:ship`, sku, 'ship', -quantity, -quantity));
    await models.Shipment.create({
      shipmentId,
      orderNumber: `SO-${shipmentId}`,
      warehouse: WH,
      carrier: 'SF',
      trackingNumber: `SF${shipmentId}`,
      status: 'recalled',
      lines: [{ lineId: 'L1', sku, quantity }],
    });
  }

  beforeAll(async () => {
    await shipped('SH-1', 'RET-A', 5);
    await shipped('SH-2', 'RET-B', 4);
    await shipped('SH-3', 'RET-C', 3);
  });

  test('takes units back on hand once per key, and never more than were shipped', async () => {
    expect(await level('RET-A')).toMatchObject({ onHand: 5, reserved: 0 });
    expect((await returnShippedStock(models, back())).map((line) => line.result)).toEqual(['applied']);
    expect(await level('RET-A')).toMatchObject({ onHand: 7, reserved: 0 });
    const after = await stockBooks();
    expect((await returnShippedStock(models, back()))[0]?.result).toBe('already_applied');
    expect(await stockBooks()).toEqual(after);

    await returnShippedStock(
      models,
      back({ idempotencyKey: 'return-2', lines: [{ lineId: 'L1', sku: 'RET-A', quantity: 3 }] }),
    );
    expect(await level('RET-A')).toMatchObject({ onHand: 10, reserved: 0 });
    const full = await stockBooks();
    const error = await refusal(returnShippedStock(models, back({ idempotencyKey: 'return-3' })));
    expect(error).toMatchObject({ code: 'validation_failed', details: { field: 'lines[0].quantity' } });
    expect(await stockBooks()).toEqual(full);

    const returns = await models.StockMovement.find({ sku: 'RET-A', type: 'return' }).lean();
    expect(returns.map((entry) => entry.onHandDelta).sort()).toEqual([2, 3]);
    expect(returns[0]).toMatchObject({
      reservedDelta: 0,
      document: { kind: 'shipment', id: 'SH-1', lineId: 'L1' },
    });
    expect(await models.Shipment.findOne({ shipmentId: 'SH-1' }).lean()).toMatchObject({
      lines: [{ lineId: 'L1', quantity: 5, returnedQuantity: 5 }],
    });
    await expectLevelMatchesLedger('RET-A');
  });

  test('parallel returns of one shipment never take back more than was shipped', async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, index) =>
        returnShippedStock(
          models,
          back({
            idempotencyKey: `sh2-return-${index}`,
            shipmentId: 'SH-2',
            lines: [{ lineId: 'L1', sku: 'RET-B', quantity: 1 }],
          }),
        ),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(4);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'validation_failed' });
    }
    expect(await level('RET-B')).toMatchObject({ onHand: 10, reserved: 0 });
    expect(await models.Shipment.findOne({ shipmentId: 'SH-2' }).lean()).toMatchObject({
      lines: [{ quantity: 4, returnedQuantity: 4 }],
    });
    await expectLevelMatchesLedger('RET-B');
  });

  test('a return noted on the shipment whose movement a crash cut off is finished, once, by its retry', async () => {
    // The first attempt noted the return and died before the ledger movement.
    await models.Shipment.updateOne(
      { shipmentId: 'SH-3' },
      {
        $set: { 'lines.0.returnedQuantity': 2 },
        $inc: { revision: 1 },
        $push: {
          returns: {
            key: 'sh3-return',
            at: new Date(),
            warehouse: WH,
            actor: 'warehouse:li',
            lines: [{ lineId: 'L1', sku: 'RET-C', quantity: 2 }],
          },
        },
      },
    );
    const retry = back({
      idempotencyKey: 'sh3-return',
      shipmentId: 'SH-3',
      lines: [{ lineId: 'L1', sku: 'RET-C', quantity: 2 }],
    });
    expect((await returnShippedStock(models, retry))[0]?.result).toBe('applied');
    expect((await returnShippedStock(models, retry))[0]?.result).toBe('already_applied');
    expect(await level('RET-C')).toMatchObject({ onHand: 9, reserved: 0 });
    expect(await models.Shipment.findOne({ shipmentId: 'SH-3' }).lean()).toMatchObject({
      lines: [{ quantity: 3, returnedQuantity: 2 }],
    });
    await expectLevelMatchesLedger('RET-C');

    const other = await refusal(
      returnShippedStock(models, { ...retry, lines: [{ lineId: 'L1', sku: 'RET-C', quantity: 1 }] }),
    );
    expect(other).toMatchObject({ code: 'conflict', details: { field: 'idempotencyKey' } });
  });
});

describe('correcting stock by hand (R10)', () => {
  const correction = (overrides: Partial<CorrectStockByHandInput> = {}): CorrectStockByHandInput => ({
    idempotencyKey: 'count-1',
    sku: 'COR-A',
    warehouse: WH,
    quantityDelta: -2,
    reason: 'stock take: two cartons damaged',
    actor: 'warehouse:zhao',
    ...overrides,
  });

  beforeAll(async () => {
    await stocked('COR-A', 10, [3]);
  });

  test('corrects on hand down and up with its reason and who made it, once per key', async () => {
    expect(await correctStockByHand(models, correction())).toBe('applied');
    expect(await level('COR-A')).toMatchObject({ onHand: 8, reserved: 3 });
    const after = await stockBooks();
    expect(await correctStockByHand(models, correction())).toBe('already_applied');
    expect(await stockBooks()).toEqual(after);
    expect(await models.StockMovement.findOne({ idempotencyKey: 'count-1' }).lean()).toMatchObject({
      type: 'adjust',
      onHandDelta: -2,
      reservedDelta: 0,
      reason: 'stock take: two cartons damaged',
      actor: 'warehouse:zhao',
      document: { kind: 'stock_correction', id: 'count-1' },
      state: 'applied',
    });

    expect(
      await correctStockByHand(
        models,
        correction({ idempotencyKey: 'count-2', quantityDelta: 1, reason: 'found one' }),
      ),
    ).toBe('applied');
    expect(await level('COR-A')).toMatchObject({ onHand: 9, reserved: 3 });
    await expectLevelMatchesLedger('COR-A');
  });

  test('never takes on hand below what is reserved, nor below zero', async () => {
    const before = await level('COR-A');
    const belowReserved = await refusal(
      correctStockByHand(models, correction({ idempotencyKey: 'count-3', quantityDelta: -7 })),
    );
    expect(belowReserved).toMatchObject({ code: 'insufficient_stock', details: { field: 'quantityDelta' } });
    const belowZero = await refusal(
      correctStockByHand(models, correction({ idempotencyKey: 'count-4', quantityDelta: -100 })),
    );
    expect(belowZero).toMatchObject({ code: 'insufficient_stock', details: { field: 'quantityDelta' } });
    expect(await level('COR-A')).toMatchObject({ onHand: before.onHand, reserved: before.reserved });
    expect(
      await correctStockByHand(models, correction({ idempotencyKey: 'count-5', quantityDelta: -6 })),
    ).toBe('applied');
    expect(await level('COR-A')).toMatchObject({ onHand: 3, reserved: 3 });
    await expectLevelMatchesLedger('COR-A');
  });

  test('the same key for a different correction is a conflict', async () => {
    const error = await refusal(correctStockByHand(models, correction({ quantityDelta: -1 })));
    expect(error.code).toBe('conflict');
  });
});

describe('bad input to the stock operations', () => {
  const cases: [string, string, () => Promise<unknown>][] = [
    [
      'an unknown SKU to release',
      'lines[0].sku',
      () => releaseReservedStock(models, releaseOf({ sku: 'NO-SUCH' })),
    ],
    [
      'a fractional release',
      'lines[0].quantity',
      () => releaseReservedStock(models, releaseOf({ quantity: 1.5 })),
    ],
    ['a release of 0', 'lines[0].quantity', () => releaseReservedStock(models, releaseOf({ quantity: 0 }))],
    [
      'a negative release',
      'lines[0].quantity',
      () => releaseReservedStock(models, releaseOf({ quantity: -2 })),
    ],
    [
      'a line named twice',
      'lines[1].lineId',
      () =>
        releaseReservedStock(models, {
          ...releaseOf({}),
          lines: [
            { lineId: 'L1', sku: 'BAD-A', warehouse: WH, quantity: 1 },
            { lineId: 'L1', sku: 'BAD-A', warehouse: WH, quantity: 1 },
          ],
        }),
    ],
    ['no lines', 'lines', () => releaseReservedStock(models, { ...releaseOf({}), lines: [] })],
    [
      'no key',
      'idempotencyKey',
      () => releaseReservedStock(models, { ...releaseOf({}), idempotencyKey: ' ' }),
    ],
    [
      'a correction without a reason',
      'reason',
      () => correctStockByHand(models, correctionOf({ reason: '' })),
    ],
    [
      'a correction without an actor',
      'actor',
      () => correctStockByHand(models, correctionOf({ actor: '  ' })),
    ],
    [
      'a correction of 0',
      'quantityDelta',
      () => correctStockByHand(models, correctionOf({ quantityDelta: 0 })),
    ],
    [
      'a fractional correction',
      'quantityDelta',
      () => correctStockByHand(models, correctionOf({ quantityDelta: 2.5 })),
    ],
    [
      'a correction of an unknown SKU',
      'sku',
      () => correctStockByHand(models, correctionOf({ sku: 'NO-SUCH' })),
    ],
    [
      'a fractional return',
      'lines[0].quantity',
      () => returnShippedStock(models, returnOf({ quantity: 0.5 })),
    ],
    ['a return of another SKU', 'lines[0].sku', () => returnShippedStock(models, returnOf({ sku: 'BAD-B' }))],
    [
      'a return of an unknown SKU',
      'lines[0].sku',
      () => returnShippedStock(models, returnOf({ sku: 'NO-SUCH' })),
    ],
    [
      'a return of a line not shipped',
      'lines[0].lineId',
      () => returnShippedStock(models, returnOf({ lineId: 'L9' })),
    ],
    [
      'a return above what was shipped',
      'lines[0].quantity',
      () => returnShippedStock(models, returnOf({ quantity: 3 })),
    ],
  ];

  function releaseOf(line: Partial<ReleaseReservedStockInput['lines'][number]>): ReleaseReservedStockInput {
    return {
      idempotencyKey: 'bad-release',
      document: { kind: 'sales_order', id: 'SO-BAD' },
      actor: 'cancelflow',
      lines: [{ lineId: 'L1', sku: 'BAD-A', warehouse: WH, quantity: 1, ...line }],
    };
  }
  function correctionOf(overrides: Partial<CorrectStockByHandInput>): CorrectStockByHandInput {
    return {
      idempotencyKey: 'bad-correction',
      sku: 'BAD-A',
      warehouse: WH,
      quantityDelta: 1,
      reason: 'count',
      actor: 'warehouse:zhao',
      ...overrides,
    };
  }
  function returnOf(line: Partial<ReturnShippedStockInput['lines'][number]>): ReturnShippedStockInput {
    return {
      idempotencyKey: 'bad-return',
      shipmentId: 'SH-BAD',
      warehouse: WH,
      actor: 'warehouse:li',
      lines: [{ lineId: 'L1', sku: 'BAD-A', quantity: 1, ...line }],
    };
  }

  beforeAll(async () => {
    await stocked('BAD-A', 5, [2]);
    await addProduct('BAD-B');
    await models.Shipment.create({
      shipmentId: 'SH-BAD',
      orderNumber: 'SO-BAD',
      warehouse: WH,
      carrier: 'ZTO',
      lines: [{ lineId: 'L1', sku: 'BAD-A', quantity: 2 }],
    });
  });

  test.each(cases)('%s is refused naming %s, and changes nothing', async (_what, field, attempt) => {
    const before = await stockBooks();
    const error = await refusal(attempt());
    expect(error).toMatchObject({ code: 'validation_failed', httpStatus: 400, details: { field } });
    expect(await stockBooks()).toEqual(before);
  });
});

describe('the stock ledger under concurrency', () => {
  test('20 releases racing 20 reservations on one SKU leave the figures equal to the ledger, never negative', async () => {
    // 30 on hand, 20 reserved by 20 orders: 10 available before the race.
    await stocked(
      'RACE-A',
      30,
      Array.from({ length: 20 }, () => 1),
    );
    let watching = true;
    const seen: { onHand: number; reserved: number }[] = [];
    const watcher = (async () => {
      while (watching) seen.push(await level('RACE-A'));
    })();

    const releases = Array.from({ length: 20 }, (_, index) =>
      releaseReservedStock(models, {
        idempotencyKey: `race-cancel-${index}:release`,
        document: { kind: 'sales_order', id: `SO-RACE-${index}` },
        actor: 'cancelflow',
        lines: [{ lineId: 'L1', sku: 'RACE-A', warehouse: WH, quantity: 1 }],
      }),
    );
    const reservations = Array.from({ length: 20 }, (_, index) =>
      applyStockMovement(models, movement(`race-order-${index}:reserve`, 'RACE-A', 'reserve', 0, 1)),
    );
    const [released, reserved] = await Promise.all([
      Promise.allSettled(releases),
      Promise.allSettled(reservations),
    ]);
    watching = false;
    await watcher;

    expect(released.every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    const madeReservations = reserved.filter((outcome) => outcome.status === 'fulfilled').length;
    // 10 were available from the start, so at least 10 reservations fit; the others only if releases came first.
    expect(madeReservations).toBeGreaterThanOrEqual(10);
    for (const outcome of reserved) {
      if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'insufficient_stock' });
    }
    expect(await level('RACE-A')).toMatchObject({ onHand: 30, reserved: madeReservations });
    await expectLevelMatchesLedger('RACE-A');
    expect(seen.length).toBeGreaterThan(0);
    for (const figures of seen) {
      expect(figures.reserved).toBeGreaterThanOrEqual(0);
      expect(figures.onHand).toBeGreaterThanOrEqual(figures.reserved);
    }
  });

  test('reservations racing for the last units never oversell', async () => {
    await stocked('RACE-B', 10);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 30 }, (_, index) =>
        applyStockMovement(models, movement(`race-b-${index}`, 'RACE-B', 'reserve', 0, 1)),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(10);
    expect(await level('RACE-B')).toMatchObject({ onHand: 10, reserved: 10 });
    await expectLevelMatchesLedger('RACE-B');
  });

  test('one movement sent by many attempts at once is applied once', async () => {
    await stocked('RACE-C', 100);
    for (let round = 0; round < 20; round += 1) {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 8 }, () =>
          applyStockMovement(models, movement(`race-c-${round}`, 'RACE-C', 'reserve', 0, 1)),
        ),
      );
      expect(outcomes.every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    }
    const sameRelease = () =>
      releaseReservedStock(models, {
        idempotencyKey: 'race-c-cancel:release',
        document: { kind: 'sales_order', id: 'SO-RACE-C' },
        actor: 'cancelflow',
        lines: [{ lineId: 'L1', sku: 'RACE-C', warehouse: WH, quantity: 5 }],
      });
    await Promise.all(Array.from({ length: 8 }, sameRelease));
    expect(await level('RACE-C')).toMatchObject({ onHand: 100, reserved: 15 });
    expect(await models.StockMovement.countDocuments({ sku: 'RACE-C', type: 'reserve' })).toBe(20);
    await expectLevelMatchesLedger('RACE-C');
  });

  test('a movement a crash interrupted is finished by its retry, never applied twice', async () => {
    await stocked('CRASH-A', 10);
    // Crashed after recording the movement, before applying it.
    await models.StockMovement.create({
      ...movement('crash-1', 'CRASH-A', 'reserve', 0, 2),
      state: 'pending',
    });
    expect(await applyStockMovement(models, movement('crash-1', 'CRASH-A', 'reserve', 0, 2))).toBe('applied');
    expect(await level('CRASH-A')).toMatchObject({ onHand: 10, reserved: 2 });

    // Crashed after applying it to the level, before marking it applied.
    await models.StockMovement.create({
      ...movement('crash-2', 'CRASH-A', 'reserve', 0, 3),
      state: 'pending',
    });
    await models.StockLevel.updateOne(
      { sku: 'CRASH-A', warehouse: WH },
      { $inc: { reserved: 3, revision: 1 }, $push: { pendingMovements: 'crash-2' } },
    );
    expect(await applyStockMovement(models, movement('crash-2', 'CRASH-A', 'reserve', 0, 3))).toBe(
      'already_applied',
    );
    expect(await models.StockMovement.findOne({ idempotencyKey: 'crash-2' }).lean()).toMatchObject({
      state: 'applied',
    });
    expect(await level('CRASH-A')).toMatchObject({ onHand: 10, reserved: 5 });
    await expectLevelMatchesLedger('CRASH-A');
  });
});

// --- purchase orders -------------------------------------------------------------------------------------

describe('purchase orders raised for cancelled sales lines (R27, R29)', () => {
  async function salesOrder(
    orderNumber: string,
    lines: { lineId: string; quantity: number }[],
  ): Promise<void> {
    await models.SalesOrder.create({
      orderNumber,
      customerId: 'C-PO',
      status: 'confirmed',
      currency: 'CNY',
      totalMinor: 0,
      lines: lines.map((line) => ({ ...line, sku: 'PO-SKU', warehouse: WH, unitPriceMinor: 0 })),
    });
  }

  function poLine(
    lineId: string,
    orderedQuantity: number,
    links: { orderNumber: string; lineId: string; quantity: number }[],
    extra: Partial<PurchaseLine> = {},
  ) {
    return {
      lineId,
      sku: 'PO-SKU',
      unitCostMinor: 500,
      orderedQuantity,
      raisedFor: links.map((link) => ({ ...link, kind: 'back_order' })),
      ...extra,
    };
  }

  async function purchaseOrder(
    poNumber: string,
    status: PurchaseOrderStatus,
    lines: ReturnType<typeof poLine>[],
  ) {
    // Listed on the sales orders it is raised for first, as the books write it (models/order-links.ts).
    const raisedFor = new Set(lines.flatMap((line) => line.raisedFor.map((link) => link.orderNumber)));
    for (const orderNumber of raisedFor) {
      await linkToOrder(models, orderNumber, { purchaseOrderNumbers: [poNumber] });
    }
    await models.PurchaseOrder.create({
      poNumber,
      supplier: { supplierId: 'SUP-1', name: '杭州茶园', email: 'orders@tea.example.cn' },
      status,
      currency: 'CNY',
      warehouse: WH,
      lines,
    });
  }

  const po = (poNumber: string) => models.PurchaseOrder.findOne({ poNumber }).lean().orFail();

  const reduce = (overrides: Partial<ReducePurchaseOrdersInput>): ReducePurchaseOrdersInput => ({
    idempotencyKey: 'po-cancel-1:purchasing',
    orderNumber: 'SO-PO-1',
    lines: [{ lineId: 'L1', quantity: 4 }],
    actor: 'cancelflow',
    reason: 'cancellation po-cancel-1',
    ...overrides,
  });

  beforeAll(async () => {
    await salesOrder('SO-PO-1', [
      { lineId: 'L1', quantity: 10 },
      { lineId: 'L2', quantity: 5 },
      { lineId: 'L3', quantity: 8 },
      { lineId: 'L4', quantity: 6 },
      { lineId: 'L5', quantity: 6 },
    ]);
    await purchaseOrder('PO-1', 'confirmed', [
      poLine('P1', 10, [{ orderNumber: 'SO-PO-1', lineId: 'L1', quantity: 10 }]),
    ]);
    await purchaseOrder('PO-2', 'sent', [
      poLine('P1', 5, [{ orderNumber: 'SO-PO-1', lineId: 'L2', quantity: 5 }], {
        supplierShippedQuantity: 5,
      }),
    ]);
    await purchaseOrder('PO-3', 'draft', [
      poLine('P1', 8, [{ orderNumber: 'SO-PO-1', lineId: 'L3', quantity: 8 }], {
        supplierShippedQuantity: 3,
      }),
    ]);
    // L4 is bought from two suppliers: the draft order is cheaper to change than the confirmed one.
    await purchaseOrder('PO-4', 'confirmed', [
      poLine('P1', 3, [{ orderNumber: 'SO-PO-1', lineId: 'L4', quantity: 3 }]),
    ]);
    await purchaseOrder('PO-5', 'draft', [
      poLine('P1', 3, [{ orderNumber: 'SO-PO-1', lineId: 'L4', quantity: 3 }]),
    ]);
    await purchaseOrder('PO-7', 'draft', [
      poLine('P1', 3, [{ orderNumber: 'SO-PO-1', lineId: 'L5', quantity: 3 }]),
    ]);
    await purchaseOrder('PO-8', 'draft', [
      poLine('P1', 3, [{ orderNumber: 'SO-PO-1', lineId: 'L5', quantity: 3 }]),
    ]);
  });

  test('takes the cancelled units off the purchase line raised for them, once per key', async () => {
    const report = await reducePurchaseOrdersForCancelledLines(models, reduce({}));
    expect(report).toEqual({
      reduced: [
        {
          poNumber: 'PO-1',
          poLineId: 'P1',
          salesLineId: 'L1',
          quantity: 4,
          statusAfter: 'confirmed',
          supplierMustBeTold: true,
        },
      ],
      notReduced: [],
    });
    const after = await po('PO-1');
    expect(after).toMatchObject({
      status: 'confirmed',
      lines: [
        {
          orderedQuantity: 10,
          cancelledQuantity: 4,
          raisedFor: [{ lineId: 'L1', quantity: 10, cancelledQuantity: 4 }],
        },
      ],
    });
    expect(after.adjustments).toHaveLength(1);

    expect(await reducePurchaseOrdersForCancelledLines(models, reduce({}))).toEqual(report);
    expect(await po('PO-1')).toEqual(after);
    const changed = await refusal(
      reducePurchaseOrdersForCancelledLines(models, reduce({ lines: [{ lineId: 'L1', quantity: 5 }] })),
    );
    expect(changed).toMatchObject({ code: 'conflict', details: { field: 'idempotencyKey' } });
    expect(await po('PO-1')).toEqual(after);
  });

  test('cancels the purchase order when nothing is left on it', async () => {
    const report = await reducePurchaseOrdersForCancelledLines(
      models,
      reduce({ idempotencyKey: 'po-cancel-2:purchasing', lines: [{ lineId: 'L1', quantity: 6 }] }),
    );
    expect(report.reduced).toEqual([
      expect.objectContaining({ poNumber: 'PO-1', quantity: 6, statusAfter: 'cancelled' }),
    ]);
    expect(await po('PO-1')).toMatchObject({
      status: 'cancelled',
      lines: [{ orderedQuantity: 10, cancelledQuantity: 10 }],
    });
  });

  test('leaves what the supplier already shipped on order, and says why', async () => {
    const before = await po('PO-2');
    const report = await reducePurchaseOrdersForCancelledLines(
      models,
      reduce({
        idempotencyKey: 'po-cancel-3:purchasing',
        lines: [
          { lineId: 'L2', quantity: 5 },
          { lineId: 'L3', quantity: 8 },
        ],
      }),
    );
    expect(report.reduced).toEqual([
      {
        poNumber: 'PO-3',
        poLineId: 'P1',
        salesLineId: 'L3',
        quantity: 5,
        statusAfter: 'draft',
        supplierMustBeTold: false,
      },
    ]);
    expect(report.notReduced).toEqual(
      expect.arrayContaining([
        { poNumber: 'PO-2', poLineId: 'P1', salesLineId: 'L2', quantity: 5, reason: 'supplier_shipped' },
        { poNumber: 'PO-3', poLineId: 'P1', salesLineId: 'L3', quantity: 3, reason: 'supplier_shipped' },
      ]),
    );
    expect(report.notReduced).toHaveLength(2);
    const shippedPo = await po('PO-2');
    expect(shippedPo.lines).toEqual(before.lines);
    expect(shippedPo.status).toBe('sent');
    expect(await po('PO-3')).toMatchObject({
      lines: [{ orderedQuantity: 8, cancelledQuantity: 5, supplierShippedQuantity: 3 }],
    });
  });

  test('a sales line bought from two suppliers comes off the order not yet with its supplier first', async () => {
    const report = await reducePurchaseOrdersForCancelledLines(
      models,
      reduce({ idempotencyKey: 'po-cancel-4:purchasing', lines: [{ lineId: 'L4', quantity: 4 }] }),
    );
    expect(report.reduced).toEqual([
      expect.objectContaining({
        poNumber: 'PO-5',
        quantity: 3,
        statusAfter: 'cancelled',
        supplierMustBeTold: false,
      }),
      expect.objectContaining({
        poNumber: 'PO-4',
        quantity: 1,
        statusAfter: 'confirmed',
        supplierMustBeTold: true,
      }),
    ]);
  });

  test('a retry after a crash part-way takes off only what the crashed attempt had not', async () => {
    // The crashed attempt changed PO-7 and died before PO-8.
    await models.PurchaseOrder.updateOne(
      { poNumber: 'PO-7' },
      {
        $set: {
          'lines.0.cancelledQuantity': 3,
          'lines.0.raisedFor.0.cancelledQuantity': 3,
          status: 'cancelled',
        },
        $inc: { revision: 1 },
        $push: {
          adjustments: {
            key: 'po-cancel-5:purchasing',
            kind: 'reduce_for_cancellation',
            at: new Date(),
            actor: 'cancelflow',
            orderNumber: 'SO-PO-1',
            requested: [{ lineId: 'L5', quantity: 6 }],
            changes: [{ lineId: 'P1', salesLineId: 'L5', quantity: 3 }],
            statusBefore: 'draft',
            statusAfter: 'cancelled',
          },
        },
      },
    );
    const crashed = await po('PO-7');
    const report = await reducePurchaseOrdersForCancelledLines(
      models,
      reduce({ idempotencyKey: 'po-cancel-5:purchasing', lines: [{ lineId: 'L5', quantity: 6 }] }),
    );
    expect(report.reduced.map((entry) => [entry.poNumber, entry.quantity]).sort()).toEqual([
      ['PO-7', 3],
      ['PO-8', 3],
    ]);
    expect(await po('PO-7')).toEqual(crashed);
    expect(await po('PO-8')).toMatchObject({ status: 'cancelled', lines: [{ cancelledQuantity: 3 }] });
  });

  test('bad input is refused naming the field, and changes nothing', async () => {
    const everything = () => models.PurchaseOrder.find().sort({ poNumber: 1 }).lean();
    const before = await everything();
    const cases: [Partial<ReducePurchaseOrdersInput>, string, string][] = [
      [{ lines: [{ lineId: 'L9', quantity: 1 }] }, 'validation_failed', 'lines[0].lineId'],
      [{ lines: [{ lineId: 'L1', quantity: 2.5 }] }, 'validation_failed', 'lines[0].quantity'],
      [{ lines: [{ lineId: 'L1', quantity: -1 }] }, 'validation_failed', 'lines[0].quantity'],
      [{ lines: [{ lineId: 'L1', quantity: 11 }] }, 'validation_failed', 'lines[0].quantity'],
      [{ orderNumber: 'SO-NONE' }, 'not_found', 'orderNumber'],
      [{ actor: '' }, 'validation_failed', 'actor'],
    ];
    for (const [overrides, code, field] of cases) {
      const error = await refusal(
        reducePurchaseOrdersForCancelledLines(models, reduce({ idempotencyKey: 'po-bad', ...overrides })),
      );
      expect(error).toMatchObject({ code, details: { field } });
    }
    expect(await everything()).toEqual(before);
  });

  test('parallel cancellations and a supplier notice on one purchase line never take it below what was shipped', async () => {
    // One purchase line of 20 bought for ten sales orders of 2 each; a supplier notice of 5 races them.
    const orders = Array.from({ length: 10 }, (_, index) => `SO-BULK-${index}`);
    for (const orderNumber of orders) await salesOrder(orderNumber, [{ lineId: 'L1', quantity: 2 }]);
    await purchaseOrder('PO-BULK', 'confirmed', [
      poLine(
        'P1',
        20,
        orders.map((orderNumber) => ({ orderNumber, lineId: 'L1', quantity: 2 })),
      ),
    ]);
    const [notice, ...reports] = await Promise.allSettled([
      recordSupplierShipment(models, {
        idempotencyKey: 'asn-1',
        poNumber: 'PO-BULK',
        lineId: 'P1',
        quantity: 5,
        actor: 'supplier:SUP-1',
      }),
      ...orders.map((orderNumber) =>
        reducePurchaseOrdersForCancelledLines(models, {
          idempotencyKey: `${orderNumber}:purchasing`,
          orderNumber,
          lines: [{ lineId: 'L1', quantity: 2 }],
          actor: 'cancelflow',
        }),
      ),
    ]);
    const line = (await po('PO-BULK')).lines[0];
    const reduced = reports.flatMap((outcome) =>
      outcome.status === 'fulfilled' ? outcome.value.reduced : [],
    );
    const kept = reports.flatMap((outcome) =>
      outcome.status === 'fulfilled' ? outcome.value.notReduced : [],
    );
    expect(reports.every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    expect(reduced.reduce((sum, entry) => sum + entry.quantity, 0)).toBe(line?.cancelledQuantity);
    expect(
      reduced.reduce((sum, entry) => sum + entry.quantity, 0) +
        kept.reduce((sum, entry) => sum + entry.quantity, 0),
    ).toBe(20);
    if (notice.status === 'fulfilled') {
      expect(line).toMatchObject({ supplierShippedQuantity: 5, cancelledQuantity: 15 });
      expect(kept.every((entry) => entry.reason === 'supplier_shipped')).toBe(true);
    } else {
      // The notice came after every unit was cancelled: a person settles it with the supplier.
      expect(notice.reason).toMatchObject({ code: 'conflict' });
      expect(line).toMatchObject({ supplierShippedQuantity: 0, cancelledQuantity: 20 });
    }
    expect((line?.cancelledQuantity ?? 0) + (line?.supplierShippedQuantity ?? 0)).toBeLessThanOrEqual(20);
    expect(line?.raisedFor.reduce((sum, link) => sum + link.cancelledQuantity, 0)).toBe(
      line?.cancelledQuantity,
    );
  });

  test('a supplier notice is recorded once per key, and never for more than is on order', async () => {
    await purchaseOrder('PO-ASN', 'confirmed', [poLine('P1', 4, [])]);
    const notice = {
      idempotencyKey: 'asn-2',
      poNumber: 'PO-ASN',
      lineId: 'P1',
      quantity: 3,
      actor: 'supplier:SUP-1',
    };
    expect(await recordSupplierShipment(models, notice)).toBe('recorded');
    expect(await recordSupplierShipment(models, notice)).toBe('already_recorded');
    const over = await refusal(
      recordSupplierShipment(models, { ...notice, idempotencyKey: 'asn-3', quantity: 2 }),
    );
    expect(over).toMatchObject({ code: 'conflict', details: { field: 'quantity' } });
    expect(await po('PO-ASN')).toMatchObject({ lines: [{ supplierShippedQuantity: 3 }] });
  });
});

// --- money -----------------------------------------------------------------------------------------------

describe('refunds and their vouchers (R11)', () => {
  async function payment(paymentId: string, capturedMinor: number): Promise<void> {
    await models.Payment.create({
      paymentId,
      orderNumber: `SO-${paymentId}`,
      capturedMinor,
      currency: 'CNY',
      method: 'alipay',
      providerReference: `ali-${paymentId}`,
    });
  }
  const intent = (paymentId: string, key: string, amountMinor: number) => ({
    idempotencyKey: key,
    paymentId,
    orderNumber: `SO-${paymentId}`,
    cancellationId: `cancel-${key}`,
    amountMinor,
    currency: 'CNY',
  });

  async function expectBalancedVouchers(paymentId: string, total: number): Promise<void> {
    const refunds = await models.Refund.find({ paymentId, status: 'succeeded' }).lean();
    const vouchers = await models.Voucher.find({
      'document.id': { $in: refunds.map((refund) => refund.idempotencyKey) },
    }).lean();
    expect(vouchers).toHaveLength(refunds.length);
    for (const voucher of vouchers) {
      const debits = voucher.lines.reduce((sum, line) => sum + line.debitMinor, 0);
      expect(voucher.lines.reduce((sum, line) => sum + line.creditMinor, 0)).toBe(debits);
      expect(voucher.lines.find((line) => line.debitMinor > 0)?.account).toBe('6001 sales revenue');
      expect(voucher.lines.find((line) => line.creditMinor > 0)?.account).toBe('1002 bank deposits');
    }
    const debited = vouchers.reduce(
      (sum, voucher) => sum + voucher.lines.reduce((lines, line) => lines + line.debitMinor, 0),
      0,
    );
    expect(debited).toBe(total);
    expect(await models.Payment.findOne({ paymentId }).lean()).toMatchObject({
      refundedMinor: total,
      pendingRefunds: [],
    });
  }

  test('parallel refunds never exceed what was captured, and every voucher balances', async () => {
    await payment('PAY-1', 10_000);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 25 }, async (_, index) => {
        const key = `pay1-refund-${index}`;
        await reserveRefund(models, intent('PAY-1', key, 500));
        await completeRefund(models, key, `gw-${key}`);
      }),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(20);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected')
        expect(outcome.reason).toMatchObject({ code: 'refund_exceeds_capture' });
    }
    expect(await models.Refund.countDocuments({ paymentId: 'PAY-1', status: 'failed' })).toBe(5);
    await expectBalancedVouchers('PAY-1', 10_000);
  });

  test('one refund asked for by many attempts at once is counted, and vouchered, once', async () => {
    await payment('PAY-2', 1_000_000);
    for (let round = 0; round < 40; round += 1) {
      const key = `pay2-refund-${round}`;
      await Promise.all(
        Array.from({ length: 6 }, async (_, attempt) => {
          // Staggered, so that late attempts start while early ones are completing.
          await new Promise((resolve) => setTimeout(resolve, attempt * (round % 4)));
          const refund = await reserveRefund(models, intent('PAY-2', key, 100));
          if (refund.status !== 'succeeded') await completeRefund(models, key, `gw-${key}`);
        }),
      );
    }
    expect(await models.Refund.countDocuments({ paymentId: 'PAY-2', status: 'succeeded' })).toBe(40);
    await expectBalancedVouchers('PAY-2', 4_000);
  });
});

// --- organisation and message centre -------------------------------------------------------------------

describe('departments, people and the message centre (R19, R24)', () => {
  const message = (overrides: Partial<PostMessageInput> = {}): PostMessageInput => ({
    idempotencyKey: 'cancel-9:progress:completed',
    to: { department: 'sales' },
    cancellationId: 'cancel-9',
    orderNumber: 'SO-9',
    category: 'cancellation_progress',
    content: {
      'zh-CN': { title: '订单 SO-9 已取消', body: '退款已原路退回。' },
      en: { title: 'Order SO-9 cancelled', body: 'The refund went back to the original payment.' },
    },
    ...overrides,
  });

  beforeAll(async () => {
    await models.Department.create([
      { code: 'sales', name: { 'zh-CN': '销售部', en: 'Sales' }, email: 'sales@shop.example.cn' },
      { code: 'finance', name: { 'zh-CN': '财务部', en: 'Finance' }, email: 'finance@shop.example.cn' },
    ]);
    await models.Person.create([
      { personId: 'P-wang', name: '王芳', language: 'zh-CN', department: 'sales', roles: ['requester'] },
      {
        personId: 'P-smith',
        name: 'Anna Smith',
        language: 'en',
        department: 'sales',
        roles: ['requester', 'approver'],
        approvalLevel: 2,
      },
      { personId: 'P-left', name: '李雷', department: 'sales', active: false },
      {
        personId: 'P-zhou',
        name: '周杰',
        department: 'finance',
        roles: ['finance_clerk'],
        email: 'Zhou@Shop.example.cn',
      },
    ]);
  });

  test('a person is refused an approval level or role that does not exist', async () => {
    await expect(
      models.Person.validate({ personId: 'P-x', name: 'X', department: 'sales', approvalLevel: 4 }),
    ).rejects.toThrow(/approvalLevel/);
    await expect(
      models.Person.validate({ personId: 'P-x', name: 'X', department: 'sales', approvalLevel: 1.5 }),
    ).rejects.toThrow(/approvalLevel/);
    await expect(
      models.Person.validate({ personId: 'P-y', name: 'Y', department: 'sales', roles: ['boss'] }),
    ).rejects.toThrow(/roles/);
    await expect(models.Person.validate({ personId: 'P-z', name: 'Z', department: 'hr' })).rejects.toThrow(
      /department/,
    );
    expect(await models.Person.findOne({ personId: 'P-zhou' }).lean()).toMatchObject({
      email: 'zhou@shop.example.cn',
      approvalLevel: 0,
      active: true,
      language: 'zh-CN',
    });
  });

  test("a message to a department reaches each active member once, in their language, however often it's posted", async () => {
    expect((await postMessage(models, message())).sort()).toEqual(['P-smith', 'P-wang']);
    await Promise.all(Array.from({ length: 5 }, () => postMessage(models, message())));
    const entries = await models.MessageCentreEntry.find({ cancellationId: 'cancel-9' }).lean();
    expect(entries).toHaveLength(2);
    expect(entries.find((entry) => entry.recipientId === 'P-wang')).toMatchObject({
      title: '订单 SO-9 已取消',
      language: 'zh-CN',
      department: 'sales',
      readAt: null,
    });
    expect(entries.find((entry) => entry.recipientId === 'P-smith')).toMatchObject({
      title: 'Order SO-9 cancelled',
    });
    expect(await unreadCount(models, 'P-wang')).toBe(1);
    expect(await unreadCount(models, 'P-left')).toBe(0);

    await postMessage(
      models,
      message({ idempotencyKey: 'cancel-9:refund', to: { personId: 'P-wang' }, category: 'refund' }),
    );
    expect(await unreadCount(models, 'P-wang')).toBe(2);
    expect((await listMessages(models, 'P-wang')).map((entry) => entry.category)).toEqual([
      'refund',
      'cancellation_progress',
    ]);
  });

  test('marking a message read is idempotent, keeps the first reading time, and unread counts follow', async () => {
    const [newest] = await listMessages(models, 'P-wang', { unreadOnly: true, limit: 1 });
    const messageId = newest?.messageId ?? '';
    expect(await markMessageRead(models, 'P-wang', messageId)).toBe(true);
    const readAt = (await models.MessageCentreEntry.findOne({ messageId }).lean())?.readAt;
    expect(readAt).toBeInstanceOf(Date);
    expect(await markMessageRead(models, 'P-wang', messageId)).toBe(false);
    expect((await models.MessageCentreEntry.findOne({ messageId }).lean())?.readAt).toEqual(readAt);
    expect(await unreadCount(models, 'P-wang')).toBe(1);
    expect(await unreadCount(models, 'P-smith')).toBe(1);

    expect(await markAllMessagesRead(models, 'P-wang')).toBe(1);
    expect(await markAllMessagesRead(models, 'P-wang')).toBe(0);
    expect(await unreadCount(models, 'P-wang')).toBe(0);
    // Someone else's message is not found for this person.
    const others = await refusal(markMessageRead(models, 'P-zhou', messageId));
    expect(others).toMatchObject({ code: 'not_found', details: { field: 'messageId' } });
  });

  test('a message with missing content or an unknown recipient is refused, naming the field', async () => {
    const before = await models.MessageCentreEntry.countDocuments();
    const noTitle = await refusal(
      postMessage(
        models,
        message({ content: { 'zh-CN': { title: '标题', body: '正文' }, en: { title: ' ', body: 'x' } } }),
      ),
    );
    expect(noTitle).toMatchObject({ code: 'validation_failed', details: { field: 'content.en.title' } });
    const nobody = await refusal(
      postMessage(models, message({ idempotencyKey: 'k-nobody', to: { personId: 'P-none' } })),
    );
    expect(nobody).toMatchObject({ code: 'not_found', details: { field: 'to.personId' } });
    expect(await models.MessageCentreEntry.countDocuments()).toBe(before);
  });
});
