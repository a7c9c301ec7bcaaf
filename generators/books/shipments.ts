// Shipments: the parcel of a shipped order, with its carrier's tracking number, its way to the customer and the
// ledger's movements of the units that left the warehouse.
import type { ShipmentStatus } from '../../models/shipment.model';
import type { Books, SalesOrderLine, ShipmentDocument } from './documents';
import { DAY, HOUR, ID_KINDS } from './numbering';
import type { Market } from './organisation';
import { alphanumeric, between, digits, pick, type Random } from './random';
import { reached, type Stage } from './stages';
import type { RunState } from './state';

const CARRIERS: Record<Market, readonly (readonly [string, (random: Random) => string])[]> = {
  CN: [
    ['SF Express', (random) => `SF${digits(random, 13)}`],
    ['JD Logistics', (random) => `JDVA${digits(random, 11)}`],
    ['ZTO Express', (random) => `7${digits(random, 13)}`],
    ['YTO Express', (random) => `YT${digits(random, 13)}`],
    [
      'China Post EMS',
      (random) => `E${alphanumeric(random, 1, 'ABCDEFGHJKLMNPQRSTUVWXYZ')}${digits(random, 9)}CN`,
    ],
  ],
  US: [
    ['UPS', (random) => `1Z${alphanumeric(random, 16, '0123456789ABCDEFGHJKLMNPRSTUVWXYZ')}`],
    ['FedEx', (random) => digits(random, 12)],
    ['USPS', (random) => `9400${digits(random, 18)}`],
  ],
};

/**
 * The parcel: what is left of each line leaves the warehouse (reserved and on hand go down together).
 * Returns the parcel's id and when it is, or would be, delivered.
 */
export function ship(
  state: RunState,
  books: Books,
  random: Random,
  orderNumber: string,
  market: Market,
  warehouse: string,
  lines: SalesOrderLine[],
  shippedAt: Date,
  stage: Stage,
): { shipmentId: string; deliveredAt: Date } {
  const shipmentId = `SHP-${orderNumber.slice(3)}`;
  const shipped = lines.filter((line) => line.quantity > line.cancelledQuantity);
  for (const line of shipped) {
    const units = line.quantity - line.cancelledQuantity;
    state.move(books, shippedAt, {
      idempotencyKey: `${orderNumber}:ship:${line.lineId}`,
      type: 'ship',
      sku: line.sku,
      warehouse,
      onHandDelta: -units,
      reservedDelta: -units,
      document: { kind: 'shipment', id: shipmentId, lineId: line.lineId },
      actor: 'wms',
    });
    line.reservedQuantity = 0;
  }
  const [carrier, tracking] = pick(random, CARRIERS[market]);
  const pickedUpAt = new Date(shippedAt.getTime() + between(random, 1, 6) * HOUR);
  const inTransitAt = new Date(pickedUpAt.getTime() + between(random, 2, 12) * HOUR);
  const deliveredAt = new Date(inTransitAt.getTime() + between(random, 1, market === 'CN' ? 3 : 7) * DAY);
  const status: ShipmentStatus = reached(stage, 'delivered')
    ? 'delivered'
    : random() < 0.4
      ? 'picked_up'
      : 'in_transit';
  const changes: [ShipmentStatus, Date][] = [
    ['pending', shippedAt],
    ['picked_up', pickedUpAt],
    ['in_transit', inTransitAt],
    ['delivered', deliveredAt],
  ];
  const upTo = changes.findIndex(([changed]) => changed === status);
  const history = changes
    .slice(0, upTo + 1)
    .map(([changed, at]) => ({ key: `${shipmentId}:${changed}`, at, status: changed }));
  const shipment: ShipmentDocument = {
    _id: state.id(ID_KINDS.shipment, shippedAt),
    shipmentId,
    orderNumber,
    warehouse,
    carrier,
    trackingNumber: tracking(random),
    status,
    lines: shipped.map((line) => ({
      lineId: line.lineId,
      sku: line.sku,
      quantity: line.quantity - line.cancelledQuantity,
      returnedQuantity: 0,
    })),
    shippedAt,
    ...(status === 'delivered' ? { deliveredAt } : {}),
    history,
    returns: [],
    revision: 0,
    createdAt: shippedAt,
    updatedAt: (history[history.length - 1] as { at: Date }).at,
  };
  books.shipments.push(shipment);
  return { shipmentId, deliveredAt };
}
