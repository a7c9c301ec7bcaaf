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

export const NOTIFICATION_BATCH_DELIVERY_WORKFLOW_TYPE = 'notificationBatchDeliveryWorkflow';

/**
 * One delivery workflow per batch of messages recorded together (a moment's notices, an approval request, the
 * "cancelled" message): named by the cancellation and the keys it delivers, so starting the same batch again
 * finds the first, and a batch with other keys is another workflow. Each outbox entry keeps the id of the
 * workflow delivering it (`deliveryWorkflowId`), which is how ops and tests find it.
 */
export function notificationBatchDeliveryWorkflowId(cancellationId: string, keys: readonly string[]): string {
  return `notification-delivery-${cancellationId}:batch-${digestOf([...keys].sort().join('\n'))}`;
}

/** FNV-1a, 64 bits, in hex: deterministic, dependency-free (contracts load in the workflow sandbox too). */
function digestOf(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= BigInt(text.charCodeAt(index));
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}
