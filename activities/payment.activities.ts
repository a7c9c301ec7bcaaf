import { ApplicationFailure } from '@temporalio/activity';
import { isCancelflowError } from '../lib/errors';
import { completeRefund, failRefund, reserveRefund } from '../models/refund-ledger';
import type { EffectParams } from '../workflows/cancellation.machine';
import type { ActivityDeps } from './deps';

export interface RefundResult {
  refundId: string;
  refundedMinor: number;
}

export function createPaymentActivities({ models, paymentGateway, logger }: ActivityDeps) {
  return {
    /**
     * R11, R28: refunds the order's captured payments, in their own currency, up to the amount asked, with a
     * voucher for each refund. Safe to retry: every write and the gateway call carry the same keys.
     */
    async refundPayment(params: EffectParams['refundPayment']): Promise<RefundResult> {
      const payments = await models.Payment.find({
        orderNumber: params.orderNumber,
        currency: params.currency,
      })
        .sort({ createdAt: 1 })
        .lean();
      let outstanding = params.amountMinor;
      const refundIds: string[] = [];
      for (const payment of payments) {
        const key = `${params.cancellationId}:refund:${payment.paymentId}`;
        const earlier = await models.Refund.findOne({ idempotencyKey: key }).lean();
        // A retried activity must ask for the same amount it reserved before, not what is left now.
        const amountMinor =
          earlier?.amountMinor ?? Math.min(outstanding, payment.capturedMinor - payment.refundedMinor);
        if (amountMinor <= 0) continue;
        try {
          const refund = await reserveRefund(models, {
            idempotencyKey: key,
            paymentId: payment.paymentId,
            orderNumber: params.orderNumber,
            cancellationId: params.cancellationId,
            amountMinor,
            currency: payment.currency,
          });
          if (refund.status !== 'succeeded') {
            const outcome = await paymentGateway.refund({
              idempotencyKey: key,
              paymentReference: payment.providerReference,
              amountMinor,
              currency: payment.currency,
              reason: `cancellation ${params.cancellationId}`,
            });
            if (outcome.status === 'failed') {
              if (outcome.retryable) throw new Error(`payment gateway: ${outcome.message}`);
              await failRefund(models, key, outcome.message);
              throw ApplicationFailure.nonRetryable(
                `payment gateway refused: ${outcome.message}`,
                'RefundRefused',
              );
            }
            // The customer is never told "refunded" before the money moved: a pending refund is asked again
            // (same key, so the gateway reports on the same refund) on the activity's next attempt.
            if (outcome.status === 'pending') throw new Error(`refund ${outcome.refundId} is still pending`);
            await completeRefund(models, key, outcome.refundId);
            logger.info({ key, amountMinor, refundId: outcome.refundId }, 'refund recorded');
          }
          refundIds.push(key);
          outstanding -= amountMinor;
        } catch (error) {
          if (isCancelflowError(error) && error.code === 'refund_exceeds_capture') {
            throw ApplicationFailure.nonRetryable(error.message, 'RefundExceedsCapture');
          }
          throw error;
        }
        if (outstanding <= 0) break;
      }
      return { refundId: refundIds.join(','), refundedMinor: params.amountMinor - outstanding };
    },
  };
}
