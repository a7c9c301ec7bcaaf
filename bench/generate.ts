// A small deterministic generator of customers and orders for the lookup benchmark: the same seed gives the
// same data. Chinese and English names as a shop's customers have them, phone numbers written the various
// ways people write them, orders one minute apart (so the first 10,000 orders of a 100,000-order run are
// the 10,000 orders of a 10,000-order run).
import { Types } from 'mongoose';
import { pinyinOf } from '../lib/text-normalize';
import type { OrderStatus } from '../models/sales-order.model';

export type Random = () => number;

/** mulberry32: a tiny, fast PRNG with a 32-bit state; good enough to spread benchmark data. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(random: Random, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)] as T;
const digits = (random: Random, count: number) =>
  Array.from({ length: count }, () => Math.floor(random() * 10)).join('');

const words = (text: string) => text.split(' ');

// Surnames roughly in order of frequency; the first ones are drawn more often.
const SURNAMES = words(
  '王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 林 罗 高 郑 梁 谢 宋 唐 许 韩 ' +
    '冯 邓 曹 彭 曾 肖 田 董 潘 袁 蔡 蒋 余 于 杜 叶 程 魏 苏 吕 丁 任 沈 姚 卢 欧阳 司马',
);
const GIVEN = words(
  '伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀 英 华 慧 建 平 刚 玲 ' +
    '文 辉 霞 鹏 飞 婷 雪 琳 晶 宇 浩 凯 欣 怡 佳 子 梓 涵 轩 博 思 雨 嘉 瑞 晨',
);
const FIRST_NAMES = words(
  'James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara Richard ' +
    'Susan Joseph Jessica Thomas Sarah Charles Karen Emily Daniel Olivia Matthew Emma Anthony Sophia ' +
    'Mark Ava Oliver Grace Lucas Chloe Henry Isabella Jack Mia Noah Amelia Ethan',
);
const LAST_NAMES = words(
  'Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Wilson Anderson ' +
    'Taylor Moore Jackson Martin Lee Thompson White Harris Clark Lewis Robinson Walker Young Allen ' +
    "King Wright Scott Hill Green Adams Nelson Baker Hall Campbell Mitchell Carter Roberts O'Brien",
);
const CN_MAIL = ['qq.com', '163.com', '126.com', 'example.cn'];
const EN_MAIL = ['gmail.com', 'outlook.com', 'example.com'];
const CATEGORIES = ['TEA', 'CUP', 'POT', 'BOWL', 'TRAY', 'KETTLE', 'CADDY', 'SET'];
const STATUS_WEIGHTS: [OrderStatus, number][] = [
  ['completed', 35],
  ['delivered', 15],
  ['shipped', 10],
  ['picking', 5],
  ['allocated', 10],
  ['confirmed', 9],
  ['draft', 4],
  ['cancelled', 8],
  ['partially_cancelled', 4],
];

export interface BenchCustomer {
  customerId: string;
  name: string;
  phone: string;
  email: string;
  language: 'zh-CN' | 'en';
  /** The phone's national number (no country code), as a clerk would type it. */
  nationalNumber: string;
}

/** Skewed towards the start of a list: common surnames and names come up more often. */
function skewedPick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() ** 2 * items.length)] as T;
}

