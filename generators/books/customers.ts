// Customers: Chinese and Latin names, phones written every way people write them, emails, languages, tiers and
// consents, joining as the orders grow (a hundred at the start, one more every ten orders).
import type { Types } from 'mongoose';
import type { Language } from '../../contracts/books.contract';
import { pinyinOf } from '../../lib/text-normalize';
import { customerPhoneE164 } from '../../models/customer.model';
import { customerSearchOf, orderCustomerCopy, type CustomerSearch } from '../../models/search-fields';
import { DAY, FIRST_ORDER_AT, ID_KINDS, objectId, ORDER_INTERVAL_MS } from './numbering';
import type { Market } from './organisation';
import {
  between,
  digits,
  mix,
  pick,
  seededRandom,
  skewedPick,
  STREAMS,
  weighted,
  type Random,
} from './random';

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

export type { Language };
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

export interface CustomerDocument {
  _id: Types.ObjectId;
  customerId: string;
  name: string;
  /** As written: with or without the country code, spaced, dashed, full-width. */
  phone?: string;
  /** As the Customer model reads it, with `country` (the same function). */
  phoneE164?: string;
  /** The customer's market: what a phone written without its country code is read with. */
  country: Market;
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

export interface GeneratedCustomer {
  document: CustomerDocument;
  market: Market;
  /** What their orders keep of them, derived once rather than once an order. */
  orderCopy: ReturnType<typeof orderCustomerCopy>;
}

export function makeCustomer(seed: number, index: number): GeneratedCustomer {
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
  const market: Market = chinese ? 'CN' : 'US';
  // Not everyone leaves both.
  if (random() < 0.03) phone = undefined;
  else if (random() < 0.04) email = undefined;
  if (chinese && email && random() < 0.1) email = email[0]?.toUpperCase() + email.slice(1);
  const document: CustomerDocument = {
    _id: objectId(seed, ID_KINDS.customer, index, at),
    customerId: customerIdOf(index),
    name,
    ...(phone === undefined ? {} : { phone, phoneE164: customerPhoneE164(phone, market) }),
    country: market,
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
  return { document, market, orderCopy: orderCustomerCopy(document) };
}
