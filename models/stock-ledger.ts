// Stock changes as ledger movements, applied atomically and idempotently without transactions.
//
// A movement is written to the ledger first (its idempotency key is unique), then applied to the stock level
// by one guarded update that also notes the key in `pendingMovements`, then marked applied, then the note is
// removed. Whichever step a crash interrupts, repeating the call with the same key finishes the job and
// never applies the movement twice: the note tells "already applied here" from "not yet". A repeat running
// alongside the first attempt is also safe: each applies only to the level revision it read (see below).
import { CancelflowError } from '../lib/errors';
import type { Models } from './index';
import { createOrFind, isDuplicateKey } from './mongo-errors';
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

function sameMovement(a: StockMovementRequest, b: StockMovementRequest): boolean {
  return (
    a.type === b.type &&
    a.sku === b.sku &&
    a.warehouse === b.warehouse &&
    a.onHandDelta === b.onHandDelta &&
    a.reservedDelta === b.reservedDelta
  );
}

/** The ledger's guard: on-hand and reserved stay non-negative, and no more is reserved than is on hand. */
function fits(level: { onHand: number; reserved: number }, onHandDelta: number, reservedDelta: number) {
  const onHand = level.onHand + onHandDelta;
  const reserved = level.reserved + reservedDelta;
  return onHand >= 0 && reserved >= 0 && reserved <= onHand;
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

  // Undefined when this call recorded it; otherwise what was recorded under the key before.
  const existing = await createOrFind(
    () => StockMovement.create({ ...movement, state: 'pending' }).then(() => undefined),
    () => StockMovement.findOne({ idempotencyKey: key }).lean().orFail(),
  );
  if (existing) {
    if (!sameMovement(existing as unknown as StockMovementRequest, movement)) {
      throw new CancelflowError(
        'conflict',
        `idempotency key ${key} was already used for a different movement`,
      );
    }
    // A rejected movement changed nothing, so asking again (after someone repaired the stock) tries again.
    if (existing.state === 'rejected') {
      await StockMovement.updateOne(
        { idempotencyKey: key, state: 'rejected' },
        { $set: { state: 'pending' }, $unset: { rejection: 1 } },
      );
    }
  }

  // Only a movement that adds stock may create the level; one that takes stock needs it to exist.
  if (onHandDelta > 0 && reservedDelta <= 0) {
    await StockLevel.updateOne(
      { sku, warehouse },
      { $setOnInsert: { onHand: 0, reserved: 0, pendingMovements: [], revision: 0 } },
      { upsert: true },
    ).catch((error: unknown) => {
      if (!isDuplicateKey(error)) throw error; // a concurrent upsert created it: fine
    });
  }

  let result: StockMovementResult = 'already_applied';
  for (;;) {
    // Another attempt with this key (a retry running alongside) may apply the movement, mark it applied and
    // clear its note at any moment. Reading the level before the movement, and applying only to the revision
    // read, leaves it no gap: one that finished before the level was read shows in the movement, one that
    // applies after it changes the revision, so this update misses and looks again.
    const level = await StockLevel.findOne({ sku, warehouse }).lean();
    if (level?.pendingMovements.includes(key)) break; // applied here, not yet marked applied
    const current = await StockMovement.findOne({ idempotencyKey: key }).lean().orFail();
    if (current.state === 'applied') {
      await StockLevel.updateOne({ sku, warehouse }, { $pull: { pendingMovements: key } });
      return 'already_applied';
    }
    if (current.state === 'rejected') {
      throw new CancelflowError('insufficient_stock', current.rejection ?? `movement ${key} was rejected`);
    }

    // The guard is checked on the level as read, and the update applies only to that revision (every change to
    // on-hand or reserved counts one): the filter is the level's key and revision, which their unique index
    // serves (issue #13). Two movements of one SKU at once: the second misses, reads the level the first left,
    // and applies to that.
    if (level && fits(level, onHandDelta, reservedDelta)) {
      const applied = await StockLevel.updateOne(
        { sku, warehouse, revision: level.revision ?? null },
        {
          $inc: { onHand: onHandDelta, reserved: reservedDelta, revision: 1 },
          $push: { pendingMovements: key },
        },
      );
      if (applied.modifiedCount === 1) {
        result = 'applied';
        break;
      }
      continue; // it moved on since it was read: look again
    }

    const rejection = level
      ? `${sku} in ${warehouse}: on hand ${level.onHand}, reserved ${level.reserved}; ` +
        `cannot apply on-hand ${onHandDelta}, reserved ${reservedDelta}`
      : `${sku} has no stock in ${warehouse}`;
    const rejected = await StockMovement.updateOne(
      { idempotencyKey: key, state: 'pending' },
      { $set: { state: 'rejected', rejection } },
    );
    if (rejected.modifiedCount === 0) continue; // another attempt settled it meanwhile: see how
    throw new CancelflowError('insufficient_stock', rejection, { sku, warehouse });
  }

  // A movement another attempt judged rejected while this one applied it is applied: the level says so.
  // By key alone (served by its unique index, issue #13): marking an applied movement applied changes nothing.
  await StockMovement.updateOne(
    { idempotencyKey: key },
    { $set: { state: 'applied' }, $unset: { rejection: 1 } },
  );
  await StockLevel.updateOne({ sku, warehouse }, { $pull: { pendingMovements: key } });
  return result;
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
