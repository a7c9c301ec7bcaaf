// Stock changes as ledger movements, applied atomically and idempotently without transactions.
//
// A movement is written to the ledger first (its idempotency key is unique), then applied to the stock level
// by one guarded update that also notes the key in `pendingMovements`, then marked applied, then the note is
// removed. Whichever step a crash interrupts, repeating the call with the same key finishes the job and
// never applies the movement twice: the note tells "already applied here" from "not yet".
import { CancelflowError } from '../lib/errors';
import type { Models } from './index';
import type { StockMovementType } from './stock.model';

export interface StockMovementRequest {
  idempotencyKey: string;
  type: StockMovementType;
  sku: string;
  warehouse: string;
  onHandDelta: number;
  reservedDelta: number;
  document: { kind: string; id: string; lineId?: string };
  actor: string;
  reason?: string;
}

export type StockMovementResult = 'applied' | 'already_applied';

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

function sameMovement(a: StockMovementRequest, b: StockMovementRequest): boolean {
  return (
    a.type === b.type &&
    a.sku === b.sku &&
    a.warehouse === b.warehouse &&
    a.onHandDelta === b.onHandDelta &&
    a.reservedDelta === b.reservedDelta
  );
}

export async function applyStockMovement(
  models: Models,
  movement: StockMovementRequest,
): Promise<StockMovementResult> {
  const { StockLevel, StockMovement } = models;
  const { idempotencyKey: key, sku, warehouse, onHandDelta, reservedDelta } = movement;
  if (![onHandDelta, reservedDelta].every(Number.isInteger) || (onHandDelta === 0 && reservedDelta === 0)) {
    throw new CancelflowError(
      'validation_failed',
      'a stock movement changes on-hand or reserved by whole units',
      {
        field: 'quantity',
      },
    );
  }

  try {
    await StockMovement.create({ ...movement, state: 'pending' });
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    const existing = await StockMovement.findOne({ idempotencyKey: key }).lean().orFail();
    if (!sameMovement(existing as unknown as StockMovementRequest, movement)) {
      throw new CancelflowError(
        'conflict',
        `idempotency key ${key} was already used for a different movement`,
      );
    }
    if (existing.state === 'rejected') {
      throw new CancelflowError('insufficient_stock', existing.rejection ?? `movement ${key} was rejected`);
    }
    if (existing.state === 'applied') {
      await StockLevel.updateOne({ sku, warehouse }, { $pull: { pendingMovements: key } });
      return 'already_applied';
    }
  }

  // Only a movement that adds stock may create the level; one that takes stock needs it to exist.
  if (onHandDelta > 0 && reservedDelta <= 0) {
    await StockLevel.updateOne(
      { sku, warehouse },
      { $setOnInsert: { onHand: 0, reserved: 0, pendingMovements: [] } },
      { upsert: true },
    ).catch((error: unknown) => {
      if (!isDuplicateKey(error)) throw error; // a concurrent upsert created it: fine
    });
  }

  // The guard keeps on-hand and reserved non-negative and never reserves more than is on hand.
  const applied = await StockLevel.updateOne(
    {
      sku,
      warehouse,
      pendingMovements: { $ne: key },
      onHand: { $gte: Math.max(0, -onHandDelta) },
      reserved: { $gte: Math.max(0, -reservedDelta) },
      $expr: { $gte: [{ $add: ['$onHand', onHandDelta] }, { $add: ['$reserved', reservedDelta] }] },
    },
    { $inc: { onHand: onHandDelta, reserved: reservedDelta }, $push: { pendingMovements: key } },
  );
  if (applied.modifiedCount === 0) {
    const alreadyHere = await StockLevel.exists({ sku, warehouse, pendingMovements: key });
    if (!alreadyHere) {
      const level = await StockLevel.findOne({ sku, warehouse }).lean();
      const rejection = level
        ? `${sku} in ${warehouse}: on hand ${level.onHand}, reserved ${level.reserved}; ` +
          `cannot apply on-hand ${onHandDelta}, reserved ${reservedDelta}`
        : `${sku} has no stock in ${warehouse}`;
      await StockMovement.updateOne(
        { idempotencyKey: key, state: 'pending' },
        { $set: { state: 'rejected', rejection } },
      );
      throw new CancelflowError('insufficient_stock', rejection, { sku, warehouse });
    }
  }

  await StockMovement.updateOne({ idempotencyKey: key, state: 'pending' }, { $set: { state: 'applied' } });
  await StockLevel.updateOne({ sku, warehouse }, { $pull: { pendingMovements: key } });
  return 'applied';
}

/** Recomputes a stock level from the ledger: what R10's "figures stay exact" is checked against. */
export async function stockFromLedger(
  models: Models,
  sku: string,
  warehouse: string,
): Promise<{ onHand: number; reserved: number }> {
  const [sums] = await models.StockMovement.aggregate<{ onHand: number; reserved: number }>([
    { $match: { sku, warehouse, state: 'applied' } },
    { $group: { _id: null, onHand: { $sum: '$onHandDelta' }, reserved: { $sum: '$reservedDelta' } } },
  ]);
  return { onHand: sums?.onHand ?? 0, reserved: sums?.reserved ?? 0 };
}
