// Bulk cancellation (issue #16, row 29): one parent workflow per job starts one ordinary cancellation per order
// of its selection. What the workflow, its activities, the API and the client agree on: the workflow's id
// scheme, its messages, and the states of a job and of each of its orders.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { OrderStatus } from './books.contract';
import type { ConfirmableStage, ReasonCode } from './cancellation.contract';

export const BULK_WORKFLOW_TYPE = 'bulkCancellationWorkflow';

export const bulkJobWorkflowId = (jobId: string) => `bulk-cancellation-${jobId}`;

/**
 * Which orders a job cancels: a list of order numbers, or a filter (every criterion given must hold). At least
 * one criterion; the API refuses an empty selection rather than read it as "every order".
 */
export interface BulkSelection {
  orderNumbers?: string[];
  skus?: string[];
  /** Orders with a purchase line raised for them at this supplier (back order or drop shipment). */
  supplierId?: string;
  customerIds?: string[];
  status?: OrderStatus[];
  /** Inclusive; a date as the upper bound includes the whole of that day (UTC). */
  createdFrom?: string;
  createdTo?: string;
}

/** What each order's cancellation is asked for with. */
export interface BulkRequest {
  reasonCode: ReasonCode;
  note?: string;
  /** R2: the stages the person confirms cancelling in, for every order of the job. */
  confirm: ConfirmableStage[];
}

/**
 * `selecting`: its orders are being listed; `running`: cancellations are being started, at most the job's
 * concurrency at a time still being processed; `paused`: none is started until someone resumes (those started
 * go on by their own rules); `waiting`: every order was asked for and some cancellations wait for people
 * (approvers, finance, ops, the warehouse, a customer); `completed`: every cancellation ended; `stopped`:
 * someone stopped it (orders not yet asked for never will be; those started go on by their own rules).
 */
export const BULK_JOB_STATES = [
  'selecting',
  'running',
  'paused',
  'waiting',
  'completed',
  'stopped',
  'failed',
] as const;
export type BulkJobState = (typeof BULK_JOB_STATES)[number];
export const BULK_FINAL_STATES: readonly BulkJobState[] = ['completed', 'stopped', 'failed'];

/**
 * What became of one order of a job. `started`: its cancellation was asked for and runs (or ran) like any
 * other; the others were never started, and say why: the order was `already_cancelled`, `already_refunded`
 * (every payment given back), `being_cancelled` by someone else's running cancellation, `refused` by the
 * rules (with their reason), or `not_started` because the job was stopped first.
 */
export const BULK_ITEM_STATUSES = [
  'pending',
  'started',
  'already_cancelled',
  'already_refunded',
  'being_cancelled',
  'refused',
  'not_started',
] as const;
export type BulkItemStatus = (typeof BULK_ITEM_STATUSES)[number];

/**
 * Where an order of a job stands, for the job's pace: `pending` (not asked for yet), `active` (its
 * cancellation is being processed: it holds one of the job's concurrency slots), `waiting` (its cancellation
 * waits for a person: no slot held), `done` (ended, or never started).
 */
export type BulkItemPhase = 'pending' | 'active' | 'waiting' | 'done';

/** Someone's pause, resume or stop: the person is the caller the API authenticated, never a body's name. */
export interface BulkControl {
  by: string;
  note?: string;
}

export interface BulkControlEntry extends BulkControl {
  action: 'pause' | 'resume' | 'stop';
  at: string;
}

/** The workflow's own view of its job (its query and its Updates' answer); progress is in the books. */
export interface BulkJobStatus {
  jobId: string;
  state: BulkJobState;
  control: BulkControlEntry[];
}

/** How many of a job's orders are in each phase, as an activity last counted them. */
export interface BulkPhaseCounts {
  pending: number;
  active: number;
  waiting: number;
  done: number;
}

export interface BulkJobInput {
  jobId: string;
  /** How many of its cancellations may be processed at once (config BULK_CONCURRENCY when it started). */
  concurrency: number;
  /** The most orders its selection may find (config BULK_MAX_ORDERS). */
  maxOrders: number;
  /** Continue as new past this many history events (and whenever the server suggests it). */
  historyLimit?: number;
  /** What a run that continued as new carries into the next. */
  continued?: { state: BulkJobState; control: BulkControlEntry[]; stopRequested: boolean };
}

export const getBulkJobQuery = defineQuery<BulkJobStatus>('getBulkJob');
export const pauseBulkJobUpdate = defineUpdate<BulkJobStatus, [BulkControl]>('pauseBulkJob');
export const resumeBulkJobUpdate = defineUpdate<BulkJobStatus, [BulkControl]>('resumeBulkJob');
export const stopBulkJobUpdate = defineUpdate<BulkJobStatus, [BulkControl]>('stopBulkJob');
