// Time and numbering: when each order is placed, its order number, and ObjectIds that sort by creation time
// and come out the same for the same seed.
import { Types } from 'mongoose';

export const FIRST_ORDER_AT = Date.UTC(2024, 0, 1);
/** Orders come one minute apart, so a run's size says how many days it fills. */
export const ORDER_INTERVAL_MS = 60_000;
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export const orderTime = (index: number) => new Date(FIRST_ORDER_AT + index * ORDER_INTERVAL_MS);
export const yearOf = (at: Date) => at.getUTCFullYear();

export function orderNumberOf(index: number): string {
  return `SO-${yearOf(orderTime(index))}-${String(index + 1).padStart(7, '0')}`;
}

export const ID_KINDS = {
  customer: 1,
  product: 2,
  movement: 3,
  order: 4,
  payment: 5,
  refund: 6,
  voucher: 7,
  shipment: 8,
  purchaseOrder: 9,
  cancellation: 10,
} as const;

/** ObjectIds that sort by creation time and come out the same for the same seed. */
export function objectId(seed: number, kind: number, serial: number, at: Date): Types.ObjectId {
  const hex = (value: number, bytes: number) =>
    (value >>> 0)
      .toString(16)
      .padStart(8, '0')
      .slice(-bytes * 2);
  return new Types.ObjectId(
    hex(Math.floor(at.getTime() / 1000), 4) + hex(seed & 0xffffff, 3) + hex(kind, 1) + hex(serial, 4),
  );
}
