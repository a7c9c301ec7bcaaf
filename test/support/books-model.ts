// The books' invariants as a property (issue #4, "Invariants, proven"), shared by test/books.properties.test.ts
// (a bounded run in CI) and bench/properties.ts (10,000 sequences). A sequence of random commands (orders,
// shipments, cancellations whole and partial, returns, corrections by hand, refunds, retries, concurrent
// groups) runs through the books' real operations against a real database, and the books are checked after
// each step and at the end.
//
// A sequence is an array of plain commands (a discriminated union), not `fc.commands`: the database, not a
// model, is the oracle here (which of two racing refunds wins is the server's to decide, so no model could
// predict it), and a retry names an earlier command and a concurrent group several commands at once, both
// awkward as independent `fc.commands` objects. Plain data also prints as a readable counterexample and
// shrinks like any array. Commands name their targets by index (an order, a shipment), resolved against what
// the sequence has created so far, so every shrunk sequence still runs.
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { isCancelflowError, type ErrorCode } from '../../lib/errors';
import type { Models } from '../../models';
import { completeRefund, failRefund, reserveRefund } from '../../models/refund-ledger';
import { shareOf } from '../../models/refund-plan';
import { applyStockMovement, stockFromLedger, type StockMovementResult } from '../../models/stock-ledger';
import { correctStockByHand, releaseReservedStock, returnShippedStock } from '../../models/stock-operations';
import { addCustomer, addProduct, placePaidOrder, receiveStock } from '../../scripts/demo-data';

/** placePaidOrder reserves in the first (its default); returns and corrections use either. */
export const WAREHOUSES = ['WH-SH-01', 'WH-BJ-02'] as const;
const ORDER_WAREHOUSE = WAREHOUSES[0];
const UNIT_PRICES_MINOR = [1250, 4500, 99] as const;
export const SKU_COUNT = UNIT_PRICES_MINOR.length;
const CURRENCIES = ['CNY', 'USD'] as const;
type Currency = (typeof CURRENCIES)[number];
const CUSTOMER_ID = 'C-PROPERTY';
/** Commands per sequence, at most: long enough to ship, return and refund what earlier commands ordered. */
export const MAX_COMMANDS = 16;

// --- commands --------------------------------------------------------------------------------------------

/** Every stock command names a SKU (by index), so a concurrent group can aim all its commands at one. */
export type StockCommand =
  | { kind: 'receive'; sku: number; warehouse: number; quantity: number }
  | {
      kind: 'order';
      sku: number;
      quantity: number;
      secondLine: { sku: number; quantity: number } | null;
      currency: Currency;
      /** Part of it paid by a card in the other currency: `share` thousandths, at `rate` hundredths of CNY per USD. */
      foreign: { share: number; rate: number } | null;
    }
  /** Ships one line of the `target`-th order with a line of the SKU; `crash` stops before the shipment is noted. */
  | { kind: 'ship'; sku: number; target: number; quantity: number; crash: boolean }
  /** Whole: all that the order still has reserved, every line; partial: `quantity` of its line of the SKU. */
  | { kind: 'cancel'; sku: number; target: number; whole: boolean; quantity: number }
  | { kind: 'return'; sku: number; target: number; warehouse: number; quantity: number }
  | { kind: 'correct'; sku: number; warehouse: number; delta: number };

export type RefundOutcome = 'succeeded' | 'settled_manually' | 'failed';
/**
 * A refund of the `target`-th order's payment (its foreign one when `foreign` and it has one): all of it, what
 * is left of it, or a share in thousandths.
 */
export type RefundCommand = {
  kind: 'refund';
  target: number;
  foreign: boolean;
  amount: 'all' | 'rest' | number;
  outcome: RefundOutcome;
  /** Stops after the reservation, before the gateway answers: the refund stays pending until retried. */
  crash: boolean;
};
/** Repeats an earlier command with its idempotency key (`pick` counts back from the latest). */
export type RetryCommand = { kind: 'retry'; pick: number };
/** In a concurrent group: the group's previous command again, at the same time, with the same key. */
export type TwinCommand = { kind: 'twin' };
export type GroupItem = {
  command: StockCommand | RefundCommand | RetryCommand | TwinCommand;
  delayMs: number;
};
export type ConcurrentCommand = { kind: 'concurrently'; items: GroupItem[] };
export type BooksCommand = StockCommand | RefundCommand | RetryCommand | ConcurrentCommand;
export interface BooksSequence {
  /** Opening stock of each SKU in the order warehouse. */
  opening: number[];
  commands: BooksCommand[];
}

const skuIndex = fc.nat(SKU_COUNT - 1);
const warehouseIndex = fc.nat(WAREHOUSES.length - 1);
const units = fc.integer({ min: 1, max: 4 });
const target = fc.nat(7);
/** True one time in six, shrinking to false. */
const rarely = fc.nat(5).map((draw) => draw === 5);

function orderCommand(sku: fc.Arbitrary<number>): fc.Arbitrary<Extract<StockCommand, { kind: 'order' }>> {
  return fc.record({
    kind: fc.constant('order'),
    sku,
    quantity: units,
    secondLine: fc.option(fc.record({ sku: skuIndex, quantity: units })),
    currency: fc.constantFrom(...CURRENCIES),
    foreign: fc.option(
      fc.record({ share: fc.integer({ min: 1, max: 999 }), rate: fc.integer({ min: 650, max: 750 }) }),
      { freq: 2 },
    ),
  });
}

function stockCommand(sku: fc.Arbitrary<number>): fc.Arbitrary<StockCommand> {
  return fc.oneof(
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('receive'),
        sku,
        warehouse: warehouseIndex,
        quantity: fc.integer({ min: 1, max: 8 }),
      }),
    },
    { weight: 4, arbitrary: orderCommand(sku) },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('ship'), sku, target, quantity: units, crash: rarely }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('cancel'),
        sku,
        target,
        whole: fc.boolean(),
        quantity: units,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('return'),
        sku,
        target,
        warehouse: warehouseIndex,
        quantity: units,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('correct'),
        sku,
        warehouse: warehouseIndex,
        delta: fc
          .tuple(fc.integer({ min: 1, max: 5 }), fc.boolean())
          .map(([size, down]) => (down ? -size : size)),
      }),
    },
  );
}

