// The analytics (R22, R23, R29) through the real API and typed client, on the run's database. Two sources:
//
// - Records inserted as the books hold them, in 2025 (a known set: seven cancellations, the stock ledger's
//   movements and three purchase orders with their adjustments), so every figure is checked to the unit and
//   the millisecond: grouping, ordering, zero-filled periods, the window's offset, money per currency.
// - Two cancellations run through the real flow today (a requester's API key, and a signed-in session; one with a
//   back-ordered line on a purchase order already sent, approved by a manager), to check that what the flow
//   writes (channel, department, refunds, the ledger, the purchase order, the timeline) is what the figures read.
//
// Also: CSV (by ?format=csv and by Accept; RFC 4180 quoting, formula-safe), who may read (403, 401), bad filters
// (400 naming the field), the OpenAPI document, and the console's page for someone allowed.
import type { AnalyticsAnswer, AnalyticsFigure, AnalyticsQuery } from '../client/cancelflow-client';
import { CancelflowApiError, CancelflowClient } from '../client/cancelflow-client';
import { addCustomer, addPeople, addProduct, placePaidOrder, receiveStock } from '../generators/demo-data';
import { analyticsSummaryOf, backfillAnalyticsSummaries } from '../models/analytics-summary';
import { issueApiKey, setPassword } from '../models/credentials';
import { linkToOrder } from '../models/order-links';
import { eventually } from './support/eventually';
import { startTestStack, type TestStack } from './support/stack';

const PASSWORD = 'analytics test password';
let stack: TestStack;
/** Bearer tokens, for calls made without the typed client (CSV headers, the console's page). */
const tokens = new Map<string, string>();

const at = (iso: string, plusMs = 0) => new Date(Date.parse(iso) + plusMs);
const S = 1000;
const H = 3_600_000;

/** A timeline entering each state `afterMs` after the cancellation was asked for. */
const timeline = (start: string, entries: [string, number][]) =>
  entries.map(([state, afterMs], step) => ({ step, state, at: at(start, afterMs) }));

const line = (sku: string, quantity: number, amountMinor: number) => ({
  lineId: `L-${sku}`,
  sku,
  warehouse: 'WH-AN',
  quantity,
  amountMinor,
});

// prettier-ignore
const CANCELLATIONS = [
  { id: 'an-1', customerId: 'C-A', reasonCode: 'customer_changed_mind', createdAt: '2025-01-06T10:00:00Z',
    outcome: 'completed', state: 'completed', currency: 'CNY', refundedMinor: 10_000,
    lines: [line('AN-TEA', 2, 10_000)], requestedBy: 'clerk-1', requesterDepartment: 'sales', channel: 'console',
    risk: 'low', steps: [['loadingPolicy', 0], ['reviewing', S], ['releasingStock', 3 * S], ['refunding', 6 * S], ['completed', 10 * S]] },
  // Asked for by a system not in the books: its department is unknown.
  { id: 'an-2', customerId: 'C-A', reasonCode: 'out_of_stock', createdAt: '2025-01-07T23:30:00Z',
    outcome: 'completed', state: 'completed', currency: 'CNY', refundedMinor: 5_000,
    lines: [line('AN-TEA', 1, 5_000), line('AN-CUP', 3, 3_000)], requestedBy: 'erp:system', channel: 'api_key',
    risk: 'medium', escalations: 1,
    steps: [['loadingPolicy', 0], ['awaitingApproval.waitingForDecision', S], ['proceeding', S + H], ['releasingStock', 2 * S + H], ['completed', 5 * S + H]] },
  // Recorded before department and channel were: the requester's department comes from the books.
  { id: 'an-3', customerId: 'C-B', reasonCode: 'customer_changed_mind', createdAt: '2025-01-20T08:00:00Z',
    outcome: 'rejected', state: 'rejected', currency: 'CNY', refundedMinor: 0,
    lines: [line('AN-CUP', 1, 1_000)], requestedBy: 'manager-1', risk: 'high',
    steps: [['loadingPolicy', 0], ['awaitingApproval.waitingForDecision', 2 * S], ['awaitingApproval.waitingForDecision', 2 * S + H], ['rejected', 2 * S + 2 * H]] },
  // Still waiting for approval: running, and not an ended approval.
  { id: 'an-4', customerId: 'C-A', reasonCode: 'price_error', createdAt: '2025-02-03T00:00:00Z',
    state: 'awaitingApproval.waitingForDecision', currency: 'USD', refundedMinor: 0,
    lines: [line('AN-TEA', 1, 5_000)], requestedBy: 'clerk-1', requesterDepartment: 'sales', channel: 'api_session',
    risk: 'high', steps: [['loadingPolicy', 0], ['awaitingApproval.waitingForDecision', S]] },
  { id: 'an-5', customerId: 'C-C', reasonCode: 'duplicate_order', createdAt: '2025-02-10T12:00:00Z',
    outcome: 'completed', state: 'completed', currency: 'USD', refundedMinor: 2_500,
    lines: [line('AN-VASE', 1, 2_500)], requestedBy: 'director-1', requesterDepartment: 'finance',
    channel: 'api_session', risk: 'low', steps: [['loadingPolicy', 0], ['completed', 5 * S]] },
  // Terminated by ops (no outcome): stopped. Its customer id would be a formula in a spreadsheet.
  { id: 'an-6', customerId: '=SUM(1+1)', reasonCode: 'other', createdAt: '2025-03-15T00:00:00Z',
    state: 'workflow terminated', lines: [], requestedBy: 'clerk-1', requesterDepartment: 'sales',
    channel: 'console', steps: [] },
  // On 31 December in UTC, on 1 January at +08:00.
  { id: 'an-7', customerId: 'C-A', reasonCode: 'other', createdAt: '2024-12-31T23:59:59Z',
    outcome: 'completed', state: 'completed', currency: 'CNY', refundedMinor: 0, lines: [],
    requestedBy: 'clerk-1', requesterDepartment: 'sales', channel: 'console', risk: 'low',
    steps: [['loadingPolicy', 0], ['completed', 100 * S]] },
] as const;

