import { ApplicationFailure } from '@temporalio/activity';
import { isCancelflowError } from '../lib/errors';
import type { Models } from '../models';
import {
  completeRefund,
  failRefund,
  paymentsInRefundOrder,
  refundKey,
  refundsOfCancellation,
  reserveRefund,
  type RefundIntent,
  type RefundKind,
} from '../models/refund-ledger';
import { planRefund, type RefundShare } from '../rules/refund-plan.rules';
import type { EffectParams } from '../contracts/effects.contract';
import type { ActivityDeps } from './deps';
import { heartbeatingWhile } from './heartbeats';
import { FAILURE } from '../contracts/failures.contract';

export interface RefundResult {
  refundId: string;
  /** In the order's currency, whatever currencies the payments were in. */
  refundedMinor: number;
}

interface Refunding {
  cancellationId: string;
  orderNumber: string;
  /** In the order's currency. */
  amountMinor: number;
  /** The order's. */
  currency: string;
}

type Share = RefundShare & {
  key: string;
  providerReference: string;
  plannedFrom?: RefundIntent['plannedFrom'];
};

/**
 * Plans how the amount goes back over the order's payments (rules/refund-plan.rules.ts) and hands each share to
 * `refund`, oldest payment first; returns what no payment could cover, in the order's currency. Shares an
 * earlier attempt recorded under this cancellation's keys stand as they were and count first: a retry must ask
 * for what it reserved before, not what is left now, and never more than the amount in all.
 */
async function refundInShares(
  models: Models,
  refunding: Refunding,
  keyKind: RefundKind,
  refund: (share: Share) => Promise<void>,
): Promise<number> {
  const payments = await paymentsInRefundOrder(models, refunding.orderNumber);
  const keyOf = (paymentId: string) => refundKey(refunding.cancellationId, keyKind, paymentId);
  const earlier = await models.Refund.find({
    idempotencyKey: { $in: payments.map((payment) => keyOf(payment.paymentId)) },
  }).lean();
  // A share recorded but never reserved (its plan went stale, or the attempt stopped before) is planned again.
  const reservedKeys = new Set(payments.flatMap((payment) => payment.pendingRefunds));
  const planned = new Map<string, RefundShare>(
    earlier
      .filter((record) => record.status !== 'pending' || reservedKeys.has(record.idempotencyKey))
      .map((record) => [
        record.paymentId,
        {
          paymentId: record.paymentId,
          currency: record.currency,
          amountMinor: record.amountMinor,
          orderCurrencyMinor: record.orderCurrencyMinor ?? record.amountMinor,
        },
      ]),
  );
  let plan;
  try {
    plan = planRefund(payments, refunding.currency, refunding.amountMinor, planned);
  } catch (error) {
    // The review refuses such an order; the books changed since. Only a person can say what it is worth.
    if (isCancelflowError(error))
      throw ApplicationFailure.nonRetryable(error.message, FAILURE.paymentWorthUnknown);
    throw error;
  }
  const byId = new Map(payments.map((payment) => [payment.paymentId, payment]));
  for (const share of plan.shares) {
    const payment = byId.get(share.paymentId);
    // A new share of a foreign payment is reserved only on the counts it was planned on.
    const plannedFrom =
      payment && share.currency !== refunding.currency && !planned.has(share.paymentId)
        ? {
            refundedMinor: payment.refundedMinor,
            refundedOrderCurrencyMinor: payment.refundedOrderCurrencyMinor ?? 0,
          }
        : undefined;
    try {
      await refund({
        ...share,
        key: keyOf(share.paymentId),
        providerReference: payment?.providerReference ?? '',
        plannedFrom,
      });
    } catch (error) {
      // Another refund was reserved on the payment meanwhile: Temporal's next attempt plans on the new counts.
      if (isCancelflowError(error) && error.code === 'refund_plan_stale')
        throw new Error(error.message, { cause: error });
      if (isCancelflowError(error) && error.code === 'refund_exceeds_capture') {
        throw ApplicationFailure.nonRetryable(error.message, FAILURE.refundExceedsCapture);
      }
      // The key was used for another amount: asking again cannot help, a person must look (needs attention).
      if (isCancelflowError(error) && error.code === 'conflict') {
        throw ApplicationFailure.nonRetryable(error.message, FAILURE.refundKeyConflict);
      }
      throw error;
    }
  }
  return plan.uncoveredMinor;
}

