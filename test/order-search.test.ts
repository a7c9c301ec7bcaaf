// Order lookup (R1, R13) against the real database and through the real API and typed client: each criterion
// alone and combined, pinyin and phone normal forms, literal regex characters, keyset pages, bad input. Also
// the search fields' upkeep on every write path, which the lookup relies on.
import { CancelflowApiError, type OrderSearchQuery } from '../client/cancelflow-client';
import type { OrderStatus } from '../contracts/books.contract';
import {
  addCustomer,
  addPeople,
  addProduct,
  placePaidOrder,
  receiveStock,
  type DemoCustomer,
} from '../generators/demo-data';
import { issueApiKey } from '../models/credentials';
import { startTestStack, type TestStack } from './support/stack';

let stack: TestStack;

const customers: DemoCustomer[] = [
  {
    customerId: 'C-1',
    name: '王芳',
    phone: '+8613800138000',
    email: 'Wang.Fang@Example.cn',
    language: 'zh-CN',
  },
  {
    customerId: 'C-2',
    name: 'Emily Carter',
    phone: '+1 (415) 555-0123',
    email: 'emily.carter@example.com',
    language: 'en',
  },
  {
    customerId: 'C-3',
    name: '张伟',
    phone: '+8613912345678',
    email: 'zhang.wei@example.cn',
    language: 'zh-CN',
  },
  {
    customerId: 'C-4',
    name: '王小明',
    phone: '+8613700000001',
    email: 'xm.wang@example.cn',
    language: 'zh-CN',
  },
  {
    customerId: 'C-5',
    name: 'A.B (Test)*',
    phone: '+442079460958',
    email: 'a.b+test@example.com',
    language: 'en',
  },
  { customerId: 'C-9', name: 'Demo Customer', phone: '+8613600000009', language: 'zh-CN' },
];

interface SeedOrder {
  orderNumber: string;
  customerId: string;
  status: OrderStatus;
  createdAt: string;
  skus: string[];
}

// Six named orders, then 30 for paging: ten of those share one creation instant, to prove the cursor's
// tie-break on _id.
const namedOrders: SeedOrder[] = [
  {
    orderNumber: 'SO-2026-0001',
    customerId: 'C-1',
    status: 'confirmed',
    createdAt: '2026-01-01T09:00:00Z',
    skus: ['TEA-LJ-250'],
  },
  {
    orderNumber: 'SO-2026-0002',
    customerId: 'C-2',
    status: 'allocated',
    createdAt: '2026-01-02T09:00:00Z',
    skus: ['CUP-CER-01', 'TEA-LJ-250'],
  },
  {
    orderNumber: 'SO-2026-0003',
    customerId: 'C-3',
    status: 'shipped',
    createdAt: '2026-01-03T09:00:00Z',
    skus: ['POT-YX-02'],
  },
  {
    orderNumber: 'SO-2026-0004',
    customerId: 'C-4',
    status: 'cancelled',
    createdAt: '2026-01-04T09:00:00Z',
    skus: ['TEA-LJ-100'],
  },
  {
    orderNumber: 'SO-2026-0005',
    customerId: 'C-1',
    status: 'delivered',
    createdAt: '2026-01-05T23:30:00Z',
    skus: ['CUP-CER-01'],
  },
  {
    orderNumber: 'SO-2026-0006',
    customerId: 'C-5',
    status: 'confirmed',
    createdAt: '2026-01-06T09:00:00Z',
    skus: ['X.1+(B)'],
  },
];
const pagingStatuses: OrderStatus[] = [
  'confirmed',
  'allocated',
  'picking',
  'completed',
  'partially_cancelled',
];
const pagingOrders: SeedOrder[] = Array.from({ length: 30 }, (_, index) => ({
  orderNumber: `SO-2025-${String(1000 + ((index * 7) % 30)).padStart(4, '0')}`,
  customerId: index % 2 === 0 ? 'C-2' : 'C-3',
  status: pagingStatuses[index % pagingStatuses.length] as OrderStatus,
  createdAt: new Date(Date.UTC(2025, 5, index < 10 ? 1 : index, 12)).toISOString(),
  skus: [`BULK-${index % 3}`],
}));

