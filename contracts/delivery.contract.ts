// The per-message delivery workflow as its starters see it: its id scheme, its arguments and its result. The
// cancellation's activities start it by name; tests and ops find it by id.

export const NOTIFICATION_DELIVERY_WORKFLOW_TYPE = 'notificationDeliveryWorkflow';

export interface DeliveryOptions {
  /** Milliseconds before the first retry; each later wait doubles, up to two hours. Default 30 seconds. */
  firstRetryAfterMs?: number;
  /** Milliseconds after which to stop trying and record the message as failed. Default 24 hours. */
  giveUpAfterMs?: number;
}

export interface DeliveryResult {
  key: string;
  status: 'sent' | 'failed';
  /** Sent or given up before this call: it sent nothing. */
  alreadyDone: boolean;
}

/** One delivery workflow per outbox key, ever: a second start for the same key finds the first. */
export function notificationDeliveryWorkflowId(key: string): string {
  return `notification-delivery-${key}`;
}
