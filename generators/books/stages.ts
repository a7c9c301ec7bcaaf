// How far an order got through the warehouse: what its stage says it reached decides which documents it has
// (payments once confirmed, reservations once allocated, a shipment once shipped).

/** The order's way through the warehouse, in order; a cancellation stops it (in whole) or not (in part). */
export const STAGES = [
  'draft',
  'confirmed',
  'allocated',
  'picking',
  'shipped',
  'delivered',
  'completed',
] as const;
export type Stage = (typeof STAGES)[number];
export const reached = (stage: Stage, at: Stage) => STAGES.indexOf(stage) >= STAGES.indexOf(at);