beforeAll(async () => {
  stack = await startTestStack('order-search');
  const { models } = stack;
  for (const customer of customers) await addCustomer(models, customer);
  await addPeople(models); // clerk-1, who requests the cancellation below
  // insertMany: the write path of bulk loads. Search fields come from the model's own middleware.
  await models.SalesOrder.insertMany(
    [...namedOrders, ...pagingOrders].map((order) => ({
      orderNumber: order.orderNumber,
      customerId: order.customerId,
      status: order.status,
      currency: 'CNY',
      totalMinor: 1000 * order.skus.length,
      lines: order.skus.map((sku, index) => ({
        lineId: `L${index + 1}`,
        sku,
        warehouse: 'WH-SH-01',
        quantity: 1,
        unitPriceMinor: 1000,
      })),
      createdAt: new Date(order.createdAt),
    })),
  );
  // The demo data's upsert path, with stock reserved and a payment captured.
  await addProduct(models, { sku: 'DEMO-1', name: '演示商品', unitPriceMinor: 5000, currency: 'CNY' });
  await receiveStock(models, 'DEMO-1', 10);
  await placePaidOrder(models, {
    orderNumber: 'SO-DEMO-0001',
    customerId: 'C-9',
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'DEMO-1', quantity: 2, unitPriceMinor: 5000 }],
  });
});

afterAll(async () => {
  await stack.stop();
});

/** Searching orders takes a signed-in caller in any role: here clerk-1, with an API key. */
const clerk = () => stack.as('clerk-1');

let token: string | undefined;
/** The same for a raw request: clerk-1's API key as a bearer token. */
async function credentials(): Promise<{ authorization: string }> {
  token ??= (
    await issueApiKey(stack.models, {
      name: 'order search',
      personId: 'clerk-1',
      scopes: ['requester'],
      createdBy: 'test',
    })
  ).token;
  return { authorization: `Bearer ${token}` };
}

async function numbers(query: OrderSearchQuery): Promise<string[]> {
  const page = await (await clerk()).searchOrders({ limit: 100, ...query });
  return page.items.map((item) => item.orderNumber);
}

/** Sends the query string as it is, so that what the typed client would not let through reaches the API. */
async function refusal(query: Record<string, string | undefined>): Promise<CancelflowApiError> {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.append(name, value);
  const response = await fetch(`${stack.apiUrl}/v1/orders?${params.toString()}`, {
    headers: await credentials(),
  });
  const error = new CancelflowApiError(
    response.status,
    (await response.json()) as CancelflowApiError['body'],
  );
  expect(error.status).toBe(400);
  return error;
}

