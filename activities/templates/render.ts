// The one way messages are rendered: templates are data with `{{name}}` placeholders, filled from named
// variables. A placeholder without a value is an error that names it, raised before anything is recorded or
// sent, so a message never goes out with a hole in it.
import { CancelflowError } from '../../lib/errors';
import type { Language } from '../../contracts/books.contract';

export type TemplateVariables = Readonly<Record<string, string | undefined>>;

/** Parts of one message in one language, e.g. `{ subject, text, html, sms }`. */
export type MessageTemplate = Readonly<Record<string, string>>;

const placeholder = /\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}/g;

const htmlEscapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => htmlEscapes[character] ?? character);
}

const optionalSegment = /\[\[([\s\S]*?)\]\]/g;

/**
 * A part with its optional segments resolved: `[[ … ]]` stands, without its brackets, when every variable in
 * it has a value, and vanishes whole (line breaks and all) when one has none. What a message may say or leave
 * out (the customer's link, when the sender holds the key to sign it) is written so, never as an empty value.
 */
export function resolveOptional(text: string, variables: TemplateVariables): string {
  return text.replace(optionalSegment, (_segment, inner: string) =>
    [...inner.matchAll(placeholder)].every((match) => Boolean(variables[match[1] ?? ''])) ? inner : '',
  );
}

/** The variables a template's parts use, in order of first use. */
export function templateVariables(template: MessageTemplate): string[] {
  const names = Object.values(template).flatMap((part) =>
    [...part.matchAll(placeholder)].map((match) => match[1] ?? ''),
  );
  return [...new Set(names)];
}

/**
 * Fills every part of a template. Parts named `html` get their values HTML-escaped, with line breaks kept.
 * Throws a `validation_failed` error naming each variable left without a value (an empty string counts as
 * none), with the first one as the field.
 */
export function renderTemplate<T extends MessageTemplate>(
  name: string,
  template: T,
  variables: TemplateVariables,
): { [K in keyof T]: string } {
  const missing = templateVariables(template).filter((variable) => !variables[variable]);
  if (missing.length > 0) {
    throw new CancelflowError(
      'validation_failed',
      `template ${name} is missing ${missing.map((variable) => `{{${variable}}}`).join(', ')}`,
      { field: missing[0], template: name, missing },
    );
  }
  const filled = Object.entries(template).map(([part, text]) => [
    part,
    text.replace(placeholder, (_match, variable: string) => {
      const value = variables[variable] ?? '';
      return part === 'html' ? escapeHtml(value).replace(/\n/g, '<br>\n') : value;
    }),
  ]);
  return Object.fromEntries(filled) as { [K in keyof T]: string };
}

/**
 * How many decimal digits the currency's minor unit has (ISO 4217, as ICU knows it): CNY and USD 2, JPY and
 * KRW 0, KWD and BHD 3. Amounts are stored as integers of that unit, so this is what divides them.
 */
export function minorUnitDigits(currency: string): number {
  const { maximumFractionDigits } = new Intl.NumberFormat('en', {
    style: 'currency',
    currency,
  }).resolvedOptions();
  // Always set for a currency format; the type leaves it open for significant-digit rounding, unused here.
  return maximumFractionDigits ?? 2;
}

/** An amount in minor units as the language writes it, with the currency's own number of decimals. */
export function formatMoney(language: Language, minor: number, currency: string): string {
  return new Intl.NumberFormat(language, { style: 'currency', currency }).format(
    minor / 10 ** minorUnitDigits(currency),
  );
}

const englishMonths = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const;

/**
 * A moment as the language writes it, always in UTC: the same message on every render and every worker,
 * whatever the machine's time zone or ICU data (`2026年12月5日 18:00 (UTC)`, `5 December 2026, 18:00 UTC`).
 */
export function formatDateTimeUtc(language: Language, iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) {
    throw new CancelflowError('validation_failed', `not a date-time: ${iso}`, { field: 'decideBy' });
  }
  const [year, month, day] = [at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()];
  const time = `${String(at.getUTCHours()).padStart(2, '0')}:${String(at.getUTCMinutes()).padStart(2, '0')}`;
  return language === 'zh-CN'
    ? `${year}年${month + 1}月${day}日 ${time} (UTC)`
    : `${day} ${englishMonths[month]} ${year}, ${time} UTC`;
}
