import { ApplicationFailure } from '@temporalio/activity';
import { reviewOrder as reviewOrderRules } from '../models/order-review';
import type { EffectParams } from '../workflows/cancellation.machine';
import type { OrderReview, RiskAssessment } from '../workflows/cancellation.contract';
import type { ActivityDeps } from './deps';

export type ReviewResult = { ok: true; review: OrderReview } | { ok: false; reason: string };

// Thresholds of the built-in policy until the policy configuration arrives (issue: statechart and policy).
const HIGH_REFUND_MINOR = 1_000_000;
const FREQUENT_CANCELLER = 3;

export function createOrderActivities({ models }: ActivityDeps) {
  return {
    /** R2, R5: reads the order and its payments and decides what the cancellation covers. */
    async reviewOrder(params: EffectParams['reviewOrder']): Promise<ReviewResult> {
      const order = await models.SalesOrder.findOne({ orderNumber: params.orderNumber }).lean();
      if (!order) return { ok: false, reason: `order ${params.orderNumber} does not exist` };
      const payments = await models.Payment.find({ orderNumber: params.orderNumber }).lean();
      const outcome = reviewOrderRules(order, payments, params);
      return outcome.ok ? outcome : { ok: false, reason: outcome.reason };
    },

    /** R20: financial, customer-relationship and supply-chain risk, with the reasons behind the level. */
    async assessRisk(params: EffectParams['assessRisk']): Promise<RiskAssessment> {
      const reasons: string[] = [];
      let level: RiskAssessment['level'] = 'low';
      const raise = (to: RiskAssessment['level'], reason: string) => {
        reasons.push(reason);
        if (to === 'high' || (to === 'medium' && level === 'low')) level = to;
      };
      if (params.review.refundableMinor >= HIGH_REFUND_MINOR) {
        raise('high', `refund of ${params.review.refundableMinor} minor units ${params.review.currency}`);
      }
      if (params.reasonCode === 'suspected_fraud') raise('high', 'suspected fraud');
      const customer = await models.Customer.findOne({ customerId: params.review.customerId }).lean();
      if (customer && customer.cancellationCount >= FREQUENT_CANCELLER) {
        raise('medium', `customer cancelled ${customer.cancellationCount} orders before`);
      }
      if (customer?.tier === 'vip') raise('medium', 'VIP customer relationship');
      return { level, reasons };
    },

    /** R4, R7: the order becomes cancelled (or partially cancelled) with the reason; recorded once. */
    async markOrderCancelled(params: EffectParams['closeOrder']): Promise<void> {
      const key = `${params.cancellationId}:close-order`;
      const order = await models.SalesOrder.findOne({ orderNumber: params.orderNumber }).lean();
      if (!order)
        throw ApplicationFailure.nonRetryable(`order ${params.orderNumber} vanished`, 'OrderNotFound');
      if (order.history.some((entry) => entry.key === key)) return;

      const lines = order.lines.map((line) => {
        const cancelled = params.lines.find((candidate) => candidate.lineId === line.lineId);
        if (!cancelled) return line;
        const cancelledQuantity = line.cancelledQuantity + cancelled.quantity;
        return {
          ...line,
          cancelledQuantity,
          reservedQuantity: Math.max(0, line.reservedQuantity - cancelled.reservedQuantity),
          status: cancelledQuantity >= line.quantity ? 'cancelled' : 'partially_cancelled',
        };
      });
      const status = params.cancelsWholeOrder ? 'cancelled' : 'partially_cancelled';
      // Guarded on the history key, so a retry after a crash neither repeats nor loses the change.
      await models.SalesOrder.updateOne(
        { orderNumber: params.orderNumber, 'history.key': { $ne: key } },
        {
          $set: {
            lines,
            status,
            'cancellation.reasonCode': params.reasonCode,
            'cancellation.note': params.note,
          },
          $addToSet: { 'cancellation.cancellationIds': params.cancellationId },
          $push: { history: { key, at: new Date(), status, actor: 'cancelflow', note: params.reasonCode } },
        },
      );
      await models.Customer.updateOne(
        { customerId: order.customerId, cancellationIds: { $ne: params.cancellationId } },
        { $push: { cancellationIds: params.cancellationId }, $inc: { cancellationCount: 1 } },
      );
    },
  };
}
