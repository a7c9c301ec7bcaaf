// Demo data for the local stack and the tests: customers, products, stock received through the ledger, and
// paid orders whose stock is reserved, all written through the same operations cancellation uses.
import { randomBytes } from 'node:crypto';
import type { Models } from '../models';
import { issueApiKey, revokeApiKey, setPassword } from '../models/credentials';
import type { OrderStatus, PersonRole } from '../contracts/books.contract';
import { linkToOrder } from '../models/order-links';
import { applyStockMovement } from '../models/stock-ledger';
import { WAREHOUSES } from './books';

export interface DemoCustomer {
  customerId: string;
  name: string;
  email?: string;
  /** As written; without its country code, it is read with `country` (the Customer model refuses it otherwise). */
  phone?: string;
  /** ISO 3166-1 alpha-2: "CN", "US". */
  country?: string;
  language: 'zh-CN' | 'en';
  tier?: 'standard' | 'silver' | 'gold' | 'vip';
}

export interface DemoOrderLine {
  lineId: string;
  sku: string;
  quantity: number;
  unitPriceMinor: number;
}

const WAREHOUSE = 'WH-SH-01';

/** Puts `quantity` units of a product on hand, through a ledger movement (so the figures reproduce). */
export async function receiveStock(
  models: Models,
  sku: string,
  quantity: number,
  warehouse = WAREHOUSE,
): Promise<void> {
  await applyStockMovement(models, {
    idempotencyKey: `demo:receive:${sku}:${warehouse}`,
    type: 'adjust',
    sku,
    warehouse,
    onHandDelta: quantity,
    reservedDelta: 0,
    document: { kind: 'stock_take', id: `demo-${sku}` },
    actor: 'demo-data',
    reason: 'opening stock',
  });
}

/** A paid order with its stock reserved: what a shop has just before the warehouse ships. */
export async function placePaidOrder(
  models: Models,
  order: {
    orderNumber: string;
    customerId: string;
    currency: string;
    lines: DemoOrderLine[];
    status?: OrderStatus;
  },
  warehouse = WAREHOUSE,
): Promise<void> {
  for (const line of order.lines) {
    await applyStockMovement(models, {
      idempotencyKey: `${order.orderNumber}:reserve:${line.lineId}`,
      type: 'reserve',
      sku: line.sku,
      warehouse,
      onHandDelta: 0,
      reservedDelta: line.quantity,
      document: { kind: 'sales_order', id: order.orderNumber, lineId: line.lineId },
      actor: 'demo-data',
    });
  }
  const totalMinor = order.lines.reduce((sum, line) => sum + line.quantity * line.unitPriceMinor, 0);
  const paymentId = `PAY-${order.orderNumber}`;
  // The order lists its payment before the payment is written (models/order-links.ts).
  await models.SalesOrder.updateOne(
    { orderNumber: order.orderNumber },
    {
      $setOnInsert: {
        orderNumber: order.orderNumber,
        customerId: order.customerId,
        status: order.status ?? 'allocated',
        currency: order.currency,
        totalMinor,
        lines: order.lines.map((line) => ({
          ...line,
          warehouse,
          reservedQuantity: line.quantity,
          cancelledQuantity: 0,
        })),
        history: [
          {
            key: `${order.orderNumber}:placed`,
            at: new Date(),
            status: order.status ?? 'allocated',
            actor: 'demo-data',
          },
        ],
        paymentIds: [paymentId],
      },
    },
    { upsert: true, runValidators: true },
  );
  await models.Payment.updateOne(
    { paymentId },
    {
      $setOnInsert: {
        orderNumber: order.orderNumber,
        capturedMinor: totalMinor,
        currency: order.currency,
        method: 'card',
        providerReference: `ch_${order.orderNumber.toLowerCase()}`,
      },
    },
    { upsert: true, runValidators: true },
  );
}

/**
 * Part of a placed order's payment was made in another currency: its worth in the order's currency comes off
 * the order's payment, and a payment of its own records what it captured and what it settled. Safe to repeat.
 */
