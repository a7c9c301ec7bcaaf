// The analytics' rollups (issue #14, models/analytics-rollups.ts) against the per-record pipelines they stand
// in for (models/analytics.ts), figure by figure, on generated records (generators/cancellation-records.ts):
// windows of whole UTC days, of days at +08:00 (whole hours), at +05:30 and of date-times (edges inside an
// hour, read from the records), shorter than an hour, one reason, decades wide; after records changed and
// were added once their days had been rolled up; and two API instances building the same days at once.
import { randomUUID } from 'node:crypto';
import type { AnalyticsWindow } from '../contracts/analytics.contract';
import { CancellationRecordsGenerator } from '../generators/cancellation-records';
import { connectModels, type Models } from '../models';
import * as perRecord from '../models/analytics';
import { resolveWindow, type ResolvedWindow, type WindowRequest } from '../models/analytics';
import * as rollups from '../models/analytics-rollups';
import { buildAnalyticsRollups, ROLLUP_VERSION } from '../models/analytics-rollups';
import { analyticsSummaryOf } from '../models/analytics-summary';
import { testEnvironment } from './support/environment';

const COUNT = 1_500;
let models: Models;
let ids: string[] = [];

type Compute = (models: Models, window: ResolvedWindow) => Promise<unknown>;
/** Each figure of the cancellations, computed by one of the two modules. */
function figures(from: typeof perRecord | typeof rollups): Record<string, Compute> {
  return {
    reasons: (m, w) => from.cancellationsByReason(m, w),
    'over-time (day)': (m, w) => from.cancellationsOverTime(m, w, 'day'),
    'over-time (week)': (m, w) => from.cancellationsOverTime(m, w, 'week'),
    'over-time (month)': (m, w) => from.cancellationsOverTime(m, w, 'month'),
    products: (m, w) => from.cancellationsByProduct(m, w, 1_000),
    'products (top 5)': (m, w) => from.cancellationsByProduct(m, w, 5),
    customers: (m, w) => from.cancellationsByCustomer(m, w, 1_000),
    'repeat-cancellers': (m, w) => from.repeatCancellers(m, w, { minimum: 2, limit: 1_000 }),
    'repeat-cancellers (3, top 10)': (m, w) => from.repeatCancellers(m, w, { minimum: 3, limit: 10 }),
    departments: (m, w) => from.cancellationsByDepartment(m, w),
    channels: (m, w) => from.cancellationsByChannel(m, w),
    refunds: (m, w) => from.refundsByCurrency(m, w),
    approvals: (m, w) => from.approvalTimes(m, w),
    'state-times': (m, w) => from.stateTimes(m, w),
    restocked: (m, w) => from.restockedStock(m, w),
  };
}
const REFERENCE = figures(perRecord);
const ROLLED = figures(rollups);

const WINDOWS: Record<string, WindowRequest> = {
  'the year, UTC days': { from: '2025-01-01', to: '2025-12-31', utcOffset: '+00:00' },
  'a quarter at +08:00': { from: '2025-04-01', to: '2025-06-30', utcOffset: '+08:00' },
  'a month at +05:30 (edges inside an hour)': { from: '2025-03-01', to: '2025-03-31', utcOffset: '+05:30' },
  'date-times inside hours': {
    from: '2025-05-10T10:17:00Z',
    to: '2025-07-02T08:45:30.500Z',
    utcOffset: '-03:00',
  },
  'within one hour': { from: '2025-02-03T04:05:00Z', to: '2025-02-03T04:55:00Z', utcOffset: '+00:00' },
  'one reason, at -07:00': {
    from: '2025-01-15',
    to: '2025-10-15',
    utcOffset: '-07:00',
    reasonCode: 'customer_changed_mind',
  },
};

async function expectSameFigures(on: Models = models): Promise<void> {
  for (const [windowName, request] of Object.entries(WINDOWS)) {
    const window = resolveWindow(request);
    for (const [figure, reference] of Object.entries(REFERENCE)) {
      const expected = await reference(on, window);
      const actual = await ROLLED[figure]?.(on, window);
      // Named, so that a difference says which figure over which window.
      expect({ windowName, figure, answer: actual }).toEqual({ windowName, figure, answer: expected });
    }
  }
}

async function load(into: Models): Promise<void> {
  const generator = new CancellationRecordsGenerator(11, COUNT);
  await into.Product.collection.insertMany(generator.products());
  const { cancellations, stockMovements } = generator.next(COUNT);
  await into.Cancellation.collection.insertMany(cancellations);
  await into.StockMovement.collection.insertMany(stockMovements);
  ids = cancellations.map((record) => String(record.cancellationId));
}

beforeAll(async () => {
  models = await connectModels(testEnvironment().mongoUri, `rollups_${randomUUID().slice(0, 8)}`);
  await load(models);
}, 120_000);

afterAll(async () => {
  await models?.db.dropDatabase();
  await models?.db.close();
});