function intentOf(refunding: Refunding, share: Share) {
  return {
    idempotencyKey: share.key,
    paymentId: share.paymentId,
    orderNumber: refunding.orderNumber,
    cancellationId: refunding.cancellationId,
    amountMinor: share.amountMinor,
    currency: share.currency,
    ...(share.currency === refunding.currency ? {} : { orderCurrencyMinor: share.orderCurrencyMinor }),
    ...(share.plannedFrom ? { plannedFrom: share.plannedFrom } : {}),
  };
}

export function createPaymentActivities({ models, paymentGateway, logger }: ActivityDeps) {
  /** The refund itself; refundPayment below runs it heartbeating. */
  async function refundPayment(params: EffectParams['refundPayment']): Promise<RefundResult> {
    const refundIds: string[] = [];
    const outstanding = await refundInShares(models, params, 'refund', async (share) => {
      const refund = await reserveRefund(models, intentOf(params, share));
      if (refund.status === 'succeeded') {
        // A crash may have come between marking it succeeded and writing its voucher: finish (idempotent).
        await completeRefund(models, share.key, refund.providerRefundId ?? share.key);
      } else {
        const outcome = await paymentGateway.refund({
          idempotencyKey: share.key,
          paymentReference: share.providerReference,
          amountMinor: share.amountMinor,
          currency: share.currency,
          reason: `cancellation ${params.cancellationId}`,
        });
        if (outcome.status === 'failed') {
          if (outcome.retryable) throw new Error(`payment gateway: ${outcome.message}`);
          await failRefund(models, share.key, outcome.message);
          throw ApplicationFailure.nonRetryable(
            `payment gateway refused: ${outcome.message}`,
            FAILURE.refundRefused,
          );
        }
        // The customer is never told "refunded" before the money moved: a pending refund is asked again
        // (same key, so the gateway reports on the same refund) on the activity's next attempt.
        if (outcome.status === 'pending') throw new Error(`refund ${outcome.refundId} is still pending`);
        await completeRefund(models, share.key, outcome.refundId);
        logger.info(
          {
            key: share.key,
            amountMinor: share.amountMinor,
            currency: share.currency,
            refundId: outcome.refundId,
          },
          'refund recorded',
        );
      }
      refundIds.push(share.key);
    });
    return { refundId: refundIds.join(','), refundedMinor: params.amountMinor - outstanding };
  }

  return {
    /**
     * R11, R28: refunds the order's captured payments, each in its own currency, up to the amount asked (in the
     * order's), with a voucher for each refund. Safe to retry: every write and the gateway call carry the same
     * keys.
     */
    refundPayment(params: EffectParams['refundPayment']): Promise<RefundResult> {
      return heartbeatingWhile(() => refundPayment(params));
    },

    /**
     * What has gone back to the customer for this cancellation so far, through the gateway or by hand, in the
     * order's currency.
     */
    async refundedForCancellation(params: { cancellationId: string }): Promise<number> {
      // Its refunds are read by their keys, which need its order (issue #13: by cancellation they are a scan).
      const cancellation = await models.Cancellation.findOne(
        { cancellationId: params.cancellationId },
        { cancellationId: 1, orderNumber: 1 },
      )
        .lean()
        .orFail(new Error(`no cancellation ${params.cancellationId} in the books`));
      const refunds = await refundsOfCancellation(models, cancellation);
      return refunds
        .filter((refund) => refund.status === 'succeeded' || refund.status === 'settled_manually')
        .reduce((sum, refund) => sum + (refund.orderCurrencyMinor ?? refund.amountMinor), 0);
    },

    /**
     * R11, R28: finance refunded by hand; the refund is recorded against the order's payments (oldest first,
     * each in its own currency, one key each, like the gateway's refunds) with its reference and a voucher,
     * once. Returns the amount, in the order's currency.
     */
    async recordManualSettlement(params: EffectParams['recordManualSettlement']): Promise<number> {
      const outstanding = await refundInShares(models, params, 'manual-settlement', async (share) => {
        await reserveRefund(models, intentOf(params, share));
        await completeRefund(models, share.key, `manual:${params.reference}`, 'settled_manually');
      });
      if (outstanding > 0) {
        throw ApplicationFailure.nonRetryable(
          `the payments of ${params.orderNumber} have ${params.amountMinor - outstanding} of ${params.amountMinor} ${params.currency} left to refund`,
          FAILURE.refundExceedsCapture,
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
