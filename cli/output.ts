// What the CLI prints: aligned tables and field lists for people, the API's JSON for scripts (--json).
// Results go to stdout; prompts, progress and errors to stderr, so `--json` output can be piped as it is.

export interface Output {
  /** One line (or several) on stdout. */
  line(text?: string): void;
  /** The API's answer as JSON on stdout: pretty, or one line each (`watch` streams them). */
  json(value: unknown, options?: { compact?: boolean }): void;
  /** A remark for the person at the terminal, on stderr. */
  note(text: string): void;
}

export const consoleOutput: Output = {
  line: (text = '') => void process.stdout.write(`${text}\n`),
  json: (value, options = {}) =>
    void process.stdout.write(`${JSON.stringify(value, null, options.compact ? undefined : 2)}\n`),
  note: (text) => void process.stderr.write(`${text}\n`),
};

/**
 * Columns a character takes in a terminal: two for the wide East Asian ranges (Chinese names, full-width
 * forms), none for combining marks, one otherwise. Enough to keep a table of 陈静 and Grace Lin aligned.
 */
function charWidth(codePoint: number): number {
  if (codePoint === 0 || (codePoint >= 0x300 && codePoint <= 0x36f) || codePoint === 0x200b) return 0;
  const wide =
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x2e80 && codePoint <= 0x303e) ||
    (codePoint >= 0x3041 && codePoint <= 0x33ff) ||
    (codePoint >= 0x3400 && codePoint <= 0x4dbf) ||
    (codePoint >= 0x4e00 && codePoint <= 0x9fff) ||
    (codePoint >= 0xa000 && codePoint <= 0xa4cf) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x1f300 && codePoint <= 0x1f64f) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd);
  return wide ? 2 : 1;
}

export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += charWidth(char.codePointAt(0) ?? 0);
  return width;
}

function padEnd(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

/** A cell: text as it is, nothing for absent values, lists joined with commas. */
export type Cell = string | number | boolean | undefined | null | readonly string[];

function cellText(cell: Cell): string {
  if (cell === undefined || cell === null || cell === '') return '-';
  if (Array.isArray(cell)) return cell.length > 0 ? cell.join(',') : '-';
  // Line breaks would break the alignment of the row.
  return String(cell).replace(/\s*\n\s*/g, ' ');
}

/** Rows under a header, each column as wide as its widest cell, two spaces apart. */
export function formatTable(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const texts = [header.map((title) => title.toUpperCase()), ...rows.map((row) => row.map(cellText))];
  const widths = header.map((_, column) => Math.max(...texts.map((row) => displayWidth(row[column] ?? ''))));
  return texts
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : padEnd(cell, widths[column] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Labelled values, one a line, the values aligned; absent values are left out. */
export function formatFields(fields: readonly (readonly [string, Cell])[]): string {
  const shown = fields.filter(([, value]) => value !== undefined && value !== null && value !== '');
  const width = Math.max(0, ...shown.map(([label]) => displayWidth(label)));
  return shown.map(([label, value]) => `${padEnd(`${label}:`, width + 1)}  ${cellText(value)}`).join('\n');
}

/** An amount in minor units as the currency writes it: 33600 CNY is 336.00 CNY, 1200 JPY is 1200 JPY. */
export function formatMoney(minor: number, currency?: string): string {
  if (!currency) return String(minor);
  let digits = 2;
  try {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
      .maximumFractionDigits as number;
  } catch {
    // An unknown currency code: two decimals, the common case.
  }
  return `${(minor / 10 ** digits).toFixed(digits)} ${currency}`;
}

/** A timestamp of the API, shortened to the minute in UTC: 2026-11-28 09:14Z. */
export function formatTime(iso: string | undefined): string | undefined {
  if (!iso) return undefined;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')}Z`;
}
