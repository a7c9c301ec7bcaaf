import { ApplicationFailure } from '@temporalio/activity';
import { isCancelflowError } from '../lib/errors';
import { releaseReservedStock } from '../models/stock-operations';
import type { EffectParams } from '../workflows/cancellation.machine';
import type { ActivityDeps } from './deps';

export function createStockActivities({ models }: ActivityDeps) {
  return {
    /** R4, R10, R27: the cancelled lines' reserved units go back to available, one ledger movement a line. */
    async releaseReservedStock(params: EffectParams['releaseStock']): Promise<void> {
      const lines = params.lines
        .filter((line) => line.reservedQuantity > 0)
        .map((line) => ({
          lineId: line.lineId,
          sku: line.sku,
          warehouse: line.warehouse,
          quantity: line.reservedQuantity,
        }));
      if (lines.length === 0) return;
      try {
        await releaseReservedStock(models, {
          idempotencyKey: `${params.cancellationId}:release`,
          document: { kind: 'sales_order', id: params.orderNumber },
          actor: 'cancelflow',
          reason: `cancellation ${params.cancellationId}`,
          lines,
        });
      } catch (error) {
        // Stock that cannot be released will not become releasable by retrying: a person must look.
        if (
          isCancelflowError(error) &&
          (error.code === 'insufficient_stock' || error.code === 'validation_failed')
        ) {
          throw ApplicationFailure.nonRetryable(error.message, 'StockReleaseRefused');
        }
        throw error;
      }
    },
  };
}