describe('search fields', () => {
  test('are derived on insert and upsert, for customers and their orders', async () => {
    const { models } = stack;
    const wang = await models.Customer.findOne({ customerId: 'C-1' }).lean();
    expect(wang?.search).toMatchObject({
      name: '王芳',
      pinyin: 'wangfang',
      initials: 'wf',
      nameKeys: ['王芳', 'wangfang', 'wf'],
      phone: '+8613800138000',
      phoneKey: '0008310083168',
      email: 'wang.fang@example.cn',
    });
    const emily = await models.SalesOrder.findOne({ orderNumber: 'SO-2026-0002' }).lean();
    expect(emily).toMatchObject({
      orderNumberNormalized: 'so-2026-0002',
      skus: ['cup-cer-01', 'tea-lj-250'],
      customerName: 'Emily Carter',
      customerSearch: { name: 'emily carter', nameKeys: ['emily carter', 'carter'], phone: '+14155550123' },
    });
    const demo = await models.SalesOrder.findOne({ orderNumber: 'SO-DEMO-0001' }).lean();
    expect(demo).toMatchObject({
      orderNumberNormalized: 'so-demo-0001',
      skus: ['demo-1'],
      customerName: 'Demo Customer',
      customerSearch: { phone: '+8613600000009' },
    });
  });

  test("follow a customer's new name, phone and e-mail onto its orders", async () => {
    const { models } = stack;
    await models.Customer.create({
      customerId: 'C-20',
      name: '李娜',
      phone: '13500000020',
      country: 'CN',
      language: 'zh-CN',
    });
    await models.SalesOrder.create({
      orderNumber: 'SO-RENAME-1',
      customerId: 'C-20',
      status: 'confirmed',
      currency: 'CNY',
      totalMinor: 0,
      lines: [{ lineId: 'L1', sku: 'R-1', warehouse: 'WH-SH-01', quantity: 1, unitPriceMinor: 0 }],
    });
    expect(await numbers({ customer: 'lina' })).toEqual(['SO-RENAME-1']);

    await models.Customer.updateOne(
      { customerId: 'C-20' },
      { $set: { name: '李娜娜', email: 'Li.Nana@example.cn' } },
    );
    expect(await models.Customer.findOne({ customerId: 'C-20' }).lean()).toMatchObject({
      search: { name: '李娜娜', pinyin: 'linana', initials: 'lnn', email: 'li.nana@example.cn' },
    });
    expect(await numbers({ customer: 'linan' })).toEqual(['SO-RENAME-1']);
    expect(await numbers({ email: 'li.nana@' })).toEqual(['SO-RENAME-1']);

    const customer = await models.Customer.findOne({ customerId: 'C-20' });
    if (!customer) throw new Error('customer C-20 vanished');
    customer.phone = '+86 135 0000 0021';
    await customer.save();
    expect(await numbers({ phone: '13500000021' })).toEqual(['SO-RENAME-1']);
    expect(await numbers({ phone: '13500000020' })).toEqual([]);

    await models.Customer.updateOne({ customerId: 'C-20' }, { $unset: { phone: 1 } });
    const order = await models.SalesOrder.findOne({ orderNumber: 'SO-RENAME-1' }).lean();
    expect(order?.customerSearch?.phone).toBeUndefined();
    expect(order?.customerSearch?.phoneKey).toBeUndefined();
    expect(order?.customerName).toBe('李娜娜');
  });

  test("follow an order's lines, and refuse a write that changes one line's SKU behind their back", async () => {
    const { models } = stack;
    await models.SalesOrder.updateOne(
      { orderNumber: 'SO-RENAME-1' },
      {
        $push: { lines: { lineId: 'L2', sku: 'R-2', warehouse: 'WH-SH-01', quantity: 1, unitPriceMinor: 0 } },
      },
    );
    expect((await models.SalesOrder.findOne({ orderNumber: 'SO-RENAME-1' }).lean())?.skus).toEqual([
      'r-1',
      'r-2',
    ]);
    await models.SalesOrder.updateOne(
      { orderNumber: 'SO-RENAME-1' },
      {
        $set: {
          lines: [{ lineId: 'L1', sku: 'R-3', warehouse: 'WH-SH-01', quantity: 1, unitPriceMinor: 0 }],
        },
      },
    );
    expect((await models.SalesOrder.findOne({ orderNumber: 'SO-RENAME-1' }).lean())?.skus).toEqual(['r-3']);

    await expect(
      models.SalesOrder.updateOne({ orderNumber: 'SO-RENAME-1' }, { $set: { 'lines.0.sku': 'R-4' } }),
    ).rejects.toMatchObject({ code: 'internal', details: { field: 'lines.0.sku' } });
    await expect(
      models.SalesOrder.updateOne({ orderNumber: 'SO-RENAME-1' }, { $pull: { lines: { lineId: 'L1' } } }),
    ).rejects.toMatchObject({ details: { field: 'lines' } });
    expect((await models.SalesOrder.findOne({ orderNumber: 'SO-RENAME-1' }).lean())?.lines[0]?.sku).toBe(
      'R-3',
    );
    // A positional write to another field of a line is fine.
    await models.SalesOrder.updateOne(
      { orderNumber: 'SO-RENAME-1', 'lines.lineId': 'L1' },
      { $set: { 'lines.$.cancelledQuantity': 1 } },
    );
    expect((await models.SalesOrder.findOne({ orderNumber: 'SO-RENAME-1' }).lean())?.skus).toEqual(['r-3']);
    await models.SalesOrder.deleteOne({ orderNumber: 'SO-RENAME-1' });
  });
});

