// The normal forms that order lookup stores and queries with: what a clerk types must land on what was stored.
import {
  nameSearchKeys,
  normalizePhone,
  normalizeText,
  phoneQueryKey,
  phoneSearchKey,
  pinyinInitialsOf,
  pinyinOf,
  pinyinQueryOf,
  prefixPattern,
} from '../lib/text-normalize';

test('normalises width, case and whitespace', () => {
  expect(normalizeText('  ＥＭＩＬＹ\u3000 Carter\t')).toBe('emily carter');
  expect(normalizeText('ＳＯ－２０２６')).toBe('so-2026');
  expect(normalizeText('王芳')).toBe('王芳');
});

test('derives toneless pinyin and initials, with surname readings for the first character', () => {
  expect(pinyinOf('王芳')).toBe('wangfang');
  expect(pinyinInitialsOf('王芳')).toBe('wf');
  expect(pinyinOf('单雄信')).toBe('shanxiongxin');
  expect(pinyinOf('曾国藩')).toBe('zengguofan');
  expect(pinyinOf('吕布')).toBe('lvbu');
  expect(pinyinInitialsOf('欧阳娜娜')).toBe('oynn');
  expect(pinyinOf('Emily Carter')).toBeUndefined();
  expect(pinyinInitialsOf('Emily Carter')).toBeUndefined();
});

test('a name is found by itself, its later words, its pinyin and its initials', () => {
  expect(nameSearchKeys('王芳')).toEqual(['王芳', 'wangfang', 'wf']);
  expect(nameSearchKeys(' Emily  CARTER ')).toEqual(['emily carter', 'carter']);
  expect(nameSearchKeys('Mary Ann Lee')).toEqual(['mary ann lee', 'ann lee', 'lee']);
});

test('a query is read as pinyin only when it can be pinyin', () => {
  expect(pinyinQueryOf('Wang Fang')).toBe('wangfang');
  expect(pinyinQueryOf("Xi'an")).toBe('xian');
  expect(pinyinQueryOf('lü')).toBe('lv');
  expect(pinyinQueryOf('王')).toBeUndefined();
  expect(pinyinQueryOf('emily.carter@')).toBeUndefined();
});

test('phone numbers normalise to digits, E.164 when a country code was written', () => {
  expect(normalizePhone('+86 138-0013-8000')).toBe('+8613800138000');
  expect(normalizePhone('0086 138 0013 8000')).toBe('+8613800138000');
  expect(normalizePhone('(415) 555-0123')).toBe('4155550123');
  expect(normalizePhone('n/a')).toBeUndefined();
});

test('a phone query in any format is a prefix of the stored key', () => {
  const stored = phoneSearchKey('+8613800138000') ?? '';
  expect(stored).toBe('0008310083168');
  for (const query of ['+86 138 0013 8000', '0086-138-0013-8000', '138 0013 8000', '13800138000', '8000']) {
    expect(stored.startsWith(phoneQueryKey(query))).toBe(true);
  }
  expect(stored.startsWith(phoneQueryKey('13800138001'))).toBe(false);
  // A landline written with its trunk prefix 0, stored with the country code.
  expect((phoneSearchKey('+86 10 1234 5678') ?? '').startsWith(phoneQueryKey('010-1234-5678'))).toBe(true);
  expect((phoneSearchKey('+1 415 555 0123') ?? '').startsWith(phoneQueryKey('(415) 555-0123'))).toBe(true);
});

test('a prefix pattern is anchored and matches its text literally', () => {
  const pattern = prefixPattern('a.b*(c)[d]+?$^|\\');
  expect(pattern.test('a.b*(c)[d]+?$^|\\ and more')).toBe(true);
  expect(pattern.test('axbbb(c)[d]+?$^|\\')).toBe(false);
  expect(pattern.test('x a.b*(c)[d]+?$^|\\')).toBe(false);
  expect(prefixPattern('.*').test('anything')).toBe(false);
});