const movement = (
  key: string,
  type: 'release' | 'return',
  sku: string,
  units: number,
  createdAt: string,
  extra: { state?: string; reason?: string } = {},
) => ({
  idempotencyKey: key,
  type,
  sku,
  warehouse: 'WH-AN',
  onHandDelta: type === 'return' ? units : 0,
  reservedDelta: type === 'release' ? -units : 0,
  document: { kind: 'sales_order', id: 'SO-AN' },
  actor: 'cancelflow',
  reason: extra.reason ?? `cancellation ${key}`,
  state: extra.state ?? 'applied',
  createdAt: new Date(createdAt),
  updatedAt: new Date(createdAt),
});

const reduction = (
  at: string,
  statusBefore: string,
  changes: { lineId: string; quantity: number }[],
  refusals: { lineId: string; quantity: number }[] = [],
) => ({
  key: `reduce-${at}`,
  kind: 'reduce_for_cancellation',
  at: new Date(at),
  actor: 'cancelflow',
  orderNumber: 'SO-AN',
  changes: changes.map((change) => ({ ...change, salesLineId: 'L1' })),
  refusals: refusals.map((refusal) => ({ ...refusal, salesLineId: 'L1', reason: 'supplier_shipped' })),
  statusBefore,
  statusAfter: statusBefore,
});

const poLine = (lineId: string, sku: string, unitCostMinor: number, orderedQuantity: number) => ({
  lineId,
  sku,
  unitCostMinor,
  orderedQuantity,
  cancelledQuantity: 0,
  supplierShippedQuantity: 0,
  receivedQuantity: 0,
  raisedFor: [],
});

async function insertKnownBooks(): Promise<void> {
  const { models } = stack;
  await models.Cancellation.collection.insertMany(
    CANCELLATIONS.map((record) => ({
      cancellationId: record.id,
      workflowId: `cancellation-${record.id}`,
      orderNumber: `SO-${record.id}`,
      customerId: record.customerId,
      reasonCode: record.reasonCode,
      requestedBy: record.requestedBy,
      ...('requesterDepartment' in record ? { requesterDepartment: record.requesterDepartment } : {}),
      ...('channel' in record ? { channel: record.channel } : {}),
      confirmed: [],
      state: record.state,
      ...('outcome' in record ? { outcome: record.outcome } : {}),
      ...('risk' in record ? { risk: { level: record.risk, reasons: [] } } : {}),
      ...('escalations' in record ? { approval: { escalations: record.escalations } } : {}),
      refundedMinor: 'refundedMinor' in record ? record.refundedMinor : 0,
      ...('currency' in record ? { currency: record.currency } : {}),
      lines: [...record.lines],
      notifications: [],
      timeline: timeline(
        record.createdAt,
        record.steps.map(([state, ms]) => [state, ms]),
      ),
      createdAt: new Date(record.createdAt),
      updatedAt: new Date(record.createdAt),
    })),
  );
  await models.Product.collection.insertMany([
    { sku: 'AN-TEA', name: '龙井茶', unitPriceMinor: 5_000, unitCostMinor: 3_000, currency: 'CNY' },
    { sku: 'AN-CUP', name: 'Tea cup', unitPriceMinor: 1_000, unitCostMinor: 400, currency: 'CNY' },
    // No purchase cost known: its units count, its value does not. A name a CSV must quote.
    { sku: 'AN-VASE', name: 'Vase, "celadon"', unitPriceMinor: 2_500, currency: 'USD' },
  ]);
  await models.StockMovement.collection.insertMany([
    movement('an-1:release:L1', 'release', 'AN-TEA', 2, '2025-01-06T10:00:05Z'),
    movement('an-2:release:L2', 'release', 'AN-CUP', 3, '2025-01-08T01:00:00Z'),
    movement('an-2:return:SH1:L1', 'return', 'AN-TEA', 1, '2025-01-09T01:00:00Z'),
    // Not a cancellation's, and not applied: neither counts.
    movement('stock-check-1', 'release', 'AN-TEA', 5, '2025-01-10T00:00:00Z', { reason: 'stock check' }),
    movement('an-9:release:L1', 'release', 'AN-TEA', 4, '2025-01-10T00:00:00Z', { state: 'pending' }),
    movement('an-5:release:L1', 'release', 'AN-VASE', 1, '2025-02-10T12:00:10Z'),
  ]);
  await models.PurchaseOrder.collection.insertMany([
    {
      poNumber: 'PO-AN-1',
      supplier: { supplierId: 'SUP-1', name: '宜兴陶瓷厂' },
      status: 'confirmed',
      currency: 'CNY',
      dropShip: false,
      lines: [poLine('P1', 'AN-CUP', 400, 10), poLine('P2', 'AN-TEA', 3_000, 5)],
      adjustments: [
        reduction(
          '2025-01-08T01:00:00Z',
          'confirmed',
          [{ lineId: 'P1', quantity: 3 }],
          [{ lineId: 'P2', quantity: 2 }],
        ),
        {
          ...reduction('2025-01-09T00:00:00Z', 'confirmed', [{ lineId: 'P2', quantity: 2 }]),
          kind: 'supplier_shipped',
        },
        // Not yet sent: the supplier had nothing to be told.
        reduction('2025-01-20T09:00:00Z', 'draft', [{ lineId: 'P2', quantity: 1 }]),
      ],
      revision: 3,
    },
    {
      poNumber: 'PO-AN-2',
      supplier: { supplierId: 'SUP-1', name: '宜兴陶瓷厂' },
      status: 'sent',
      currency: 'CNY',
      dropShip: false,
      lines: [poLine('P1', 'AN-TEA', 2_800, 4)],
      adjustments: [reduction('2025-02-01T00:00:00Z', 'sent', [{ lineId: 'P1', quantity: 4 }])],
      revision: 1,
    },
    {
      poNumber: 'PO-AN-3',
      supplier: { supplierId: 'SUP-2', name: 'Jingdezhen Porcelain' },
      status: 'confirmed',
      currency: 'USD',
      dropShip: false,
      lines: [poLine('P1', 'AN-VASE', 1_200, 2)],
      adjustments: [
        reduction('2024-12-01T00:00:00Z', 'confirmed', [{ lineId: 'P1', quantity: 1 }]),
        // Asked for, but nothing could come off.
        reduction('2025-03-01T00:00:00Z', 'confirmed', [], [{ lineId: 'P1', quantity: 2 }]),
      ],
      revision: 2,
    },
  ]);
}

