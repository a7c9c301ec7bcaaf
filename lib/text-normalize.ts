// Normal forms for search. MongoDB can answer a prefix search from an index only with an anchored,
// case-sensitive regex (`^prefix`), so case-insensitive, pinyin and phone searches go through fields stored
// in one normal form, and the query is brought into the same form before it is matched.
import { pinyin } from 'pinyin-pro';

const HAN = /\p{Script=Han}/u;

/** NFKC (full-width Ｗ → w, ideographic space → space), lower-case, trimmed, inner whitespace collapsed. */
export function normalizeText(text: string): string {
  return text.normalize('NFKC').toLowerCase().trim().replace(/\s+/g, ' ');
}

export function containsHan(text: string): boolean {
  return HAN.test(text);
}

// People's names: `surname: 'head'` reads the first character with its surname reading (单 shàn, 曾 zēng,
// 乐 yuè); ü is written v, as pinyin keyboards type it.
const nameOptions = { toneType: 'none', mode: 'surname', surname: 'head', v: true, type: 'array' } as const;

/** Full pinyin without tones or spaces: 王芳 → "wangfang"; undefined for a text without Chinese. */
export function pinyinOf(text: string): string | undefined {
  const normalized = normalizeText(text);
  if (!containsHan(normalized)) return undefined;
  return pinyin(normalized, { ...nameOptions, nonZh: 'consecutive' })
    .join('')
    .replace(/[^a-z0-9]/g, '');
}

/** The first letter of each character's pinyin: 王芳 → "wf"; undefined for a text without Chinese. */
export function pinyinInitialsOf(text: string): string | undefined {
  const normalized = normalizeText(text);
  if (!containsHan(normalized)) return undefined;
  return pinyin(normalized, { ...nameOptions, pattern: 'first', nonZh: 'removed' })
    .join('')
    .replace(/[^a-z]/g, '');
}

/**
 * What a typed query means as pinyin, if it can be pinyin: letters only once spaces, apostrophes (xi'an) and
 * hyphens are gone, ü as v. "Wang Fang" → "wangfang"; "王" → undefined.
 */
export function pinyinQueryOf(query: string): string | undefined {
  const compact = normalizeText(query)
    .replace(/ü/g, 'v')
    .replace(/[\s'’-]/g, '');
  return /^[a-z]+$/.test(compact) ? compact : undefined;
}

/**
 * Every key a name is found by with a prefix search: the normalised name, each later word of a Latin name
 * (so "car" finds Emily Carter), and for a Chinese name its pinyin and initials.
 */
export function nameSearchKeys(name: string): string[] {
  const normalized = normalizeText(name);
  const keys = new Set<string>([normalized]);
  const words = normalized.split(' ');
  for (let index = 1; index < words.length; index += 1) keys.add(words.slice(index).join(' '));
  const fullPinyin = pinyinOf(normalized);
  const initials = pinyinInitialsOf(normalized);
  if (fullPinyin) keys.add(fullPinyin);
  if (initials) keys.add(initials);
  keys.delete('');
  return [...keys];
}

/** The digits of a phone number, E.164 style when it was written with a country code: "+86 138-0013-8000" → "+8613800138000". */
export function normalizePhone(phone: string): string | undefined {
  const text = phone.normalize('NFKC').trim();
  const digits = text.replace(/\D/g, '');
  if (!digits) return undefined;
  if (text.startsWith('+')) return `+${digits}`;
  if (text.startsWith('00')) return `+${digits.slice(2)}`;
  return digits;
}

/**
 * A phone number is found by its last digits: the whole number in any format, the national number without
 * its country code, or its tail. Stored reversed, a suffix search becomes a prefix search an index answers.
 */
export function phoneSearchKey(phone: string): string | undefined {
  const normalized = normalizePhone(phone);
  return normalized ? reverse(normalized.replace(/\D/g, '')) : undefined;
}

/**
 * The reversed digits a phone query must be a prefix of. A national number's trunk prefix "0"
 * (010-1234 5678 is +86 10 1234 5678) is dropped from a query of 8 digits or more written without a
 * country code.
 */
export function phoneQueryKey(query: string): string {
  const normalized = normalizePhone(query) ?? '';
  const international = normalized.startsWith('+');
  let digits = normalized.replace(/\D/g, '');
  if (!international && digits.length >= 8 && digits.startsWith('0')) digits = digits.slice(1);
  return reverse(digits);
}

function reverse(text: string): string {
  return [...text].reverse().join('');
}

/** Matches `text` literally at the start of a string: an anchored, case-sensitive regex an index bounds. */
export function prefixPattern(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
}
