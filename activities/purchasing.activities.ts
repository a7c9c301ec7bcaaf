import { ApplicationFailure } from '@temporalio/activity';
import { isCancelflowError } from '../lib/errors';
import { reducePurchaseOrdersForCancelledLines } from '../models/purchasing';
import type { EffectParams, PurchasingOutcome } from '../contracts/effects.contract';
import type { ActivityDeps } from './deps';
import { FAILURE } from '../contracts/failures.contract';

export function createPurchasingActivities({ models }: ActivityDeps) {
  return {
    /** R27, R29: reduces the purchase orders raised for the cancelled lines; the supplier's shipped units stay. */
    async reducePurchaseOrders(params: EffectParams['reducePurchaseOrders']): Promise<PurchasingOutcome> {
      // The units of a line that were reserved from stock went back to stock; the rest were awaited from
      // suppliers, and those are what come off the purchase orders.
      const lines = params.lines
        .map((line) => ({ lineId: line.lineId, quantity: line.quantity - line.reservedQuantity }))
        .filter((line) => line.quantity > 0);
      if (lines.length === 0) return { reduced: [], notReduced: [] };
      try {
        const report = await reducePurchaseOrdersForCancelledLines(models, {
          idempotencyKey: `${params.cancellationId}:reduce-purchase-orders`,
          orderNumber: params.orderNumber,
          lines,
          actor: 'cancelflow',
          reason: `cancellation ${params.cancellationId}`,
        });
        return { reduced: report.reduced, notReduced: report.notReduced };
      } catch (error) {
        // The books refused the change (the data disagrees with the cancellation): a person must look.
        if (isCancelflowError(error))
          throw ApplicationFailure.nonRetryable(error.message, FAILURE.purchasingRefused);
        throw error;
      }
    },
  };
}