beforeAll(async () => {
  stack = await startTestStack('analytics');
  await addPeople(stack.models);
  for (const personId of ['clerk-1', 'manager-1', 'director-1', 'finance-1', 'warehouse-1', 'ops-1']) {
    const person = await stack.models.Person.findOne({ personId }).lean();
    const { token } = await issueApiKey(stack.models, {
      name: `analytics ${personId}`,
      personId,
      scopes: person?.roles ?? [],
      createdBy: 'test',
    });
    tokens.set(personId, token);
  }
  await setPassword(stack.models, 'clerk-1', PASSWORD);
  await insertKnownBooks();
  // The known records are inserted as an older version wrote them, without the analytics' summary: the
  // migration `npm start` runs computes it (#14), and every figure below reads it.
  expect(await backfillAnalyticsSummaries(stack.models)).toBe(CANCELLATIONS.length);
});

afterAll(async () => {
  await stack?.stop();
}, 120_000);

/** Over the first quarter of 2025, in UTC: the known records (an-7 is the day before). */
const QUARTER = { from: '2025-01-01', to: '2025-03-31' } as const;

async function figure<F extends AnalyticsFigure>(
  name: F,
  query?: AnalyticsQuery<F>,
): Promise<AnalyticsAnswer<F>> {
  return (await stack.as('finance-1')).getAnalytics(name, query ?? (QUARTER as AnalyticsQuery<F>));
}

const counts = (cancellations: number, completed: number, stopped: number, running: number) => ({
  cancellations,
  completed,
  stopped,
  running,
});