const refundCommand: fc.Arbitrary<RefundCommand> = fc.record({
  kind: fc.constant('refund'),
  target,
  foreign: fc.boolean(),
  amount: fc.oneof(fc.constant('all'), fc.constant('rest'), fc.integer({ min: 1, max: 999 })),
  outcome: fc.constantFrom<RefundOutcome>('succeeded', 'settled_manually', 'failed'),
  crash: rarely,
});
const retryCommand: fc.Arbitrary<RetryCommand> = fc.record({ kind: fc.constant('retry'), pick: fc.nat(15) });
const twinCommand: fc.Arbitrary<TwinCommand> = fc.constant({ kind: 'twin' });

/** 2–4 commands at once, all on one SKU (stock) or one payment (refunds), some of them repeats. */
function concurrentGroup<Command extends StockCommand | RefundCommand, Focus>(
  command: fc.Arbitrary<Command>,
  focus: fc.Arbitrary<Focus>,
  aim: (command: Command, focus: Focus) => Command,
): fc.Arbitrary<ConcurrentCommand> {
  const delayMs = fc.nat(2);
  const first = fc.record({
    command: fc.oneof({ weight: 4, arbitrary: command }, { weight: 1, arbitrary: retryCommand }),
    delayMs,
  });
  const next = fc.record({
    command: fc.oneof(
      { weight: 4, arbitrary: command },
      { weight: 2, arbitrary: twinCommand },
      { weight: 1, arbitrary: retryCommand },
    ),
    delayMs,
  });
  return fc.tuple(focus, first, fc.array(next, { minLength: 1, maxLength: 3 })).map(([on, head, tail]) => ({
    kind: 'concurrently',
    items: [head, ...tail].map((entry) =>
      entry.command.kind === 'twin' || entry.command.kind === 'retry'
        ? entry
        : { ...entry, command: aim(entry.command, on) },
    ),
  }));
}

export function booksSequence(maxCommands = MAX_COMMANDS): fc.Arbitrary<BooksSequence> {
  const command = fc.oneof(
    { weight: 10, arbitrary: stockCommand(skuIndex) },
    { weight: 3, arbitrary: refundCommand },
    { weight: 2, arbitrary: retryCommand },
    {
      weight: 2,
      arbitrary: concurrentGroup(stockCommand(skuIndex), skuIndex, (stock, sku) => ({ ...stock, sku })),
    },
    {
      weight: 1,
      arbitrary: concurrentGroup(
        refundCommand,
        fc.tuple(target, fc.boolean()),
        (refund, [order, foreign]) => ({
          ...refund,
          target: order,
          foreign,
        }),
      ),
    },
  );
  // Every sequence opens with stock and an order, so that most commands after it have something to act on.
  return fc.record({
    opening: fc.array(fc.integer({ min: 3, max: 16 }), { minLength: SKU_COUNT, maxLength: SKU_COUNT }),
    commands: fc
      .tuple(orderCommand(skuIndex), fc.array(command, { maxLength: maxCommands - 1, size: 'max' }))
      .map(([order, rest]): BooksCommand[] => [order, ...rest]),
  });
}

// --- actions: commands resolved to concrete calls ---------------------------------------------------------

type StockLine = { lineId: string; sku: string; warehouse: string; quantity: number };
/** A payment in another currency than its order's, and what it settled of the order in the order's. */
interface ForeignPayment {
  paymentId: string;
  currency: Currency;
  capturedMinor: number;
  orderCurrencyMinor: number;
}
/** What a payment counts as refunded, in its own currency and (foreign payments) in the order's. */
type RefundedCounts = { refundedMinor: number; refundedOrderCurrencyMinor: number };
const NOTHING_REFUNDED: RefundedCounts = { refundedMinor: 0, refundedOrderCurrencyMinor: 0 };
const sameCounts = (a: RefundedCounts, b: RefundedCounts) =>
  a.refundedMinor === b.refundedMinor && a.refundedOrderCurrencyMinor === b.refundedOrderCurrencyMinor;

type OrderLine = { lineId: string; sku: string; quantity: number; unitPriceMinor: number };
type Action =
  | { kind: 'receive'; key: string; sku: string; warehouse: string; quantity: number }
  | {
      kind: 'order';
      orderNumber: string;
      currency: Currency;
      lines: OrderLine[];
      foreign: ForeignPayment | null;
    }
  | {
      kind: 'ship';
      shipmentId: string;
      orderNumber: string;
      lineId: string;
      sku: string;
      quantity: number;
      crash: boolean;
    }
  | { kind: 'cancel'; key: string; orderNumber: string; whole: boolean; lines: StockLine[] }
  | {
      kind: 'return';
      key: string;
      shipmentId: string;
      lineId: string;
      sku: string;
      warehouse: string;
      quantity: number;
    }
  | { kind: 'correct'; key: string; sku: string; warehouse: string; delta: number }
  | {
      kind: 'refund';
      key: string;
      paymentId: string;
      orderNumber: string;
      currency: string;
      amountMinor: number;
      outcome: RefundOutcome;
      crash: boolean;
      /** A foreign payment's share (shareOf): its worth in the order's currency, and the counts it was planned from. */
      share: { orderCurrencyMinor: number; plannedFrom: RefundedCounts } | null;
    };

/** An action the sequence has run, with whether some run of it finished (neither refused nor cut short). */
interface Step {
  action: Action;
  completed: boolean;
}

/** The refusals each operation may answer with; any other error fails the property. */
const EXPECTED_REFUSALS: Record<Action['kind'], readonly ErrorCode[]> = {
  receive: [],
  order: ['insufficient_stock'],
  ship: ['insufficient_stock'],
  cancel: ['insufficient_stock'],
  return: ['validation_failed'],
  correct: ['insufficient_stock'],
  refund: ['refund_exceeds_capture'],
};

type Outcome = { refused: false; results: StockMovementResult[] } | { refused: true; code: ErrorCode };

const shipKey = (action: { shipmentId: string; lineId: string }) =>
  `${action.shipmentId}:ship:${action.lineId}`;
const orderTotal = (lines: OrderLine[]) =>
  lines.reduce((sum, line) => sum + line.quantity * line.unitPriceMinor, 0);

