// The demo books `npm start` seeds: seeded twice they are the same books, and the demo orders are what the
// README promises (one in transit, one paid partly in USD whose whole refund the review counts in CNY).
import { randomUUID } from 'node:crypto';
import { loadPolicyFile } from '../lib/policy';
import { connectModels, type Models } from '../models';
import { reviewOrder } from '../rules/review.rules';
import { seedDemoData } from '../generators/demo-data';
import { testEnvironment } from './support/environment';

let models: Models;

beforeAll(async () => {
  models = await connectModels(testEnvironment().mongoUri, `demo_${randomUUID().slice(0, 8)}`);
});

afterAll(async () => {
  await models.db.dropDatabase();
  await models.db.close();
});

test('seeding twice gives the same books', async () => {
  const orders = await seedDemoData(models);
  const count = async () =>
    Object.fromEntries(
      await Promise.all(
        (['SalesOrder', 'Payment', 'StockMovement', 'Shipment', 'Warehouse', 'Person'] as const).map(
          async (name) => [name, await models[name].countDocuments()] as const,
        ),
      ),
    );
  const first = await count();
  expect(await seedDemoData(models)).toEqual(orders);
  expect(await count()).toEqual(first);
  expect(orders).toEqual(['SO-2026-0001', 'SO-2026-0002', 'SO-2026-0003', 'SO-2026-0004', 'SO-2026-0005']);
});

test('SO-2026-0005 was paid partly in USD, and a whole cancellation would give back all 556.00 CNY of it', async () => {
  const payments = await models.Payment.find({ orderNumber: 'SO-2026-0005' }).sort({ paymentId: 1 }).lean();
  expect(payments.map((payment) => [payment.paymentId, payment.currency, payment.capturedMinor])).toEqual([
    ['PAY-SO-2026-0005', 'CNY', 15600],
    ['PAY-SO-2026-0005-USD', 'USD', 5600],
  ]);
  expect(payments[1]?.orderCurrencyMinor).toBe(40000);

  const order = await models.SalesOrder.findOne({ orderNumber: 'SO-2026-0005' }).lean().orFail();
  const outcome = reviewOrder(
    order,
    payments,
    { confirmed: ['awaiting_shipment'] },
    await loadPolicyFile('policies/cancellation-policy.json'),
  );
  expect(outcome).toMatchObject({ ok: true, review: { refundableMinor: 55600, currency: 'CNY' } });
});