describe('figures over the known records', () => {
  test('by reason: every reason, most first, with what became of them', async () => {
    const answer = await figure('reasons');
    expect(answer).toMatchObject({
      from: '2025-01-01T00:00:00.000Z',
      to: '2025-04-01T00:00:00.000Z',
      utcOffset: '+00:00',
    });
    expect(answer.rows).toEqual([
      { reasonCode: 'customer_changed_mind', ...counts(2, 1, 1, 0) },
      { reasonCode: 'duplicate_order', ...counts(1, 1, 0, 0) },
      { reasonCode: 'other', ...counts(1, 0, 1, 0) },
      { reasonCode: 'out_of_stock', ...counts(1, 1, 0, 0) },
      { reasonCode: 'price_error', ...counts(1, 0, 0, 1) },
      { reasonCode: 'address_problem', ...counts(0, 0, 0, 0) },
      { reasonCode: 'delivery_delay', ...counts(0, 0, 0, 0) },
      { reasonCode: 'suspected_fraud', ...counts(0, 0, 0, 0) },
    ]);
  });

  test('over time: weeks from Monday and months, empty periods with zeros', async () => {
    const weeks = await figure('over-time', { ...QUARTER, granularity: 'week' });
    expect(weeks.granularity).toBe('week');
    expect(weeks.rows.map((row) => row.period)).toEqual([
      '2024-12-30',
      '2025-01-06',
      '2025-01-13',
      '2025-01-20',
      '2025-01-27',
      '2025-02-03',
      '2025-02-10',
      '2025-02-17',
      '2025-02-24',
      '2025-03-03',
      '2025-03-10',
      '2025-03-17',
      '2025-03-24',
      '2025-03-31',
    ]);
    const busy = Object.fromEntries(
      weeks.rows.filter((row) => row.cancellations > 0).map((row) => [row.period, row]),
    );
    expect(busy).toEqual({
      '2025-01-06': { period: '2025-01-06', ...counts(2, 2, 0, 0) },
      '2025-01-20': { period: '2025-01-20', ...counts(1, 0, 1, 0) },
      '2025-02-03': { period: '2025-02-03', ...counts(1, 0, 0, 1) },
      '2025-02-10': { period: '2025-02-10', ...counts(1, 1, 0, 0) },
      '2025-03-10': { period: '2025-03-10', ...counts(1, 0, 1, 0) },
    });
    const months = await figure('over-time', { ...QUARTER, granularity: 'month' });
    expect(months.rows).toEqual([
      { period: '2025-01-01', ...counts(3, 2, 1, 0) },
      { period: '2025-02-01', ...counts(2, 1, 0, 1) },
      { period: '2025-03-01', ...counts(1, 0, 1, 0) },
    ]);
  });

  test('days start at the offset asked for: at +08:00 the last moment of 2024 in UTC is 1 January', async () => {
    const days = await figure('over-time', {
      from: '2025-01-01',
      to: '2025-01-08',
      granularity: 'day',
      utcOffset: '+08:00',
    });
    expect(days).toMatchObject({ from: '2024-12-31T16:00:00.000Z', to: '2025-01-08T16:00:00.000Z' });
    expect(days.rows).toHaveLength(8);
    expect(
      days.rows.filter((row) => row.cancellations > 0).map((row) => [row.period, row.cancellations]),
    ).toEqual([
      ['2025-01-01', 1],
      ['2025-01-06', 1],
      ['2025-01-08', 1],
    ]);
    // The same in UTC: an-7 falls before the window, an-2 on the 7th.
    const utc = await figure('over-time', { from: '2025-01-01', to: '2025-01-08', granularity: 'day' });
    expect(
      utc.rows.filter((row) => row.cancellations > 0).map((row) => [row.period, row.cancellations]),
    ).toEqual([
      ['2025-01-06', 1],
      ['2025-01-07', 1],
    ]);
  });

  test('by product: per SKU and currency, the units and value the completed ones took back', async () => {
    const answer = await figure('products');
    expect(answer.rows).toEqual([
      {
        sku: 'AN-CUP',
        name: 'Tea cup',
        cancellations: 2,
        completed: 1,
        unitsCancelled: 3,
        amountMinor: 3_000,
        currency: 'CNY',
      },
      {
        sku: 'AN-TEA',
        name: '龙井茶',
        cancellations: 2,
        completed: 2,
        unitsCancelled: 3,
        amountMinor: 15_000,
        currency: 'CNY',
      },
      {
        sku: 'AN-VASE',
        name: 'Vase, "celadon"',
        cancellations: 1,
        completed: 1,
        unitsCancelled: 1,
        amountMinor: 2_500,
        currency: 'USD',
      },
      {
        sku: 'AN-TEA',
        name: '龙井茶',
        cancellations: 1,
        completed: 0,
        unitsCancelled: 0,
        amountMinor: 0,
        currency: 'USD',
      },
    ]);
    expect((await figure('products', { ...QUARTER, limit: 1 })).rows.map((row) => row.sku)).toEqual([
      'AN-CUP',
    ]);
    // One reason only.
    expect(
      (await figure('products', { ...QUARTER, reasonCode: 'out_of_stock' })).rows.map((row) => row.sku),
    ).toEqual(['AN-CUP', 'AN-TEA']);
  });

  test('by customer, and the customers who cancel again and again (R29)', async () => {
    const customers = await figure('customers');
    expect(customers.rows).toEqual([
      { customerId: 'C-A', ...counts(3, 2, 0, 1) },
      { customerId: '=SUM(1+1)', ...counts(1, 0, 1, 0) },
      { customerId: 'C-B', ...counts(1, 0, 1, 0) },
      { customerId: 'C-C', ...counts(1, 1, 0, 0) },
    ]);
    const repeat = await figure('repeat-cancellers');
    expect(repeat.summary).toEqual({ customers: 4, repeatCustomers: 1 });
    expect(repeat.rows).toEqual([
      {
        customerId: 'C-A',
        cancellations: 3,
        completed: 2,
        firstAt: '2025-01-06T10:00:00.000Z',
        lastAt: '2025-02-03T00:00:00.000Z',
        reasons: ['customer_changed_mind', 'out_of_stock', 'price_error'],
      },
    ]);
    expect((await figure('repeat-cancellers', { ...QUARTER, minimum: 4 })).rows).toEqual([]);
  });

  test('by department (recorded, or the requester’s from the books) and by channel', async () => {
    expect((await figure('departments')).rows).toEqual([
      { department: 'sales', ...counts(4, 1, 2, 1) },
      { department: 'finance', ...counts(1, 1, 0, 0) },
      { department: 'unknown', ...counts(1, 1, 0, 0) },
      { department: 'logistics', ...counts(0, 0, 0, 0) },
      { department: 'purchasing', ...counts(0, 0, 0, 0) },
    ]);
    expect((await figure('channels')).rows).toEqual([
      { channel: 'api_session', ...counts(2, 1, 0, 1) },
      { channel: 'console', ...counts(2, 1, 1, 0) },
      { channel: 'api_key', ...counts(1, 1, 0, 0) },
      { channel: 'unrecorded', ...counts(1, 0, 1, 0) },
      { channel: 'customer_link', ...counts(0, 0, 0, 0) },
    ]);
  });

  test('customers who asked themselves (their order link) count under a department of their own', async () => {
    // Outside the known window (June 2024), so the other figures do not see them.
    const asked = (id: string, customerId: string) => ({
      cancellationId: id,
      workflowId: `cancellation-${id}`,
      orderNumber: `SO-${id}`,
      customerId,
      reasonCode: 'customer_changed_mind',
      requestedBy: `customer:${customerId}`,
      channel: 'customer_link',
      state: 'completed',
      outcome: 'completed',
      refundedMinor: 0,
      lines: [],
      timeline: [],
      createdAt: new Date('2024-06-03T10:00:00Z'),
      // Written now, with their summary, as the flow writes them: the rollups see records changed since.
      updatedAt: new Date(),
      analytics: analyticsSummaryOf({ lines: [], timeline: [] }),
    });
    await stack.models.Cancellation.collection.insertMany([asked('an-c1', 'C-X'), asked('an-c2', 'C-Y')]);
    // The backfill has left its marker: it reads no record again.
    expect(await backfillAnalyticsSummaries(stack.models)).toBe(0);
    const june = { from: '2024-06-01', to: '2024-06-30' } as const;
    expect((await figure('departments', june)).rows[0]).toEqual({
      department: 'customer',
      ...counts(2, 2, 0, 0),
    });
    // finance-1 reads the console in Chinese.
    const page = await get(`/console/analytics?from=${june.from}&to=${june.to}`, 'finance-1');
    expect(await page.text()).toContain('客户自助');
  });

  test('refunds per currency, in minor units', async () => {
    expect((await figure('refunds')).rows).toEqual([
      { currency: 'CNY', cancellations: 2, refundedMinor: 15_000 },
      { currency: 'USD', cancellations: 1, refundedMinor: 2_500 },
    ]);
  });

  test('stock back from cancellations, at cost; other and pending movements do not count', async () => {
    expect((await figure('restocked')).rows).toEqual([
      {
        sku: 'AN-TEA',
        name: '龙井茶',
        releasedUnits: 2,
        returnedUnits: 1,
        units: 3,
        unitCostMinor: 3_000,
        valueMinor: 9_000,
        currency: 'CNY',
      },
      {
        sku: 'AN-CUP',
        name: 'Tea cup',
        releasedUnits: 3,
        returnedUnits: 0,
        units: 3,
        unitCostMinor: 400,
        valueMinor: 1_200,
        currency: 'CNY',
      },
      { sku: 'AN-VASE', name: 'Vase, "celadon"', releasedUnits: 1, returnedUnits: 0, units: 1 },
    ]);
  });

  test('purchase orders reduced, per supplier: units, value at cost, and changes the supplier was told of', async () => {
    expect((await figure('suppliers')).rows).toEqual([
      {
        supplierId: 'SUP-1',
        supplierName: '宜兴陶瓷厂',
        currency: 'CNY',
        purchaseOrders: 2,
        reductions: 3,
        unitsReduced: 8,
        valueReducedMinor: 3 * 400 + 3_000 + 4 * 2_800,
        unitsNotReduced: 2,
        supplierToldOfChanges: 2,
      },
      {
        supplierId: 'SUP-2',
        supplierName: 'Jingdezhen Porcelain',
        currency: 'USD',
        purchaseOrders: 0,
        reductions: 0,
        unitsReduced: 0,
        valueReducedMinor: 0,
        unitsNotReduced: 2,
        supplierToldOfChanges: 0,
      },
    ]);
  });

  test('approval times per risk level, ended approvals only; time spent in each state', async () => {
    expect((await figure('approvals')).rows).toEqual([
      {
        riskLevel: 'medium',
        approvals: 1,
        rejected: 0,
        escalations: 1,
        averageMs: H,
        medianMs: H,
        p90Ms: H,
        maxMs: H,
      },
      {
        riskLevel: 'high',
        approvals: 1,
        rejected: 1,
        escalations: 0,
        averageMs: 2 * H,
        medianMs: 2 * H,
        p90Ms: 2 * H,
        maxMs: 2 * H,
      },
    ]);
    expect((await figure('state-times')).rows).toEqual([
      { state: 'awaitingApproval', stays: 3, totalMs: 3 * H, averageMs: H, maxMs: H },
      { state: 'loadingPolicy', stays: 5, totalMs: 10 * S, averageMs: 2 * S, maxMs: 5 * S },
      { state: 'releasingStock', stays: 2, totalMs: 6 * S, averageMs: 3 * S, maxMs: 3 * S },
      { state: 'refunding', stays: 1, totalMs: 4 * S, averageMs: 4 * S, maxMs: 4 * S },
      { state: 'reviewing', stays: 1, totalMs: 2 * S, averageMs: 2 * S, maxMs: 2 * S },
      { state: 'proceeding', stays: 1, totalMs: S, averageMs: S, maxMs: S },
    ]);
  });
});

