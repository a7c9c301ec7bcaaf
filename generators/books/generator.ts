// The orchestration: one seed, a run's state, and the orders made one after another, each bringing the
// customers who joined meanwhile and everything the order generators make for it. The first call also opens
// the shop (the catalogue's products and their opening stock).
import { catalogueOf, type CatalogueItem } from './catalogue';
import { customerCountAt, makeCustomer, type GeneratedCustomer } from './customers';
import { emptyBooks, type Books, type StockLevelFigures } from './documents';
import { makeOrder } from './orders';
import { RunState } from './state';
import { openShop } from './stock';

/**
 * Generates the books order by order. `next(count)` returns the next orders with everything they bring: the
 * customers who joined meanwhile, the ledger's movements, purchase orders, payments, refunds, vouchers,
 * shipments and cancellations (and, the first time, the catalogue and its opening stock).
 */
export class BooksGenerator {
  readonly catalogue: readonly CatalogueItem[];
  private readonly state: RunState;
  private readonly customers: GeneratedCustomer[] = [];
  private orders = 0;

  constructor(readonly seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
      throw new RangeError(`seed must be a whole number from 0 to ${0xffffffff}, not ${seed}`);
    this.catalogue = catalogueOf(seed);
    this.state = new RunState(seed, this.catalogue);
  }

  /** How many orders have been generated so far. */
  get orderCount(): number {
    return this.orders;
  }

  /** What the ledger generated so far adds up to, per SKU and warehouse: what the stock levels must show. */
  stockLevels(): StockLevelFigures[] {
    return this.state.stockLevels();
  }

  next(count: number): Books {
    if (!Number.isInteger(count) || count < 0)
      throw new RangeError(`count must be a whole number, not ${count}`);
    const books = emptyBooks();
    if (this.orders === 0 && count > 0) openShop(this.state, books);
    for (let made = 0; made < count; made += 1) {
      const index = this.orders;
      while (this.customers.length < customerCountAt(index + 1)) {
        const customer = makeCustomer(this.seed, this.customers.length);
        this.customers.push(customer);
        books.customers.push(customer.document);
      }
      makeOrder(this.state, this.customers, index, books);
      this.orders += 1;
    }
    return books;
  }
}

/** A whole run at once: the orders and everything they bring, and the stock levels they add up to. */
export function generateBooks(seed: number, orders: number): Books & { stockLevels: StockLevelFigures[] } {
  const generator = new BooksGenerator(seed);
  const books = generator.next(orders);
  return { ...books, stockLevels: generator.stockLevels() };
}