export async function payPartlyInForeignCurrency(
  models: Models,
  orderNumber: string,
  foreign: { currency: string; capturedMinor: number; orderCurrencyMinor: number },
): Promise<void> {
  const order = await models.SalesOrder.findOne({ orderNumber }, { totalMinor: 1 }).lean();
  if (!order) throw new Error(`no order ${orderNumber} to pay`);
  // Only while the order's payment still holds the whole total: a repeat finds it reduced and leaves it. Judged
  // on the payment as read, written to that revision of it (models/refund-ledger.ts).
  const paid = await models.Payment.findOne({ paymentId: `PAY-${orderNumber}` }).lean();
  if (paid?.capturedMinor === order.totalMinor && paid.refundedMinor === 0) {
    await models.Payment.updateOne(
      { paymentId: paid.paymentId, revision: paid.revision },
      { $inc: { capturedMinor: -foreign.orderCurrencyMinor, revision: 1 } },
    );
  }
  const paymentId = `PAY-${orderNumber}-${foreign.currency}`;
  await linkToOrder(models, orderNumber, { paymentIds: [paymentId] });
  await models.Payment.updateOne(
    { paymentId },
    {
      $setOnInsert: {
        orderNumber,
        ...foreign,
        method: 'card',
        providerReference: `ch_${orderNumber.toLowerCase()}_${foreign.currency.toLowerCase()}`,
      },
    },
    { upsert: true, runValidators: true },
  );
}

/**
 * The warehouse ships a placed order whole in one parcel: a `ship` movement a line takes the reserved units off
 * hand, the shipment records the parcel, and the order becomes shipped (or delivered).
 */
export async function shipOrder(
  models: Models,
  orderNumber: string,
  parcel: { shipmentId: string; carrier?: string; trackingNumber?: string; delivered?: boolean },
): Promise<void> {
  const order = await models.SalesOrder.findOne({ orderNumber }).lean();
  if (!order) throw new Error(`no order ${orderNumber} to ship`);
  for (const line of order.lines) {
    await applyStockMovement(models, {
      idempotencyKey: `${orderNumber}:ship:${line.lineId}`,
      type: 'ship',
      sku: line.sku,
      warehouse: line.warehouse,
      onHandDelta: -line.quantity,
      reservedDelta: -line.quantity,
      document: { kind: 'shipment', id: parcel.shipmentId, lineId: line.lineId },
      actor: 'demo-data',
    });
  }
  const status = parcel.delivered ? 'delivered' : 'in_transit';
  const now = new Date();
  await linkToOrder(models, orderNumber, { shipmentIds: [parcel.shipmentId] });
  await models.Shipment.updateOne(
    { shipmentId: parcel.shipmentId },
    {
      $setOnInsert: {
        orderNumber,
        warehouse: order.lines[0]?.warehouse ?? WAREHOUSE,
        carrier: parcel.carrier ?? 'SF Express',
        trackingNumber: parcel.trackingNumber ?? `SF${parcel.shipmentId.replace(/\W/g, '')}`,
        status,
        lines: order.lines.map((line) => ({ lineId: line.lineId, sku: line.sku, quantity: line.quantity })),
        shippedAt: now,
        ...(parcel.delivered ? { deliveredAt: now } : {}),
        history: [{ key: `${parcel.shipmentId}:${status}`, at: now, status }],
      },
    },
    { upsert: true, runValidators: true },
  );
  const orderStatus = parcel.delivered ? 'delivered' : 'shipped';
  await models.SalesOrder.updateOne(
    { orderNumber, 'history.key': { $ne: `${orderNumber}:${orderStatus}` } },
    {
      $set: { status: orderStatus, lines: order.lines.map((line) => ({ ...line, reservedQuantity: 0 })) },
      $push: {
        history: { key: `${orderNumber}:${orderStatus}`, at: now, status: orderStatus, actor: 'demo-data' },
      },
    },
  );
}

export async function addCustomer(models: Models, customer: DemoCustomer): Promise<void> {
  await models.Customer.updateOne(
    { customerId: customer.customerId },
    { $setOnInsert: { ...customer, consent: { email: true, sms: true } } },
    { upsert: true, runValidators: true },
  );
}

export async function addProduct(
  models: Models,
  product: { sku: string; name: string; unitPriceMinor: number; currency: string },
): Promise<void> {
  await models.Product.updateOne(
    { sku: product.sku },
    { $setOnInsert: product },
    { upsert: true, runValidators: true },
  );
}