export function generateCustomers(seed: number, count: number): BenchCustomer[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, index) => {
    const customerId = `BC-${String(index + 1).padStart(7, '0')}`;
    if (random() < 0.7) {
      const name =
        skewedPick(random, SURNAMES) + pick(random, GIVEN) + (random() < 0.6 ? pick(random, GIVEN) : '');
      const nationalNumber = `1${pick(random, ['3', '5', '7', '8', '9'])}${digits(random, 9)}`;
      const [a, b, c] = [nationalNumber.slice(0, 3), nationalNumber.slice(3, 7), nationalNumber.slice(7)];
      const phone = pick(random, [`+86${nationalNumber}`, `+86 ${a} ${b} ${c}`, `${a}-${b}-${c}`]);
      const email = `${pinyinOf(name) ?? 'kehu'}${Math.floor(random() * 1000)}@${pick(random, CN_MAIL)}`;
      return { customerId, name, phone, email, language: 'zh-CN', nationalNumber };
    }
    const first = skewedPick(random, FIRST_NAMES);
    const last = pick(random, LAST_NAMES);
    const nationalNumber = `${pick(random, ['212', '415', '312', '206', '617'])}555${digits(random, 4)}`;
    const [a, b, c] = [nationalNumber.slice(0, 3), nationalNumber.slice(3, 6), nationalNumber.slice(6)];
    const phone = pick(random, [`+1${nationalNumber}`, `+1 (${a}) ${b}-${c}`, `+1 ${a}-${b}-${c}`]);
    const email =
      `${first}.${last.replace(/\W/g, '')}${Math.floor(random() * 100)}@${pick(random, EN_MAIL)}`.toLowerCase();
    return { customerId, name: `${first} ${last}`, phone, email, language: 'en', nationalNumber };
  });
}

export const SKUS = CATEGORIES.flatMap((category) =>
  Array.from({ length: 60 }, (_, index) => `${category}-${String(index + 1).padStart(3, '0')}`),
);

export const FIRST_ORDER_AT = Date.UTC(2024, 0, 1);
export const ORDER_INTERVAL_MS = 60_000;

/** A whole order document, defaults included, so it can be inserted without mongoose's hydration. */
export interface BenchOrder {
  _id: Types.ObjectId;
  orderNumber: string;
  customerId: string;
  status: OrderStatus;
  currency: string;
  totalMinor: number;
  lines: {
    lineId: string;
    sku: string;
    warehouse: string;
    quantity: number;
    reservedQuantity: number;
    cancelledQuantity: number;
    unitPriceMinor: number;
    status: 'open';
  }[];
  cancellation: { cancellationIds: string[] };
  history: { key: string; at: Date; status: OrderStatus; actor: string }[];
  createdAt: Date;
  updatedAt: Date;
}

export function orderNumberOf(index: number): string {
  return `SO-${new Date(FIRST_ORDER_AT + index * ORDER_INTERVAL_MS).getUTCFullYear()}-${String(index + 1).padStart(7, '0')}`;
}

/** Orders `from` (inclusive) to `to` (exclusive), each drawn from its own seed so ranges can be made apart. */
export function generateOrders(
  seed: number,
  customers: readonly BenchCustomer[],
  from: number,
  to: number,
): BenchOrder[] {
  const orders: BenchOrder[] = [];
  for (let index = from; index < to; index += 1) {
    const random = seededRandom(seed * 1_000_003 + index);
    const customer = pick(random, customers);
    const lines = Array.from({ length: 1 + Math.floor(random() ** 2 * 4) }, (_, line) => ({
      lineId: `L${line + 1}`,
      sku: pick(random, SKUS),
      warehouse: 'WH-SH-01',
      quantity: 1 + Math.floor(random() * 3),
      reservedQuantity: 0,
      cancelledQuantity: 0,
      unitPriceMinor: 1000 + Math.floor(random() * 400) * 100,
      status: 'open' as const,
    }));
    let roll = random() * 100;
    const status = STATUS_WEIGHTS.find(([, weight]) => (roll -= weight) < 0)?.[0] ?? 'completed';
    const createdAt = new Date(FIRST_ORDER_AT + index * ORDER_INTERVAL_MS);
    const orderNumber = orderNumberOf(index);
    orders.push({
      _id: new Types.ObjectId(),
      orderNumber,
      customerId: customer.customerId,
      status,
      currency: customer.language === 'zh-CN' ? 'CNY' : 'USD',
      totalMinor: lines.reduce((sum, line) => sum + line.quantity * line.unitPriceMinor, 0),
      lines,
      cancellation: { cancellationIds: [] },
      history: [{ key: `${orderNumber}:placed`, at: createdAt, status, actor: 'bench' }],
      createdAt,
      updatedAt: createdAt,
    });
  }
  return orders;
}
