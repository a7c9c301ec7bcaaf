// The books' invariants over everything one sequence wrote, checked at the end of each sequence (and by the
// tests that knock a figure off by hand to see them fail).
import type { Models } from '../../models';
import { stockFromLedger } from '../../models/stock-ledger';
import { WAREHOUSES } from './commands';
import { startingWith, type RunScope } from './scope';

const completed = (status: string) => status === 'succeeded' || status === 'settled_manually';

async function duplicateKeys(
  model: { modelName: string; aggregate: Models['Voucher']['aggregate'] },
  match: Record<string, unknown>,
): Promise<string[]> {
  const groups = await model.aggregate<{ _id: string; count: number }>([
    { $match: match },
    { $group: { _id: '$idempotencyKey', count: { $sum: 1 } } },
    { $match: { count: { $gt: 1 } } },
  ]);
  return groups.map((group) => `${model.modelName} ${group._id} recorded ${group.count} times`);
}

/**
 * The books' invariants over everything one sequence wrote, as a list of what is wrong (empty when they hold):
 * stock levels equal the ledger's sums, nothing is negative or over-reserved, nothing is left in flight;
 * shipments take back no more than they shipped, and exactly what the ledger took back; refunds never exceed
 * what was captured and match what each payment counts, and a foreign payment's count in the order's currency
 * matches its refunds' worth, within what it settled, and (on plan) reaches the top with its own; every voucher
 * balances, one for each completed refund; no idempotency key was recorded twice; and every payment and
 * shipment is listed on its order, where a cancellation finds it (models/order-links.ts).
 */
