// Input checks shared by the books' operations: each refusal is a `validation_failed` CancelflowError whose
// details name the field as a caller wrote it (`lines[0].quantity`), raised before anything is written.
import { z } from 'zod';
import { CancelflowError } from '../lib/errors';
import type { Models } from './index';

export const requiredText = z.string('is required').trim().min(1, 'is required');
export const idempotencyKey = requiredText.max(200, 'is at most 200 characters');
export const wholeUnits = z
  .number('must be a number')
  .int('must be a whole number of units')
  .positive('must be at least 1');
export const documentRef = z.object({ kind: requiredText, id: requiredText });

/** `['lines', 0, 'quantity']` → `lines[0].quantity`. */
export function fieldName(path: readonly PropertyKey[]): string {
  const name = path.reduce<string>((joined, key) => {
    if (typeof key === 'number') return `${joined}[${key}]`;
    return joined ? `${joined}.${String(key)}` : String(key);
  }, '');
  return name || 'input';
}

export function invalid(field: string, message: string): CancelflowError {
  return new CancelflowError('validation_failed', `${field}: ${message}`, { field });
}

export function parseInput<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw invalid(fieldName(issue?.path ?? []), issue?.message ?? 'is invalid');
}

/** Lines named by `lineId` name each line once. */
export function distinctLineIds(lines: { lineId: string }[], context: z.RefinementCtx): void {
  const seen = new Set<string>();
  lines.forEach((line, index) => {
    if (seen.has(line.lineId)) {
      context.addIssue({
        code: 'custom',
        path: [index, 'lineId'],
        message: `names line ${line.lineId} twice`,
      });
    }
    seen.add(line.lineId);
  });
}

/** Refuses the first SKU that no product has. */
export async function requireKnownSkus(
  models: Models,
  skus: { sku: string; field: string }[],
): Promise<void> {
  const wanted = [...new Set(skus.map((entry) => entry.sku))];
  const known = new Set(
    (await models.Product.find({ sku: { $in: wanted } }, { sku: 1 }).lean()).map((product) => product.sku),
  );
  const unknown = skus.find((entry) => !known.has(entry.sku));
  if (unknown) throw invalid(unknown.field, `no product has SKU ${unknown.sku}`);
}