describe('search fields on every other write path', () => {
  const line = (sku: string) => ({
    lineId: 'L1',
    sku,
    warehouse: 'WH-SH-01',
    quantity: 1,
    reservedQuantity: 0,
    cancelledQuantity: 0,
    unitPriceMinor: 0,
    status: 'open' as const,
  });
  const base = { status: 'draft' as const, currency: 'CNY', totalMinor: 0, history: [] };

  afterAll(async () => {
    await stack.models.SalesOrder.deleteMany({ orderNumber: /^SO-PATH-/ });
  });

  test('lean insertMany, bulkWrite and replaceOne', async () => {
    const { models } = stack;
    await models.Customer.bulkWrite([
      {
        insertOne: {
          document: {
            customerId: 'C-30',
            name: '赵敏',
            phone: '021-5555 0030',
            country: 'CN',
            language: 'zh-CN',
          },
        },
      },
    ]);
    expect((await models.Customer.findOne({ customerId: 'C-30' }).lean())?.search).toMatchObject({
      pinyin: 'zhaomin',
      initials: 'zm',
      phone: '02155550030',
    });
    const now = new Date();
    await models.SalesOrder.insertMany(
      [
        {
          ...base,
          orderNumber: 'SO-PATH-1',
          customerId: 'C-30',
          lines: [line('P-1')],
          createdAt: now,
          updatedAt: now,
        },
      ],
      { lean: true },
    );
    await models.SalesOrder.bulkWrite([
      {
        insertOne: {
          document: { ...base, orderNumber: 'SO-PATH-2', customerId: 'C-30', lines: [line('P-2')] },
        },
      },
    ]);
    await models.SalesOrder.replaceOne(
      { orderNumber: 'SO-PATH-2' },
      { ...base, orderNumber: 'SO-PATH-2', customerId: 'C-1', lines: [line('P-3')] },
    );
    expect(
      await models.SalesOrder.find({ orderNumber: /^SO-PATH-/ })
        .sort({ orderNumber: 1 })
        .lean(),
    ).toMatchObject([
      {
        orderNumberNormalized: 'so-path-1',
        skus: ['p-1'],
        customerName: '赵敏',
        customerSearch: { initials: 'zm' },
      },
      {
        orderNumberNormalized: 'so-path-2',
        skus: ['p-3'],
        customerName: '王芳',
        customerSearch: { initials: 'wf' },
      },
    ]);
  });

  test('findOneAndUpdate carries a new name to the orders; bulkWrite and pipelines that would not are refused', async () => {
    const { models } = stack;
    await models.Customer.findOneAndUpdate({ customerId: 'C-30' }, { name: '赵敏敏' });
    expect(
      (await models.SalesOrder.findOne({ orderNumber: 'SO-PATH-1' }).lean())?.customerSearch,
    ).toMatchObject({
      name: '赵敏敏',
      pinyin: 'zhaominmin',
    });
    expect(await numbers({ customer: 'zhaominm' })).toEqual(['SO-PATH-1']);

    await expect(
      models.Customer.bulkWrite([
        { updateOne: { filter: { customerId: 'C-30' }, update: { $set: { name: '赵' } } } },
      ]),
    ).rejects.toMatchObject({ details: { field: 'name' } });
    await expect(
      models.SalesOrder.updateOne({ orderNumber: 'SO-PATH-1' }, [{ $set: { lines: [] } }], {
        updatePipeline: true,
      }),
    ).rejects.toMatchObject({ details: { field: 'lines' } });
    expect((await models.Customer.findOne({ customerId: 'C-30' }).lean())?.name).toBe('赵敏敏');
    expect((await models.SalesOrder.findOne({ orderNumber: 'SO-PATH-1' }).lean())?.lines).toHaveLength(1);
  });
});

