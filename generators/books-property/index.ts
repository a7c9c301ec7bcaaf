// The books' invariants as a property (issue #4, "Invariants, proven"), shared by test/books.properties.test.ts
// (a bounded run in CI) and bench/properties.ts (10,000 sequences). A sequence of random commands (orders,
// shipments, cancellations whole and partial, returns, corrections by hand, refunds, retries, concurrent
// groups) runs through the books' real operations against a real database, and the books are checked after
// each step and at the end.
//
// Here, beside the books generator (../books), rather than in test/support: a benchmark must not import test
// support, and both the test and the benchmark run this same model. generators/ holds what makes data and
// sequences for the product's tools and its tests alike; it is no part of the product.
//
// A sequence is an array of plain commands (a discriminated union), not `fc.commands`: the database, not a
// model, is the oracle for stock and counts (which of two racing refunds wins is the server's to decide, so no
// model could predict it), and a retry names an earlier command and a concurrent group several commands at
// once, both awkward as independent `fc.commands` objects. Where a rule fixes the answer, the model computes it
// itself: a foreign payment's refund share (foreign-share.ts) is worked out from the rules, not taken from the
// product's plan.
//
// commands.ts: the commands and their generators; resolve.ts: commands turned into actions on what the
// sequence created; actions.ts: actions carried out through the real operations; figures.ts: what one step may
// change; invariants.ts: the books' invariants; sequence.ts: running a sequence, and the property.
export {
  booksSequence,
  MAX_COMMANDS,
  SKU_COUNT,
  WAREHOUSES,
  type BooksCommand,
  type BooksSequence,
  type ConcurrentCommand,
  type GroupItem,
  type RefundCommand,
  type RefundOutcome,
  type RetryCommand,
  type StockCommand,
  type TwinCommand,
} from './commands';
export { expectedForeignShare, type ExpectedShare, type ForeignPaymentCounts } from './foreign-share';
export { checkBooks } from './invariants';
export { removeRun, type RunScope } from './scope';
export { booksProperty, createBooksWorld, runSequence, type BooksStats, type BooksWorld } from './sequence';
