// A parcel's history: what happened to it (returned, to be delivered again), each change noted once under the
// key of the operation that made it.
import type { Models } from './index';
import type { Shipment, ShipmentStatus } from './shipment.model';

/**
 * Notes a change on a parcel's history once per key: `change` judges the parcel as read and gives the entry
 * (with the status the parcel takes), or nothing to note. The write applies only to the revision read (every
 * change bumps it), so its filter is the parcel's id and revision, which their unique index serves (issue #13),
 * and a change made meanwhile makes it miss and judge again. False when there is no such parcel.
 */
export async function noteShipmentChange(
  models: Models,
  shipmentId: string,
  key: string,
  change: (shipment: Shipment) => { status: ShipmentStatus; note: string } | undefined,
): Promise<boolean> {
  for (;;) {
    const shipment = await models.Shipment.findOne({ shipmentId }).lean();
    if (!shipment) return false;
    const entry = shipment.history.some((noted) => noted.key === key) ? undefined : change(shipment);
    if (!entry) return true;
    const noted = await models.Shipment.updateOne(
      { shipmentId, revision: shipment.revision },
      {
        $set: { status: entry.status },
        $inc: { revision: 1 },
        $push: { history: { key, at: new Date(), ...entry } },
      },
    );
    if (noted.modifiedCount === 1) return true;
  }
}
