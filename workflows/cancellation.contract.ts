// Everything a caller of the cancellation workflow needs: ids, payloads, and the messages it answers.
// Pure types and message definitions only, so the API, the worker, tests and the workflow share it.
import { defineQuery } from '@temporalio/workflow';

export const REASON_CODES = [
  'customer_changed_mind',
  'out_of_stock',
  'price_error',
  'duplicate_order',
  'suspected_fraud',
  'address_problem',
  'delivery_delay',
  'other',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

/** Order statuses whose cancellation needs the requester's explicit confirmation (R2). */
export const CONFIRMABLE_STAGES = ['awaiting_shipment', 'shipped'] as const;
export type ConfirmableStage = (typeof CONFIRMABLE_STAGES)[number];

export interface RequestedLine {
  lineId: string;
  quantity: number;
}

export interface CancellationInput {
  cancellationId: string;
  orderNumber: string;
  /** Absent: every line, whole. */
  lines?: RequestedLine[];
  reasonCode: ReasonCode;
  note?: string;
  requestedBy: string;
  confirmed: ConfirmableStage[];
  requestedAt: string;
}

export type RiskLevel = 'low' | 'medium' | 'high';

export interface CancelledLine {
  lineId: string;
  sku: string;
  warehouse: string;
  quantity: number;
  /** Quantity still reserved in the warehouse for this line, released on cancellation. */
  reservedQuantity: number;
  amountMinor: number;
}

export interface OrderReview {
  orderNumber: string;
  customerId: string;
  currency: string;
  lines: CancelledLine[];
  /** Whether the whole order ends cancelled (otherwise partially cancelled). */
  cancelsWholeOrder: boolean;
  refundableMinor: number;
}

export interface RiskAssessment {
  level: RiskLevel;
  reasons: string[];
}

export type CancellationOutcome = 'completed' | 'refused';

export interface CancellationView {
  cancellationId: string;
  orderNumber: string;
  state: string;
  outcome?: CancellationOutcome;
  refusal?: string;
  reasonCode: ReasonCode;
  review?: OrderReview;
  risk?: RiskAssessment;
  refundedMinor: number;
  notifications: { channel: 'email' | 'sms'; status: 'sent' | 'failed' | 'skipped'; detail?: string }[];
}

export const TASK_QUEUE_DEFAULT = 'cancellations';
export const WORKFLOW_TYPE = 'cancellationWorkflow';

/** One workflow per cancellation; the id says what it is in the Temporal UI. */
export function cancellationWorkflowId(cancellationId: string): string {
  return `cancellation-${cancellationId}`;
}

export const getCancellationQuery = defineQuery<CancellationView>('getCancellation');