describe('GET /v1/orders', () => {
  test('without credentials is 401', async () => {
    expect((await fetch(`${stack.apiUrl}/v1/orders`)).status).toBe(401);
  });

  test('by order number, exact (case-insensitive) and by prefix', async () => {
    expect(await numbers({ orderNumber: 'SO-2026-0003' })).toEqual(['SO-2026-0003']);
    expect(await numbers({ orderNumber: ' so-2026-0003 ' })).toEqual(['SO-2026-0003']);
    expect(await numbers({ orderNumber: 'SO-2026-000' })).toEqual([]);
    expect(await numbers({ orderNumberPrefix: 'so-2026-000', sort: 'orderNumber' })).toEqual([
      'SO-2026-0001',
      'SO-2026-0002',
      'SO-2026-0003',
      'SO-2026-0004',
      'SO-2026-0005',
      'SO-2026-0006',
    ]);
  });

  test('by the start of a Chinese name', async () => {
    expect(await numbers({ customer: '王' })).toEqual(['SO-2026-0005', 'SO-2026-0004', 'SO-2026-0001']);
    expect(await numbers({ customer: '王芳' })).toEqual(['SO-2026-0005', 'SO-2026-0001']);
    expect(await numbers({ customer: '芳' })).toEqual([]);
  });

  test('by pinyin and by initials, whatever the case and spacing', async () => {
    expect(await numbers({ customer: 'wangf' })).toEqual(['SO-2026-0005', 'SO-2026-0001']);
    expect(await numbers({ customer: 'Wang Fang' })).toEqual(['SO-2026-0005', 'SO-2026-0001']);
    expect(await numbers({ customer: 'wangx' })).toEqual(['SO-2026-0004']);
    expect(await numbers({ customer: 'wf' })).toEqual(['SO-2026-0005', 'SO-2026-0001']);
    expect(await numbers({ customer: 'WXM' })).toEqual(['SO-2026-0004']);
    expect(await numbers({ customer: 'zhangw', orderNumberPrefix: 'SO-2026' })).toEqual(['SO-2026-0003']);
  });

  test('by the start of a Latin name or of a later word of it, case-insensitive', async () => {
    const emily = await numbers({ customer: 'emi', orderNumberPrefix: 'SO-2026' });
    expect(emily).toEqual(['SO-2026-0002']);
    expect(await numbers({ customer: 'EMILY C', orderNumberPrefix: 'SO-2026' })).toEqual(['SO-2026-0002']);
    expect(await numbers({ customer: 'car', orderNumberPrefix: 'SO-2026' })).toEqual(['SO-2026-0002']);
    expect(await numbers({ customer: 'arter' })).toEqual([]);
    const page = await (await clerk()).searchOrders({ customer: 'emi', orderNumberPrefix: 'SO-2026' });
    expect(page.items[0]).toEqual({
      orderNumber: 'SO-2026-0002',
      customerId: 'C-2',
      customerName: 'Emily Carter',
      status: 'allocated',
      totalMinor: 2000,
      currency: 'CNY',
      lineCount: 2,
      createdAt: '2026-01-02T09:00:00.000Z',
    });
  });

  test('by phone number in any format, or its last digits', async () => {
    for (const phone of ['+86 138 0013 8000', '0086-138-0013-8000', '138 0013 8000', '13800138000', '8000']) {
      expect(await numbers({ phone })).toEqual(['SO-2026-0005', 'SO-2026-0001']);
    }
    expect(await numbers({ phone: '(415) 555-0123', orderNumberPrefix: 'SO-2026' })).toEqual([
      'SO-2026-0002',
    ]);
    expect(await numbers({ phone: '020 7946 0958' })).toEqual(['SO-2026-0006']);
    expect(await numbers({ phone: '13800138001' })).toEqual([]);
  });

  test('by the start of an e-mail address, case-insensitive', async () => {
    expect(await numbers({ email: 'WANG.FANG@example' })).toEqual(['SO-2026-0005', 'SO-2026-0001']);
    expect(await numbers({ email: 'emily.carter@example.com', orderNumberPrefix: 'SO-2026' })).toEqual([
      'SO-2026-0002',
    ]);
    expect(await numbers({ email: 'example.com' })).toEqual([]);
  });

  test('by the start of a SKU on any line', async () => {
    expect(await numbers({ sku: 'TEA-LJ-250' })).toEqual(['SO-2026-0002', 'SO-2026-0001']);
    expect(await numbers({ sku: 'tea-lj' })).toEqual(['SO-2026-0004', 'SO-2026-0002', 'SO-2026-0001']);
    expect(await numbers({ sku: 'cup' })).toEqual(['SO-2026-0005', 'SO-2026-0002']);
  });

  test('by creation date: a date includes its whole day (UTC), a date-time bound is exact', async () => {
    expect(await numbers({ createdFrom: '2026-01-02', createdTo: '2026-01-05' })).toEqual([
      'SO-2026-0005',
      'SO-2026-0004',
      'SO-2026-0003',
      'SO-2026-0002',
    ]);
    expect(
      await numbers({ createdFrom: '2026-01-02T09:00:00Z', createdTo: '2026-01-05T23:29:59+00:00' }),
    ).toEqual(['SO-2026-0004', 'SO-2026-0003', 'SO-2026-0002']);
    // 2026-01-06 09:00 China time is 01:00 UTC, before SO-2026-0006 (09:00 UTC).
    expect(
      await numbers({ createdFrom: '2026-01-05T00:00:00+08:00', createdTo: '2026-01-06T09:00:00+08:00' }),
    ).toEqual(['SO-2026-0005']);
    expect(await numbers({ createdFrom: '2026-01-06' })).toEqual(['SO-DEMO-0001', 'SO-2026-0006']);
  });

  test('by status, one or several', async () => {
    expect(await numbers({ status: 'shipped' })).toEqual(['SO-2026-0003']);
    expect(await numbers({ status: ['shipped', 'cancelled'] })).toEqual(['SO-2026-0004', 'SO-2026-0003']);
    // Comma-separated in the query string does the same.
    const response = await fetch(`${stack.apiUrl}/v1/orders?status=shipped,cancelled`, {
      headers: await credentials(),
    });
    const page = (await response.json()) as { items: { orderNumber: string }[] };
    expect(page.items.map((item) => item.orderNumber)).toEqual(['SO-2026-0004', 'SO-2026-0003']);
  });

  test('criteria combined must all match', async () => {
    expect(await numbers({ customer: '王', status: 'confirmed' })).toEqual(['SO-2026-0001']);
    expect(await numbers({ customer: 'wf', sku: 'cup', createdFrom: '2026-01-05' })).toEqual([
      'SO-2026-0005',
    ]);
    expect(
      await numbers({ phone: '8000', status: ['confirmed', 'delivered'], createdTo: '2026-01-04' }),
    ).toEqual(['SO-2026-0001']);
    expect(
      await numbers({ orderNumberPrefix: 'SO-2025', customer: 'emily', status: 'confirmed', sku: 'bulk-0' }),
    ).toEqual(['SO-2025-1000']);
    expect(await numbers({ customer: '王芳', email: 'emily' })).toEqual([]);
  });

  test('regular-expression characters in input match literally', async () => {
    expect(await numbers({ customer: 'a.b (test)*' })).toEqual(['SO-2026-0006']);
    expect(await numbers({ customer: 'a.b (' })).toEqual(['SO-2026-0006']);
    expect(await numbers({ customer: 'a.c' })).toEqual([]);
    expect(await numbers({ customer: '.*' })).toEqual([]);
    expect(await numbers({ sku: 'X.1+(' })).toEqual(['SO-2026-0006']);
    expect(await numbers({ sku: 'X.1+)' })).toEqual([]);
    expect(await numbers({ email: 'a.b+test@' })).toEqual(['SO-2026-0006']);
    expect(await numbers({ email: 'a.b+tes[t]' })).toEqual([]);
    expect(await numbers({ orderNumberPrefix: 'SO-20.6' })).toEqual([]);
    expect(await numbers({ orderNumberPrefix: '^SO' })).toEqual([]);
  });

  test('a control character in a search text is refused (a NUL used to reach the database and answer 500)', async () => {
    for (const query of [{ email: 'wang\u0000@x' }, { customer: 'a\u0007b' }, { sku: 'TEA\u007f' }])
      expect((await refusal(query)).body.message).toContain('no control characters');
  });

  test.each(['-createdAt', 'createdAt', 'orderNumber', '-orderNumber'] as const)(
    'pages sorted by %s follow each other without duplicates or gaps',
    async (sort) => {
      const all = await numbers({ orderNumberPrefix: 'SO-2025', sort });
      expect(all).toHaveLength(30);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await (
          await clerk()
        ).searchOrders({ orderNumberPrefix: 'SO-2025', sort, limit: 7, cursor });
        seen.push(...page.items.map((item) => item.orderNumber));
        expect(page.hasMore).toBe(page.nextCursor !== undefined);
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor);
      expect(pages).toBe(5);
      expect(seen).toEqual(all);
    },
  );

  test('sorts newest first by default, or oldest first, or by order number either way', async () => {
    const byOrderNumber = [...namedOrders.map((order) => order.orderNumber)].sort();
    const filter = { orderNumberPrefix: 'SO-2026' };
    expect(await numbers(filter)).toEqual([...byOrderNumber].reverse());
    expect(await numbers({ ...filter, sort: 'createdAt' })).toEqual(byOrderNumber);
    expect(await numbers({ ...filter, sort: 'orderNumber' })).toEqual(byOrderNumber);
    expect(await numbers({ ...filter, sort: '-orderNumber' })).toEqual([...byOrderNumber].reverse());

    const newestFirst = (await (await clerk()).searchOrders({ orderNumberPrefix: 'SO-2025', limit: 100 }))
      .items;
    const times = newestFirst.map((item) => Date.parse(item.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  test('counts every match when asked, and says whether more pages follow', async () => {
    const page = await (await clerk()).searchOrders({ customer: 'emily', limit: 5, count: true });
    expect(page).toMatchObject({ hasMore: true, total: 16 });
    expect(page.items).toHaveLength(5);
    const last = await (await clerk()).searchOrders({ customer: 'emily', limit: 16 });
    expect(last.hasMore).toBe(false);
    expect(last.nextCursor).toBeUndefined();
    expect(last.total).toBeUndefined();
  });

  test.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '101' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ status: 'lost' }, 'status[0]'],
    [{ status: 'shipped,lost' }, 'status[1]'],
    [{ createdFrom: 'yesterday' }, 'createdFrom'],
    [{ createdTo: '2026-02-30' }, 'createdTo'],
    [{ createdFrom: '2026-02-01', createdTo: '2026-01-01' }, 'createdTo'],
    [{ phone: '12' }, 'phone'],
    [{ phone: '138-abc-0000' }, 'phone'],
    [{ customer: '   ' }, 'customer'],
    [{ sku: 'x'.repeat(65) }, 'sku'],
    [{ sort: 'total' }, 'sort'],
    [{ count: 'maybe' }, 'count'],
    [{ cursor: 'not-a-cursor' }, 'cursor'],
    [{ colour: 'red' }, 'colour'],
  ])('refuses %j with 400 naming %s', async (query, field) => {
    const error = await refusal(query);
    expect(error.body).toMatchObject({ error: 'validation_failed', details: { field } });
  });

  test('refuses a cursor from another sort order, or one that was tampered with', async () => {
    const page = await (await clerk()).searchOrders({ orderNumberPrefix: 'SO-2025', limit: 2 });
    expect(page.nextCursor).toBeDefined();
    const error = await refusal({
      orderNumberPrefix: 'SO-2025',
      sort: 'orderNumber',
      cursor: page.nextCursor,
    });
    expect(error.body).toMatchObject({ error: 'validation_failed', details: { field: 'cursor' } });
    const tampered = Buffer.from(JSON.stringify({ sort: '-createdAt', after: ['soon', 'x'] })).toString(
      'base64url',
    );
    expect((await refusal({ cursor: tampered })).body).toMatchObject({ details: { field: 'cursor' } });
  });
});

