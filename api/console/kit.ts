// What the console's route modules share: reading forms, answering with HTML, and a page's context (its
// language, the signed-in person, the CSRF token htmx sends, the unread messages' badge).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { CancelflowError } from '../../lib/errors';
import type { SafeHtml } from './html';
import type { PageContext } from './pages/layout';

export type Form = Record<string, string | string[]>;

/** The first value of a form field or query parameter. */
export const one = (value: unknown): string | undefined =>
  typeof value === 'string'
    ? value
    : Array.isArray(value) && typeof value[0] === 'string'
      ? value[0]
      : undefined;

/** Every value of a form field. */
export const all = (value: unknown): string[] =>
  [value].flat().filter((item): item is string => typeof item === 'string');

export const isHtmx = (request: FastifyRequest) => request.headers['hx-request'] === 'true';

export function sendHtml(reply: FastifyReply, markup: SafeHtml, status = 200) {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(markup.text);
}

/** A form's fields as the API's body schema takes them, or the API's own 400 naming the field. */
export function bodyOf<Schema extends z.ZodType>(schema: Schema, fields: unknown): z.output<Schema> {
  const parsed = schema.safeParse(fields);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = String(issue?.path[0] ?? 'body');
  throw new CancelflowError('validation_failed', `${field}: ${issue?.message ?? 'invalid'}`, { field });
}

/** A form's text field, trimmed; absent when empty (the API's bodies take an absent note, not an empty one). */
export const textField = (form: Form, name: string): string | undefined =>
  one(form[name])?.trim() || undefined;

export interface ConsoleKit {
  /** A fragment's or an error's context: no database read. */
  contextOf(request: FastifyRequest, reply: FastifyReply, section?: PageContext['section']): PageContext;
  /** A whole page's context: also the signed-in person's unread messages, for the badge. */
  pageContextOf(
    request: FastifyRequest,
    reply: FastifyReply,
    section?: PageContext['section'],
  ): Promise<PageContext>;
}
