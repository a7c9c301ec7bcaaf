// The feedback operations (R16): issuing a cancellation's code, once, and the customer's one rating through
// it. The record and why its code is what it is are in feedback.model.ts.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { CancelflowError } from '../lib/errors';
import { parseInput, requiredText } from './books-validation';
import type { Feedback } from './feedback.model';
import type { Models } from './index';
import { createOrFind } from './mongo-errors';

// Unambiguous to read out or type from an SMS: no 0/O, 1/I/L.
const codeAlphabet = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

function newCode(): string {
  return [...randomBytes(10)].map((byte) => codeAlphabet[byte % codeAlphabet.length]).join('');
}

/** The cancellation's feedback code, issued on the first call and the same on every later one. */
export async function issueFeedbackCode(
  models: Models,
  cancellation: { cancellationId: string; orderNumber: string; customerId: string },
): Promise<string> {
  const feedback = await createOrFind(
    () =>
      models.Feedback.findOneAndUpdate(
        { cancellationId: cancellation.cancellationId },
        { $setOnInsert: { ...cancellation, code: newCode() } },
        { upsert: true, returnDocument: 'after' },
      )
        .lean()
        .orFail(),
    // A concurrent first call won the insert.
    () => models.Feedback.findOne({ cancellationId: cancellation.cancellationId }).lean().orFail(),
  );
  return feedback.code;
}

export const feedbackSubmission = z.strictObject({
  rating: z.int('must be a whole number from 1 to 5').min(1, 'is at least 1').max(5, 'is at most 5'),
  comment: z.string().trim().max(2000, 'is at most 2000 characters').optional(),
});
export type FeedbackSubmission = z.input<typeof feedbackSubmission>;

export interface FeedbackView {
  code: string;
  cancellationId: string;
  orderNumber: string;
  rating: number | null;
  comment?: string;
  submittedAt: Date | null;
}

function view(feedback: Feedback): FeedbackView {
  return {
    code: feedback.code,
    cancellationId: feedback.cancellationId,
    orderNumber: feedback.orderNumber,
    rating: feedback.rating ?? null,
    ...(feedback.comment ? { comment: feedback.comment } : {}),
    submittedAt: feedback.submittedAt ?? null,
  };
}

/**
 * Stores the customer's rating, once per code: an unknown code is not_found (404), a bad rating is
 * validation_failed naming the field (400), a second rating is a conflict (409) and changes nothing.
 */
export async function submitFeedback(models: Models, code: string, input: unknown): Promise<FeedbackView> {
  const submission = parseInput(feedbackSubmission, input);
  const key = parseInput(requiredText, code);
  const stored = await models.Feedback.findOneAndUpdate(
    { code: key, submittedAt: null },
    {
      $set: {
        rating: submission.rating,
        ...(submission.comment ? { comment: submission.comment } : {}),
        submittedAt: new Date(),
      },
    },
    { returnDocument: 'after' },
  ).lean();
  if (stored) return view(stored);
  const existing = await models.Feedback.exists({ code: key });
  if (!existing) throw new CancelflowError('not_found', `no feedback code ${key}`, { field: 'code' });
  throw new CancelflowError('conflict', `feedback code ${key} has already been used`, { field: 'code' });
}

export async function findFeedback(
  models: Models,
  by: { code: string } | { cancellationId: string },
): Promise<FeedbackView> {
  const feedback = await models.Feedback.findOne(by).lean();
  if (!feedback) {
    const field = 'code' in by ? 'code' : 'cancellationId';
    throw new CancelflowError('not_found', `no feedback for ${field} ${Object.values(by).join('')}`, {
      field,
    });
  }
  return view(feedback);
}