describe('GET /v1/orders/{orderNumber}', () => {
  test('returns the order with its lines, payments and cancellation history', async () => {
    const accepted = await (
      await clerk()
    ).createCancellation({
      orderNumber: 'SO-DEMO-0001',
      reasonCode: 'customer_changed_mind',
      confirm: ['awaiting_shipment'],
    });
    const order = await (await clerk()).getOrder('so-demo-0001');
    expect(order).toMatchObject({
      orderNumber: 'SO-DEMO-0001',
      customerId: 'C-9',
      customerName: 'Demo Customer',
      currency: 'CNY',
      totalMinor: 10000,
      lines: [{ lineId: 'L1', sku: 'DEMO-1', quantity: 2, unitPriceMinor: 5000, warehouse: 'WH-SH-01' }],
      payments: [{ paymentId: 'PAY-SO-DEMO-0001', capturedMinor: 10000, currency: 'CNY', method: 'card' }],
      cancellations: [
        {
          cancellationId: accepted.cancellationId,
          reasonCode: 'customer_changed_mind',
          requestedBy: 'clerk-1',
        },
      ],
    });
    expect(order.history[0]).toMatchObject({ actor: 'demo-data' });
    expect(order).not.toHaveProperty('customerSearch');
  });

  test('answers 404 for an order that does not exist', async () => {
    const error = await (await clerk()).getOrder('SO-NOPE-0001').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CancelflowApiError);
    expect(error).toMatchObject({
      status: 404,
      body: { error: 'not_found', details: { field: 'orderNumber' } },
    });
  });
});
