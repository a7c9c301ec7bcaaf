// The console's languages: a catalogue per language (i18n/en.ts, i18n/zh-CN.ts), which one a request gets,
// and money and moments written the way that language writes them.
import type { FastifyRequest } from 'fastify';
import { LANGUAGES, type Language } from '../../contracts/books.contract';
import { en, type Catalogue, type MessageKey } from './i18n/en';
import { zhCN } from './i18n/zh-CN';

export type { Language, MessageKey };

export const CATALOGUES: Record<Language, Catalogue> = { en, 'zh-CN': zhCN };

/** The cookie a person's explicit choice of language is kept in (on this browser, until they sign out). */
export const LANGUAGE_COOKIE = 'cf_lang';

export const isLanguage = (value: unknown): value is Language =>
  typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);

export interface Translator {
  language: Language;
  /** The catalogue's text for `key`, with `{name}` placeholders filled in (values as given, unescaped). */
  (key: MessageKey, values?: Record<string, string | number>): string;
  /** A value of a list the books keep (`state.completed`), or the value itself when the catalogue has none. */
  of(prefix: string, value: string): string;
}

export function translator(language: Language): Translator {
  const catalogue = CATALOGUES[language];
  const t = ((key: MessageKey, values: Record<string, string | number> = {}) =>
    catalogue[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
      name in values ? String(values[name]) : whole,
    )) as Translator;
  t.language = language;
  t.of = (prefix, value) => {
    const key = `${prefix}.${value}`;
    return key in catalogue ? catalogue[key as MessageKey] : value;
  };
  return t;
}

/**
 * The language of a request: the one the person chose on this browser (the cookie), else the person's own
 * (the books keep it), else the browser's first preference that we write, else Chinese.
 */
export function languageOf(request: FastifyRequest, personLanguage?: Language): Language {
  const chosen = request.cookies[LANGUAGE_COOKIE];
  if (isLanguage(chosen)) return chosen;
  if (personLanguage) return personLanguage;
  const accepted = (request.headers['accept-language'] ?? '')
    .split(',')
    .map((part) => part.split(';')[0]?.trim().toLowerCase() ?? '');
  for (const tag of accepted) {
    if (tag.startsWith('zh')) return 'zh-CN';
    if (tag.startsWith('en')) return 'en';
  }
  return 'zh-CN';
}

/** Digits of the currency's minor unit as ICU knows them (CNY 2, JPY 0, KWD 3). */
function minorDigits(currency: string): number {
  return (
    new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
  );
}

/** An amount kept in minor units, as the language writes it with its currency. */
export function formatMoney(language: Language, minor: number, currency: string): string {
  try {
    return new Intl.NumberFormat(language, { style: 'currency', currency }).format(
      minor / 10 ** minorDigits(currency),
    );
  } catch {
    return `${minor} ${currency} (minor units)`;
  }
}

/** A moment as the language writes it, in UTC (the same on every server, whatever its time zone). */
export function formatMoment(language: Language, at: string | Date): string {
  const date = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(date.getTime())) return String(at);
  return `${new Intl.DateTimeFormat(language, {
    dateStyle: 'medium',
    timeStyle: 'medium',
    timeZone: 'UTC',
  }).format(date)} UTC`;
}
