// CSV as RFC 4180 writes it (CRLF line ends, a field quoted when it holds a comma, a quote or a line break,
// quotes doubled), safe to open in a spreadsheet: a text that a spreadsheet would read as a formula (it starts
// with = + - @, a tab or a carriage return) is prefixed with an apostrophe, as OWASP advises, so a customer id
// or a product name from the books can never run as one. Numbers are written as numbers.

/** What a cell may hold; a list is written as its items joined by "; ". */
export type CsvValue = string | number | boolean | Date | null | undefined | readonly (string | number)[];

/** Starts a spreadsheet would read as a formula or a command. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** The byte-order mark: spreadsheets then read the file as UTF-8 (Chinese names and products stay legible). */
export const CSV_BOM = '\uFEFF';

export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const text =
    value instanceof Date ? value.toISOString() : Array.isArray(value) ? value.join('; ') : String(value);
  const safe = FORMULA_START.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) || safe !== safe.trim() ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A header line of `columns`, then one line per row with the values of those columns in that order. */
export function toCsv<Row extends object>(
  columns: readonly (keyof Row & string)[],
  rows: readonly Row[],
): string {
  const lines = [
    columns.map((column) => csvCell(column)).join(','),
    ...rows.map((row) => columns.map((column) => csvCell(row[column] as CsvValue)).join(',')),
  ];
  return `${CSV_BOM}${lines.join('\r\n')}\r\n`;
}
