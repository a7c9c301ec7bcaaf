// Refunds against captured payments, never more than was captured, never twice.
//
// Like the stock ledger: the refund is recorded under its idempotency key, its amount is reserved on the
// payment by one guarded update that notes the key in `pendingRefunds`, the gateway is asked (with the same
// key), and the outcome is recorded (with the voucher when money moved) before the note is removed.
//
// Every read and write goes by a unique key (issue #13): a guard is checked on the payment as read, and the
// write applies only to that revision of it (every write to a payment bumps `revision`), so a write that
// another came before misses and the guard is checked again on the payment as it is now.
import { CancelflowError } from '../lib/errors';
import type { Models } from './index';
import { createOrFind, isDuplicateKey } from './mongo-errors';
import { paymentsOf } from './order-links';

export interface RefundIntent {
  idempotencyKey: string;
  paymentId: string;
  orderNumber: string;
  cancellationId: string;
  amountMinor: number;
  currency: string;
  /** Its worth in the order's currency, when the payment's currency is another. */
  orderCurrencyMinor?: number;
  /**
   * With `orderCurrencyMinor`: the payment's counts the share was planned on (rules/refund-plan.rules.ts). It is
   * reserved only on those counts, so both stay on the capture's rate; on others it is refused as stale
   * (`refund_plan_stale`), to be planned again. Two cancellations sharing a payment would otherwise each take a
   * share rounded for a state the other has changed.
   */
  plannedFrom?: { refundedMinor: number; refundedOrderCurrencyMinor: number };
}

export type RefundRecord = { status: string; providerRefundId?: string | null; amountMinor: number };

/** How a cancellation's money goes back: through the gateway, or by finance by hand (recorded as settled). */
export const REFUND_KINDS = ['refund', 'manual-settlement'] as const;
export type RefundKind = (typeof REFUND_KINDS)[number];

/** The idempotency key of a cancellation's refund of one payment. */
export function refundKey(cancellationId: string, kind: RefundKind, paymentId: string): string {
  return `${cancellationId}:${kind}:${paymentId}`;
}

/**
 * The order's payments in the order refunds take them, oldest first: the refund, finance's settlement and the
 * instructions finance get all plan over this one list (rules/refund-plan.rules.ts), so they agree.
 */
export async function paymentsInRefundOrder(models: Models, orderNumber: string) {
  const order = await models.SalesOrder.findOne({ orderNumber }, { paymentIds: 1 }).lean();
  return order ? await paymentsOf(models, order) : [];
}

/** A cancellation's refunds, oldest first, read by their keys: one of each kind per payment of its order. */
export async function refundsOfCancellation(
  models: Models,
  cancellation: { cancellationId: string; orderNumber: string },
) {
  const order = await models.SalesOrder.findOne(
    { orderNumber: cancellation.orderNumber },
    { paymentIds: 1 },
  ).lean();
  return refundsOfPayments(models, cancellation.cancellationId, order?.paymentIds ?? []);
}

/** The same, for a caller that has read the order's payment ids already. */
export async function refundsOfPayments(
  models: Models,
  cancellationId: string,
  paymentIds: readonly string[],
) {
  if (paymentIds.length === 0) return [];
  const keys = paymentIds.flatMap((paymentId) =>
    REFUND_KINDS.map((kind) => refundKey(cancellationId, kind, paymentId)),
  );
  return models.Refund.find({ idempotencyKey: { $in: keys } })
    .sort({ createdAt: 1 })
    .lean();
}

/**
 * Records the refund and reserves its amount on the payment. Returns the refund as recorded: a caller that
 * finds it already succeeded must not ask the gateway again.
 */