/** The local stack's demo: a few customers and products, and paid orders waiting to ship. Safe to rerun. */
export async function seedDemoData(models: Models): Promise<string[]> {
  const customers: DemoCustomer[] = [
    {
      customerId: 'C-1001',
      name: '张伟',
      email: 'zhang.wei@example.cn',
      phone: '+8613800138000',
      country: 'CN',
      language: 'zh-CN',
    },
    {
      customerId: 'C-1002',
      name: 'Emily Carter',
      email: 'emily.carter@example.com',
      phone: '+14155550123',
      country: 'US',
      language: 'en',
    },
    {
      customerId: 'C-1003',
      name: '李娜',
      email: 'li.na@example.cn',
      phone: '+8613900139000',
      country: 'CN',
      language: 'zh-CN',
      tier: 'vip',
    },
  ];
  const products = [
    { sku: 'TEA-LJ-250', name: '西湖龙井 250g', unitPriceMinor: 16800, currency: 'CNY' },
    { sku: 'CUP-CER-01', name: 'Ceramic tea cup', unitPriceMinor: 4500, currency: 'CNY' },
    { sku: 'POT-YX-02', name: '宜兴紫砂壶', unitPriceMinor: 38800, currency: 'CNY' },
  ];
  await addDepartments(models);
  await addPeople(models);
  await addWarehouse(models);
  for (const customer of customers) await addCustomer(models, customer);
  for (const product of products) {
    await addProduct(models, product);
    await receiveStock(models, product.sku, 100);
  }
  const orders = [
    {
      orderNumber: 'SO-2026-0001',
      customerId: 'C-1001',
      lines: [{ lineId: 'L1', sku: 'TEA-LJ-250', quantity: 2, unitPriceMinor: 16800 }],
    },
    {
      orderNumber: 'SO-2026-0002',
      customerId: 'C-1002',
      lines: [
        { lineId: 'L1', sku: 'CUP-CER-01', quantity: 4, unitPriceMinor: 4500 },
        { lineId: 'L2', sku: 'TEA-LJ-250', quantity: 1, unitPriceMinor: 16800 },
      ],
    },
    {
      orderNumber: 'SO-2026-0003',
      customerId: 'C-1003',
      lines: [{ lineId: 'L1', sku: 'POT-YX-02', quantity: 1, unitPriceMinor: 38800 }],
    },
    // On its way to the customer: its cancellation asks the carrier simulator to stop the parcel (R9).
    {
      orderNumber: 'SO-2026-0004',
      customerId: 'C-1002',
      lines: [{ lineId: 'L1', sku: 'CUP-CER-01', quantity: 2, unitPriceMinor: 4500 }],
    },
    // Paid partly with a US card: its refund goes back in CNY and in USD (R11).
    {
      orderNumber: 'SO-2026-0005',
      customerId: 'C-1001',
      lines: [
        { lineId: 'L1', sku: 'POT-YX-02', quantity: 1, unitPriceMinor: 38800 },
        { lineId: 'L2', sku: 'TEA-LJ-250', quantity: 1, unitPriceMinor: 16800 },
      ],
    },
  ];
  for (const order of orders) await placePaidOrder(models, { ...order, currency: 'CNY' });
  await shipOrder(models, 'SO-2026-0004', { shipmentId: 'SH-2026-0004' });
  // 400.00 of its 556.00 CNY were paid as 56.00 USD.
  await payPartlyInForeignCurrency(models, 'SO-2026-0005', {
    currency: 'USD',
    capturedMinor: 5600,
    orderCurrencyMinor: 40000,
  });
  return orders.map((order) => order.orderNumber);
}

export interface DemoPerson {
  personId: string;
  name: string;
  email: string;
  language: 'zh-CN' | 'en';
  department: 'sales' | 'purchasing' | 'logistics' | 'finance';
  roles: PersonRole[];
  approvalLevel: number;
}

/**
 * People who take part in cancellations: a sales clerk who requests (R3), a sales manager and a director who
 * approve at levels 1 and 2, a finance clerk who settles refunds by hand (R28), an ops engineer who resumes
 * what needs attention.
 */
