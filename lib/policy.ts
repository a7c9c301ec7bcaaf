// Loads and validates a cancellation policy file. A policy that does not validate never reaches a workflow.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ORDER_STATUSES } from '../contracts/books.contract';
import { DEPARTMENTS, REASON_CODES, RESOLUTION_OPTIONS } from '../contracts/cancellation.contract';
import type { CancellationPolicy } from '../contracts/policy.contract';
import { CancelflowError } from './errors';

const DURATION = /^(\d+)\s*(seconds?|minutes?|hours?|days?)$/;
const UNIT_MS: Record<string, number> = { second: 1_000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };

const duration = z
  .string()
  .regex(DURATION, 'a duration such as "30 minutes", "8 hours" or "2 days"')
  .transform((text) => {
    const [, amount, unit] = DURATION.exec(text) ?? [];
    return Number(amount) * (UNIT_MS[(unit ?? '').replace(/s$/, '')] ?? Number.NaN);
  })
  .refine((ms) => ms > 0, 'must be longer than zero');

const approvalStep = z.strictObject({
  level: z.number().int().min(1).max(3),
  deadline: duration,
  reminderEvery: duration,
});
const approvalSteps = z.array(approvalStep).max(3);
const departments = z
  .array(z.enum(DEPARTMENTS))
  .refine((list) => new Set(list).size === list.length, 'lists a department twice');

export const policySchema = z.strictObject({
  version: z.string().min(1),
  description: z.string().optional(),
  // Any order status but completed and cancelled, which are never cancellable (rules/review.rules.ts).
  cancellableStatuses: z.array(z.enum(ORDER_STATUSES).exclude(['completed', 'cancelled'])).min(1),
  risk: z.strictObject({
    mediumRefundMinor: z.number().int().positive(),
    highRefundMinor: z.number().int().positive(),
    frequentCancellerCount: z.number().int().positive(),
    paymentFeePercent: z.number().min(0).max(20),
    relationshipTiers: z.array(z.string()),
    highRiskReasons: z.array(z.enum(REASON_CODES)),
  }),
  approval: z.strictObject({
    low: approvalSteps,
    medium: approvalSteps,
    high: approvalSteps,
    escalation: z.strictObject({ maxEscalations: z.number().int().min(0).max(3), deadline: duration }),
    onFinalTimeout: z.enum(['reject', 'approve']),
  }),
  refund: z.strictObject({
    partialCancellation: z.enum(['lines_amount', 'none']),
    wholeCancellation: z.enum(['all_captured', 'lines_amount']),
  }),
  // Every moment named, so a policy cannot forget one (parsePolicy's return type checks the list).
  notices: z.strictObject({
    received: departments,
    approved: departments,
    rejected: departments,
    withdrawn: departments,
    completed: departments,
    recall_requested: departments,
    options_offered: departments,
    return_overdue: departments,
    redelivery: departments,
  }),
  afterShipment: z
    .strictObject({
      carrierAnswerDeadline: duration,
      onCarrierSilence: z.enum(['ask_customer', 'needs_attention']),
      customerOptions: z
        .array(z.enum(RESOLUTION_OPTIONS))
        .min(1)
        .refine((options) => new Set(options).size === options.length, 'lists an option twice'),
      customerChoiceDeadline: duration,
      defaultOption: z.enum(RESOLUTION_OPTIONS),
      deductionPercent: z.number().int().min(0).max(100),
      returnDeadline: duration,
    })
    .refine((rules) => rules.customerOptions.includes(rules.defaultOption), {
      message: 'the default option must be one of customerOptions',
      path: ['defaultOption'],
    }),
});

export function parsePolicy(raw: unknown): CancellationPolicy {
  const result = policySchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new CancelflowError('validation_failed', `invalid cancellation policy: ${problems.join('; ')}`, {
      field: result.error.issues[0]?.path.join('.'),
    });
  }
  const { approval, afterShipment, description: _description, ...rest } = result.data;
  const steps = (list: z.infer<typeof approvalSteps>) =>
    list.map((step) => ({
      level: step.level,
      deadlineMs: step.deadline,
      reminderEveryMs: step.reminderEvery,
    }));
  return {
    ...rest,
    approval: {
      low: steps(approval.low),
      medium: steps(approval.medium),
      high: steps(approval.high),
      escalation: {
        maxEscalations: approval.escalation.maxEscalations,
        deadlineMs: approval.escalation.deadline,
      },
      onFinalTimeout: approval.onFinalTimeout,
    },
    afterShipment: {
      carrierAnswerDeadlineMs: afterShipment.carrierAnswerDeadline,
      onCarrierSilence: afterShipment.onCarrierSilence,
      customerOptions: afterShipment.customerOptions,
      customerChoiceDeadlineMs: afterShipment.customerChoiceDeadline,
      defaultOption: afterShipment.defaultOption,
      deductionPercent: afterShipment.deductionPercent,
      returnDeadlineMs: afterShipment.returnDeadline,
    },
  };
}

export async function loadPolicyFile(path: string): Promise<CancellationPolicy> {
  const text = await readFile(path, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new CancelflowError('validation_failed', `${path} is not JSON: ${String(error)}`);
  }
  return parsePolicy(raw);
}