export async function reserveRefund(models: Models, intent: RefundIntent): Promise<RefundRecord> {
  const { Payment, Refund } = models;
  const key = intent.idempotencyKey;
  if (!Number.isInteger(intent.amountMinor) || intent.amountMinor <= 0) {
    throw new CancelflowError('validation_failed', 'a refund is a positive whole number of minor units', {
      field: 'amountMinor',
    });
  }
  const payment = await Payment.findOne({ paymentId: intent.paymentId }).lean();
  if (!payment) throw new CancelflowError('not_found', `payment ${intent.paymentId} not found`);
  if (payment.currency !== intent.currency) {
    throw new CancelflowError(
      'validation_failed',
      `refunds go back in the payment's currency ${payment.currency}`,
      {
        field: 'currency',
      },
    );
  }

  // Undefined when this call recorded it; otherwise what was recorded under the key before.
  const existing = await createOrFind(
    () => Refund.create({ ...intent, status: 'pending' }).then(() => undefined),
    () => Refund.findOne({ idempotencyKey: key }).lean().orFail(),
  );
  if (existing) {
    const differs =
      existing.amountMinor !== intent.amountMinor ||
      (existing.orderCurrencyMinor ?? undefined) !== intent.orderCurrencyMinor;
    if (existing.paymentId !== intent.paymentId) {
      throw new CancelflowError('conflict', `idempotency key ${key} was already used for a different refund`);
    }
    if (differs) {
      // A share planned again after its first plan went stale: never reserved, so the gateway was never asked
      // for it, and its amounts may change. Anything further along keeps the amounts it went out with.
      const neverReserved =
        existing.status === 'pending' &&
        intent.plannedFrom !== undefined &&
        !(
          await Payment.findOne({ paymentId: intent.paymentId }, { pendingRefunds: 1 }).lean()
        )?.pendingRefunds.includes(key);
      if (!neverReserved) {
        throw new CancelflowError(
          'conflict',
          `idempotency key ${key} was already used for a different refund`,
        );
      }
      await Refund.updateOne(
        { idempotencyKey: key, status: 'pending', amountMinor: existing.amountMinor },
        { $set: { amountMinor: intent.amountMinor, orderCurrencyMinor: intent.orderCurrencyMinor } },
      );
    }
    if (existing.status === 'succeeded' || existing.status === 'settled_manually') return existing;
  }

  const completed = (status: string) => status === 'succeeded' || status === 'settled_manually';
  for (;;) {
    // The payment is read before the refund, and the reservation applies only to the payment as read (its
    // revision): an attempt with this key that completed before the read shows in the refund; any write after
    // the read (this key reserved by another attempt, another refund) makes this update miss and look again.
    const payment = await Payment.findOne({ paymentId: intent.paymentId }).lean().orFail();
    const refund = await Refund.findOne({ idempotencyKey: key }).lean().orFail();
    if (payment.pendingRefunds.includes(key) || completed(refund.status)) return refund;
    const planned = intent.plannedFrom;
    if (
      planned &&
      (payment.refundedMinor !== planned.refundedMinor ||
        (payment.refundedOrderCurrencyMinor ?? 0) !== planned.refundedOrderCurrencyMinor)
    ) {
      throw new CancelflowError(
        'refund_plan_stale',
        `payment ${intent.paymentId} moved since its share was planned (another refund was reserved on it): plan again`,
      );
    }
    // A share of a foreign payment is also bounded by what the payment settled of the order.
    const worth = intent.orderCurrencyMinor;
    const beyondWorth =
      worth !== undefined &&
      (payment.refundedOrderCurrencyMinor ?? 0) + worth > (payment.orderCurrencyMinor ?? 0);
    if (payment.refundedMinor + intent.amountMinor > payment.capturedMinor || beyondWorth) {
      await Refund.updateOne(
        { idempotencyKey: key, status: 'pending' },
        { $set: { status: 'failed', failure: 'exceeds capture' } },
      );
      throw new CancelflowError(
        'refund_exceeds_capture',
        `refunding ${intent.amountMinor} would exceed what payment ${intent.paymentId} captured and has left`,
      );
    }
    const reserved = await Payment.updateOne(
      { paymentId: intent.paymentId, revision: payment.revision },
      {
        $inc: {
          refundedMinor: intent.amountMinor,
          ...(worth === undefined ? {} : { refundedOrderCurrencyMinor: worth }),
          revision: 1,
        },
        $push: { pendingRefunds: key },
      },
    );
    if (reserved.modifiedCount === 1) return refund;
  }
}

/** Records that the gateway refunded: the refund, its voucher (R11), then the payment's note is cleared. */
export async function completeRefund(
  models: Models,
  key: string,
  providerRefundId: string,
  /** 'settled_manually' when finance refunded outside the gateway; providerRefundId is then their reference. */
  status: 'succeeded' | 'settled_manually' = 'succeeded',
): Promise<void> {
  const { Payment, Refund, Voucher } = models;
  const refund = await Refund.findOneAndUpdate(
    { idempotencyKey: key },
    { $set: { status, providerRefundId }, $unset: { failure: 1 } },
    { returnDocument: 'after' },
  )
    .lean()
    .orFail();
  await Voucher.updateOne(
    { idempotencyKey: `${key}:voucher` },
    {
      $setOnInsert: {
        kind: 'refund',
        currency: refund.currency,
        document: { kind: 'refund', id: key },
        memo: `refund of order ${refund.orderNumber} for cancellation ${refund.cancellationId}`,
        // The refund reverses the sale: revenue goes down, and the money leaves the bank account.
        lines: [
          { account: '6001 sales revenue', debitMinor: refund.amountMinor, creditMinor: 0 },
          { account: '1002 bank deposits', debitMinor: 0, creditMinor: refund.amountMinor },
        ],
      },
    },
    { upsert: true, runValidators: true },
  ).catch((error: unknown) => {
    if (!isDuplicateKey(error)) throw error;
  });
  await Payment.updateOne(
    { paymentId: refund.paymentId },
    { $pull: { pendingRefunds: key }, $inc: { revision: 1 } },
  );
}

/** Gives a finally failed refund's amount back to the payment, once (the payment's note is the guard). */
export async function failRefund(models: Models, key: string, failure: string): Promise<void> {
  const { Payment, Refund } = models;
  const refund = await Refund.findOne({ idempotencyKey: key }).lean().orFail();
  if (refund.status === 'succeeded' || refund.status === 'settled_manually') return;
  await Refund.updateOne({ idempotencyKey: key }, { $set: { status: 'failed', failure } });
  // Given back only while the payment notes the key, and on the revision that showed it: once.
  for (;;) {
    const payment = await Payment.findOne(
      { paymentId: refund.paymentId },
      { pendingRefunds: 1, revision: 1 },
    ).lean();
    if (!payment?.pendingRefunds.includes(key)) return;
    const givenBack = await Payment.updateOne(
      { paymentId: refund.paymentId, revision: payment.revision },
      {
        $inc: {
          refundedMinor: -refund.amountMinor,
          ...(refund.orderCurrencyMinor == null
            ? {}
            : { refundedOrderCurrencyMinor: -refund.orderCurrencyMinor }),
          revision: 1,
        },
        $pull: { pendingRefunds: key },
      },
    );
    if (givenBack.modifiedCount === 1) return;
  }
}