/** A minimal RFC 4180 reader: the fields of each line, quotes undone. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  for (let index = 0; index < text.length; index += 1) {
    const character = text[index];
    if (quoted) {
      if (character === '"' && text[index + 1] === '"') {
        field += '"';
        index += 1;
      } else if (character === '"') quoted = false;
      else field += character;
    } else if (character === '"') quoted = true;
    else if (character === ',') {
      row.push(field);
      field = '';
    } else if (character === '\r' && text[index + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      index += 1;
    } else field += character;
  }
  if (field !== '' || row.length > 0)
    throw new Error(`the CSV does not end with CRLF: ${JSON.stringify(text)}`);
  return rows;
}

async function get(path: string, personId: string | undefined, headers: Record<string, string> = {}) {
  const token = personId ? tokens.get(personId) : undefined;
  return fetch(`${stack.apiUrl}${path}`, {
    headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
}

describe('CSV', () => {
  test('?format=csv: a header, a line per row, RFC 4180 quoting, a file name, formulas defused', async () => {
    const response = await get(
      '/v1/analytics/customers?from=2025-01-01&to=2025-03-31&format=csv',
      'finance-1',
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe(
      'attachment; filename="cancelflow-customers-2025-01-01-2025-03-31.csv"',
    );
    const bytes = Buffer.from(await response.arrayBuffer());
    // UTF-8's byte-order mark first, so that spreadsheets read the Chinese as Chinese.
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.subarray(3).toString('utf8');
    expect(text.startsWith('customerId,cancellations,completed,stopped,running\r\n')).toBe(true);
    expect(parseCsv(text)).toEqual([
      ['customerId', 'cancellations', 'completed', 'stopped', 'running'],
      ['C-A', '3', '2', '0', '1'],
      // A spreadsheet reads this as text, not as =SUM(1+1).
      ["'=SUM(1+1)", '1', '0', '1', '0'],
      ['C-B', '1', '0', '1', '0'],
      ['C-C', '1', '1', '0', '0'],
    ]);
  });

  test('Accept: text/csv, through the typed client; commas and quotes quoted, lists joined', async () => {
    const client = await stack.as('ops-1');
    const products = await client.getAnalyticsCsv('products', QUARTER);
    // fetch's text() drops the byte-order mark.
    const rows = parseCsv(products);
    expect(rows[0]).toEqual([
      'sku',
      'name',
      'cancellations',
      'completed',
      'unitsCancelled',
      'amountMinor',
      'currency',
    ]);
    expect(rows).toContainEqual(['AN-VASE', 'Vase, "celadon"', '1', '1', '1', '2500', 'USD']);
    expect(products).toContain('"Vase, ""celadon"""');
    expect(rows.every((row) => row.length === 7)).toBe(true);
    const repeat = parseCsv(await client.getAnalyticsCsv('repeat-cancellers', QUARTER));
    expect(repeat[1]).toEqual([
      'C-A',
      '3',
      '2',
      '2025-01-06T10:00:00.000Z',
      '2025-02-03T00:00:00.000Z',
      'customer_changed_mind; out_of_stock; price_error',
    ]);
    // Rows without a value in a column leave it empty.
    const restocked = parseCsv(await client.getAnalyticsCsv('restocked', QUARTER));
    expect(restocked[3]).toEqual(['AN-VASE', 'Vase, "celadon"', '1', '0', '1', '', '', '']);
  });

  test('JSON by default and when preferred; the answer varies by Accept', async () => {
    const browserLike = await get('/v1/analytics/refunds', 'finance-1', { accept: 'text/html,*/*;q=0.8' });
    expect(browserLike.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(browserLike.headers.get('vary')).toMatch(/accept/i);
    const preferred = await get('/v1/analytics/refunds', 'finance-1', {
      accept: 'text/csv;q=0.5, application/json',
    });
    expect(preferred.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const csv = await get('/v1/analytics/refunds', 'finance-1', {
      accept: 'text/csv, application/json;q=0.9',
    });
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
  });
});