/** The card in the other currency: `share` thousandths of the order, converted at `rate` (CNY per USD, ×100). */
function foreignPayment(
  orderNumber: string,
  orderCurrency: Currency,
  totalMinor: number,
  { share, rate }: { share: number; rate: number },
): ForeignPayment {
  const currency = orderCurrency === 'CNY' ? 'USD' : 'CNY';
  // Below the total (at least 99, share at most 999‰), so the order's own payment keeps a part.
  const orderCurrencyMinor = Math.max(1, Math.floor((totalMinor * share) / 1000));
  const converted =
    orderCurrency === 'CNY' ? (orderCurrencyMinor * 100) / rate : (orderCurrencyMinor * rate) / 100;
  return {
    paymentId: `PAY-${orderNumber}-${currency}`,
    currency,
    capturedMinor: Math.max(1, Math.round(converted)),
    orderCurrencyMinor,
  };
}

/** Carries out an action through the books' own operations; `crash` stops where a crashed worker would. */
async function carryOut(models: Models, action: Action, crash: boolean): Promise<StockMovementResult[]> {
  const actor = 'property-test';
  switch (action.kind) {
    case 'receive':
      return [
        await applyStockMovement(models, {
          idempotencyKey: action.key,
          type: 'adjust',
          sku: action.sku,
          warehouse: action.warehouse,
          onHandDelta: action.quantity,
          reservedDelta: 0,
          document: { kind: 'goods_receipt', id: action.key },
          actor,
          reason: 'goods received',
        }),
      ];
    case 'order': {
      await placePaidOrder(models, {
        orderNumber: action.orderNumber,
        customerId: CUSTOMER_ID,
        currency: action.currency,
        lines: action.lines,
      });
      const { foreign } = action;
      if (!foreign) return [];
      // The card settled part of the order, so the order's own payment captured only the rest. Nothing can
      // refund the order before it is registered, so lowering the capture here races with no refund.
      await models.Payment.updateOne(
        { paymentId: `PAY-${action.orderNumber}` },
        { $set: { capturedMinor: orderTotal(action.lines) - foreign.orderCurrencyMinor } },
      );
      await models.Payment.updateOne(
        { paymentId: foreign.paymentId },
        {
          $setOnInsert: {
            orderNumber: action.orderNumber,
            capturedMinor: foreign.capturedMinor,
            currency: foreign.currency,
            orderCurrencyMinor: foreign.orderCurrencyMinor,
            method: 'card',
            providerReference: `ch_${foreign.paymentId.toLowerCase()}`,
          },
        },
        { upsert: true, runValidators: true },
      ).catch((error: unknown) => {
        // A repeat running alongside inserted it first: the same payment.
        if ((error as { code?: unknown }).code !== 11000) throw error;
      });
      return [];
    }
    case 'ship': {
      const result = await applyStockMovement(models, {
        idempotencyKey: shipKey(action),
        type: 'ship',
        sku: action.sku,
        warehouse: ORDER_WAREHOUSE,
        onHandDelta: -action.quantity,
        reservedDelta: -action.quantity,
        document: { kind: 'shipment', id: action.shipmentId, lineId: action.lineId },
        actor,
      });
      if (crash) return [result];
      await models.Shipment.updateOne(
        { shipmentId: action.shipmentId },
        {
          $setOnInsert: {
            shipmentId: action.shipmentId,
            orderNumber: action.orderNumber,
            warehouse: ORDER_WAREHOUSE,
            carrier: 'SF',
            trackingNumber: `SF-${action.shipmentId}`,
            status: 'recalled',
            revision: 0,
            lines: [
              { lineId: action.lineId, sku: action.sku, quantity: action.quantity, returnedQuantity: 0 },
            ],
          },
        },
        { upsert: true, runValidators: true },
      ).catch((error: unknown) => {
        // A repeat running alongside inserted it first: the same shipment.
        if ((error as { code?: unknown }).code !== 11000) throw error;
      });
      return [result];
    }
    case 'cancel':
      return (
        await releaseReservedStock(models, {
          idempotencyKey: action.key,
          document: { kind: 'sales_order', id: action.orderNumber },
          actor,
          reason: action.whole ? 'order cancelled' : 'lines cancelled',
          lines: action.lines,
        })
      ).map((line) => line.result);
    case 'return':
      return (
        await returnShippedStock(models, {
          idempotencyKey: action.key,
          shipmentId: action.shipmentId,
          warehouse: action.warehouse,
          actor,
          reason: 'parcel recalled',
          lines: [{ lineId: action.lineId, sku: action.sku, quantity: action.quantity }],
        })
      ).map((line) => line.result);
    case 'correct':
      return [
        await correctStockByHand(models, {
          idempotencyKey: action.key,
          sku: action.sku,
          warehouse: action.warehouse,
          quantityDelta: action.delta,
          reason: 'stock take',
          actor,
        }),
      ];
    case 'refund': {
      // As the refund activity does: reserve, then record the gateway's answer (or finish a recorded one).
      const refund = await reserveRefund(models, {
        idempotencyKey: action.key,
        paymentId: action.paymentId,
        orderNumber: action.orderNumber,
        cancellationId: `${action.key}:cancellation`,
        amountMinor: action.amountMinor,
        currency: action.currency,
        ...(action.share ? { orderCurrencyMinor: action.share.orderCurrencyMinor } : {}),
      });
      if (crash) return [];
      const recorded =
        refund.status === 'succeeded' || refund.status === 'settled_manually' ? refund.status : undefined;
      if (recorded) await completeRefund(models, action.key, refund.providerRefundId ?? action.key, recorded);
      else if (action.outcome === 'failed') await failRefund(models, action.key, 'the card issuer refused');
      else await completeRefund(models, action.key, `gw-${action.key}`, action.outcome);
      return [];
    }
  }
}

