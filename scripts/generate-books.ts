// Demo and benchmark data: the books of a tea-ware shop selling in China and abroad, generated from a seed.
//
// Pure: it returns plain documents, one array per model, exactly as they are stored (the loader in
// load-books.ts writes them). Customers with Chinese and Latin names and phones written every way people write
// them; a catalogue with Chinese and English names; stock per SKU and warehouse; orders in every status, paid,
// reserved, shipped, delivered, cancelled in whole or in part; refunds with their vouchers; shipments; purchase
// orders, for replenishment and for back-ordered and drop-shipped sales lines.
//
// Deterministic and prefix-stable: the same seed gives the same documents, and the first N orders (with
// everything they bring) are the same whatever the size of the run and however it is split into `next()`
// calls. So a benchmark's first 10,000 orders are the 10,000 of a smaller run. Each order draws from its own
// random stream; the stock it needs is tracked in order, topped up by replenishment when it runs short, so the
// ledger never takes a level below zero or reserves more than is on hand.
import { Types } from 'mongoose';
import { pinyinOf } from '../lib/text-normalize';
import type { PurchaseLine, PurchaseOrderStatus, ReductionRefusal } from '../models/purchase-order.model';
import { openQuantity, purchaseOrderStatusFor } from '../models/purchasing';
import { ORDER_STATUSES, type OrderStatus } from '../models/sales-order.model';
import { customerSearchOf, orderCustomerCopy, type CustomerSearch } from '../models/search-fields';
import type { ShipmentStatus } from '../models/shipment.model';
import type { StockMovementRequest } from '../models/stock-ledger';
import {
  cancellationWorkflowId,
  REASON_CODES,
  type ApprovalProgress,
  type PurchasingReport,
  type ReasonCode,
  type RiskAssessment,
} from '../contracts/cancellation.contract';

// ---- Randomness ------------------------------------------------------------------------------------------

export type Random = () => number;

/** mulberry32: a tiny, fast PRNG with a 32-bit state; good enough to spread demo data. */
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

/** Hashes the parts into one 32-bit seed, so that each (seed, stream, index) has a stream of its own. */
function mix(...parts: number[]): number {
  let hash = 0x811c9dc5;
  for (const part of parts) {
    hash = Math.imul(hash ^ (part >>> 0), 0x01000193);
    hash ^= hash >>> 15;
    hash = Math.imul(hash, 0x2c1b3c6d);
    hash ^= hash >>> 12;
  }
  return hash >>> 0;
}

const STREAMS = { product: 1, customer: 2, order: 3 } as const;

export const pick = <T>(random: Random, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)] as T;

/** Skewed towards the start of a list: common surnames and names come up more often. */
const skewedPick = <T>(random: Random, items: readonly T[]): T =>
  items[Math.floor(random() ** 2 * items.length)] as T;

function weighted<T>(random: Random, choices: readonly (readonly [T, number])[]): T {
  const total = choices.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = random() * total;
  for (const [choice, weight] of choices) if ((roll -= weight) < 0) return choice;
  return (choices[choices.length - 1] as readonly [T, number])[0];
}

const between = (random: Random, low: number, high: number) => low + Math.floor(random() * (high - low + 1));
function digits(random: Random, count: number): string {
  let text = '';
  for (let index = 0; index < count; index += 1) text += Math.floor(random() * 10);
  return text;
}
const ALPHANUMERIC = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
function alphanumeric(random: Random, count: number, alphabet = ALPHANUMERIC): string {
  let text = '';
  for (let index = 0; index < count; index += 1) text += alphabet[Math.floor(random() * alphabet.length)];
  return text;
}

/** A version-4 UUID drawn from the stream, like the ones the API gives cancellations. */
function uuid(random: Random): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = '89ab'[Math.floor(random() * 4)] as string;
  const text = hex.join('');
  return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
}

// ---- Time and numbering ----------------------------------------------------------------------------------

export const FIRST_ORDER_AT = Date.UTC(2024, 0, 1);
/** Orders come one minute apart, so a run's size says how many days it fills. */
export const ORDER_INTERVAL_MS = 60_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const orderTime = (index: number) => new Date(FIRST_ORDER_AT + index * ORDER_INTERVAL_MS);
const yearOf = (at: Date) => at.getUTCFullYear();

export function orderNumberOf(index: number): string {
  return `SO-${yearOf(orderTime(index))}-${String(index + 1).padStart(7, '0')}`;
}

/** The customer base grows with the orders: a hundred at the start, one more every ten orders. */
const FIRST_CUSTOMERS = 100;
const ORDERS_PER_NEW_CUSTOMER = 10;
export const customerCountAt = (orders: number) =>
  orders === 0 ? 0 : FIRST_CUSTOMERS + Math.floor((orders - 1) / ORDERS_PER_NEW_CUSTOMER);
const customerIdOf = (index: number) => `CU-${String(index + 1).padStart(7, '0')}`;
/** When customer `index` joined: a day before the first order that can pick them. */
const joinedAt = (index: number) =>
  new Date(
    FIRST_ORDER_AT +
      Math.max(0, index - FIRST_CUSTOMERS + 1) * ORDERS_PER_NEW_CUSTOMER * ORDER_INTERVAL_MS -
      DAY,
  );

const ID_KINDS = {
  customer: 1,
  product: 2,
  movement: 3,
  order: 4,
  payment: 5,
  refund: 6,
  voucher: 7,
  shipment: 8,
  purchaseOrder: 9,
  cancellation: 10,
} as const;

/** ObjectIds that sort by creation time and come out the same for the same seed. */
function objectId(seed: number, kind: number, serial: number, at: Date): Types.ObjectId {
  const hex = (value: number, bytes: number) =>
    (value >>> 0)
      .toString(16)
      .padStart(8, '0')
      .slice(-bytes * 2);
  return new Types.ObjectId(
    hex(Math.floor(at.getTime() / 1000), 4) + hex(seed & 0xffffff, 3) + hex(kind, 1) + hex(serial, 4),
  );
}

// ---- People ----------------------------------------------------------------------------------------------

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
const CN_MAIL = ['163.com', '126.com', 'sina.com', 'example.cn'];
const EN_MAIL = ['gmail.com', 'outlook.com', 'yahoo.com', 'example.com'];
const CN_MOBILE_PREFIXES = words(
  '130 131 132 135 136 137 138 139 150 151 152 158 159 176 177 180 186 188 189',
);
const US_AREA_CODES = words('212 415 312 206 617 213 718 305 512 646');
const TIERS = [
  ['standard', 70],
  ['silver', 15],
  ['gold', 10],
  ['vip', 5],
] as const;

export type Language = 'zh-CN' | 'en';
export type Tier = (typeof TIERS)[number][0];

/** A Chinese mobile number as people write it: with or without +86 or 0086, spaced, dashed, full-width. */
function chinesePhone(random: Random): string {
  const national = `${pick(random, CN_MOBILE_PREFIXES)}${digits(random, 8)}`;
  const [a, b, c] = [national.slice(0, 3), national.slice(3, 7), national.slice(7)];
  const written = weighted(random, [
    [`+86${national}`, 30],
    [`+86 ${a} ${b} ${c}`, 20],
    [`${a}-${b}-${c}`, 15],
    [national, 15],
    [`(+86) ${a} ${b} ${c}`, 8],
    [`0086 ${a}${b}${c}`, 6],
    [[...`+86 ${a} ${b} ${c}`].map(toFullWidth).join(''), 6],
  ]);
  return written;
}

/** What a Chinese input method types: ＋８６ １３８… (NFKC folds it back). */
function toFullWidth(character: string): string {
  return /[0-9+]/.test(character) ? String.fromCharCode(character.charCodeAt(0) + 0xfee0) : character;
}

function americanPhone(random: Random): string {
  const national = `${pick(random, US_AREA_CODES)}555${digits(random, 4)}`;
  const [a, b, c] = [national.slice(0, 3), national.slice(3, 6), national.slice(6)];
  return weighted(random, [
    [`+1${national}`, 30],
    [`+1 (${a}) ${b}-${c}`, 30],
    [`+1 ${a}-${b}-${c}`, 20],
    [`(${a}) ${b}-${c}`, 10],
    [`${a}.${b}.${c}`, 10],
  ]);
}

/** Where a customer buys from: China pays in yuan from Chinese warehouses, abroad in dollars from Los Angeles. */
type Market = 'CN' | 'US';

export interface CustomerDocument {
  _id: Types.ObjectId;
  customerId: string;
  name: string;
  phone?: string;
  email?: string;
  language: Language;
  consent: { email: boolean; sms: boolean };
  tier: Tier;
  /** Zero here: the loader counts each generated cancellation once, as a cancellation's close does. */
  cancellationCount: number;
  cancellationIds: string[];
  /** As the Customer model derives it (the same function). */
  search: CustomerSearch;
  createdAt: Date;
  updatedAt: Date;
}

