import { ApplicationFailure } from '@temporalio/activity';
import { reviewOrder as reviewOrderRules } from '../rules/review.rules';
import { assessRisk as assessRiskRules } from '../rules/risk.rules';
import type { EffectParams } from '../contracts/effects.contract';
import type { OrderReview, RiskAssessment } from '../contracts/cancellation.contract';
import type { ActivityDeps } from './deps';
import { FAILURE } from '../contracts/failures.contract';
import { nextRevision } from '../models/revision';
import { paymentsOf, purchaseOrdersOf, shipmentsOf } from '../models/order-links';
import { WITH_SUPPLIER } from '../models/purchasing';

export type ReviewResult = { ok: true; review: OrderReview } | { ok: false; reason: string };

export function createOrderActivities({ models }: ActivityDeps) {
  return {
    /** R2, R5: reads the order and its payments and decides what the cancellation covers. */
    async reviewOrder(params: EffectParams['reviewOrder']): Promise<ReviewResult> {
      const order = await models.SalesOrder.findOne({ orderNumber: params.orderNumber }).lean();
      if (!order) return { ok: false, reason: `order ${params.orderNumber} does not exist` };
      const [payments, shipments] = await Promise.all([
        paymentsOf(models, order),
        shipmentsOf(models, order),
      ]);
      const rules = { cancellableStatuses: params.cancellableStatuses, refund: params.refundRules };
      const outcome = reviewOrderRules(order, payments, params, rules, shipments);
      return outcome.ok ? outcome : { ok: false, reason: outcome.reason };
    },

    /** R20: loads what the risk rules weigh beyond the review (the customer, purchase orders with suppliers). */
    async assessRisk(params: EffectParams['assessRisk']): Promise<RiskAssessment> {
      const { review } = params;
      const cancelledLines = new Set(review.lines.map((line) => line.lineId));
      const [customer, order] = await Promise.all([
        models.Customer.findOne({ customerId: review.customerId }).lean(),
        models.SalesOrder.findOne({ orderNumber: review.orderNumber }, { purchaseOrderNumbers: 1 }).lean(),
      ]);
      // The purchase orders the order lists, read by key; which are with their suppliers is judged here.
      const raised = order ? await purchaseOrdersOf(models, order) : [];
      const affected = raised.filter(
        (po) =>
          WITH_SUPPLIER.includes(po.status) &&
          po.lines.some((line) =>
            line.raisedFor.some(
              (link) => link.orderNumber === review.orderNumber && cancelledLines.has(link.lineId),
            ),
          ),
      );
      return assessRiskRules(review, params.reasonCode, params.rules, {
        customer: customer ?? undefined,
        purchaseOrdersWithSuppliers: affected.map((po) => po.poNumber),
      });
    },

    /** R4, R7: the order becomes cancelled (or partially cancelled) with the reason; recorded once. */
    async markOrderCancelled(params: EffectParams['closeOrder']): Promise<void> {
      const key = `${params.cancellationId}:close-order`;
      let customerId: string | undefined;
      // Optimistic: the update applies only to the order as read (its updatedAt), so a change made to it in
      // between (another line's shipment, say) is read again rather than overwritten. The filter is the order
      // number and that revision only, served by their unique index (issue #13); the history is checked on
      // the order as read, and written whole from it, so the update is the same however often it is applied to
      // that revision (each write moves updatedAt past the revision it read: models/revision.ts).
      for (let attempt = 0; customerId === undefined; attempt += 1) {
        if (attempt === 10) throw new Error(`order ${params.orderNumber} keeps changing; will retry`);
        const order = await models.SalesOrder.findOne({ orderNumber: params.orderNumber }).lean();
        if (!order)
          throw ApplicationFailure.nonRetryable(
            `order ${params.orderNumber} vanished`,
            FAILURE.orderNotFound,
          );
        if (order.history.some((entry) => entry.key === key)) {
          customerId = order.customerId;
          break;
        }
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
        const updated = await models.SalesOrder.updateOne(
          { orderNumber: params.orderNumber, updatedAt: order.updatedAt },
          {
            $set: {
              lines,
              status,
              'cancellation.reasonCode': params.reasonCode,
              'cancellation.note': params.note,
              history: [
                ...order.history,
                { key, at: new Date(), status, actor: 'cancelflow', note: params.reasonCode },
              ],
              updatedAt: nextRevision(order.updatedAt),
            },
            $addToSet: { 'cancellation.cancellationIds': params.cancellationId },
          },
          { timestamps: false },
        );
        if (updated.modifiedCount === 1) customerId = order.customerId;
      }
      // Counted once per cancellation (R20's "past cancellations"), also when a retry finds the order done: read
      // by key, written by key and the revision read (their unique index serves it), from the customer as read.
      for (let attempt = 0; ; attempt += 1) {
        if (attempt === 10) throw new Error(`customer ${customerId} keeps changing; will retry`);
        const customer = await models.Customer.findOne(
          { customerId },
          { cancellationIds: 1, cancellationCount: 1, updatedAt: 1 },
        ).lean();
        if (!customer || customer.cancellationIds.includes(params.cancellationId)) break;
        const counted = await models.Customer.updateOne(
          { customerId, updatedAt: customer.updatedAt },
          {
            $set: {
              cancellationIds: [...customer.cancellationIds, params.cancellationId],
              cancellationCount: customer.cancellationCount + 1,
              updatedAt: nextRevision(customer.updatedAt),
            },
          },
          { timestamps: false },
        );
        if (counted.modifiedCount === 1) break;
      }
    },
  };
}