function describe(action: Action): string {
  switch (action.kind) {
    case 'receive':
    case 'correct': {
      const quantity = action.kind === 'receive' ? action.quantity : action.delta;
      return `${action.kind} ${action.key} ${action.sku}@${action.warehouse} ${quantity > 0 ? '+' : ''}${quantity}`;
    }
    case 'order':
      return `order ${action.orderNumber} ${action.currency} [${action.lines.map((line) => `${line.lineId} ${line.sku}×${line.quantity}`).join(', ')}]${action.foreign ? `, ${action.foreign.orderCurrencyMinor} of it paid ${action.foreign.capturedMinor} ${action.foreign.currency}` : ''}`;
    case 'ship':
      return `ship ${action.shipmentId} ${action.orderNumber}/${action.lineId} ${action.sku}×${action.quantity}`;
    case 'cancel':
      return `cancel${action.whole ? '' : ' part of'} ${action.orderNumber} ${action.key} [${action.lines.map((line) => `${line.lineId} ${line.sku}×${line.quantity}`).join(', ')}]`;
    case 'return':
      return `return ${action.key} ${action.shipmentId}/${action.lineId} ${action.sku}×${action.quantity} to ${action.warehouse}`;
    case 'refund':
      return `refund ${action.key} ${action.paymentId} ${action.amountMinor} ${action.currency}${action.share ? ` (worth ${action.share.orderCurrencyMinor} of the order, planned on ${JSON.stringify(action.share.plannedFrom)})` : ''}, gateway: ${action.outcome}`;
  }
}

async function perform(models: Models, action: Action, crash: boolean): Promise<Outcome> {
  try {
    return { refused: false, results: await carryOut(models, action, crash) };
  } catch (error) {
    if (isCancelflowError(error) && EXPECTED_REFUSALS[action.kind].includes(error.code)) {
      return { refused: true, code: error.code };
    }
    throw new Error(`${describe(action)} failed unexpectedly: ${String(error)}`, { cause: error });
  }
}

// --- one sequence -----------------------------------------------------------------------------------------

export interface BooksStats {
  /** Sequences that ran to the end with every invariant held. */
  sequences: number;
  /** Top-level commands of those sequences (a concurrent group is one). */
  commands: number;
  /** Operations performed (each member of a concurrent group is one). */
  operations: number;
  refusals: number;
  /** Operations repeated with an earlier key: retries, and twins inside concurrent groups. */
  retries: number;
  concurrentGroups: number;
  /** Operations cut short as by a crash, to be finished by a retry. */
  crashes: number;
  /** Commands without a target yet (a shipment before any order): nothing to do. */
  skipped: number;
  /** Refund operations on a payment in another currency than its order's. */
  foreignRefunds: number;
  /** Such payments refunded in full on plan at the end of a sequence, where both counts must reach the top. */
  foreignRefundedInFull: number;
}

export interface BooksWorld {
  models: Models;
  stats: BooksStats;
  /** Sequences started, shrinking included: each runs under its own prefix `r<n>`. */
  started: number;
}

/** The SKUs and the prefix of every document one sequence writes. */
export interface RunScope {
  prefix: string;
  skus: string[];
  /**
   * Foreign payments that may hold a share planned from other counts than it was reserved on (a retry, or
   * refunds racing in a group): their two counts need not reach the top together (see checkBooks).
   */
  offPlan: ReadonlySet<string>;
}

interface PlacedOrder {
  orderNumber: string;
  paymentId: string;
  currency: Currency;
  /** Of the order's own payment. */
  capturedMinor: number;
  foreign: ForeignPayment | null;
  /** `outstanding`: what this sequence believes is still reserved for the line, to cancel an order whole. */
  lines: { lineId: string; sku: string; quantity: number; outstanding: number }[];
}

interface Run extends RunScope {
  offPlan: Set<string>;
  nextId: number;
  orders: PlacedOrder[];
  shipments: { shipmentId: string; lineId: string; sku: string }[];
  history: Step[];
  registered: Set<Step>;
  figures: Figures;
  trace: string[];
}

export async function createBooksWorld(models: Models): Promise<BooksWorld> {
  await addCustomer(models, { customerId: CUSTOMER_ID, name: '属性测试', language: 'zh-CN' });
  return {
    models,
    started: 0,
    stats: {
      sequences: 0,
      commands: 0,
      operations: 0,
      refusals: 0,
      retries: 0,
      concurrentGroups: 0,
      crashes: 0,
      skipped: 0,
      foreignRefunds: 0,
      foreignRefundedInFull: 0,
    },
  };
}

const startingWith = (prefix: string) => ({ $gte: prefix, $lt: `${prefix}\uffff` });
const pickFrom = <T>(items: readonly T[], index: number): T | undefined =>
  items[index % Math.max(1, items.length)];

interface Planned {
  step: Step;
  /** A repeat of an action already run (or running) with the same key. */
  repeat: boolean;
  crash: boolean;
}

/**
 * Turns a command into an action on what the sequence has created so far; undefined when it has no target.
 * Alone, a command takes any order line (shipment) while none has its SKU, so that few go without a target;
 * in a concurrent group it keeps to its SKU (`sameSku`), so that the group's commands meet on it.
 */