interface GeneratedCustomer {
  document: CustomerDocument;
  market: Market;
  /** What their orders keep of them, derived once rather than once an order. */
  orderCopy: ReturnType<typeof orderCustomerCopy>;
}

function makeCustomer(seed: number, index: number): GeneratedCustomer {
  const random = seededRandom(mix(seed, STREAMS.customer, index));
  const at = joinedAt(index);
  const chinese = random() < 0.7;
  let name: string;
  let phone: string | undefined;
  let email: string | undefined;
  let language: Language;
  if (chinese) {
    const surname = skewedPick(random, SURNAMES);
    const given = pick(random, GIVEN) + (random() < 0.6 ? pick(random, GIVEN) : '');
    name = surname + given;
    phone = chinesePhone(random);
    const [surnamePinyin, givenPinyin] = [pinyinOf(surname) ?? 'kehu', pinyinOf(given) ?? ''];
    // A QQ number is a mailbox at qq.com; otherwise pinyin at any provider.
    email = weighted(random, [
      [`${surnamePinyin}${givenPinyin}${between(random, 1, 999)}@${pick(random, CN_MAIL)}`, 40],
      [`${surnamePinyin}.${givenPinyin}@${pick(random, CN_MAIL)}`, 25],
      [`${between(random, 1, 9)}${digits(random, between(random, 7, 9))}@qq.com`, 25],
      [`${givenPinyin}${surnamePinyin}${between(random, 70, 99)}@${pick(random, CN_MAIL)}`, 10],
    ]);
    // Some Chinese customers live abroad or read English by choice.
    language = random() < 0.92 ? 'zh-CN' : 'en';
  } else {
    const first = skewedPick(random, FIRST_NAMES);
    const last = pick(random, LAST_NAMES);
    name = `${first} ${last}`;
    phone = americanPhone(random);
    const local = `${first}.${last.replace(/\W/g, '')}${random() < 0.5 ? between(random, 1, 99) : ''}`;
    email = `${local}@${pick(random, EN_MAIL)}`;
    if (random() < 0.85) email = email.toLowerCase();
    language = 'en';
  }
  // Not everyone leaves both.
  if (random() < 0.03) phone = undefined;
  else if (random() < 0.04) email = undefined;
  if (chinese && email && random() < 0.1) email = email[0]?.toUpperCase() + email.slice(1);
  const document: CustomerDocument = {
    _id: objectId(seed, ID_KINDS.customer, index, at),
    customerId: customerIdOf(index),
    name,
    ...(phone === undefined ? {} : { phone }),
    ...(email === undefined ? {} : { email }),
    language,
    consent: { email: random() < 0.92, sms: random() < 0.85 },
    tier: weighted(random, TIERS),
    cancellationCount: 0,
    cancellationIds: [],
    search: customerSearchOf({ name, phone, email }),
    createdAt: at,
    updatedAt: at,
  };
  return { document, market: chinese ? 'CN' : 'US', orderCopy: orderCustomerCopy(document) };
}

// ---- Catalogue -------------------------------------------------------------------------------------------

/** Where customers send goods back to each warehouse (the options offered after shipment give it). */
export const WAREHOUSES = [
  {
    code: 'WH-SH-01',
    name: { 'zh-CN': '上海仓', en: 'Shanghai' },
    market: 'CN',
    returnAddress: {
      'zh-CN': '上海市浦东新区金科路 88 号 上海仓 退货组（邮编 201203）',
      en: 'Returns desk, Shanghai warehouse, 88 Jinke Road, Pudong, Shanghai 201203, China',
    },
  },
  {
    code: 'WH-GZ-01',
    name: { 'zh-CN': '广州仓', en: 'Guangzhou' },
    market: 'CN',
    returnAddress: {
      'zh-CN': '广州市白云区太和镇物流大道 12 号 广州仓 退货组（邮编 510540）',
      en: 'Returns desk, Guangzhou warehouse, 12 Wuliu Avenue, Baiyun, Guangzhou 510540, China',
    },
  },
  {
    code: 'WH-LA-01',
    name: { 'zh-CN': '洛杉矶仓', en: 'Los Angeles' },
    market: 'US',
    returnAddress: {
      'zh-CN': '美国加州安大略市 E Airport Dr 4200 号 退货组（邮编 91761）',
      en: 'Returns, 4200 E Airport Dr, Ontario, CA 91761, USA',
    },
  },
] as const;
/** Where a drop-shipped line "ships from": the supplier sends it, no warehouse of ours holds stock for it. */
export const DROP_SHIP_LOCATION = 'DROP-SHIP';

export interface Supplier {
  supplierId: string;
  name: string;
  email: string;
  phone: string;
}

export const SUPPLIERS: readonly Supplier[] = (
  [
    ['SUP-01', '杭州西湖龙井茶业有限公司', 'orders@xihu-tea.example.cn', '+86 571 8796 2201'],
    ['SUP-02', '安溪铁观音茶业合作社', 'sales@anxi-tea.example.cn', '+86 595 2322 1180'],
    ['SUP-03', '云南勐海普洱茶厂', 'po@menghai-puer.example.cn', '+86 691 5122 0307'],
    ['SUP-04', '宜兴紫砂陶艺厂', 'orders@yixing-zisha.example.cn', '+86 510 8716 4432'],
    ['SUP-05', '景德镇瓷业有限公司', 'trade@jdz-porcelain.example.cn', '+86 798 8221 5060'],
    ['SUP-06', '德化白瓷制品厂', 'sales@dehua-ceramics.example.cn', '+86 595 2358 7719'],
    ['SUP-07', '福建竹木工艺品公司', 'orders@fj-bamboo.example.cn', '+86 591 8380 2245'],
    ['SUP-08', '佛山厨电科技有限公司', 'b2b@foshan-appliance.example.cn', '+86 757 8632 9901'],
    ['SUP-09', 'Kyoto Teaware Trading Co.', 'orders@kyoto-teaware.example.com', '+81 75 555 0142'],
    ['SUP-10', '潮州茶具批发中心', 'pifa@chaozhou-teaware.example.cn', '+86 768 2265 4410'],
  ] as const
).map(([supplierId, name, email, phone]) => ({ supplierId, name, email, phone }));

type NamePair = readonly [zh: string, en: string];
type Form = readonly [zh: string, en: string, priceFactor: number];

interface Category {
  code: string;
  /** CNY minor units of the cheapest kind in its plainest form. */
  basePriceMinor: number;
  suppliers: readonly string[];
  kinds: readonly NamePair[];
  forms: readonly Form[];
}

const pairs = (text: string): NamePair[] =>
  text.split(';').map((pair) => {
    const [zh = '', en = ''] = pair.split('|').map((part) => part.trim());
    return [zh, en] as const;
  });
const forms = (text: string): Form[] =>
  text.split(';').map((form) => {
    const [zh = '', en = '', factor = '1'] = form.split('|').map((part) => part.trim());
    return [zh, en, Number(factor)] as const;
  });