describe('who may read', () => {
  test.each(['manager-1', 'director-1', 'finance-1', 'ops-1'])(
    '%s (a reader’s role) reads every figure',
    async (personId) => {
      for (const name of ['reasons', 'suppliers', 'state-times'] as const) {
        expect((await get(`/v1/analytics/${name}`, personId)).status).toBe(200);
      }
    },
  );

  test.each(['warehouse-1', 'clerk-1'])(
    '%s (no reader’s role) is refused with 403, as JSON or CSV',
    async (personId) => {
      for (const path of ['/v1/analytics/reasons', '/v1/analytics/customers?format=csv']) {
        const response = await get(path, personId);
        expect(response.status).toBe(403);
        expect(await response.json()).toMatchObject({ error: 'forbidden' });
      }
    },
  );

  test('without credentials (a customer has none) it is 401', async () => {
    await expect(stack.api.getAnalytics('reasons')).rejects.toMatchObject({ status: 401 });
  });
});

describe('bad filters', () => {
  test.each([
    ['from=2025-13-01', 'from'],
    ['to=yesterday', 'to'],
    ['from=2025-03-01&to=2025-01-01', 'to'],
    ['granularity=hour', 'granularity'],
    ['utcOffset=%2B15:00', 'utcOffset'],
    ['utcOffset=8', 'utcOffset'],
    ['format=xml', 'format'],
    ['colour=red', 'colour'],
    ['reasonCode=bored', 'reasonCode'],
  ])('over-time?%s: 400 naming %s', async (query, field) => {
    const response = await get(`/v1/analytics/over-time?${query}`, 'finance-1');
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; message: string; details: { field: string } };
    expect(body).toMatchObject({ error: 'validation_failed', details: { field } });
    expect(body.message.startsWith(`${field}: `)).toBe(true);
  });

  test('too many periods: 400 saying to choose a coarser granularity', async () => {
    const response = await get(
      '/v1/analytics/over-time?from=2020-01-01&to=2025-01-01&granularity=day',
      'ops-1',
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ details: { field: 'granularity' } });
    expect(
      (await get('/v1/analytics/over-time?from=2020-01-01&to=2025-01-01&granularity=month', 'ops-1')).status,
    ).toBe(200);
  });

  test('limits and minimums are bounded; a filter a figure does not take is refused', async () => {
    for (const path of [
      '/v1/analytics/products?limit=0',
      '/v1/analytics/customers?limit=1001',
      '/v1/analytics/repeat-cancellers?minimum=1',
      '/v1/analytics/restocked?reasonCode=other',
    ]) {
      const response = await get(path, 'finance-1');
      expect([path, response.status]).toEqual([path, 400]);
    }
  });

  test('the typed client gets the same refusals', async () => {
    const client = await stack.as('finance-1');
    const refused = await client
      .getAnalytics('reasons', { from: '2025-02-01', to: '2025-01-01' })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(CancelflowApiError);
    expect(refused).toMatchObject({ status: 400, body: { message: 'to: is before from' } });
  });
});