async function resolve(
  models: Models,
  run: Run,
  command: StockCommand | RefundCommand | RetryCommand,
  sameSku = false,
): Promise<Planned | undefined> {
  if (command.kind === 'retry') {
    const step = run.history[run.history.length - 1 - (command.pick % Math.max(1, run.history.length))];
    // A retry finishes what a crash cut short.
    return step && { step, repeat: true, crash: false };
  }
  const id = (run.nextId += 1);
  const fresh = (action: Action, crash = false): Planned => {
    const step = { action, completed: false };
    run.history.push(step);
    return { step, repeat: false, crash };
  };
  const sku = command.kind === 'refund' ? '' : (run.skus[command.sku] ?? '');
  const preferSku = <T>(items: T[], skuOf: (item: T) => string): T[] => {
    const matching = items.filter((item) => skuOf(item) === sku);
    return matching.length > 0 || sameSku ? matching : items;
  };
  const orderLines = preferSku(
    run.orders.flatMap((order) => order.lines.map((line) => ({ order, line }))),
    (entry) => entry.line.sku,
  );
  switch (command.kind) {
    case 'receive':
      return fresh({
        kind: 'receive',
        key: `${run.prefix}:receive:${id}`,
        sku,
        warehouse: WAREHOUSES[command.warehouse] ?? ORDER_WAREHOUSE,
        quantity: command.quantity,
      });
    case 'correct':
      return fresh({
        kind: 'correct',
        key: `${run.prefix}:count:${id}`,
        sku,
        warehouse: WAREHOUSES[command.warehouse] ?? ORDER_WAREHOUSE,
        delta: command.delta,
      });
    case 'order': {
      const lines = [
        { sku: command.sku, quantity: command.quantity },
        ...(command.secondLine ? [command.secondLine] : []),
      ];
      const orderNumber = `${run.prefix}-SO-${id}`;
      const priced = lines.map((line, index) => ({
        lineId: `L${index + 1}`,
        sku: run.skus[line.sku] ?? '',
        quantity: line.quantity,
        unitPriceMinor: UNIT_PRICES_MINOR[line.sku] ?? 1,
      }));
      return fresh({
        kind: 'order',
        orderNumber,
        currency: command.currency,
        lines: priced,
        foreign:
          command.foreign &&
          foreignPayment(orderNumber, command.currency, orderTotal(priced), command.foreign),
      });
    }
    case 'ship': {
      const chosen = pickFrom(orderLines, command.target);
      if (!chosen) return undefined;
      return fresh(
        {
          kind: 'ship',
          shipmentId: `${run.prefix}-SH-${id}`,
          orderNumber: chosen.order.orderNumber,
          lineId: chosen.line.lineId,
          sku: chosen.line.sku,
          quantity: command.quantity,
          crash: command.crash,
        },
        command.crash,
      );
    }
    case 'cancel': {
      const chosen = pickFrom(orderLines, command.target);
      if (!chosen) return undefined;
      const lines = command.whole
        ? chosen.order.lines
            .filter((line) => line.outstanding > 0)
            .map((line) => ({
              lineId: line.lineId,
              sku: line.sku,
              warehouse: ORDER_WAREHOUSE,
              quantity: line.outstanding,
            }))
        : [
            {
              lineId: chosen.line.lineId,
              sku: chosen.line.sku,
              warehouse: ORDER_WAREHOUSE,
              quantity: command.quantity,
            },
          ];
      if (lines.length === 0) return undefined;
      return fresh({
        kind: 'cancel',
        key: `${run.prefix}:cancel:${id}`,
        orderNumber: chosen.order.orderNumber,
        whole: command.whole,
        lines,
      });
    }
    case 'return': {
      const shipment = pickFrom(
        preferSku(run.shipments, (entry) => entry.sku),
        command.target,
      );
      if (!shipment) return undefined;
      return fresh({
        kind: 'return',
        key: `${run.prefix}:return:${id}`,
        shipmentId: shipment.shipmentId,
        lineId: shipment.lineId,
        sku: shipment.sku,
        warehouse: WAREHOUSES[command.warehouse] ?? ORDER_WAREHOUSE,
        quantity: command.quantity,
      });
    }
    case 'refund': {
      const order = pickFrom(run.orders, command.target);
      if (!order) return undefined;
      const foreign = command.foreign ? order.foreign : null;
      if (foreign) {
        // As the product plans it (shareOf), from the payment as it is now; 'all' plans the whole payment as if
        // none of it had gone back, as 'all' does for the order's own payment, and is refused once some has.
        const payment = await models.Payment.findOne({ paymentId: foreign.paymentId }).lean().orFail();
        const plannedFrom: RefundedCounts =
          command.amount === 'all'
            ? NOTHING_REFUNDED
            : {
                refundedMinor: payment.refundedMinor,
                refundedOrderCurrencyMinor: payment.refundedOrderCurrencyMinor ?? 0,
              };
        const settled = foreign.orderCurrencyMinor;
        const asked =
          typeof command.amount === 'number'
            ? Math.max(1, Math.floor((settled * command.amount) / 1000))
            : settled;
        const share = shareOf({ ...payment, ...plannedFrom }, order.currency, asked);
        if (share.amountMinor <= 0) return undefined;
        return fresh(
          {
            kind: 'refund',
            key: `${run.prefix}:refund:${id}`,
            paymentId: foreign.paymentId,
            orderNumber: order.orderNumber,
            currency: foreign.currency,
            amountMinor: share.amountMinor,
            outcome: command.outcome,
            crash: command.crash,
            share: { orderCurrencyMinor: share.orderCurrencyMinor, plannedFrom },
          },
          command.crash,
        );
      }
      let amountMinor: number;
      if (command.amount === 'all') amountMinor = order.capturedMinor;
      else if (command.amount === 'rest') {
        const payment = await models.Payment.findOne({ paymentId: order.paymentId }).lean().orFail();
        amountMinor = payment.capturedMinor - payment.refundedMinor;
      } else amountMinor = Math.max(1, Math.floor((order.capturedMinor * command.amount) / 1000));
      if (amountMinor <= 0) return undefined;
      return fresh(
        {
          kind: 'refund',
          key: `${run.prefix}:refund:${id}`,
          paymentId: order.paymentId,
          orderNumber: order.orderNumber,
          currency: order.currency,
          amountMinor,
          outcome: command.outcome,
          crash: command.crash,
          share: null,
        },
        command.crash,
      );
    }
  }
}

/** Notes what an action created, the first time a run of it completes, so later commands can aim at it. */
function register(run: Run, step: Step): void {
  if (run.registered.has(step)) return;
  run.registered.add(step);
  const { action } = step;
  const lineOf = (orderNumber: string, lineId: string) =>
    run.orders
      .find((order) => order.orderNumber === orderNumber)
      ?.lines.find((line) => line.lineId === lineId);
  if (action.kind === 'order') {
    run.orders.push({
      orderNumber: action.orderNumber,
      paymentId: `PAY-${action.orderNumber}`,
      currency: action.currency,
      capturedMinor: orderTotal(action.lines) - (action.foreign?.orderCurrencyMinor ?? 0),
      foreign: action.foreign,
      lines: action.lines.map((line) => ({ ...line, outstanding: line.quantity })),
    });
  } else if (action.kind === 'ship') {
    run.shipments.push({ shipmentId: action.shipmentId, lineId: action.lineId, sku: action.sku });
    const line = lineOf(action.orderNumber, action.lineId);
    if (line) line.outstanding = Math.max(0, line.outstanding - action.quantity);
  } else if (action.kind === 'cancel') {
    for (const cancelled of action.lines) {
      const line = lineOf(action.orderNumber, cancelled.lineId);
      if (line) line.outstanding = Math.max(0, line.outstanding - cancelled.quantity);
    }
  }
}