export const DEMO_PEOPLE: DemoPerson[] = [
  {
    personId: 'clerk-1',
    name: '陈静',
    email: 'chen.jing@cancelflow.local',
    language: 'zh-CN',
    department: 'sales',
    roles: ['requester'],
    approvalLevel: 0,
  },
  {
    personId: 'manager-1',
    name: '刘强',
    email: 'liu.qiang@cancelflow.local',
    language: 'zh-CN',
    department: 'sales',
    roles: ['requester', 'approver'],
    approvalLevel: 1,
  },
  {
    personId: 'director-1',
    name: 'Grace Lin',
    email: 'grace.lin@cancelflow.local',
    language: 'en',
    department: 'finance',
    roles: ['approver'],
    approvalLevel: 2,
  },
  {
    personId: 'finance-1',
    name: '王敏',
    email: 'wang.min@cancelflow.local',
    language: 'zh-CN',
    department: 'finance',
    roles: ['finance_clerk'],
    approvalLevel: 0,
  },
  {
    personId: 'ops-1',
    name: 'Sam Okafor',
    email: 'sam.okafor@cancelflow.local',
    language: 'en',
    department: 'logistics',
    roles: ['ops', 'admin'],
    approvalLevel: 0,
  },
  {
    personId: 'warehouse-1',
    name: '周涛',
    email: 'zhou.tao@cancelflow.local',
    language: 'zh-CN',
    department: 'logistics',
    roles: ['warehouse_clerk'],
    approvalLevel: 0,
  },
];

/** The four departments a cancellation spans (R6, R24), each with its shared mailbox. */
export const DEMO_DEPARTMENTS = [
  { code: 'sales', name: { 'zh-CN': '销售部', en: 'Sales' }, email: 'sales@cancelflow.local' },
  { code: 'purchasing', name: { 'zh-CN': '采购部', en: 'Purchasing' }, email: 'purchasing@cancelflow.local' },
  { code: 'logistics', name: { 'zh-CN': '物流部', en: 'Logistics' }, email: 'logistics@cancelflow.local' },
  { code: 'finance', name: { 'zh-CN': '财务部', en: 'Finance' }, email: 'finance@cancelflow.local' },
] as const;

/** The warehouse the demo orders ship from, as the generated books have it (its return address included). */
const [DEMO_WAREHOUSE] = WAREHOUSES;

export async function addWarehouse(
  models: Models,
  warehouse: {
    code: string;
    name: Record<'zh-CN' | 'en', string>;
    returnAddress: Record<'zh-CN' | 'en', string>;
  } = DEMO_WAREHOUSE,
): Promise<void> {
  const { code, name, returnAddress } = warehouse;
  await models.Warehouse.updateOne(
    { code },
    { $setOnInsert: { code, name, returnAddress } },
    { upsert: true, runValidators: true },
  );
}

export async function addDepartments(models: Models): Promise<void> {
  for (const department of DEMO_DEPARTMENTS) {
    await models.Department.updateOne(
      { code: department.code },
      { $setOnInsert: department },
      { upsert: true, runValidators: true },
    );
  }
}

export async function addPeople(models: Models, people: DemoPerson[] = DEMO_PEOPLE): Promise<void> {
  for (const person of people) {
    await models.Person.updateOne(
      { personId: person.personId },
      { $setOnInsert: person },
      { upsert: true, runValidators: true },
    );
  }
}

/**
 * Fresh credentials for the demo, at every start of the local stack: a password for each demo person (printed,
 * so a newcomer can sign in as anyone) and an API key acting as the requester clerk-1, as a back-end system
 * would hold. The previous start's demo key is revoked, so only the printed one works.
 */
export async function issueDemoCredentials(
  models: Models,
): Promise<{ people: { personId: string; password: string; roles: PersonRole[] }[]; apiKey: string }> {
  const people = [];
  for (const person of DEMO_PEOPLE) {
    const password = randomBytes(12).toString('base64url');
    await setPassword(models, person.personId, password);
    people.push({ personId: person.personId, password, roles: person.roles });
  }
  const name = 'demo back-end (npm start)';
  for (const old of await models.ApiKey.find({ name, revokedAt: null }).lean()) {
    await revokeApiKey(models, old.keyId, 'npm start');
  }
  const { token } = await issueApiKey(models, {
    name,
    personId: 'clerk-1',
    scopes: ['requester'],
    createdBy: 'npm start',
  });
  return { people, apiKey: token };
}
