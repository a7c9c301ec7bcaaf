import { ApplicationFailure } from '@temporalio/activity';
import { isCancelflowError } from '../lib/errors';
import { noteShipmentChange } from '../models/shipment-history';
import { releaseReservedStock, returnShippedStock } from '../models/stock-operations';
import type { EffectParams } from '../contracts/effects.contract';
import type { ActivityDeps } from './deps';
import { FAILURE } from '../contracts/failures.contract';

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
          throw ApplicationFailure.nonRetryable(error.message, FAILURE.stockReleaseRefused);
        }
        throw error;
      }
    },

    /**
     * R9, R10: the parcels the warehouse confirmed back go on hand again, one `return` movement a line, noted on
     * their shipments (which become `returned`). Once per parcel, however often retried.
     */
    async returnShippedStock(params: EffectParams['returnStock']): Promise<void> {
      for (const parcel of params.parcels) {
        const key = `${params.cancellationId}:return:${parcel.shipmentId}`;
        try {
          await returnShippedStock(models, {
            idempotencyKey: key,
            shipmentId: parcel.shipmentId,
            warehouse: parcel.warehouse,
            actor: 'cancelflow',
            reason: `cancellation ${params.cancellationId} of ${params.orderNumber}`,
            lines: parcel.lines,
          });
        } catch (error) {
          if (
            isCancelflowError(error) &&
            ['validation_failed', 'conflict', 'not_found'].includes(error.code)
          ) {
            throw ApplicationFailure.nonRetryable(error.message, FAILURE.stockReturnRefused);
          }
          throw error;
        }
        // A parcel is `returned` once every unit in it is back; a partial return leaves it as it was.
        await noteShipmentChange(models, parcel.shipmentId, key, (shipment) =>
          shipment.lines.every((line) => line.returnedQuantity >= line.quantity)
            ? { status: 'returned', note: `cancellation ${params.cancellationId}` }
            : undefined,
        );
      }
    },
  };
}