function settle(world: BooksWorld, run: Run, planned: Planned, outcome: Outcome, mark: string): void {
  const { stats } = world;
  stats.operations += 1;
  if (planned.step.action.kind === 'refund' && planned.step.action.share) stats.foreignRefunds += 1;
  if (planned.repeat) stats.retries += 1;
  if (outcome.refused) stats.refusals += 1;
  else if (planned.crash) stats.crashes += 1;
  else {
    planned.step.completed = true;
    register(run, planned.step);
  }
  const result = outcome.refused
    ? `refused (${outcome.code})`
    : planned.crash
      ? 'cut short'
      : outcome.results.join(', ') || 'done';
  run.trace.push(`${mark}${planned.repeat ? 'again: ' : ''}${describe(planned.step.action)} → ${result}`);
}

/**
 * Notes the foreign payments that may hold a share reserved on other counts than it was planned from. The
 * ledger's guards admit such shares when the intent does not say what it was planned on (the product's refunds
 * say it, `plannedFrom`, and a stale one is planned again: test/foreign-currency.test.ts; this model exercises
 * the guards without it), and two planned from the same counts can refund all of the payment in one currency
 * and not in the other, which shares planned one after another never do. A step with one share of the
 * payment reserves it on the counts before the step (a give-back only lowers both counts); shares racing in a
 * group are ordered by the database, so any change they make counts as off plan.
 */
function noteSharesOffPlan(run: Run, actions: Action[], before: Figures, after: Figures): void {
  const sharesByPayment = new Map<string, Map<string, RefundedCounts>>();
  for (const action of actions) {
    if (action.kind !== 'refund' || !action.share) continue;
    const shares = sharesByPayment.get(action.paymentId) ?? new Map<string, RefundedCounts>();
    sharesByPayment.set(action.paymentId, shares.set(action.key, action.share.plannedFrom));
  }
  for (const [paymentId, shares] of sharesByPayment) {
    const was = before.payments.get(paymentId) ?? NOTHING_REFUNDED;
    const now = after.payments.get(paymentId) ?? NOTHING_REFUNDED;
    if (sameCounts(was, now)) continue;
    const [plannedFrom, ...others] = [...shares.values()];
    const reservedOnPlan =
      others.length === 0 &&
      plannedFrom !== undefined &&
      (now.refundedMinor < was.refundedMinor || sameCounts(plannedFrom, was));
    if (!reservedOnPlan) run.offPlan.add(paymentId);
  }
}

function failure(title: string, problems: string[], run: Run): Error {
  return new Error(
    `${title}:\n  ${problems.join('\n  ')}\nsequence ${run.prefix} so far:\n  ${run.trace.join('\n  ')}`,
  );
}

async function runAlone(
  world: BooksWorld,
  run: Run,
  command: StockCommand | RefundCommand | RetryCommand,
  index: number,
) {
  const planned = await resolve(world.models, run, command);
  if (!planned) {
    world.stats.skipped += 1;
    return;
  }
  const completedBefore = planned.step.completed;
  const before = run.figures;
  const outcome = await perform(world.models, planned.step.action, planned.crash);
  settle(world, run, planned, outcome, `#${index} `);
  const after = (run.figures = await readFigures(world.models, run));
  noteSharesOffPlan(run, [planned.step.action], before, after);

  let problems: string[] = [];
  if (planned.repeat) {
    // Repeating what completed changes nothing, and the ledger says it was already applied.
    if (completedBefore) {
      problems = compareFigures(before, after, NOTHING);
      if (!outcome.refused && outcome.results.some((result) => result !== 'already_applied'))
        problems.push(`a repeat of a completed operation answered ${outcome.results.join(', ')}`);
    }
  } else if (outcome.refused) {
    // A refusal changes nothing; placePaidOrder (demo data) reserves line by line, so a refused order keeps
    // the reservations of the lines before the refused one, and exactly those.
    const { action } = planned.step;
    problems = compareFigures(
      before,
      after,
      action.kind === 'order' ? reservationsKept(action, before, after) : NOTHING,
    );
  } else {
    problems = compareFigures(before, after, expectedChange(planned.step.action, planned.crash));
    if (outcome.results.some((result) => result !== 'applied'))
      problems.push(`a first attempt answered ${outcome.results.join(', ')}`);
  }
  if (problems.length > 0) throw failure(`step #${index} changed the books wrongly`, problems, run);
}

async function runTogether(world: BooksWorld, run: Run, group: ConcurrentCommand, index: number) {
  const planned: (Planned & { delayMs: number })[] = [];
  for (const item of group.items) {
    const previous = planned.at(-1);
    const resolved =
      item.command.kind === 'twin'
        ? previous && { ...previous, repeat: true }
        : await resolve(world.models, run, item.command, true);
    if (resolved) planned.push({ ...resolved, delayMs: item.delayMs });
    else world.stats.skipped += 1;
  }
  if (planned.length > 1) world.stats.concurrentGroups += 1;
  const before = run.figures;
  const outcomes = await Promise.allSettled(
    planned.map(async (entry) => {
      await sleep(entry.delayMs);
      return perform(world.models, entry.step.action, entry.crash);
    }),
  );
  const errors: unknown[] = [];
  for (const [position, outcome] of outcomes.entries()) {
    const entry = planned[position];
    if (!entry) continue;
    if (outcome.status === 'fulfilled') settle(world, run, entry, outcome.value, `#${index}.${position} ‖ `);
    else errors.push(outcome.reason);
  }
  if (errors.length > 0) {
    throw failure(
      `a concurrent group (#${index}) failed unexpectedly`,
      errors.map((error) => (error instanceof Error ? error.message : String(error))),
      run,
    );
  }
  run.figures = await readFigures(world.models, run);
  noteSharesOffPlan(
    run,
    planned.map((entry) => entry.step.action),
    before,
    run.figures,
  );
}

/**
 * Runs one sequence under a fresh prefix, checking each step and, at the end, the books' invariants. Its
 * documents are removed afterwards unless `keep` (the embedded server scans for all but unique indexes, so
 * 10,000 sequences' worth of documents would slow every later check).
 */