test('the OpenAPI document describes every figure, its query, its answer and its CSV', async () => {
  const document = (await (await fetch(`${stack.apiUrl}/openapi.json`)).json()) as {
    paths: Record<
      string,
      { get?: { parameters?: { name: string }[]; responses: Record<string, { content?: object }> } }
    >;
  };
  const overTime = document.paths['/v1/analytics/over-time']?.get;
  expect(overTime?.parameters?.map((parameter) => parameter.name)).toEqual(
    expect.arrayContaining(['from', 'to', 'granularity', 'utcOffset', 'reasonCode', 'format']),
  );
  expect(Object.keys(overTime?.responses['200']?.content ?? {})).toEqual(['application/json', 'text/csv']);
  expect(overTime?.responses).toHaveProperty('403');
  const figures = Object.keys(document.paths).filter((path) => path.startsWith('/v1/analytics/'));
  expect(figures).toHaveLength(12);
});

describe('cancellations run through the real flow', () => {
  const today = () => new Date().toISOString().slice(0, 10);
  const yesterday = () => new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

  beforeAll(async () => {
    const { models } = stack;
    await addProduct(models, { sku: 'AN-SET', name: '茶具套装', unitPriceMinor: 20_000, currency: 'CNY' });
    await models.Product.updateOne({ sku: 'AN-SET' }, { $set: { unitCostMinor: 12_000 } });
    await receiveStock(models, 'AN-SET', 10);
    for (const customerId of ['C-FLOW-1', 'C-FLOW-2']) {
      await addCustomer(models, {
        customerId,
        name: 'Flow Customer',
        email: `${customerId}@example.com`,
        language: 'en',
      });
    }
    // Two units from stock and three back-ordered on a purchase order the supplier already has (medium risk).
    await placePaidOrder(models, {
      orderNumber: 'SO-AN-FLOW-1',
      customerId: 'C-FLOW-1',
      currency: 'CNY',
      lines: [{ lineId: 'L1', sku: 'AN-SET', quantity: 2, unitPriceMinor: 20_000 }],
    });
    await models.SalesOrder.updateOne(
      { orderNumber: 'SO-AN-FLOW-1' },
      {
        $set: { totalMinor: 100_000 },
        $push: {
          lines: {
            lineId: 'L2',
            sku: 'AN-SET',
            warehouse: 'WH-SH-01',
            quantity: 3,
            reservedQuantity: 0,
            cancelledQuantity: 0,
            unitPriceMinor: 20_000,
          },
        },
      },
    );
    await models.Payment.updateOne({ orderNumber: 'SO-AN-FLOW-1' }, { $set: { capturedMinor: 100_000 } });
    await linkToOrder(models, 'SO-AN-FLOW-1', { purchaseOrderNumbers: ['PO-AN-FLOW'] });
    await models.PurchaseOrder.create({
      poNumber: 'PO-AN-FLOW',
      supplier: { supplierId: 'SUP-FLOW', name: '景德镇瓷器' },
      status: 'sent',
      currency: 'CNY',
      warehouse: 'WH-SH-01',
      lines: [
        {
          lineId: 'P1',
          sku: 'AN-SET',
          unitCostMinor: 12_000,
          orderedQuantity: 3,
          raisedFor: [{ orderNumber: 'SO-AN-FLOW-1', lineId: 'L2', kind: 'back_order', quantity: 3 }],
        },
      ],
    });
    await placePaidOrder(models, {
      orderNumber: 'SO-AN-FLOW-2',
      customerId: 'C-FLOW-2',
      currency: 'CNY',
      lines: [{ lineId: 'L1', sku: 'AN-SET', quantity: 1, unitPriceMinor: 20_000 }],
    });

    // A system's key asks for the first; the manager approves it.
    const byKey = await (
      await stack.as('clerk-1')
    ).createCancellation({
      orderNumber: 'SO-AN-FLOW-1',
      reasonCode: 'delivery_delay',
      confirm: ['awaiting_shipment'],
    });
    const manager = await stack.as('manager-1');
    await eventually(async () => {
      expect((await manager.getCancellation(byKey.cancellationId)).state).toBe(
        'awaitingApproval.waitingForDecision',
      );
    }, 30_000);
    await manager.decide(byKey.cancellationId, { approved: true });
    // The requester, signed in, asks for the second.
    const signedIn = new CancelflowClient({ baseUrl: stack.apiUrl });
    await signedIn.signIn('clerk-1', PASSWORD);
    const bySession = await signedIn.createCancellation({
      orderNumber: 'SO-AN-FLOW-2',
      reasonCode: 'customer_changed_mind',
      confirm: ['awaiting_shipment'],
    });
    for (const { cancellationId } of [byKey, bySession]) {
      await eventually(async () => {
        expect(await manager.getCancellation(cancellationId)).toMatchObject({
          outcome: 'completed',
          source: 'database',
        });
      }, 60_000);
    }
  }, 120_000);

  test('the record keeps the channel and the requester’s department; the figures read what the flow wrote', async () => {
    const window = { from: yesterday(), to: today() };
    expect((await figure('channels', window)).rows.filter((row) => row.cancellations > 0)).toEqual([
      { channel: 'api_key', ...counts(1, 1, 0, 0) },
      { channel: 'api_session', ...counts(1, 1, 0, 0) },
    ]);
    expect((await figure('departments', window)).rows[0]).toEqual({
      department: 'sales',
      ...counts(2, 2, 0, 0),
    });
    expect((await figure('refunds', window)).rows).toEqual([
      { currency: 'CNY', cancellations: 2, refundedMinor: 100_000 + 20_000 },
    ]);
    // Two units of the first and one of the second were reserved and went back; three came off the purchase order.
    expect((await figure('restocked', window)).rows).toEqual([
      {
        sku: 'AN-SET',
        name: '茶具套装',
        releasedUnits: 3,
        returnedUnits: 0,
        units: 3,
        unitCostMinor: 12_000,
        valueMinor: 36_000,
        currency: 'CNY',
      },
    ]);
    expect((await figure('suppliers', window)).rows).toEqual([
      {
        supplierId: 'SUP-FLOW',
        supplierName: '景德镇瓷器',
        currency: 'CNY',
        purchaseOrders: 1,
        reductions: 1,
        unitsReduced: 3,
        valueReducedMinor: 36_000,
        unitsNotReduced: 0,
        supplierToldOfChanges: 1,
      },
    ]);
    expect((await figure('products', window)).rows).toEqual([
      {
        sku: 'AN-SET',
        name: '茶具套装',
        cancellations: 2,
        completed: 2,
        unitsCancelled: 6,
        amountMinor: 120_000,
        currency: 'CNY',
      },
    ]);
    const [approval] = (await figure('approvals', window)).rows;
    expect(approval).toMatchObject({ riskLevel: 'medium', approvals: 1, rejected: 0 });
    expect(approval?.averageMs).toBeGreaterThan(0);
    const states = (await figure('state-times', window)).rows.map((row) => row.state);
    expect(states).toEqual(expect.arrayContaining(['awaitingApproval', 'releasingStock', 'refunding']));
  });
});

