// The carrier (R9): asking it to stop the parcels of a cancelled order, and telling it to deliver them again
// when the customer keeps the order after all.
import { ApplicationFailure } from '@temporalio/activity';
import type { ParcelRecall } from '../contracts/cancellation.contract';
import type { EffectParams } from '../contracts/effects.contract';
import { noteShipmentChange } from '../models/shipment-history';
import type { ActivityDeps } from './deps';
import { heartbeatingWhile } from './heartbeats';
import { FAILURE } from '../contracts/failures.contract';

/** The key of one parcel's recall: the carrier returns the same recall however often it is asked. */
export function recallKey(cancellationId: string, shipmentId: string): string {
  return `${cancellationId}:recall:${shipmentId}`;
}

export function createCarrierActivities({ models, carrier, logger }: ActivityDeps) {
  /** The recall itself; requestRecall below runs it heartbeating. */
  async function requestRecall(params: EffectParams['requestRecall']): Promise<ParcelRecall[]> {
    const recalls: ParcelRecall[] = [];
    for (const parcel of params.parcels) {
      const outcome = await carrier.requestRecall(
        { shipmentId: parcel.shipmentId, trackingNumber: parcel.trackingNumber, reason: params.reasonCode },
        recallKey(params.cancellationId, parcel.shipmentId),
      );
      if (outcome.status === 'unrecognised') {
        // Neither stopped nor refused: guessing either way could lose the goods or the customer's money.
        throw ApplicationFailure.nonRetryable(
          `asked to stop ${parcel.shipmentId}, ${outcome.message}, an answer cancelflow does not know: find out ` +
            'from the carrier what became of the parcel, then resume to ask again with the same recall key',
          FAILURE.carrierAnswerUnknown,
        );
      }
      if (outcome.status === 'failed') {
        if (outcome.retryable) throw new Error(`carrier: ${outcome.message}`);
        recalls.push({ shipmentId: parcel.shipmentId, status: 'failed', reason: outcome.message });
      } else {
        recalls.push({
          shipmentId: parcel.shipmentId,
          recallId: outcome.recallId,
          status: outcome.status,
          reason: outcome.status === 'too_late' ? outcome.message : undefined,
        });
      }
    }
    logger.info({ cancellationId: params.cancellationId, recalls }, 'recall requested');
    return recalls;
  }

  return {
    /**
     * Asks the carrier to stop each parcel and says what it answered: accepted, too late, refused for good,
     * or pending (it answers later through its webhook). A carrier that is down or busy is retried by
     * Temporal with the same keys.
     */
    requestRecall(params: EffectParams['requestRecall']): Promise<ParcelRecall[]> {
      return heartbeatingWhile(() => requestRecall(params));
    },

    /**
     * The customer keeps the order: each parcel is noted for re-delivery on its shipment (once per key);
     * logistics hears of it from the cancellation's `redelivery` notice.
     */
    async arrangeRedelivery(params: EffectParams['arrangeRedelivery']): Promise<void> {
      const key = `${params.cancellationId}:redelivery`;
      for (const parcel of params.parcels) {
        const found = await noteShipmentChange(models, parcel.shipmentId, key, (shipment) => ({
          status: shipment.status,
          note: `deliver again: the customer kept order ${params.orderNumber} (cancellation ${params.cancellationId})`,
        }));
        if (!found) {
          throw ApplicationFailure.nonRetryable(
            `no shipment ${parcel.shipmentId}`,
            FAILURE.redeliveryRefused,
          );
        }
      }
    },
  };
}