export async function runSequence(
  world: BooksWorld,
  sequence: BooksSequence,
  options: { keep?: boolean } = {},
): Promise<RunScope> {
  world.started += 1;
  const prefix = `r${world.started}`;
  const skus = UNIT_PRICES_MINOR.map((_, index) => `${prefix}-SKU-${index}`);
  const { models } = world;
  const run: Run = {
    prefix,
    skus,
    offPlan: new Set(),
    nextId: 0,
    orders: [],
    shipments: [],
    history: [],
    registered: new Set(),
    figures: emptyFigures(),
    trace: [],
  };
  try {
    await Promise.all(
      skus.map(async (sku, index) => {
        await addProduct(models, {
          sku,
          name: `属性 ${sku}`,
          unitPriceMinor: UNIT_PRICES_MINOR[index] ?? 1,
          currency: 'CNY',
        });
        const opening = sequence.opening[index] ?? 0;
        if (opening > 0) await receiveStock(models, sku, opening, ORDER_WAREHOUSE);
      }),
    );
    run.figures = await readFigures(models, run);
    for (const [index, command] of sequence.commands.entries()) {
      if (command.kind === 'concurrently') await runTogether(world, run, command, index);
      else await runAlone(world, run, command, index);
    }
    const problems = await checkBooks(models, run);
    if (problems.length > 0) throw failure('the books are wrong after the sequence', problems, run);
    world.stats.sequences += 1;
    world.stats.commands += sequence.commands.length;
    for (const { foreign } of run.orders) {
      if (!foreign || run.offPlan.has(foreign.paymentId)) continue;
      if (run.figures.payments.get(foreign.paymentId)?.refundedMinor === foreign.capturedMinor)
        world.stats.foreignRefundedInFull += 1;
    }
    return { prefix, skus, offPlan: run.offPlan };
  } finally {
    if (!options.keep) await removeRun(models, run);
  }
}

export function booksProperty(world: BooksWorld, maxCommands = MAX_COMMANDS) {
  return fc.asyncProperty(booksSequence(maxCommands), async (sequence) => {
    await runSequence(world, sequence);
  });
}

export async function removeRun(models: Models, run: RunScope): Promise<void> {
  const bySku = { sku: { $in: run.skus } };
  const order = startingWith(`${run.prefix}-`);
  await Promise.all([
    models.Product.deleteMany(bySku),
    models.StockLevel.deleteMany(bySku),
    models.StockMovement.deleteMany(bySku),
    models.SalesOrder.deleteMany({ orderNumber: order }),
    models.Payment.deleteMany({ orderNumber: order }),
    models.Refund.deleteMany({ orderNumber: order }),
    models.Voucher.deleteMany({ idempotencyKey: startingWith(`${run.prefix}:`) }),
    models.Shipment.deleteMany({ shipmentId: order }),
  ]);
}

// --- what one step may change -----------------------------------------------------------------------------

interface Figures {
  /** `sku@warehouse` → on hand and reserved. */
  levels: Map<string, { onHand: number; reserved: number }>;
  appliedMovements: Set<string>;
  payments: Map<string, RefundedCounts & { pendingRefunds: string[] }>;
  vouchers: Set<string>;
  orders: Set<string>;
  /** The shipments' lines and the keys of their returns, as one comparable text. */
  shipments: string;
}

const emptyFigures = (): Figures => ({
  levels: new Map(),
  appliedMovements: new Set(),
  payments: new Map(),
  vouchers: new Set(),
  orders: new Set(),
  shipments: '[]',
});

async function readFigures(models: Models, run: RunScope): Promise<Figures> {
  const bySku = { sku: { $in: run.skus } };
  const ofRun = startingWith(`${run.prefix}-`);
  const [levels, movements, payments, vouchers, orders, shipments] = await Promise.all([
    models.StockLevel.find(bySku).lean(),
    models.StockMovement.find({ ...bySku, state: 'applied' }, { idempotencyKey: 1 }).lean(),
    models.Payment.find({ orderNumber: ofRun }).lean(),
    models.Voucher.find({ idempotencyKey: startingWith(`${run.prefix}:`) }, { idempotencyKey: 1 }).lean(),
    models.SalesOrder.find({ orderNumber: ofRun }, { orderNumber: 1 }).lean(),
    models.Shipment.find({ shipmentId: ofRun }).sort({ shipmentId: 1 }).lean(),
  ]);
  return {
    levels: new Map(
      levels.map((level) => [
        `${level.sku}@${level.warehouse}`,
        { onHand: level.onHand, reserved: level.reserved },
      ]),
    ),
    appliedMovements: new Set(movements.map((movement) => movement.idempotencyKey)),
    payments: new Map(
      payments.map((payment) => [
        payment.paymentId,
        {
          refundedMinor: payment.refundedMinor,
          refundedOrderCurrencyMinor: payment.refundedOrderCurrencyMinor ?? 0,
          pendingRefunds: [...payment.pendingRefunds].sort(),
        },
      ]),
    ),
    vouchers: new Set(vouchers.map((voucher) => voucher.idempotencyKey)),
    orders: new Set(orders.map((order) => order.orderNumber)),
    shipments: JSON.stringify(
      shipments.map((shipment) => [
        shipment.shipmentId,
        shipment.lines.map((line) => [line.lineId, line.sku, line.quantity, line.returnedQuantity]),
        shipment.returns.map((entry) => entry.key),
      ]),
    ),
  };
}

interface Change {
  stock: { sku: string; warehouse: string; onHand: number; reserved: number }[];
  movements: string[];
  /** Payment → change of its refunded counts, and keys it newly holds as pending. */
  payments: Map<string, RefundedCounts & { pending: string[] }>;
  vouchers: string[];
  orders: string[];
  shipmentsChange: boolean;
}

const NOTHING: Change = {
  stock: [],
  movements: [],
  payments: new Map(),
  vouchers: [],
  orders: [],
  shipmentsChange: false,
};

