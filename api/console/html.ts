// The console's templates are plain TypeScript: `html` is a tagged template that escapes every value put into
// it, unless that value is itself markup made by `html` (or, for a vetted constant, `trusted`). So a template
// cannot forget to escape, the compiler checks every field a page reads, and nothing is parsed at run time.

const BRAND = Symbol('SafeHtml');

/** Markup that is safe to send as is: made by `html`, `trusted` or `join` only. */
export interface SafeHtml {
  readonly [BRAND]: true;
  readonly text: string;
}

const safe = (text: string): SafeHtml => ({ [BRAND]: true, text });

export function isSafeHtml(value: unknown): value is SafeHtml {
  return typeof value === 'object' && value !== null && (value as Partial<SafeHtml>)[BRAND] === true;
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Text as it may stand in an element's content or in a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (character) => ENTITIES[character] ?? character);
}

/** What a template may interpolate: text and numbers are escaped; nothing, false and null vanish. */
export type Interpolation =
  SafeHtml | string | number | boolean | null | undefined | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false || value === true) return '';
  if (typeof value === 'string') return escapeHtml(value);
  if (typeof value === 'number') return escapeHtml(String(value));
  if (isSafeHtml(value)) return value.text;
  if (Array.isArray(value)) return (value as readonly Interpolation[]).map(render).join('');
  // Not reachable through the types; an object that only looks like markup is shown, escaped, as data.
  return escapeHtml(JSON.stringify(value) ?? '');
}

/** A template whose interpolations are escaped (arrays are concatenated, each item escaped). */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let text = strings[0] ?? '';
  values.forEach((value, index) => {
    text += render(value) + (strings[index + 1] ?? '');
  });
  return safe(text);
}

/** Markup from a constant of ours (never from a request or the books). */
export function trusted(text: string): SafeHtml {
  return safe(text);
}

/** Items joined by a separator, each escaped unless it is markup. */
export function join(items: readonly Interpolation[], separator: Interpolation = ''): SafeHtml {
  return safe(items.map(render).join(render(separator)));
}

/**
 * A value for an attribute that htmx reads as JSON (hx-headers, hx-vals): the JSON text, escaped for the
 * quoted attribute it goes in.
 */
export function jsonAttribute(value: unknown): SafeHtml {
  return safe(escapeHtml(JSON.stringify(value)));
}
