// Parts of a request several routes read the same way: the Idempotency-Key header, and the cursor of a list
// that pages newest first (by creation time, then by id).
import { z } from 'zod';
import { idempotencyKeyHeader } from '../client/contract';
import { CancelflowError } from '../lib/errors';

/** The Idempotency-Key: one header of 8 to 255 characters, or none; anything else is a 400 naming it. */
export function idempotencyKeyOf(raw: string | string[] | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const parsed = idempotencyKeyHeader.safeParse(raw);
  if (!parsed.success) {
    throw new CancelflowError(
      'validation_failed',
      'Idempotency-Key must be one header of 8 to 255 characters',
      {
        field: 'Idempotency-Key',
      },
    );
  }
  return parsed.data;
}

/** The optional Idempotency-Key header as the OpenAPI document shows it (idempotencyKeyOf checks its value). */
export function idempotencyKeyHeaders(description: string) {
  return z.looseObject({ 'idempotency-key': z.string().optional().meta({ description }) });
}

/** Where a newest-first page ended: the creation time and id of its last item. */
export interface NewestFirstPosition {
  createdAt: Date;
  id: string;
}

const cursorShape = z.tuple([z.iso.datetime(), z.string().min(1)]);

export function encodeCursor(last: NewestFirstPosition): string {
  return Buffer.from(JSON.stringify([last.createdAt.toISOString(), last.id])).toString('base64url');
}

/** The position a cursor this API returned holds; a 400 naming `cursor` for anything else. */
export function decodeCursor(cursor: string): NewestFirstPosition {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  const parsed = cursorShape.safeParse(decoded);
  if (!parsed.success) {
    throw new CancelflowError('validation_failed', 'cursor: not a cursor this API returned', {
      field: 'cursor',
    });
  }
  return { createdAt: new Date(parsed.data[0]), id: parsed.data[1] };
}
