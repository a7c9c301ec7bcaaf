// The stock operations a cancellation needs (R4, R9, R10, R27), each built on the ledger's atomic, idempotent
// movement: one movement per line, keyed `<operation key>:<lineId>`, so repeating an operation with its key
// changes nothing and a retry after a crash finishes only what is missing. Input is checked whole before
// anything is written: a refused request changes nothing.
import { z } from 'zod';
import { CancelflowError, isCancelflowError } from '../lib/errors';
import {
  distinctLineIds,
  documentRef,
  idempotencyKey,
  invalid,
  parseInput,
  requiredText,
  requireKnownSkus,
  wholeUnits,
} from './books-validation';
import type { Models } from './index';
import { applyStockMovement, type StockMovementResult } from './stock-ledger';

export interface StockLineOutcome {
  lineId: string;
  sku: string;
  warehouse: string;
  quantity: number;
  result: StockMovementResult;
}

const releaseInput = z.object({
  idempotencyKey,
  /** The document the reservation was made for, usually the sales order. */
  document: documentRef,
  actor: requiredText,
  reason: requiredText.optional(),
  lines: z
    .array(
      z.object({ lineId: requiredText, sku: requiredText, warehouse: requiredText, quantity: wholeUnits }),
    )
    .min(1, 'name at least one line')
    .superRefine(distinctLineIds),
});
export type ReleaseReservedStockInput = z.input<typeof releaseInput>;

/**
 * Gives reserved units back to available, one `release` movement a line. A line whose units are not reserved
 * is refused with `insufficient_stock` naming it; when the levels read beforehand already show that, nothing
 * is released, otherwise (a concurrent change) the other lines are released and the error lists both.
 */
export async function releaseReservedStock(
  models: Models,
  input: ReleaseReservedStockInput,
): Promise<StockLineOutcome[]> {
  const request = parseInput(releaseInput, input);
  await requireKnownSkus(
    models,
    request.lines.map((line, index) => ({ sku: line.sku, field: `lines[${index}].sku` })),
  );
  const movementKey = (lineId: string) => `${request.idempotencyKey}:${lineId}`;

  // Lines not yet released must fit in what is reserved now, added up per SKU and warehouse.
  const recorded = new Set(
    (
      await models.StockMovement.find(
        { idempotencyKey: { $in: request.lines.map((line) => movementKey(line.lineId)) } },
        { idempotencyKey: 1 },
      ).lean()
    ).map((movement) => movement.idempotencyKey),
  );
  const wanted = new Map<string, number>();
  for (const [index, line] of request.lines.entries()) {
    if (recorded.has(movementKey(line.lineId))) continue;
    const place = `${line.sku}\u0000${line.warehouse}`;
    const total = (wanted.get(place) ?? 0) + line.quantity;
    wanted.set(place, total);
    const level = await models.StockLevel.findOne({ sku: line.sku, warehouse: line.warehouse }).lean();
    if ((level?.reserved ?? 0) < total) {
      throw new CancelflowError(
        'insufficient_stock',
        `${line.sku} in ${line.warehouse}: ${level?.reserved ?? 0} reserved, cannot release ${total}`,
        { field: `lines[${index}].quantity` },
      );
    }
  }

  const outcomes: StockLineOutcome[] = [];
  const refused: { field: string; lineId: string; message: string }[] = [];
  for (const [index, line] of request.lines.entries()) {
    try {
      const result = await applyStockMovement(models, {
        idempotencyKey: movementKey(line.lineId),
        type: 'release',
        sku: line.sku,
        warehouse: line.warehouse,
        onHandDelta: 0,
        reservedDelta: -line.quantity,
        document: { ...request.document, lineId: line.lineId },
        actor: request.actor,
        reason: request.reason,
      });
      outcomes.push({ ...line, result });
    } catch (error) {
      if (!isCancelflowError(error) || error.code !== 'insufficient_stock') throw error;
      refused.push({ field: `lines[${index}].quantity`, lineId: line.lineId, message: error.message });
    }
  }
  const [first] = refused;
  if (first) {
    throw new CancelflowError('insufficient_stock', first.message, {
      field: first.field,
      refused,
      released: outcomes,
    });
  }
  return outcomes;
}

const returnInput = z.object({
  idempotencyKey,
  shipmentId: requiredText,
  /** The warehouse the units go back into (not necessarily the one they left from). */
  warehouse: requiredText,
  actor: requiredText,
  reason: requiredText.optional(),
  lines: z
    .array(z.object({ lineId: requiredText, sku: requiredText, quantity: wholeUnits }))
    .min(1, 'name at least one line')
    .superRefine(distinctLineIds),
});
export type ReturnShippedStockInput = z.input<typeof returnInput>;

/**
 * Takes shipped units back on hand (R9: a recalled or returned parcel), one `return` movement a line. The
 * return is first noted on the shipment under the key, by one update guarded by the revision read, so no
 * two returns together take back more of a line than was shipped; the movements follow, and a retry after
 * a crash in between finds the note and applies only the movements still missing.
 */
