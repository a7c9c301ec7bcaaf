// The HTTP API's contract for bulk cancellation (issue #16): what a job is asked with, what a dry run answers,
// and a job's progress. Zod schemas, as in contract.ts: the API validates with them and the OpenAPI document is
// made from them.
import { z } from 'zod';
import { REQUEST_CHANNELS } from '../contracts/analytics.contract';
import { ORDER_STATUSES } from '../contracts/books.contract';
import { BULK_ITEM_STATUSES, BULK_JOB_STATES } from '../contracts/bulk-cancellation.contract';
import { CONFIRMABLE_STAGES, REASON_CODES } from '../contracts/cancellation.contract';

const dateBound = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  error: 'an ISO date (2026-03-31) or date-time with offset (2026-03-31T08:00:00+08:00)',
});
const key = z.string().trim().min(1).max(64);

/** Which orders: a list of order numbers, or a filter (all the criteria given hold); at least one criterion. */
export const bulkSelection = z
  .strictObject({
    orderNumbers: z.array(key).min(1).max(10_000).optional(),
    skus: z.array(key).min(1).max(100).optional(),
    supplierId: key.optional(),
    customerIds: z.array(key).min(1).max(1_000).optional(),
    status: z.array(z.enum(ORDER_STATUSES)).min(1).optional(),
    createdFrom: dateBound.optional(),
    createdTo: dateBound.optional(),
  })
  .refine((selection) => Object.values(selection).some((value) => value !== undefined), {
    message: 'name the orders (orderNumbers) or at least one criterion of a filter',
  })
  .refine(
    (selection) =>
      !selection.createdFrom ||
      !selection.createdTo ||
      new Date(selection.createdFrom) <= new Date(selection.createdTo) ||
      !selection.createdTo.includes('T'),
    { path: ['createdTo'], message: 'createdTo is before createdFrom' },
  );

/** A bulk job: its orders, and what each cancellation is asked with (as POST /v1/cancellations would be). */
export const createBulkJobBody = z.strictObject({
  selection: bulkSelection,
  reasonCode: z.enum(REASON_CODES),
  note: z.string().max(2000).optional(),
  /** R2: the order stages cancelled in, for every order, e.g. ["awaiting_shipment"]. */
  confirm: z.array(z.enum(CONFIRMABLE_STAGES)).default([]),
});
export type CreateBulkJobRequest = z.input<typeof createBulkJobBody>;

const money = z.array(z.object({ currency: z.string(), amountMinor: z.number().int() }));
const leftAloneStatus = z.enum(['already_cancelled', 'already_refunded', 'being_cancelled', 'refused']);

export const bulkDryRun = z.object({
  /** Orders the selection finds. */
  found: z.number().int(),
  /** What the job would cancel: orders, lines, and the money it would refund per currency (minor units). */
  toCancel: z.object({ orders: z.number().int(), lines: z.number().int(), money }),
  /** Orders it would leave alone, by why. */
  leftAlone: z.record(leftAloneStatus, z.number().int()),
  /** The first of those, each with its reason. */
  examples: z.array(z.object({ orderNumber: z.string(), status: z.string(), reason: z.string() })),
});
export type BulkDryRun = z.infer<typeof bulkDryRun>;

export const bulkJobAccepted = z.object({
  jobId: z.string(),
  workflowId: z.string(),
  /** True when the Idempotency-Key named a job started before. */
  existing: z.boolean(),
});
export type BulkJobAccepted = z.infer<typeof bulkJobAccepted>;

const controlEntry = z.object({
  action: z.enum(['pause', 'resume', 'stop']),
  by: z.string(),
  note: z.string().optional(),
  at: z.string(),
});

export const bulkJobSummary = z.object({
  jobId: z.string(),
  workflowId: z.string(),
  state: z.enum(BULK_JOB_STATES),
  requestedBy: z.string(),
  channel: z.enum(REQUEST_CHANNELS).optional(),
  reasonCode: z.enum(REASON_CODES),
  note: z.string().optional(),
  total: z.number().int().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  endedAt: z.string().optional(),
  /** Why a `failed` job failed: how its workflow ended (failed, terminated, cancelled, timed out) and why. */
  failureReason: z.string().optional(),
});
export type BulkJobSummary = z.infer<typeof bulkJobSummary>;

export const bulkJobView = bulkJobSummary.extend({
  selection: z.record(z.string(), z.unknown()),
  confirm: z.array(z.string()),
  concurrency: z.number().int(),
  control: z.array(controlEntry),
  /**
   * Orders by phase: not asked for yet (`pending`), being processed (`active`), their cancellation waiting for a
   * person (`waiting`), ended or never started (`done`).
   */
  phases: z.object({
    pending: z.number().int(),
    active: z.number().int(),
    waiting: z.number().int(),
    done: z.number().int(),
  }),
  /**
   * Orders by where they stand: why one was left alone (`already_cancelled`, `already_refunded`,
   * `being_cancelled`, `refused`, `not_started`), or its cancellation's outcome (`completed`, `rejected`…) or
   * top-level state while it runs (`awaitingApproval`, `refunding`…).
   */
  byState: z.record(z.string(), z.number().int()),
  /** Money its cancellations refunded so far, per currency (minor units). */
  refunded: money,
  /** Orders not cancelled, with why: left alone, refused by the rules, or a cancellation that ended otherwise. */
  failures: z.array(
    z.object({
      orderNumber: z.string(),
      status: z.string(),
      reason: z.string().optional(),
      cancellationId: z.string().optional(),
    }),
  ),
  /** How many failures there are in all (`failures` shows the first 100; the report has them all). */
  failureCount: z.number().int(),
});
export type BulkJobView = z.infer<typeof bulkJobView>;

export const bulkJobList = z.object({ items: z.array(bulkJobSummary) });
export type BulkJobList = z.infer<typeof bulkJobList>;

export const bulkJobParams = z.object({ id: z.string().trim().min(1).max(128) });
export const bulkControlBody = z.strictObject({ note: z.string().trim().min(1).max(2000).optional() });
export type BulkControlRequest = z.input<typeof bulkControlBody>;
export const bulkItemStatus = z.enum(BULK_ITEM_STATUSES);
