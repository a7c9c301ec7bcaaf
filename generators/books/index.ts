// Demo and benchmark data: the books of a tea-ware shop selling in China and abroad, generated from a seed.
// What scripts (generate, load-books, demo-data), benchmarks and tests import; the rest of this folder is how.
//
// Pure: it returns plain documents, one array per model, exactly as they are stored (the loader in
// scripts/load-books.ts writes them). Customers with Chinese and Latin names and phones written every way
// people write them; a catalogue with Chinese and English names; stock per SKU and warehouse; orders in every
// status, paid, reserved, shipped, delivered, cancelled in whole or in part; refunds with their vouchers;
// shipments; purchase orders, for replenishment and for back-ordered and drop-shipped sales lines.
//
// Deterministic and prefix-stable: the same seed gives the same documents, and the first N orders (with
// everything they bring) are the same whatever the size of the run and however it is split into `next()`
// calls. So a benchmark's first 10,000 orders are the 10,000 of a smaller run. Each order draws from its own
// random stream; the stock it needs is tracked in order, topped up by replenishment when it runs short, so the
// ledger never takes a level below zero or reserves more than is on hand.
//
// One file per thing generated: organisation (warehouses, suppliers), catalogue, customers, stock (opening
// stock, reservations, replenishment), orders, payments, shipments, purchase orders, cancellations; the
// documents' shapes; the seeded randomness and numbering they share; the run's state; and the generator that
// ties them together order by order.
export { catalogueOf, SKUS, type CatalogueItem } from './catalogue';
export { customerCountAt, type CustomerDocument, type Language, type Tier } from './customers';
export {
  emptyBooks,
  type Books,
  type CancellationDocument,
  type LineStatus,
  type PaymentDocument,
  type ProductDocument,
  type PurchaseOrderDocument,
  type RefundDocument,
  type SalesOrderDocument,
  type SalesOrderLine,
  type ShipmentDocument,
  type StockLevelFigures,
  type StockMovementDocument,
  type VoucherDocument,
} from './documents';
export { BooksGenerator, generateBooks } from './generator';
export { FIRST_ORDER_AT, ORDER_INTERVAL_MS, orderNumberOf } from './numbering';
export { DROP_SHIP_LOCATION, SUPPLIERS, WAREHOUSES, type Supplier } from './organisation';
export { pick, seededRandom, type Random } from './random';