// Six kinds by ten forms: sixty SKUs a category.
const CATEGORIES: readonly Category[] = [
  {
    code: 'TEA',
    basePriceMinor: 6800,
    suppliers: ['SUP-01', 'SUP-02', 'SUP-03'],
    kinds: pairs(
      '西湖龙井|West Lake Longjing; 安溪铁观音|Anxi Tieguanyin; 云南普洱|Yunnan Pu-erh; ' +
        '洞庭碧螺春|Dongting Biluochun; 武夷大红袍|Wuyi Da Hong Pao; 福鼎白茶|Fuding white tea',
    ),
    forms: forms(
      '50g 罐装|50 g tin|1; 100g 罐装|100 g tin|1.8; 250g 纸包|250 g pack|3.8; 500g 礼盒|500 g gift box|8; ' +
        '357g 茶饼|357 g cake|5; 试饮装|tasting pack|0.6; 袋泡茶 20包|20 tea bags|0.9; ' +
        '特级 100g|premium grade 100 g|2.6; 一级 250g|first grade 250 g|3; 散装 1kg|loose 1 kg|12',
    ),
  },
  {
    code: 'CUP',
    basePriceMinor: 4500,
    suppliers: ['SUP-05', 'SUP-06'],
    kinds: pairs(
      '青花瓷|blue-and-white porcelain; 汝窑|Ru ware; 建盏|Jian ware; 德化白瓷|Dehua white porcelain; ' +
        '耐热玻璃|heat-resistant glass; 粗陶|stoneware',
    ),
    forms: forms(
      '品茗杯 60ml|tasting cup 60 ml|1; 品茗杯 80ml|tasting cup 80 ml|1.1; 主人杯 100ml|master cup 100 ml|1.5; ' +
        '主人杯 150ml|master cup 150 ml|1.7; 闻香杯对杯|aroma cup pair|1.8; 马克杯 300ml|mug 300 ml|1.4; ' +
        '带杯托|cup with saucer|1.6; 四只装|set of 4|3.5; 六只装|set of 6|5; 情侣对杯|cups for two|2',
    ),
  },
  {
    code: 'POT',
    basePriceMinor: 38800,
    suppliers: ['SUP-04', 'SUP-05'],
    kinds: pairs(
      '宜兴紫砂|Yixing zisha; 朱泥|zhuni clay; 景德镇瓷|Jingdezhen porcelain; 铸铁|cast iron; ' +
        '高硼硅玻璃|borosilicate glass; 纯银|sterling silver',
    ),
    forms: forms(
      '西施壶 200ml|Xishi teapot 200 ml|1; 石瓢壶 250ml|Shipiao teapot 250 ml|1.2; ' +
        '仿古壶 180ml|Fanggu teapot 180 ml|1.1; 掇球壶 300ml|Duoqiu teapot 300 ml|1.3; ' +
        '提梁壶 800ml|top-handle teapot 800 ml|1.8; 小品壶 100ml|mini teapot 100 ml|0.8; ' +
        '侧把壶|side-handle teapot|1.2; 煮茶壶 1.2L|brewing pot 1.2 l|1.6; 壶承套装|teapot with stand|1.7; ' +
        '旅行壶|travel teapot|0.9',
    ),
  },
  {
    code: 'BOWL',
    basePriceMinor: 12800,
    suppliers: ['SUP-05', 'SUP-06', 'SUP-10'],
    kinds: pairs(
      '青花|blue-and-white; 粉彩|famille rose; 青瓷|celadon; 天目|tenmoku; 白瓷|white porcelain; 窑变|flambé',
    ),
    forms: forms(
      '盖碗 100ml|gaiwan 100 ml|1; 盖碗 150ml|gaiwan 150 ml|1.2; 茶碗|tea bowl|1; 抹茶碗|matcha bowl|1.5; ' +
        '公道杯|fairness pitcher|0.9; 茶洗|rinsing bowl|1.1; 建水|waste-water bowl|1.2; ' +
        '碗碟套装|bowl and dish set|2.5; 小茶盏|small tea bowl|0.6; 饭碗|rice bowl|0.5',
    ),
  },
  {
    code: 'TRAY',
    basePriceMinor: 26800,
    suppliers: ['SUP-07', 'SUP-10'],
    kinds: pairs('竹|bamboo; 乌金石|black stone; 黑檀|ebony; 胡桃木|walnut; 陶瓷|ceramic; 电木|bakelite'),
    forms: forms(
      '圆形干泡盘|round dry tray|1; 方形干泡盘|square dry tray|1; 小号储水茶盘|small water-holding tray|1.5; ' +
        '大号储水茶盘|large water-holding tray|2.4; 排水茶盘|drainage tray|2.8; 茶台|tea table top|6; ' +
        '壶承|teapot stand|0.5; 杯托六只|6 cup saucers|0.6; 奉茶盘|serving tray|0.9; 旅行茶盘|travel tray|0.7',
    ),
  },
  {
    code: 'KETTLE',
    basePriceMinor: 29900,
    suppliers: ['SUP-08'],
    kinds: pairs('不锈钢|stainless steel; 玻璃|glass; 铸铁|cast iron; 陶|clay; 纯银|silver; 紫铜|copper'),
    forms: forms(
      '电水壶 0.8L|electric kettle 0.8 l|1; 电水壶 1.2L|electric kettle 1.2 l|1.2; ' +
        '电陶炉套装|kettle and hot plate|2.5; 随手泡|instant-boil kettle|1.1; 烧水壶 1L|stovetop kettle 1 l|0.9; ' +
        '煮茶器|tea brewer|1.6; 温控壶|temperature-control kettle|1.5; 手冲壶|pour-over kettle|0.8; ' +
        '保温壶|thermos|0.7; 旅行电水壶|travel kettle|0.6',
    ),
  },
  {
    code: 'CADDY',
    basePriceMinor: 8800,
    suppliers: ['SUP-04', 'SUP-10'],
    kinds: pairs('锡|tin; 陶|ceramic; 马口铁|tinplate; 竹|bamboo; 紫砂|zisha; 漆器|lacquer'),
    forms: forms(
      '小号 50g|small 50 g|1; 中号 100g|medium 100 g|1.3; 大号 250g|large 250 g|1.8; 密封罐|sealed jar|1.2; ' +
        '旅行罐|travel caddy|0.7; 双盖罐|double-lid caddy|1.5; 方罐|square caddy|1.2; 圆罐|round caddy|1.1; ' +
        '礼盒装|in a gift box|2; 普洱罐|Pu-erh jar|2.2',
    ),
  },
  {
    code: 'SET',
    basePriceMinor: 22800,
    suppliers: ['SUP-09', 'SUP-10'],
    kinds: pairs(
      '功夫茶具|gongfu tea set; 旅行茶具|travel tea set; 日式茶具|Japanese tea set; 青花茶具|blue-and-white tea set; ' +
        '玻璃茶具|glass tea set; 紫砂茶具|zisha tea set',
    ),
    forms: forms(
      '一壶两杯|teapot and 2 cups|1; 一壶四杯|teapot and 4 cups|1.4; 一壶六杯|teapot and 6 cups|1.8; ' +
        '含茶盘|with tray|2.5; 便携包|with carry bag|1.1; 礼盒|gift box|1.6; 入门套装|starter set|0.8; ' +
        '全套|complete set|3; 快客杯|quick brew cup|0.5; 办公套装|office set|0.9',
    ),
  },
];

/** Yuan to dollars for the price list abroad, rounded to .99. */
const CNY_PER_USD = 7.1;

export interface CatalogueItem {
  sku: string;
  names: Record<Language, string>;
  /** CNY minor units (fen): the Product's price. */
  unitPriceMinor: number;
  /** The price abroad, USD minor units (cents). */
  unitPriceUsdMinor: number;
  /** What the supplier charges, CNY minor units. */
  unitCostMinor: number;
  supplierId: string;
  /** Units a replenishment orders at least. */
  reorderQuantity: number;
}

/** The catalogue's SKUs, the same for every seed: TEA-001 … SET-060. */
export const SKUS: readonly string[] = CATEGORIES.flatMap((category) =>
  Array.from({ length: 60 }, (_, index) => `${category.code}-${String(index + 1).padStart(3, '0')}`),
);

export function catalogueOf(seed: number): CatalogueItem[] {
  return CATEGORIES.flatMap((category) =>
    category.kinds.flatMap((kind, kindIndex) =>
      category.forms.map((form, formIndex) => {
        const number = kindIndex * category.forms.length + formIndex;
        const sku = `${category.code}-${String(number + 1).padStart(3, '0')}`;
        const random = seededRandom(mix(seed, STREAMS.product, SKUS.indexOf(sku)));
        // Whole yuan; a little spread per seed so two seeds' catalogues differ.
        const yuan = Math.max(
          9,
          Math.round(
            (category.basePriceMinor / 100) * (1 + 0.15 * kindIndex) * form[2] * (0.9 + random() * 0.2),
          ),
        );
        const unitPriceMinor = yuan * 100;
        return {
          sku,
          // 西湖龙井 50g 罐装, 青瓷盖碗 100ml: a space only before a size written in Latin letters.
          names: {
            'zh-CN': `${kind[0]}${/^[\x20-\x7e]/.test(form[0]) ? ' ' : ''}${form[0]}`,
            en: `${kind[1]} ${form[1]}`,
          },
          unitPriceMinor,
          unitPriceUsdMinor: Math.max(1, Math.round(yuan / CNY_PER_USD)) * 100 - 1,
          unitCostMinor: Math.round(unitPriceMinor * (0.45 + random() * 0.2)),
          supplierId: category.suppliers[kindIndex % category.suppliers.length] as string,
          reorderQuantity: pick(random, [12, 24, 36, 48]),
        };
      }),
    ),
  );
}

// ---- Documents -------------------------------------------------------------------------------------------

interface Stamped {
  _id: Types.ObjectId;
  createdAt: Date;
  updatedAt: Date;
}

export interface ProductDocument extends Stamped {
  sku: string;
  /** The Product model has one name: both languages, as on the shop's labels. */
  name: string;
  unitPriceMinor: number;
  unitCostMinor: number;
  currency: string;
}

/** A movement as the stock ledger records it (models/stock-ledger.ts), already applied. */
export interface StockMovementDocument extends Stamped, StockMovementRequest {
  state: 'applied';
}

export interface StockLevelFigures {
  sku: string;
  warehouse: string;
  onHand: number;
  reserved: number;
}

export type LineStatus = 'open' | 'partially_cancelled' | 'cancelled';

export interface SalesOrderLine {
  lineId: string;
  sku: string;
  warehouse: string;
  quantity: number;
  reservedQuantity: number;
  cancelledQuantity: number;
  unitPriceMinor: number;
  status: LineStatus;
}