export async function checkBooks(models: Models, run: RunScope): Promise<string[]> {
  const problems: string[] = [];
  const bySku = { sku: { $in: run.skus } };
  const ofRun = startingWith(`${run.prefix}-`);
  const voucherKeys = run.voucherKeys ? { $in: [...run.voucherKeys] } : startingWith(`${run.prefix}:`);
  const [levels, inFlight, returns, shipments, payments, refunds, vouchers, orders, ...duplicates] =
    await Promise.all([
      models.StockLevel.find(bySku).lean(),
      models.StockMovement.find({ ...bySku, state: 'pending' }, { idempotencyKey: 1 }).lean(),
      models.StockMovement.find({ ...bySku, type: 'return', state: 'applied' }).lean(),
      models.Shipment.find({ shipmentId: ofRun }).lean(),
      models.Payment.find({ orderNumber: ofRun }).lean(),
      models.Refund.find({ orderNumber: ofRun }).lean(),
      models.Voucher.find({ idempotencyKey: voucherKeys }).lean(),
      models.SalesOrder.find(
        { orderNumber: ofRun },
        { orderNumber: 1, paymentIds: 1, shipmentIds: 1 },
      ).lean(),
      duplicateKeys(models.StockMovement, bySku),
      duplicateKeys(models.Refund, { orderNumber: ofRun }),
      duplicateKeys(models.Voucher, { idempotencyKey: voucherKeys }),
    ]);
  problems.push(...duplicates.flat());

  // Stock: the level is the ledger's sum, and no figure is below zero.
  const places = run.skus.flatMap((sku) => WAREHOUSES.map((warehouse) => ({ sku, warehouse })));
  const ledgers = await Promise.all(
    places.map(({ sku, warehouse }) => stockFromLedger(models, sku, warehouse)),
  );
  for (const [index, { sku, warehouse }] of places.entries()) {
    const here = levels.filter((level) => level.sku === sku && level.warehouse === warehouse);
    if (here.length > 1) problems.push(`${sku}@${warehouse} has ${here.length} stock levels`);
    const level = here[0];
    const ledger = ledgers[index] ?? { onHand: 0, reserved: 0 };
    const onHand = level?.onHand ?? 0;
    const reserved = level?.reserved ?? 0;
    if (onHand !== ledger.onHand || reserved !== ledger.reserved) {
      problems.push(
        `${sku}@${warehouse}: level on hand ${onHand}, reserved ${reserved}; ledger on hand ${ledger.onHand}, reserved ${ledger.reserved}`,
      );
    }
    if (onHand < 0 || reserved < 0 || onHand - reserved < 0) {
      problems.push(
        `${sku}@${warehouse}: on hand ${onHand}, reserved ${reserved}, available ${onHand - reserved}`,
      );
    }
    if (level && level.pendingMovements.length > 0) {
      problems.push(
        `${sku}@${warehouse} still notes movements in flight: ${level.pendingMovements.join(', ')}`,
      );
    }
  }
  if (inFlight.length > 0) {
    problems.push(
      `movements left pending: ${inFlight.map((movement) => movement.idempotencyKey).join(', ')}`,
    );
  }

  // Shipments: each line took back no more than it shipped, exactly what its notes and the ledger say.
  for (const shipment of shipments) {
    const keys = shipment.returns.map((entry) => entry.key);
    if (new Set(keys).size !== keys.length)
      problems.push(`${shipment.shipmentId} notes a return twice: ${keys.join(', ')}`);
    for (const line of shipment.lines) {
      const noted = shipment.returns
        .flatMap((entry) => entry.lines)
        .filter((entry) => entry.lineId === line.lineId)
        .reduce((sum, entry) => sum + (entry.quantity ?? 0), 0);
      const inLedger = returns
        .filter(
          (movement) =>
            movement.document?.id === shipment.shipmentId && movement.document.lineId === line.lineId,
        )
        .reduce((sum, movement) => sum + movement.onHandDelta, 0);
      if (
        line.returnedQuantity < 0 ||
        line.returnedQuantity > line.quantity ||
        noted !== line.returnedQuantity ||
        inLedger !== line.returnedQuantity
      ) {
        problems.push(
          `${shipment.shipmentId}/${line.lineId}: shipped ${line.quantity}, returned ${line.returnedQuantity}, returns noted ${noted}, returned in the ledger ${inLedger}`,
        );
      }
    }
  }

  // Links: a payment or parcel its order does not list is one a cancellation of the order would not see.
  const listed = new Map(orders.map((order) => [order.orderNumber, order]));
  for (const payment of payments) {
    if (!listed.get(payment.orderNumber)?.paymentIds.includes(payment.paymentId))
      problems.push(`${payment.paymentId} is not listed on its order ${payment.orderNumber}`);
  }
  for (const shipment of shipments) {
    if (!listed.get(shipment.orderNumber)?.shipmentIds.includes(shipment.shipmentId))
      problems.push(`${shipment.shipmentId} is not listed on its order ${shipment.orderNumber}`);
  }

  // Money: what a payment counts as refunded is what its refunds reserved, never more than was captured.
  for (const payment of payments) {
    const own = refunds.filter((refund) => refund.paymentId === payment.paymentId);
    const pending = payment.pendingRefunds;
    const reserved = own.filter(
      (refund) => completed(refund.status) || pending.includes(refund.idempotencyKey),
    );
    const reservedMinor = reserved.reduce((sum, refund) => sum + refund.amountMinor, 0);
    const refundedMinor = own
      .filter((refund) => completed(refund.status))
      .reduce((sum, refund) => sum + refund.amountMinor, 0);
    const succeededOrPending = own
      .filter((refund) => completed(refund.status) || refund.status === 'pending')
      .reduce((sum, refund) => sum + refund.amountMinor, 0);
    const label = `payment ${payment.paymentId} (captured ${payment.capturedMinor} ${payment.currency})`;
    if (payment.refundedMinor !== reservedMinor) {
      problems.push(
        `${label} counts ${payment.refundedMinor} refunded, its refunds reserved ${reservedMinor}`,
      );
    }
    if (payment.refundedMinor < 0 || payment.refundedMinor > payment.capturedMinor) {
      problems.push(`${label} counts ${payment.refundedMinor} refunded`);
    }
    if (refundedMinor > payment.capturedMinor || succeededOrPending > payment.capturedMinor) {
      problems.push(
        `${label}: refunds succeeded ${refundedMinor}, succeeded or pending ${succeededOrPending}`,
      );
    }
    if (new Set(pending).size !== pending.length)
      problems.push(`${label} notes a refund twice: ${pending.join(', ')}`);
    for (const key of pending) {
      if (!own.some((refund) => refund.idempotencyKey === key))
        problems.push(`${label} notes an unknown refund ${key}`);
    }
    for (const refund of own) {
      if (refund.status === 'pending' && !pending.includes(refund.idempotencyKey)) {
        problems.push(`refund ${refund.idempotencyKey} is pending but not reserved on ${payment.paymentId}`);
      }
    }

    // A foreign payment: what its refunds gave back of the order moves with what they gave back of it.
    const settled = payment.orderCurrencyMinor;
    if (settled == null) continue;
    const worthRefunded = payment.refundedOrderCurrencyMinor ?? 0;
    const worthReserved = reserved.reduce((sum, refund) => sum + (refund.orderCurrencyMinor ?? 0), 0);
    if (worthRefunded !== worthReserved) {
      problems.push(
        `${label} counts ${worthRefunded} of the order refunded, its refunds reserved ${worthReserved}`,
      );
    }
    if (worthRefunded < 0 || worthRefunded > settled) {
      problems.push(`${label} counts ${worthRefunded} of the ${settled} it settled of the order refunded`);
    }
    if ((worthRefunded === 0) !== (payment.refundedMinor === 0)) {
      problems.push(`${label} counts ${payment.refundedMinor} refunded but ${worthRefunded} of the order`);
    }
    // The plan gives back the last of a payment in both currencies at once, and never the last of one alone.
    const allRefunded = payment.refundedMinor === payment.capturedMinor;
    if (!run.offPlan.has(payment.paymentId) && allRefunded !== (worthRefunded === settled)) {
      problems.push(
        `${label} counts ${payment.refundedMinor} refunded and ${worthRefunded} of the ${settled} it settled of the order`,
      );
    }
  }

  // Vouchers: each balances, in its refund's currency, one for each completed refund and none for another.
  const totals = new Map<string, { debit: number; credit: number }>();
  for (const voucher of vouchers) {
    const debit = voucher.lines.reduce((sum, line) => sum + line.debitMinor, 0);
    const credit = voucher.lines.reduce((sum, line) => sum + line.creditMinor, 0);
    const total = totals.get(voucher.currency) ?? { debit: 0, credit: 0 };
    totals.set(voucher.currency, { debit: total.debit + debit, credit: total.credit + credit });
    const refund = refunds.find((entry) => entry.idempotencyKey === voucher.document?.id);
    if (debit !== credit || voucher.lines.length < 2) {
      problems.push(`voucher ${voucher.idempotencyKey} does not balance: debits ${debit}, credits ${credit}`);
    }
    if (
      !refund ||
      !completed(refund.status) ||
      refund.amountMinor !== debit ||
      refund.currency !== voucher.currency
    ) {
      problems.push(
        `voucher ${voucher.idempotencyKey} (${debit} ${voucher.currency}) is for ${refund ? `a ${refund.status} refund of ${refund.amountMinor} ${refund.currency}` : 'no refund'}`,
      );
    }
  }
  for (const [currency, total] of totals) {
    if (total.debit !== total.credit)
      problems.push(`vouchers in ${currency}: debits ${total.debit}, credits ${total.credit}`);
  }
  for (const refund of refunds.filter((entry) => completed(entry.status))) {
    const own = vouchers.filter((voucher) => voucher.document?.id === refund.idempotencyKey);
    if (own.length !== 1)
      problems.push(`refund ${refund.idempotencyKey} (${refund.status}) has ${own.length} vouchers`);
  }
  return problems;
}
