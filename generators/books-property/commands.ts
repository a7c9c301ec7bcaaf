// The commands a sequence is made of, and fast-check's generators for them: plain data (a discriminated union)
// that prints as a readable counterexample and shrinks like any array. Commands name their targets by index
// (an SKU, an order, a shipment), resolved against what the sequence has created so far (resolve.ts), so every
// shrunk sequence still runs. Also the little shop they run in: its warehouses, SKU prices and currencies.
import fc from 'fast-check';

/** placePaidOrder reserves in the first (its default); returns and corrections use either. */
export const WAREHOUSES = ['WH-SH-01', 'WH-BJ-02'] as const;
export const ORDER_WAREHOUSE = WAREHOUSES[0];
export const UNIT_PRICES_MINOR = [1250, 4500, 99] as const;
export const SKU_COUNT = UNIT_PRICES_MINOR.length;
export const CURRENCIES = ['CNY', 'USD'] as const;
export type Currency = (typeof CURRENCIES)[number];
export const CUSTOMER_ID = 'C-PROPERTY';
/** Commands per sequence, at most: long enough to ship, return and refund what earlier commands ordered. */
export const MAX_COMMANDS = 16;

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