export interface SalesOrderDocument extends Stamped {
  orderNumber: string;
  customerId: string;
  status: OrderStatus;
  currency: string;
  lines: SalesOrderLine[];
  totalMinor: number;
  cancellation: { reasonCode?: ReasonCode; note?: string; cancellationIds: string[] };
  history: { key: string; at: Date; status: OrderStatus; actor: string; note?: string }[];
  /** The customer's copy the order model keeps for search (the same function derives it). */
  customerName: string;
  customerSearch: CustomerSearch;
}

export interface PaymentDocument extends Stamped {
  paymentId: string;
  orderNumber: string;
  capturedMinor: number;
  refundedMinor: number;
  currency: string;
  method: PaymentMethodName;
  providerReference: string;
  pendingRefunds: string[];
}

export interface RefundDocument extends Stamped {
  idempotencyKey: string;
  paymentId: string;
  orderNumber: string;
  cancellationId: string;
  amountMinor: number;
  currency: string;
  status: 'succeeded' | 'failed' | 'settled_manually';
  providerRefundId?: string;
  failure?: string;
}

export interface VoucherDocument extends Stamped {
  idempotencyKey: string;
  kind: 'refund';
  currency: string;
  document: { kind: string; id: string };
  lines: { account: string; debitMinor: number; creditMinor: number }[];
  memo: string;
}

export interface ShipmentDocument extends Stamped {
  shipmentId: string;
  orderNumber: string;
  warehouse: string;
  carrier: string;
  trackingNumber: string;
  status: ShipmentStatus;
  lines: { lineId: string; sku: string; quantity: number; returnedQuantity: number }[];
  shippedAt: Date;
  deliveredAt?: Date;
  history: { key: string; at: Date; status: ShipmentStatus; note?: string }[];
  returns: never[];
  revision: number;
}

export interface PurchaseOrderDocument extends Stamped {
  poNumber: string;
  supplier: Supplier;
  status: PurchaseOrderStatus;
  currency: string;
  warehouse?: string;
  dropShip: boolean;
  lines: PurchaseLine[];
  expectedAt: Date;
  sentAt?: Date;
  confirmedAt?: Date;
  adjustments: {
    key: string;
    kind: 'reduce_for_cancellation';
    at: Date;
    actor: string;
    reason: string;
    orderNumber: string;
    requested: { lineId: string; quantity: number }[];
    changes: { lineId: string; salesLineId: string; quantity: number }[];
    refusals: { lineId: string; salesLineId: string; quantity: number; reason: ReductionRefusal }[];
    statusBefore: PurchaseOrderStatus;
    statusAfter: PurchaseOrderStatus;
  }[];
  revision: number;
}

export interface CancellationDocument extends Stamped {
  cancellationId: string;
  workflowId: string;
  orderNumber: string;
  customerId: string;
  reasonCode: ReasonCode;
  note?: string;
  requestedBy: string;
  confirmed: string[];
  requestedLines?: { lineId: string; quantity: number }[];
  state: 'completed';
  outcome: 'completed';
  risk: RiskAssessment;
  approval?: ApprovalProgress;
  purchasing?: PurchasingReport;
  settlement?: { failure: string; outstandingMinor: number; by: string; reference: string };
  refundedMinor: number;
  currency: string;
  lines: { lineId: string; sku: string; warehouse: string; quantity: number; amountMinor: number }[];
  notifications: { channel: 'email' | 'sms'; status: 'sent' | 'skipped'; detail?: string }[];
  timeline: { step: number; at: Date; state: string }[];
}

/** One batch of generated documents, one array per model, in the order a loader should write them. */
export interface Books {
  products: ProductDocument[];
  customers: CustomerDocument[];
  stockMovements: StockMovementDocument[];
  purchaseOrders: PurchaseOrderDocument[];
  payments: PaymentDocument[];
  refunds: RefundDocument[];
  vouchers: VoucherDocument[];
  shipments: ShipmentDocument[];
  cancellations: CancellationDocument[];
  salesOrders: SalesOrderDocument[];
}

export const emptyBooks = (): Books => ({
  products: [],
  customers: [],
  stockMovements: [],
  purchaseOrders: [],
  payments: [],
  refunds: [],
  vouchers: [],
  shipments: [],
  cancellations: [],
  salesOrders: [],
});

// ---- Orders ----------------------------------------------------------------------------------------------

