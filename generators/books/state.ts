// What a run keeps from one order to the next: the serial number of each kind of id, the stock levels its
// ledger movements add up to (applied under the ledger's own guard), the purchase-order count, and the
// catalogue by SKU. Every part of the generator writes through it, in order, so a run is the same however
// it is split.
import type { Types } from 'mongoose';
import type { CatalogueItem } from './catalogue';
import type { Books, StockLevelFigures, StockMovementDocument } from './documents';
import { ID_KINDS, objectId, yearOf } from './numbering';
import { SUPPLIERS, type Supplier } from './organisation';

export class RunState {
  private readonly items: ReadonlyMap<string, CatalogueItem>;
  private readonly stock = new Map<string, StockLevelFigures>();
  private readonly serials = new Map<number, number>();
  private purchaseOrders = 0;

  constructor(
    readonly seed: number,
    readonly catalogue: readonly CatalogueItem[],
  ) {
    this.items = new Map(catalogue.map((item) => [item.sku, item]));
  }

  /** What the ledger generated so far adds up to, per SKU and warehouse: what the stock levels must show. */
  stockLevels(): StockLevelFigures[] {
    return [...this.stock.values()].map((level) => ({ ...level }));
  }

  id(kind: number, at: Date): Types.ObjectId {
    const serial = this.serials.get(kind) ?? 0;
    this.serials.set(kind, serial + 1);
    return objectId(this.seed, kind, serial, at);
  }

  item(sku: string): CatalogueItem {
    const item = this.items.get(sku);
    if (!item) throw new Error(`no catalogue item ${sku}`);
    return item;
  }

  /** One ledger movement, applied to the running levels under the ledger's own guard. */
  move(
    books: Books,
    at: Date,
    movement: Omit<StockMovementDocument, '_id' | 'state' | 'createdAt' | 'updatedAt'>,
  ): void {
    const place = `${movement.sku}\u0000${movement.warehouse}`;
    const level = this.stock.get(place) ?? {
      sku: movement.sku,
      warehouse: movement.warehouse,
      onHand: 0,
      reserved: 0,
    };
    const onHand = level.onHand + movement.onHandDelta;
    const reserved = level.reserved + movement.reservedDelta;
    if (onHand < 0 || reserved < 0 || reserved > onHand) {
      throw new Error(
        `generator: ${movement.idempotencyKey} would leave ${movement.sku} in ${movement.warehouse} at on hand ` +
          `${onHand}, reserved ${reserved}`,
      );
    }
    this.stock.set(place, { ...level, onHand, reserved });
    books.stockMovements.push({
      _id: this.id(ID_KINDS.movement, at),
      ...movement,
      state: 'applied',
      createdAt: at,
      updatedAt: at,
    });
  }

  available(sku: string, warehouse: string): number {
    const level = this.stock.get(`${sku}\u0000${warehouse}`);
    return level ? level.onHand - level.reserved : 0;
  }

  nextPoNumber(at: Date): string {
    this.purchaseOrders += 1;
    return `PO-${yearOf(at)}-${String(this.purchaseOrders).padStart(6, '0')}`;
  }

  supplier(item: CatalogueItem): Supplier {
    return SUPPLIERS.find((supplier) => supplier.supplierId === item.supplierId) as Supplier;
  }
}