describe('the console’s analytics page', () => {
  const page = async (personId: string, query = 'from=2025-01-01&to=2025-03-31') => {
    const response = await get(`/console/analytics?${query}`, personId);
    return { status: response.status, text: await response.text() };
  };

  test('renders every figure for a reader, in their language, each with its table, chart and CSV link', async () => {
    const { status, text } = await page('finance-1');
    expect(status).toBe(200);
    expect(text).toContain('<h1>取消分析</h1>');
    expect(text).toContain('data-total="6"');
    for (const name of [
      'over-time',
      'reasons',
      'products',
      'customers',
      'repeat-cancellers',
      'refunds',
      'suppliers',
    ]) {
      expect(text).toContain(`data-figure="${name}"`);
      expect(text).toContain(`data-csv="${name}"`);
    }
    // Charts where one helps, each with its accessible table; scripts served by the API itself.
    expect((text.match(/<canvas role="img"/g) ?? []).length).toBe(9);
    expect((text.match(/<table>/g) ?? []).length).toBe(12);
    expect(text).toContain('<script src="/console/assets/chart.umd.min.js" defer></script>');
    expect(text).toMatch(/<a href="\/console\/analytics"\s+aria-current="page"/);
    expect(text).toContain('¥150.00');
    // The page's CSV link is the API's, for the same window.
    const href = /href="(\/v1\/analytics\/customers\?[^"]+)"/.exec(text)?.[1]?.replace(/&amp;/g, '&') ?? '';
    expect(href).toContain('format=csv');
    const csv = await get(href, 'finance-1');
    expect([csv.status, csv.headers.get('content-type')]).toEqual([200, 'text/csv; charset=utf-8']);

    const english = await page(
      'director-1',
      'from=2025-01-01&to=2025-03-31&granularity=month&utcOffset=%2B08:00',
    );
    expect(english.text).toContain('<h1>Learning from cancellations</h1>');
    expect(english.text).toContain('<time datetime="2025-01-01">2025-01-01</time>');
  });

  test('without a window it shows the last 90 days; a bad one is a 400 saying why', async () => {
    const recent = await page('ops-1', '');
    expect(recent.status).toBe(200);
    expect(recent.text).toMatch(/name="from" type="date" value="\d{4}-\d\d-\d\d"/);
    const bad = await page('ops-1', 'from=2025-03-01&to=2025-01-01');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('to: is before from');
  });

  test('refused to those who may not read the analytics; the navigation links it only for readers', async () => {
    expect((await page('warehouse-1')).status).toBe(403);
    expect((await page('clerk-1')).status).toBe(403);
    expect(await (await get('/console/orders', 'clerk-1')).text()).not.toContain('/console/analytics');
    expect(await (await get('/console/orders', 'manager-1')).text()).toContain('href="/console/analytics"');
  });

  test('the chart library and the page’s script are served from this site', async () => {
    for (const asset of ['chart.umd.min.js', 'analytics.js']) {
      const response = await get(`/console/assets/${asset}`, undefined);
      expect([asset, response.status]).toEqual([asset, 200]);
      expect(response.headers.get('content-type')).toMatch(/javascript/);
    }
  });
});