// Roughly a shop's mix: most orders are done; a few of each open status; some cancelled.
const STATUS_WEIGHTS: readonly (readonly [OrderStatus, number])[] = [
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
/** The order's way through the warehouse, in order; a cancellation stops it (in whole) or not (in part). */
const STAGES = ['draft', 'confirmed', 'allocated', 'picking', 'shipped', 'delivered', 'completed'] as const;
type Stage = (typeof STAGES)[number];
const reached = (stage: Stage, at: Stage) => STAGES.indexOf(stage) >= STAGES.indexOf(at);

const REASON_SHARES: Partial<Record<ReasonCode, number>> = {
  customer_changed_mind: 40,
  out_of_stock: 12,
  duplicate_order: 10,
  price_error: 6,
  suspected_fraud: 2,
};
const REASON_WEIGHTS = REASON_CODES.map((code) => [code, REASON_SHARES[code] ?? 8] as const);
const REASON_NOTES: Record<Language, readonly string[]> = {
  'zh-CN': ['客户来电要求取消', '客户在线申请取消', '客户重复下单', '地址无法送达', '等待时间过长'],
  en: [
    'customer called to cancel',
    'cancelled through the customer portal',
    'ordered twice',
    'address cannot be reached',
    'waited too long',
  ],
};
const REQUESTERS = ['clerk-1', 'erp:clerk-7', 'customer-portal'];

const CARRIERS: Record<Market, readonly (readonly [string, (random: Random) => string])[]> = {
  CN: [
    ['SF Express', (random) => `SF${digits(random, 13)}`],
    ['JD Logistics', (random) => `JDVA${digits(random, 11)}`],
    ['ZTO Express', (random) => `7${digits(random, 13)}`],
    ['YTO Express', (random) => `YT${digits(random, 13)}`],
    [
      'China Post EMS',
      (random) => `E${alphanumeric(random, 1, 'ABCDEFGHJKLMNPQRSTUVWXYZ')}${digits(random, 9)}CN`,
    ],
  ],
  US: [
    ['UPS', (random) => `1Z${alphanumeric(random, 16, '0123456789ABCDEFGHJKLMNPRSTUVWXYZ')}`],
    ['FedEx', (random) => digits(random, 12)],
    ['USPS', (random) => `9400${digits(random, 18)}`],
  ],
};

interface PaymentMethod {
  reference: (random: Random, at: Date) => string;
  refundReference: (random: Random) => string;
}
const yyyymmdd = (at: Date) => at.toISOString().slice(0, 10).replace(/-/g, '');
/** How each provider writes its references (shapes only; the numbers are random). */
const PAYMENT_METHODS = {
  alipay: {
    reference: (random, at) => `${yyyymmdd(at)}2200${digits(random, 16)}`,
    refundReference: (random) => `RF${digits(random, 24)}`,
  },
  wechat_pay: {
    reference: (random, at) => `4200${digits(random, 6)}${yyyymmdd(at)}${digits(random, 10)}`,
    refundReference: (random) => `50300${digits(random, 23)}`,
  },
  unionpay: { reference: (random) => digits(random, 21), refundReference: (random) => digits(random, 21) },
  card: {
    reference: (random) => `ch_${alphanumeric(random, 24)}`,
    refundReference: (random) => `re_${alphanumeric(random, 24)}`,
  },
  paypal: {
    reference: (random) => `PAYID-${alphanumeric(random, 24, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`,
    refundReference: (random) => alphanumeric(random, 17, '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'),
  },
  store_credit: {
    reference: (random) => `SC-${digits(random, 10)}`,
    refundReference: (random) => `SCR-${digits(random, 10)}`,
  },
} satisfies Record<string, PaymentMethod>;
type PaymentMethodName = keyof typeof PAYMENT_METHODS;
const METHOD_SHARES: Record<Market, readonly (readonly [PaymentMethodName, number])[]> = {
  CN: [
    ['alipay', 40],
    ['wechat_pay', 35],
    ['unionpay', 10],
    ['card', 15],
  ],
  US: [
    ['card', 75],
    ['paypal', 25],
  ],
};
const REFUND_FAILURES = ['card expired', 'account closed', 'refund window passed at the provider'];

/** The order's stock lines reserve from here; its drop-shipped line, if any, from the supplier. */
function warehouseFor(random: Random, market: Market): string {
  if (market === 'US') return 'WH-LA-01';
  return random() < 0.6 ? 'WH-SH-01' : 'WH-GZ-01';
}

const lineStatusOf = (line: Pick<SalesOrderLine, 'quantity' | 'cancelledQuantity'>): LineStatus =>
  line.cancelledQuantity === 0
    ? 'open'
    : line.cancelledQuantity >= line.quantity
      ? 'cancelled'
      : 'partially_cancelled';

/** Units of a sales line awaited from a supplier, and the purchase order they are on. */
interface SupplyLink {
  lineId: string;
  kind: 'back_order' | 'drop_ship';
  quantity: number;
  purchaseOrder: PurchaseOrderDocument;
}

/**
 * Generates the books order by order. `next(count)` returns the next orders with everything they bring: the
 * customers who joined meanwhile, the ledger's movements, purchase orders, payments, refunds, vouchers,
 * shipments and cancellations (and, the first time, the catalogue and its opening stock).
 */
export class BooksGenerator {
  readonly catalogue: readonly CatalogueItem[];
  private readonly items: ReadonlyMap<string, CatalogueItem>;
  private readonly customers: GeneratedCustomer[] = [];
  private readonly stock = new Map<string, StockLevelFigures>();
  private readonly serials = new Map<number, number>();
  private orders = 0;
  private purchaseOrders = 0;

  constructor(readonly seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
      throw new RangeError(`seed must be a whole number from 0 to ${0xffffffff}, not ${seed}`);
    this.catalogue = catalogueOf(seed);
    this.items = new Map(this.catalogue.map((item) => [item.sku, item]));
  }

  /** How many orders have been generated so far. */
  get orderCount(): number {
    return this.orders;
  }

  /** What the ledger generated so far adds up to, per SKU and warehouse: what the stock levels must show. */
  stockLevels(): StockLevelFigures[] {
    return [...this.stock.values()].map((level) => ({ ...level }));
  }

  next(count: number): Books {
    if (!Number.isInteger(count) || count < 0)
      throw new RangeError(`count must be a whole number, not ${count}`);
    const books = emptyBooks();
    if (this.orders === 0 && count > 0) this.openShop(books);
    for (let made = 0; made < count; made += 1) {
      const index = this.orders;
      while (this.customers.length < customerCountAt(index + 1)) {
        const customer = makeCustomer(this.seed, this.customers.length);
        this.customers.push(customer);
        books.customers.push(customer.document);
      }
      this.makeOrder(index, books);
      this.orders += 1;
    }
    return books;
  }

  private id(kind: number, at: Date): Types.ObjectId {
    const serial = this.serials.get(kind) ?? 0;
    this.serials.set(kind, serial + 1);
    return objectId(this.seed, kind, serial, at);
  }

  private item(sku: string): CatalogueItem {
    const item = this.items.get(sku);
    if (!item) throw new Error(`no catalogue item ${sku}`);
    return item;
  }

  /** The products, and their opening stock in every warehouse (a stock take the day before trading). */
  private openShop(books: Books): void {
    const at = new Date(FIRST_ORDER_AT - DAY);
    for (const item of this.catalogue) {
      books.products.push({
        _id: this.id(ID_KINDS.product, at),
        sku: item.sku,
        name: `${item.names['zh-CN']} / ${item.names.en}`,
        unitPriceMinor: item.unitPriceMinor,
        unitCostMinor: item.unitCostMinor,
        currency: 'CNY',
        createdAt: at,
        updatedAt: at,
      });
      const random = seededRandom(mix(this.seed, STREAMS.product, SKUS.indexOf(item.sku), 1));
      for (const warehouse of WAREHOUSES) {
        // Some lines are nearly sold out from the start, so replenishment comes early even in a small run.
        const quantity =
          random() < 0.15
            ? between(random, 1, 3)
            : warehouse.market === 'US'
              ? between(random, 4, 30)
              : between(random, 10, 120);
        this.move(books, at, {
          idempotencyKey: `opening-stock:${item.sku}:${warehouse.code}`,
          type: 'adjust',
          sku: item.sku,
          warehouse: warehouse.code,
          onHandDelta: quantity,
          reservedDelta: 0,
          document: { kind: 'stock_take', id: `ST-${yearOf(at)}-OPENING` },
          actor: 'warehouse',
          reason: 'opening stock',
        });
      }
    }
  }

  /** One ledger movement, applied to the running levels under the ledger's own guard. */
  private move(
    books: Books,
    at: Date,
    movement: Omit<StockMovementDocument, '_id' | 'state' | 'createdAt' | 'updatedAt'>,
  ): void {
    const place = `${movement.sku}\u0000${movement.warehouse}`;
    const level = this.stock.get(place) ?? {
      sku: movement.sku,
      warehouse: movement.warehouse,
      onHand: 0,
      reserved: 0,
    };
    const onHand = level.onHand + movement.onHandDelta;
    const reserved = level.reserved + movement.reservedDelta;
    if (onHand < 0 || reserved < 0 || reserved > onHand) {
      throw new Error(
        `generator: ${movement.idempotencyKey} would leave ${movement.sku} in ${movement.warehouse} at on hand ` +
          `${onHand}, reserved ${reserved}`,
      );
    }
    this.stock.set(place, { ...level, onHand, reserved });
    books.stockMovements.push({
      _id: this.id(ID_KINDS.movement, at),
      ...movement,
      state: 'applied',
      createdAt: at,
      updatedAt: at,
    });
  }

  private available(sku: string, warehouse: string): number {
    const level = this.stock.get(`${sku}\u0000${warehouse}`);
    return level ? level.onHand - level.reserved : 0;
  }

  private nextPoNumber(at: Date): string {
    this.purchaseOrders += 1;
    return `PO-${yearOf(at)}-${String(this.purchaseOrders).padStart(6, '0')}`;
  }

  private supplier(item: CatalogueItem): Supplier {
    return SUPPLIERS.find((supplier) => supplier.supplierId === item.supplierId) as Supplier;
  }

  /** Reserves units for a line, first receiving a replenishment when what is available falls short. */
  private reserve(
    books: Books,
    at: Date,
    order: string,
    line: SalesOrderLine,
    units: number,
    key: string,
  ): void {
    if (units <= 0) return;
    const shortBy = units - this.available(line.sku, line.warehouse);
    if (shortBy > 0) this.replenish(books, new Date(at.getTime() - HOUR), line.sku, line.warehouse, shortBy);
    this.move(books, at, {
      idempotencyKey: key,
      type: 'reserve',
      sku: line.sku,
      warehouse: line.warehouse,
      onHandDelta: 0,
      reservedDelta: units,
      document: { kind: 'sales_order', id: order, lineId: line.lineId },
      actor: 'wms',
    });
  }

  /** A purchase order to the product's supplier, received in full an hour before the stock is needed. */
  private replenish(books: Books, receivedAt: Date, sku: string, warehouse: string, shortBy: number): void {
    const item = this.item(sku);
    const quantity = Math.ceil((shortBy + item.reorderQuantity) / 6) * 6;
    const createdAt = new Date(receivedAt.getTime() - 6 * DAY);
    const poNumber = this.nextPoNumber(createdAt);
    books.purchaseOrders.push({
      _id: this.id(ID_KINDS.purchaseOrder, createdAt),
      poNumber,
      supplier: this.supplier(item),
      status: 'received',
      currency: 'CNY',
      warehouse,
      dropShip: false,
      lines: [
        {
          lineId: 'P1',
          sku,
          unitCostMinor: item.unitCostMinor,
          orderedQuantity: quantity,
          cancelledQuantity: 0,
          supplierShippedQuantity: quantity,
          receivedQuantity: quantity,
          raisedFor: [],
        },
      ],
      expectedAt: receivedAt,
      sentAt: new Date(createdAt.getTime() + HOUR),
      confirmedAt: new Date(createdAt.getTime() + DAY),
      adjustments: [],
      revision: 0,
      createdAt,
      updatedAt: receivedAt,
    });
    this.move(books, receivedAt, {
      idempotencyKey: `${poNumber}:receive:P1`,
      type: 'adjust',
      sku,
      warehouse,
      onHandDelta: quantity,
      reservedDelta: 0,
      document: { kind: 'purchase_order', id: poNumber, lineId: 'P1' },
      actor: 'warehouse',
      reason: 'purchase receipt',
    });
  }

  private makeOrder(index: number, books: Books): void {
    const random = seededRandom(mix(this.seed, STREAMS.order, index));
    const createdAt = orderTime(index);
    const orderNumber = orderNumberOf(index);
    const customer = this.customers[Math.floor(random() * customerCountAt(index + 1))] as GeneratedCustomer;
    const { market } = customer;
    const currency = market === 'CN' ? 'CNY' : 'USD';
    const warehouse = warehouseFor(random, market);
    // The first orders take each status in turn, so that even a small run has every one of them.
    const status =
      index < ORDER_STATUSES.length
        ? (ORDER_STATUSES[index] as OrderStatus)
        : weighted(random, STATUS_WEIGHTS);

    // How far it got in the warehouse, and what was cancelled on the way.
    const cancelledWhole = status === 'cancelled';
    const partial =
      status === 'partially_cancelled' ||
      (['shipped', 'delivered', 'completed'].includes(status) && random() < 0.06);
    const stage: Stage = cancelledWhole
      ? weighted(random, [
          ['draft', 15],
          ['confirmed', 35],
          ['allocated', 35],
          ['picking', 15],
        ])
      : status === 'partially_cancelled'
        ? weighted(random, [
            ['confirmed', 30],
            ['allocated', 50],
            ['picking', 20],
          ])
        : status;

    // Lines: distinct SKUs, mostly one or two units.
    const skus = new Set<string>();
    const lineCount = 1 + Math.floor(random() ** 2 * 4);
    while (skus.size < lineCount) skus.add(pick(random, SKUS));
    const lines: SalesOrderLine[] = [...skus].map((sku, lineIndex) => {
      const item = this.item(sku);
      const listPrice = currency === 'CNY' ? item.unitPriceMinor : item.unitPriceUsdMinor;
      // One line in ten is on promotion, 10% off.
      const unitPriceMinor = random() < 0.1 ? Math.round(listPrice * 0.9) : listPrice;
      return {
        lineId: `L${lineIndex + 1}`,
        sku,
        warehouse,
        quantity: 1 + Math.floor(random() ** 3 * 4),
        reservedQuantity: 0,
        cancelledQuantity: 0,
        unitPriceMinor,
        status: 'open',
      };
    });
    const first = lines[0] as SalesOrderLine;
    // A partial cancellation needs a unit to leave behind.
    if (partial && lines.length === 1 && first.quantity === 1) first.quantity = 2;
    const totalMinor = lines.reduce((sum, line) => sum + line.quantity * line.unitPriceMinor, 0);

    // Units awaited from suppliers: some open orders back-order a line or have it drop-shipped; some cancelled
    // ones had back-ordered a line, whose purchase order the cancellation took off.
    const openOrder = ['confirmed', 'allocated', 'picking'].includes(status);
    const supplyRoll = random();
    const supplied: 'back_order' | 'drop_ship' | undefined =
      (openOrder || (cancelledWhole && reached(stage, 'allocated'))) && supplyRoll < 0.12
        ? 'back_order'
        : openOrder && supplyRoll < 0.17
          ? 'drop_ship'
          : undefined;
    const suppliedLine = supplied ? pick(random, lines) : undefined;
    if (suppliedLine && supplied === 'drop_ship') suppliedLine.warehouse = DROP_SHIP_LOCATION;

    const history: SalesOrderDocument['history'] = [];
    let at = createdAt;
    const step = (reachedStatus: OrderStatus, actor: string, after: number) => {
      at = new Date(at.getTime() + after);
      history.push({ key: `${orderNumber}:${reachedStatus}`, at, status: reachedStatus, actor });
    };
    history.push({ key: `${orderNumber}:placed`, at, status: 'draft', actor: 'shop' });

    const payments: PaymentDocument[] = [];
    if (reached(stage, 'confirmed')) {
      step('confirmed', 'shop', between(random, 2, 30) * MINUTE);
      payments.push(...this.pay(books, random, orderNumber, market, currency, totalMinor, at));
    }
    let link: SupplyLink | undefined;
    if (suppliedLine && supplied) {
      link = this.raisePurchaseOrder(books, random, orderNumber, suppliedLine, supplied, stage, at);
    }
    if (reached(stage, 'allocated')) {
      step('allocated', 'wms', between(random, 1, 8) * HOUR);
      for (const line of lines) {
        if (line.warehouse === DROP_SHIP_LOCATION) continue;
        const awaited = link?.lineId === line.lineId && link.kind === 'back_order' ? link.quantity : 0;
        const units = line.quantity - awaited;
        this.reserve(books, at, orderNumber, line, units, `${orderNumber}:reserve:${line.lineId}`);
        line.reservedQuantity = units;
      }
      if (link?.kind === 'back_order') this.receivePart(books, random, orderNumber, lines, link, at);
    }

    const cancellationIds: string[] = [];
    let cancellation: SalesOrderDocument['cancellation'] = { cancellationIds };
    const cancel = (whole: boolean) => {
      at = new Date(at.getTime() + between(random, 10, 48 * 60) * MINUTE);
      const made = this.cancel(books, random, {
        orderNumber,
        customer,
        currency,
        stage,
        lines,
        payments,
        link,
        whole,
        at,
      });
      cancellationIds.push(made.cancellationId);
      cancellation = {
        reasonCode: made.reasonCode,
        ...(made.note ? { note: made.note } : {}),
        cancellationIds,
      };
      history.push({
        key: `${made.cancellationId}:close-order`,
        at: made.closedAt,
        status: whole ? 'cancelled' : 'partially_cancelled',
        actor: 'cancelflow',
        note: made.reasonCode,
      });
      at = made.closedAt;
    };
    if (status === 'partially_cancelled' || cancelledWhole) {
      if (reached(stage, 'picking')) step('picking', 'wms', between(random, 4, 24) * HOUR);
      cancel(cancelledWhole);
    } else {
      // An order that went on after a partial cancellation lost those units while allocated.
      if (partial) cancel(false);
      if (reached(stage, 'picking')) step('picking', 'wms', between(random, 4, 24) * HOUR);
      if (reached(stage, 'shipped')) {
        step('shipped', 'wms', between(random, 2, 12) * HOUR);
        const deliveredAt = this.ship(books, random, orderNumber, market, warehouse, lines, at, stage);
        if (reached(stage, 'delivered')) step('delivered', 'carrier', deliveredAt.getTime() - at.getTime());
        if (reached(stage, 'completed')) step('completed', 'shop', between(random, 7, 10) * DAY);
      }
    }

    for (const line of lines) line.status = lineStatusOf(line);
    books.salesOrders.push({
      _id: objectId(this.seed, ID_KINDS.order, index, createdAt),
      orderNumber,
      customerId: customer.document.customerId,
      status,
      currency,
      lines,
      totalMinor,
      cancellation,
      history,
      ...customer.orderCopy,
      createdAt,
      updatedAt: at,
    });
  }

  /** The captured payments of a confirmed order: one, or (one order in twenty) store credit and the rest. */
  private pay(
    books: Books,
    random: Random,
    orderNumber: string,
    market: Market,
    currency: string,
    totalMinor: number,
    at: Date,
  ): PaymentDocument[] {
    const method = weighted(random, METHOD_SHARES[market]);
    const credit =
      random() < 0.05 && totalMinor > 2000 ? between(random, 1, Math.floor(totalMinor / 200)) * 100 : 0;
    const parts: [PaymentMethodName, number][] =
      credit > 0
        ? [
            ['store_credit', credit],
            [method, totalMinor - credit],
          ]
        : [[method, totalMinor]];
    const payments = parts.map(([name, capturedMinor], part) => ({
      _id: this.id(ID_KINDS.payment, at),
      paymentId: part === 0 ? `PAY-${orderNumber}` : `PAY-${orderNumber}-${part + 1}`,
      orderNumber,
      capturedMinor,
      refundedMinor: 0,
      currency,
      method: name,
      providerReference: PAYMENT_METHODS[name].reference(random, at),
      pendingRefunds: [],
      createdAt: new Date(at.getTime() + part * 1000),
      updatedAt: new Date(at.getTime() + part * 1000),
    }));
    books.payments.push(...payments);
    return payments;
  }

  /** The purchase order raised for a back-ordered or drop-shipped line, as far as the supplier got with it. */
  private raisePurchaseOrder(
    books: Books,
    random: Random,
    orderNumber: string,
    line: SalesOrderLine,
    kind: 'back_order' | 'drop_ship',
    stage: Stage,
    at: Date,
  ): SupplyLink {
    const item = this.item(line.sku);
    // A confirmed order has nothing reserved yet: the whole line is awaited. Once allocated, only what stock
    // could not cover.
    const quantity =
      kind === 'drop_ship' || stage === 'confirmed' ? line.quantity : between(random, 1, line.quantity);
    const createdAt = new Date(at.getTime() + between(random, 1, 3) * HOUR);
    const status: PurchaseOrderStatus = weighted(random, [
      ['draft', 25],
      ['sent', 35],
      ['confirmed', 30],
      // Part received: only for units that stock then reserves, so only for an allocated back-order.
      ['partially_received', kind === 'back_order' && stage !== 'confirmed' && quantity >= 2 ? 25 : 0],
    ]);
    const sentAt =
      status === 'draft' ? undefined : new Date(createdAt.getTime() + between(random, 1, 6) * HOUR);
    const confirmedAt =
      status === 'confirmed' || status === 'partially_received'
        ? new Date(createdAt.getTime() + between(random, 1, 2) * DAY)
        : undefined;
    const poNumber = this.nextPoNumber(createdAt);
    const purchaseOrder: PurchaseOrderDocument = {
      _id: this.id(ID_KINDS.purchaseOrder, createdAt),
      poNumber,
      supplier: this.supplier(item),
      status,
      currency: 'CNY',
      ...(kind === 'back_order' ? { warehouse: line.warehouse } : {}),
      dropShip: kind === 'drop_ship',
      lines: [
        {
          lineId: 'P1',
          sku: line.sku,
          unitCostMinor: item.unitCostMinor,
          orderedQuantity: quantity,
          cancelledQuantity: 0,
          // Some suppliers confirm and send an advance shipping notice for part of the line.
          supplierShippedQuantity:
            status === 'confirmed' && random() < 0.3 ? between(random, 1, quantity) : 0,
          receivedQuantity: 0,
          raisedFor: [{ orderNumber, lineId: line.lineId, kind, quantity, cancelledQuantity: 0 }],
        },
      ],
      expectedAt: new Date(createdAt.getTime() + between(random, 7, 21) * DAY),
      ...(sentAt ? { sentAt } : {}),
      ...(confirmedAt ? { confirmedAt } : {}),
      adjustments: [],
      revision: 0,
      createdAt,
      updatedAt: confirmedAt ?? sentAt ?? createdAt,
    };
    books.purchaseOrders.push(purchaseOrder);
    return { lineId: line.lineId, kind, quantity, purchaseOrder };
  }

  /** Part of a back-order arrived: received into stock and reserved for the line it was bought for. */
  private receivePart(
    books: Books,
    random: Random,
    orderNumber: string,
    lines: SalesOrderLine[],
    link: SupplyLink,
    at: Date,
  ): void {
    const po = link.purchaseOrder;
    const poLine = po.lines[0] as PurchaseLine;
    if (po.status !== 'partially_received') return;
    const line = lines.find((candidate) => candidate.lineId === link.lineId) as SalesOrderLine;
    const received = between(random, 1, poLine.orderedQuantity - 1);
    poLine.receivedQuantity = received;
    poLine.supplierShippedQuantity = received;
    const receivedAt = new Date(Math.max(at.getTime(), (po.confirmedAt ?? po.createdAt).getTime()) + DAY);
    po.updatedAt = receivedAt;
    this.move(books, receivedAt, {
      idempotencyKey: `${po.poNumber}:receive:P1`,
      type: 'adjust',
      sku: line.sku,
      warehouse: line.warehouse,
      onHandDelta: received,
      reservedDelta: 0,
      document: { kind: 'purchase_order', id: po.poNumber, lineId: 'P1' },
      actor: 'warehouse',
      reason: 'purchase receipt',
    });
    this.reserve(
      books,
      receivedAt,
      orderNumber,
      line,
      received,
      `${orderNumber}:reserve:${line.lineId}:${po.poNumber}`,
    );
    line.reservedQuantity += received;
  }

  /**
   * A completed cancellation as cancelflow makes it: reserved units released, the purchase order's units taken
   * off, the refund per policy (all that was captured for a whole cancellation, the lines' amount for a partial
   * one) against the payments oldest first, with a voucher for each, and the record of it all.
   */
  private cancel(
    books: Books,
    random: Random,
    order: {
      orderNumber: string;
      customer: GeneratedCustomer;
      currency: string;
      stage: Stage;
      lines: SalesOrderLine[];
      payments: PaymentDocument[];
      link: SupplyLink | undefined;
      whole: boolean;
      at: Date;
    },
  ): { cancellationId: string; reasonCode: ReasonCode; note?: string; closedAt: Date } {
    const { orderNumber, customer, currency, lines, payments, link, whole, at } = order;
    const cancellationId = uuid(random);
    const reasonCode = weighted(random, REASON_WEIGHTS);
    const language = customer.document.language;
    const note = random() < 0.3 ? pick(random, REASON_NOTES[language]) : undefined;

    // Which units: all that are left, or part of one line (never the whole order).
    let requested: { lineId: string; quantity: number }[];
    if (whole) {
      requested = lines.map((line) => ({
        lineId: line.lineId,
        quantity: line.quantity - line.cancelledQuantity,
      }));
    } else {
      const line = pick(random, lines);
      const wholeOrderUnits = lines.reduce((sum, candidate) => sum + candidate.quantity, 0);
      const quantity = Math.min(between(random, 1, line.quantity), wholeOrderUnits - 1);
      requested = [{ lineId: line.lineId, quantity }];
    }

    let clock = at.getTime();
    const timeline: CancellationDocument['timeline'] = [];
    const enter = (state: string, after = between(random, 1, 30) * 1000) => {
      clock += after;
      timeline.push({ step: timeline.length, at: new Date(clock), state });
    };
    ['loadingPolicy', 'reviewing', 'assessingRisk'].forEach((state) => enter(state));

    const cancelledLines = requested.map((want) => {
      const line = lines.find((candidate) => candidate.lineId === want.lineId) as SalesOrderLine;
      return {
        line,
        quantity: want.quantity,
        reservedQuantity: Math.min(want.quantity, line.reservedQuantity),
        amountMinor: want.quantity * line.unitPriceMinor,
      };
    });
    const capturedLeft = payments.reduce(
      (sum, payment) => sum + payment.capturedMinor - payment.refundedMinor,
      0,
    );
    const linesAmount = cancelledLines.reduce((sum, line) => sum + line.amountMinor, 0);
    const refundableMinor = Math.min(capturedLeft, whole ? capturedLeft : linesAmount);

    // Risk as assessRisk rates it; medium and high needed approval, and got it.
    const risk: RiskAssessment = { level: 'low', reasons: [] };
    const raise = (level: 'medium' | 'high', reason: string) => {
      risk.reasons.push(reason);
      if (level === 'high' || risk.level === 'low') risk.level = level;
    };
    if (refundableMinor >= 1_000_000) raise('high', `refund of ${refundableMinor} minor units ${currency}`);
    else if (refundableMinor >= 200_000)
      raise('medium', `refund of ${refundableMinor} minor units ${currency}`);
    if (reasonCode === 'suspected_fraud') raise('high', `reason: ${reasonCode}`);
    if (customer.document.tier === 'vip') raise('medium', 'vip customer');
    const withSupplier =
      link && ['sent', 'confirmed', 'partially_received'].includes(link.purchaseOrder.status);
    if (withSupplier && link)
      raise('medium', `purchase orders already with suppliers: ${link.purchaseOrder.poNumber}`);
    let approval: ApprovalProgress | undefined;
    if (risk.level !== 'low') {
      const levels = risk.level === 'high' ? [1, 2] : [1];
      enter('awaitingApproval.waitingForDecision');
      enter('proceeding', between(random, 5, 600) * MINUTE);
      approval = {
        step: levels.length,
        steps: levels.length,
        requiredLevel: levels[levels.length - 1] as number,
        escalations: 0,
        eligibleApprovers: risk.level === 'high' ? ['director-1'] : ['manager-1', 'director-1'],
        decisions: levels.map((level) => ({
          approver: level === 1 ? 'manager-1' : 'director-1',
          approved: true,
          level,
        })),
      };
    }

    // Stock: the reserved units go back to available.
    enter('releasingStock');
    for (const cancelled of cancelledLines) {
      if (cancelled.reservedQuantity === 0) continue;
      this.move(books, new Date(clock), {
        idempotencyKey: `${cancellationId}:release:${cancelled.line.lineId}`,
        type: 'release',
        sku: cancelled.line.sku,
        warehouse: cancelled.line.warehouse,
        onHandDelta: 0,
        reservedDelta: -cancelled.reservedQuantity,
        document: { kind: 'sales_order', id: orderNumber, lineId: cancelled.line.lineId },
        actor: 'cancelflow',
        reason: `cancellation ${cancellationId}`,
      });
    }

    // Purchasing: the units still awaited for the cancelled line come off its purchase order, except those the
    // supplier already shipped (as reducePurchaseOrdersForCancelledLines plans it).
    enter('adjustingPurchasing');
    let purchasing: PurchasingReport | undefined;
    const awaited = cancelledLines.find((cancelled) => cancelled.line.lineId === link?.lineId);
    const wanted = awaited ? awaited.quantity - awaited.reservedQuantity : 0;
    if (link && wanted > 0) {
      const po = link.purchaseOrder;
      const poLine = po.lines[0] as PurchaseLine;
      const salesLink = poLine.raisedFor[0] as PurchaseLine['raisedFor'][number];
      const off = Math.min(wanted, salesLink.quantity - salesLink.cancelledQuantity, openQuantity(poLine));
      const kept = wanted - off;
      const reason: ReductionRefusal =
        poLine.receivedQuantity === 0 && poLine.supplierShippedQuantity === 0
          ? 'purchase_order_closed'
          : poLine.receivedQuantity >= poLine.supplierShippedQuantity
            ? 'received'
            : 'supplier_shipped';
      const statusBefore = po.status;
      poLine.cancelledQuantity += off;
      salesLink.cancelledQuantity += off;
      po.status = purchaseOrderStatusFor(po.status, po.lines);
      po.revision += 1;
      po.updatedAt = new Date(clock);
      const changes = off > 0 ? [{ lineId: poLine.lineId, salesLineId: link.lineId, quantity: off }] : [];
      const refusals =
        kept > 0 ? [{ lineId: poLine.lineId, salesLineId: link.lineId, quantity: kept, reason }] : [];
      po.adjustments.push({
        key: `${cancellationId}:reduce-purchase-orders`,
        kind: 'reduce_for_cancellation',
        at: new Date(clock),
        actor: 'cancelflow',
        reason: `cancellation ${cancellationId}`,
        orderNumber,
        requested: [{ lineId: link.lineId, quantity: wanted }],
        changes,
        refusals,
        statusBefore,
        statusAfter: po.status,
      });
      purchasing = {
        reduced: changes.map((change) => ({
          poNumber: po.poNumber,
          poLineId: change.lineId,
          salesLineId: change.salesLineId,
          quantity: change.quantity,
          supplierMustBeTold: ['sent', 'confirmed', 'partially_received'].includes(statusBefore),
        })),
        notReduced: refusals.map((refusal) => ({
          poNumber: po.poNumber,
          poLineId: refusal.lineId,
          salesLineId: refusal.salesLineId,
          quantity: refusal.quantity,
          reason: refusal.reason,
        })),
      };
    }

    // Money: through the gateway; one refund in twelve the gateway refuses and finance settles by hand.
    enter('refunding');
    const manual = refundableMinor > 0 && random() < 1 / 12;
    let settlement: CancellationDocument['settlement'];
    let outstanding = refundableMinor;
    for (const payment of payments) {
      if (outstanding <= 0) break;
      const amountMinor = Math.min(outstanding, payment.capturedMinor - payment.refundedMinor);
      if (amountMinor <= 0) continue;
      const method = PAYMENT_METHODS[payment.method];
      const gatewayKey = `${cancellationId}:refund:${payment.paymentId}`;
      const base = {
        paymentId: payment.paymentId,
        orderNumber,
        cancellationId,
        amountMinor,
        currency,
      };
      let key = gatewayKey;
      let completed: Pick<RefundDocument, 'status' | 'providerRefundId'>;
      if (manual) {
        const failure = pick(random, REFUND_FAILURES);
        books.refunds.push({
          _id: this.id(ID_KINDS.refund, new Date(clock)),
          idempotencyKey: gatewayKey,
          ...base,
          status: 'failed',
          failure,
          createdAt: new Date(clock),
          updatedAt: new Date(clock),
        });
        if (!settlement) {
          enter('awaitingSettlement');
          enter('recordingSettlement', between(random, 2, 72) * HOUR);
          settlement = {
            failure: `payment gateway refused: ${failure}`,
            outstandingMinor: refundableMinor,
            by: 'finance-1',
            reference: `FIN-${yearOf(new Date(clock))}-${digits(random, 6)}`,
          };
        }
        key = `${cancellationId}:manual-settlement:${payment.paymentId}`;
        completed = { status: 'settled_manually', providerRefundId: `manual:${settlement.reference}` };
      } else {
        completed = { status: 'succeeded', providerRefundId: method.refundReference(random) };
      }
      const refundAt = new Date(clock);
      books.refunds.push({
        _id: this.id(ID_KINDS.refund, refundAt),
        idempotencyKey: key,
        ...base,
        ...completed,
        createdAt: refundAt,
        updatedAt: refundAt,
      });
      books.vouchers.push({
        _id: this.id(ID_KINDS.voucher, refundAt),
        idempotencyKey: `${key}:voucher`,
        kind: 'refund',
        currency,
        document: { kind: 'refund', id: key },
        memo: `refund of order ${orderNumber} for cancellation ${cancellationId}`,
        lines: [
          { account: '6001 sales revenue', debitMinor: amountMinor, creditMinor: 0 },
          { account: '1002 bank deposits', debitMinor: 0, creditMinor: amountMinor },
        ],
        createdAt: refundAt,
        updatedAt: refundAt,
      });
      payment.refundedMinor += amountMinor;
      payment.updatedAt = refundAt;
      outstanding -= amountMinor;
    }

    // The order closes with the reason; the customer hears on the channels they agreed to.
    enter('closingOrder');
    const closedAt = new Date(clock);
    for (const cancelled of cancelledLines) {
      cancelled.line.cancelledQuantity += cancelled.quantity;
      cancelled.line.reservedQuantity -= cancelled.reservedQuantity;
    }
    enter('notifyingCustomer');
    enter('completed');
    const { consent, email, phone } = customer.document;
    books.cancellations.push({
      _id: this.id(ID_KINDS.cancellation, at),
      cancellationId,
      workflowId: cancellationWorkflowId(cancellationId),
      orderNumber,
      customerId: customer.document.customerId,
      reasonCode,
      ...(note ? { note } : {}),
      requestedBy: pick(random, REQUESTERS),
      confirmed: reached(order.stage, 'confirmed') ? ['awaiting_shipment'] : [],
      ...(whole ? {} : { requestedLines: requested }),
      state: 'completed',
      outcome: 'completed',
      risk,
      ...(approval ? { approval } : {}),
      ...(purchasing ? { purchasing } : {}),
      ...(settlement ? { settlement } : {}),
      refundedMinor: refundableMinor - outstanding,
      currency,
      lines: cancelledLines.map((cancelled) => ({
        lineId: cancelled.line.lineId,
        sku: cancelled.line.sku,
        warehouse: cancelled.line.warehouse,
        quantity: cancelled.quantity,
        amountMinor: cancelled.amountMinor,
      })),
      notifications: [
        { channel: 'email', status: consent.email && email ? 'sent' : 'skipped' },
        { channel: 'sms', status: consent.sms && phone ? 'sent' : 'skipped' },
      ],
      timeline,
      createdAt: at,
      updatedAt: new Date(clock),
    });
    return { cancellationId, reasonCode, ...(note ? { note } : {}), closedAt };
  }

  /**
   * The parcel: what is left of each line leaves the warehouse (reserved and on hand go down together).
   * Returns when it is, or would be, delivered.
   */
  private ship(
    books: Books,
    random: Random,
    orderNumber: string,
    market: Market,
    warehouse: string,
    lines: SalesOrderLine[],
    shippedAt: Date,
    stage: Stage,
  ): Date {
    const shipmentId = `SHP-${orderNumber.slice(3)}`;
    const shipped = lines.filter((line) => line.quantity > line.cancelledQuantity);
    for (const line of shipped) {
      const units = line.quantity - line.cancelledQuantity;
      this.move(books, shippedAt, {
        idempotencyKey: `${orderNumber}:ship:${line.lineId}`,
        type: 'ship',
        sku: line.sku,
        warehouse,
        onHandDelta: -units,
        reservedDelta: -units,
        document: { kind: 'shipment', id: shipmentId, lineId: line.lineId },
        actor: 'wms',
      });
      line.reservedQuantity = 0;
    }
    const [carrier, tracking] = pick(random, CARRIERS[market]);
    const pickedUpAt = new Date(shippedAt.getTime() + between(random, 1, 6) * HOUR);
    const inTransitAt = new Date(pickedUpAt.getTime() + between(random, 2, 12) * HOUR);
    const deliveredAt = new Date(inTransitAt.getTime() + between(random, 1, market === 'CN' ? 3 : 7) * DAY);
    const status: ShipmentStatus = reached(stage, 'delivered')
      ? 'delivered'
      : random() < 0.4
        ? 'picked_up'
        : 'in_transit';
    const changes: [ShipmentStatus, Date][] = [
      ['pending', shippedAt],
      ['picked_up', pickedUpAt],
      ['in_transit', inTransitAt],
      ['delivered', deliveredAt],
    ];
    const upTo = changes.findIndex(([changed]) => changed === status);
    const history = changes
      .slice(0, upTo + 1)
      .map(([changed, at]) => ({ key: `${shipmentId}:${changed}`, at, status: changed }));
    const shipment: ShipmentDocument = {
      _id: this.id(ID_KINDS.shipment, shippedAt),
      shipmentId,
      orderNumber,
      warehouse,
      carrier,
      trackingNumber: tracking(random),
      status,
      lines: shipped.map((line) => ({
        lineId: line.lineId,
        sku: line.sku,
        quantity: line.quantity - line.cancelledQuantity,
        returnedQuantity: 0,
      })),
      shippedAt,
      ...(status === 'delivered' ? { deliveredAt } : {}),
      history,
      returns: [],
      revision: 0,
      createdAt: shippedAt,
      updatedAt: (history[history.length - 1] as { at: Date }).at,
    };
    books.shipments.push(shipment);
    return deliveredAt;
  }
}

/** A whole run at once: the orders and everything they bring, and the stock levels they add up to. */
export function generateBooks(seed: number, orders: number): Books & { stockLevels: StockLevelFigures[] } {
  const generator = new BooksGenerator(seed);
  const books = generator.next(orders);
  return { ...books, stockLevels: generator.stockLevels() };
}