/** What an action that completed on its first attempt changes, exactly. */
function expectedChange(action: Action, crash: boolean): Change {
  const change = (part: Partial<Change>): Change => ({ ...NOTHING, ...part });
  switch (action.kind) {
    case 'receive':
    case 'correct':
      return change({
        stock: [
          {
            sku: action.sku,
            warehouse: action.warehouse,
            onHand: action.kind === 'receive' ? action.quantity : action.delta,
            reserved: 0,
          },
        ],
        movements: [action.key],
      });
    case 'order':
      return change({
        stock: action.lines.map((line) => ({
          sku: line.sku,
          warehouse: ORDER_WAREHOUSE,
          onHand: 0,
          reserved: line.quantity,
        })),
        movements: action.lines.map((line) => `${action.orderNumber}:reserve:${line.lineId}`),
        orders: [action.orderNumber],
      });
    case 'ship':
      return change({
        stock: [
          {
            sku: action.sku,
            warehouse: ORDER_WAREHOUSE,
            onHand: -action.quantity,
            reserved: -action.quantity,
          },
        ],
        movements: [shipKey(action)],
        shipmentsChange: !crash,
      });
    case 'cancel':
      return change({
        stock: action.lines.map((line) => ({
          sku: line.sku,
          warehouse: line.warehouse,
          onHand: 0,
          reserved: -line.quantity,
        })),
        movements: action.lines.map((line) => `${action.key}:${line.lineId}`),
      });
    case 'return':
      return change({
        stock: [{ sku: action.sku, warehouse: action.warehouse, onHand: action.quantity, reserved: 0 }],
        movements: [`${action.key}:${action.lineId}`],
        shipmentsChange: true,
      });
    case 'refund': {
      const refunded: RefundedCounts = {
        refundedMinor: action.amountMinor,
        refundedOrderCurrencyMinor: action.share?.orderCurrencyMinor ?? 0,
      };
      if (crash) {
        return change({ payments: new Map([[action.paymentId, { ...refunded, pending: [action.key] }]]) });
      }
      if (action.outcome === 'failed') return NOTHING;
      return change({
        payments: new Map([[action.paymentId, { ...refunded, pending: [] }]]),
        vouchers: [`${action.key}:voucher`],
      });
    }
  }
}

/** A refused order: the reservations of its lines that were applied before the refusal, nothing else. */
function reservationsKept(
  action: Extract<Action, { kind: 'order' }>,
  before: Figures,
  after: Figures,
): Change {
  const kept = action.lines.filter((line) => {
    const key = `${action.orderNumber}:reserve:${line.lineId}`;
    return after.appliedMovements.has(key) && !before.appliedMovements.has(key);
  });
  return {
    ...NOTHING,
    stock: kept.map((line) => ({
      sku: line.sku,
      warehouse: ORDER_WAREHOUSE,
      onHand: 0,
      reserved: line.quantity,
    })),
    movements: kept.map((line) => `${action.orderNumber}:reserve:${line.lineId}`),
  };
}

function setDifference(a: Set<string>, b: Set<string>): string[] {
  return [...a].filter((item) => !b.has(item)).sort();
}

function compareFigures(before: Figures, after: Figures, expected: Change): string[] {
  const problems: string[] = [];
  const wanted = new Map<string, { onHand: number; reserved: number }>();
  for (const entry of expected.stock) {
    const place = `${entry.sku}@${entry.warehouse}`;
    const sum = wanted.get(place) ?? { onHand: 0, reserved: 0 };
    wanted.set(place, { onHand: sum.onHand + entry.onHand, reserved: sum.reserved + entry.reserved });
  }
  for (const place of new Set([...before.levels.keys(), ...after.levels.keys(), ...wanted.keys()])) {
    const was = before.levels.get(place) ?? { onHand: 0, reserved: 0 };
    const now = after.levels.get(place) ?? { onHand: 0, reserved: 0 };
    const delta = wanted.get(place) ?? { onHand: 0, reserved: 0 };
    if (now.onHand - was.onHand !== delta.onHand || now.reserved - was.reserved !== delta.reserved) {
      problems.push(
        `${place} went from ${JSON.stringify(was)} to ${JSON.stringify(now)}, expected a change of ${JSON.stringify(delta)}`,
      );
    }
  }
  const sets: [string, Set<string>, Set<string>, string[]][] = [
    ['applied movements', before.appliedMovements, after.appliedMovements, expected.movements],
    ['vouchers', before.vouchers, after.vouchers, expected.vouchers],
    ['sales orders', before.orders, after.orders, expected.orders],
  ];
  for (const [name, was, now, added] of sets) {
    const gained = setDifference(now, was);
    const lost = setDifference(was, now);
    if (JSON.stringify(gained) !== JSON.stringify([...added].sort()) || lost.length > 0) {
      problems.push(
        `${name}: gained ${JSON.stringify(gained)} and lost ${JSON.stringify(lost)}, expected to gain ${JSON.stringify(added)}`,
      );
    }
  }
  for (const paymentId of new Set([...before.payments.keys(), ...after.payments.keys()])) {
    const was = before.payments.get(paymentId) ?? { ...NOTHING_REFUNDED, pendingRefunds: [] };
    const now = after.payments.get(paymentId) ?? { ...NOTHING_REFUNDED, pendingRefunds: [] };
    const change = expected.payments.get(paymentId) ?? { ...NOTHING_REFUNDED, pending: [] };
    const pending = [...was.pendingRefunds, ...change.pending].sort();
    if (
      now.refundedMinor - was.refundedMinor !== change.refundedMinor ||
      now.refundedOrderCurrencyMinor - was.refundedOrderCurrencyMinor !== change.refundedOrderCurrencyMinor ||
      JSON.stringify(now.pendingRefunds) !== JSON.stringify(pending)
    ) {
      problems.push(
        `payment ${paymentId} went from ${JSON.stringify(was)} to ${JSON.stringify(now)}, expected refunded +${change.refundedMinor} (+${change.refundedOrderCurrencyMinor} of the order) and pending ${JSON.stringify(pending)}`,
      );
    }
  }
  if (!expected.shipmentsChange && before.shipments !== after.shipments) {
    problems.push(`shipments changed from ${before.shipments} to ${after.shipments}`);
  }
  return problems;
}

// --- the invariants ---------------------------------------------------------------------------------------

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
 * balances, one for each completed refund; and no idempotency key was recorded twice.
 */
export async function checkBooks(models: Models, run: RunScope): Promise<string[]> {
  const problems: string[] = [];
  const bySku = { sku: { $in: run.skus } };
  const ofRun = startingWith(`${run.prefix}-`);
  const voucherKeys = startingWith(`${run.prefix}:`);
  const [levels, inFlight, returns, shipments, payments, refunds, vouchers, ...duplicates] =
    await Promise.all([
      models.StockLevel.find(bySku).lean(),
      models.StockMovement.find({ ...bySku, state: 'pending' }, { idempotencyKey: 1 }).lean(),
      models.StockMovement.find({ ...bySku, type: 'return', state: 'applied' }).lean(),
      models.Shipment.find({ shipmentId: ofRun }).lean(),
      models.Payment.find({ orderNumber: ofRun }).lean(),
      models.Refund.find({ orderNumber: ofRun }).lean(),
      models.Voucher.find({ idempotencyKey: voucherKeys }).lean(),
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
