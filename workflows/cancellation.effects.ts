// The one exhaustive mapping from the machine's effects to activities, and from their results to events.
// Adding an effect to the machine without a line here is a type error.
import { proxyActivities } from '@temporalio/workflow';
import type { CancellationActivities } from '../activities';
import type { CancellationEvent, EffectParams, EffectType } from './cancellation.machine';

// Reads and guarded writes on our own database: quick, and worth retrying for as long as it takes.
const books = proxyActivities<CancellationActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: ['StockReleaseRefused', 'OrderNotFound'],
  },
});

// Calls to providers (payment gateway, SMTP, SMS): slower, and retried with a longer backoff.
const providers = proxyActivities<CancellationActivities>({
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '10 minutes',
    nonRetryableErrorTypes: ['RefundRefused', 'RefundExceedsCapture'],
  },
});

type EffectHandlers = { [K in EffectType]: (params: EffectParams[K]) => Promise<CancellationEvent> };

export const effectHandlers: EffectHandlers = {
  async reviewOrder(params) {
    const result = await books.reviewOrder(params);
    return result.ok
      ? { type: 'ORDER_REVIEWED', review: result.review }
      : { type: 'ORDER_REFUSED', reason: result.reason };
  },
  async assessRisk(params) {
    return { type: 'RISK_ASSESSED', risk: await books.assessRisk(params) };
  },
  async releaseStock(params) {
    await books.releaseReservedStock(params);
    return { type: 'STOCK_RELEASED' };
  },
  async refundPayment(params) {
    const refund = await providers.refundPayment(params);
    return { type: 'PAYMENT_REFUNDED', refundId: refund.refundId, refundedMinor: refund.refundedMinor };
  },
  async closeOrder(params) {
    await books.markOrderCancelled(params);
    return { type: 'ORDER_CLOSED' };
  },
  async notifyCustomer(params) {
    return { type: 'CUSTOMER_NOTIFIED', results: await providers.notifyCustomer(params) };
  },
};

export function isEffect(type: string): type is EffectType {
  return Object.hasOwn(effectHandlers, type);
}

export function runEffect<K extends EffectType>(
  type: K,
  params: EffectParams[K],
): Promise<CancellationEvent> {
  return effectHandlers[type](params);
}

export const recordProgress = books.recordCancellationState;