export async function returnShippedStock(
  models: Models,
  input: ReturnShippedStockInput,
): Promise<StockLineOutcome[]> {
  const request = parseInput(returnInput, input);
  await requireKnownSkus(
    models,
    request.lines.map((line, index) => ({ sku: line.sku, field: `lines[${index}].sku` })),
  );
  const { Shipment } = models;

  for (;;) {
    const shipment = await Shipment.findOne({ shipmentId: request.shipmentId }).lean();
    if (!shipment) {
      throw new CancelflowError('not_found', `no shipment ${request.shipmentId}`, { field: 'shipmentId' });
    }
    const earlier = shipment.returns.find((entry) => entry.key === request.idempotencyKey);
    if (earlier) {
      const same =
        earlier.warehouse === request.warehouse &&
        earlier.lines.length === request.lines.length &&
        request.lines.every((line) =>
          earlier.lines.some(
            (noted) =>
              noted.lineId === line.lineId && noted.sku === line.sku && noted.quantity === line.quantity,
          ),
        );
      if (!same) {
        throw new CancelflowError(
          'conflict',
          `idempotency key ${request.idempotencyKey} was already used for a different return`,
          { field: 'idempotencyKey' },
        );
      }
      break;
    }

    const lines = shipment.lines.map((line) => ({ ...line }));
    for (const [index, wanted] of request.lines.entries()) {
      const line = lines.find((candidate) => candidate.lineId === wanted.lineId);
      if (!line)
        throw invalid(`lines[${index}].lineId`, `line ${wanted.lineId} is not in ${shipment.shipmentId}`);
      if (line.sku !== wanted.sku) {
        throw invalid(`lines[${index}].sku`, `line ${wanted.lineId} shipped ${line.sku}, not ${wanted.sku}`);
      }
      const left = line.quantity - line.returnedQuantity;
      if (wanted.quantity > left) {
        throw invalid(
          `lines[${index}].quantity`,
          `line ${wanted.lineId} shipped ${line.quantity} and ${left} of them can still come back, not ${wanted.quantity}`,
        );
      }
      line.returnedQuantity += wanted.quantity;
    }
    // The key was looked for on the parcel as read, and every change to it bumps the revision: by id and
    // revision alone, which their unique index serves (issue #13).
    const noted = await Shipment.updateOne(
      { shipmentId: shipment.shipmentId, revision: shipment.revision },
      {
        $set: { lines },
        $inc: { revision: 1 },
        $push: {
          returns: {
            key: request.idempotencyKey,
            at: new Date(),
            warehouse: request.warehouse,
            actor: request.actor,
            reason: request.reason,
            lines: request.lines,
          },
        },
      },
    );
    if (noted.modifiedCount === 1) break;
    // Changed since it was read (another return, or this one by a concurrent attempt): read it again.
  }

  const outcomes: StockLineOutcome[] = [];
  for (const line of request.lines) {
    const result = await applyStockMovement(models, {
      idempotencyKey: `${request.idempotencyKey}:${line.lineId}`,
      type: 'return',
      sku: line.sku,
      warehouse: request.warehouse,
      onHandDelta: line.quantity,
      reservedDelta: 0,
      document: { kind: 'shipment', id: request.shipmentId, lineId: line.lineId },
      actor: request.actor,
      reason: request.reason,
    });
    outcomes.push({ ...line, warehouse: request.warehouse, result });
  }
  return outcomes;
}

const correctionInput = z.object({
  idempotencyKey,
  sku: requiredText,
  warehouse: requiredText,
  /** Units to add (positive) or take away (negative) from on hand. */
  quantityDelta: z
    .number('must be a number')
    .int('must be a whole number of units')
    .refine((delta) => delta !== 0, 'must not be 0'),
  /** R10: a correction by hand says why, and who made it. */
  reason: requiredText,
  actor: requiredText,
  /** The count or incident behind the correction; the correction itself when there is none. */
  document: documentRef.optional(),
});
export type CorrectStockByHandInput = z.input<typeof correctionInput>;

/**
 * Corrects on-hand stock by hand (R10), as one `adjust` movement. It never takes on hand below zero or below
 * what is reserved for orders: such a correction is refused with `insufficient_stock` and changes nothing.
 */
export async function correctStockByHand(
  models: Models,
  input: CorrectStockByHandInput,
): Promise<StockMovementResult> {
  const request = parseInput(correctionInput, input);
  await requireKnownSkus(models, [{ sku: request.sku, field: 'sku' }]);
  try {
    return await applyStockMovement(models, {
      idempotencyKey: request.idempotencyKey,
      type: 'adjust',
      sku: request.sku,
      warehouse: request.warehouse,
      onHandDelta: request.quantityDelta,
      reservedDelta: 0,
      document: request.document ?? { kind: 'stock_correction', id: request.idempotencyKey },
      actor: request.actor,
      reason: request.reason,
    });
  } catch (error) {
    if (isCancelflowError(error) && error.code === 'insufficient_stock') {
      throw new CancelflowError('insufficient_stock', error.message, {
        ...error.details,
        field: 'quantityDelta',
      });
    }
    throw error;
  }
}
