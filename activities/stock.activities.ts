import { ApplicationFailure } from '@temporalio/activity';
import { isCancelflowError } from '../lib/errors';
import { applyStockMovement } from '../models/stock-ledger';
import type { EffectParams } from '../workflows/cancellation.machine';
import type { ActivityDeps } from './deps';

export function createStockActivities({ models }: ActivityDeps) {
  return {
    /** R4, R10, R27: the cancelled lines' reserved units go back to available, one ledger movement a line. */
    async releaseReservedStock(params: EffectParams['releaseStock']): Promise<void> {
      for (const line of params.lines.filter((candidate) => candidate.reservedQuantity > 0)) {
        try {
          await applyStockMovement(models, {
            idempotencyKey: `${params.cancellationId}:release:${line.lineId}`,
            type: 'release',
            sku: line.sku,
            warehouse: line.warehouse,
            onHandDelta: 0,
            reservedDelta: -line.reservedQuantity,
            document: { kind: 'sales_order', id: params.orderNumber, lineId: line.lineId },
            actor: 'cancelflow',
            reason: `cancellation ${params.cancellationId}`,
          });
        } catch (error) {
          // Stock that cannot be released will not become releasable by retrying: a person must look.
          if (isCancelflowError(error) && error.code === 'insufficient_stock') {
            throw ApplicationFailure.nonRetryable(error.message, 'StockReleaseRefused');
          }
          throw error;
        }
      }
    },
  };
}