test('every figure from the rollups equals the per-record one, over windows of every kind', async () => {
  await expectSameFigures();
  // Built on read: a document per day of the windows, of this version.
  const days = await models.AnalyticsRollup.countDocuments({ v: ROLLUP_VERSION });
  expect(days).toBeGreaterThanOrEqual(330);
  expect(days).toBeLessThanOrEqual(366);
  // A window from long before the first record to long after today builds only the days between them.
  const wide = resolveWindow({ from: '1990-01-01', to: '2100-12-31', utcOffset: '+00:00' });
  expect(await rollups.cancellationsByReason(models, wide)).toEqual(
    await perRecord.cancellationsByReason(models, wide),
  );
  const sinceFirst = Math.ceil((Date.now() - Date.parse('2025-01-01')) / 86_400_000) + 1;
  expect(await models.AnalyticsRollup.countDocuments()).toBeLessThanOrEqual(sinceFirst);
}, 600_000);

test('records that change or arrive after their day was rolled up are in the figures', async () => {
  // Their days rolled up first (whatever ran before).
  await rollups.stateTimes(models, resolveWindow(WINDOWS['the year, UTC days'] as WindowRequest));
  // Through mongoose, as the flow writes: each write moves `updatedAt` forward.
  const changed = ids.filter((_, index) => index % 50 === 0);
  for (const [index, cancellationId] of changed.entries()) {
    const record = await models.Cancellation.findOne({ cancellationId }).lean();
    if (!record) throw new Error(`no record ${cancellationId}`);
    const timeline = [
      ...(record.timeline ?? []),
      {
        step: record.timeline?.length ?? 0,
        state: 'completed',
        at: new Date(record.createdAt.getTime() + 3_600_000),
      },
    ];
    await models.Cancellation.updateOne(
      { cancellationId },
      {
        $set: {
          // Some finish, some move to another customer and reason (out of one key, into another).
          ...(index % 2 === 0
            ? { outcome: 'completed', state: 'completed', refundedMinor: 1_234, timeline }
            : { customerId: 'BC-MOVED', reasonCode: 'price_error', outcome: 'rejected', state: 'rejected' }),
          analytics: analyticsSummaryOf({
            ...record,
            timeline: index % 2 === 0 ? timeline : record.timeline,
          }),
        },
      },
    );
  }
  // The stock ledger: some movements back from cancellations turn out rejected, one more is applied.
  const movements = await models.StockMovement.find({ state: 'applied' }, { idempotencyKey: 1 })
    .limit(40)
    .lean();
  for (const movement of movements.filter((_, index) => index % 4 === 0)) {
    await models.StockMovement.updateOne(
      { idempotencyKey: movement.idempotencyKey },
      { $set: { state: 'rejected' } },
    );
  }
  const [returned] = await models.StockMovement.find({ type: 'return', state: 'applied' }).limit(1).lean();
  if (!returned) throw new Error('no return movement');
  const { _id: _movementId, ...movementCopy } = returned;
  await models.StockMovement.collection.insertOne({
    ...movementCopy,
    idempotencyKey: randomUUID(),
    onHandDelta: 5,
    updatedAt: new Date(),
  });
  // A record asked on a day already rolled up, written now.
  const [template] = await models.Cancellation.find({ cancellationId: ids[7] }).lean();
  if (!template) throw new Error('no template');
  const { _id: _ignored, ...copy } = template;
  await models.Cancellation.collection.insertOne({
    ...copy,
    cancellationId: randomUUID(),
    customerId: 'BC-NEW',
    updatedAt: new Date(),
  });
  await expectSameFigures();
}, 600_000);

test('two instances building the same days at once store each day once, and agree', async () => {
  const name = `rollups_${randomUUID().slice(0, 8)}`;
  const [first, second] = [
    await connectModels(testEnvironment().mongoUri, name),
    await connectModels(testEnvironment().mongoUri, name),
  ];
  try {
    await load(first);
    // Two connections: each its own refresh and builds in flight, as two API processes would have.
    const window: AnalyticsWindow = resolveWindow({
      from: '2025-01-01',
      to: '2025-12-31',
      utcOffset: '+00:00',
    });
    const answers = await Promise.all([
      rollups.cancellationsByReason(first, window),
      rollups.cancellationsByReason(second, window),
      rollups.stateTimes(second, window),
    ]);
    expect(answers[0]).toEqual(await perRecord.cancellationsByReason(first, window));
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(await perRecord.stateTimes(first, window));
    expect(await first.AnalyticsRollup.countDocuments()).toBe(365);
    await expectSameFigures(second);
    // What the API starts in the background: every day to today not built yet, then nothing more.
    expect(await buildAnalyticsRollups(first)).toBeGreaterThan(0);
    expect(await buildAnalyticsRollups(second)).toBe(0);
  } finally {
    await first.db.dropDatabase();
    await first.db.close();
    await second.db.close();
  }
}, 600_000);
