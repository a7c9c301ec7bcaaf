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
          if (refund.status === 'succeeded') {
            // A crash may have come between marking it succeeded and writing its voucher: finish (idempotent).
            await completeRefund(models, key, refund.providerRefundId ?? key);
          } else {
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

    /** What has gone back to the customer for this cancellation so far, through the gateway or by hand. */
    async refundedForCancellation(params: { cancellationId: string }): Promise<number> {
      const refunds = await models.Refund.find({
        cancellationId: params.cancellationId,
        status: { $in: ['succeeded', 'settled_manually'] },
      }).lean();
      return refunds.reduce((sum, refund) => sum + refund.amountMinor, 0);
    },

    /**
     * R11, R28: finance refunded by hand; the refund is recorded against the order's payments (oldest first,
     * one key each, like the gateway's refunds) with its reference and a voucher, once. Returns the amount.
     */
    async recordManualSettlement(params: EffectParams['recordManualSettlement']): Promise<number> {
      const payments = await models.Payment.find({
        orderNumber: params.orderNumber,
        currency: params.currency,
      })
        .sort({ createdAt: 1, paymentId: 1 })
        .lean();
      let outstanding = params.amountMinor;
      for (const payment of payments) {
        if (outstanding <= 0) break;
        const key = `${params.cancellationId}:manual-settlement:${payment.paymentId}`;
        const earlier = await models.Refund.findOne({ idempotencyKey: key }).lean();
        // A retry records the amounts the first attempt chose, not what is left now.
        const amountMinor =
          earlier?.amountMinor ?? Math.min(outstanding, payment.capturedMinor - payment.refundedMinor);
        if (amountMinor <= 0) continue;
        try {
          await reserveRefund(models, {
            idempotencyKey: key,
            paymentId: payment.paymentId,
            orderNumber: params.orderNumber,
            cancellationId: params.cancellationId,
            amountMinor,
            currency: params.currency,
          });
        } catch (error) {
          if (isCancelflowError(error))
            throw ApplicationFailure.nonRetryable(error.message, 'RefundExceedsCapture');
          throw error;
        }
        await completeRefund(models, key, `manual:${params.reference}`, 'settled_manually');
        outstanding -= amountMinor;
      }
      if (outstanding > 0) {
        throw ApplicationFailure.nonRetryable(
          `the payments of ${params.orderNumber} have ${params.amountMinor - outstanding} of ${params.amountMinor} ${params.currency} left to refund`,
          'RefundExceedsCapture',
        );
      }
      logger.info(
        { cancellationId: params.cancellationId, by: params.by, reference: params.reference },
        'manual settlement recorded',
      );
      return params.amountMinor;
    },
  };
}
