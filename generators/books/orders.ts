// Sales orders: one per index, drawn from its own random stream, in every status, with the customer's copy
// the order keeps for search, and everything the order brings on its way (payments, reservations, purchase
// orders, a shipment, cancellations in whole or in part), through the other generators.
import { ORDER_STATUSES, type OrderStatus } from '../../contracts/books.contract';
import { SKUS } from './catalogue';
import { makeCancellation } from './cancellations';
import { customerCountAt, type GeneratedCustomer } from './customers';
import type { Books, LineStatus, PaymentDocument, SalesOrderDocument, SalesOrderLine } from './documents';
import { DAY, HOUR, ID_KINDS, MINUTE, objectId, orderNumberOf, orderTime } from './numbering';
import { DROP_SHIP_LOCATION, type Market } from './organisation';
import { pay } from './payments';
import { raisePurchaseOrder, receivePart, type SupplyLink } from './purchase-orders';
import { between, mix, pick, seededRandom, STREAMS, weighted, type Random } from './random';
import { ship } from './shipments';
import { reached, type Stage } from './stages';
import type { RunState } from './state';
import { reserve } from './stock';

// Roughly a shop's mix: most orders are done; a few of each open status; some cancelled.
const STATUS_WEIGHTS: readonly (readonly [OrderStatus, number])[] = [
  ['completed', 35],
  ['delivered', 15],
  ['shipped', 10],
  ['picking', 5],
  ['allocated', 10],
  ['confirmed', 9],
  ['draft', 4],
  ['cancelled', 8],
  ['partially_cancelled', 4],
];

/** The order's stock lines reserve from here; its drop-shipped line, if any, from the supplier. */
function warehouseFor(random: Random, market: Market): string {
  if (market === 'US') return 'WH-LA-01';
  return random() < 0.6 ? 'WH-SH-01' : 'WH-GZ-01';
}

const lineStatusOf = (line: Pick<SalesOrderLine, 'quantity' | 'cancelledQuantity'>): LineStatus =>
  line.cancelledQuantity === 0
    ? 'open'
    : line.cancelledQuantity >= line.quantity
      ? 'cancelled'
      : 'partially_cancelled';

/** Order `index` of the run, for one of the customers who had joined by then, and everything it brings. */
export function makeOrder(
  state: RunState,
  customers: readonly GeneratedCustomer[],
  index: number,
  books: Books,
): void {
  const random = seededRandom(mix(state.seed, STREAMS.order, index));
  const createdAt = orderTime(index);
  const orderNumber = orderNumberOf(index);
  const customer = customers[Math.floor(random() * customerCountAt(index + 1))] as GeneratedCustomer;
  const { market } = customer;
  const currency = market === 'CN' ? 'CNY' : 'USD';
  const warehouse = warehouseFor(random, market);
  // The first orders take each status in turn, so that even a small run has every one of them.
  const status =
    index < ORDER_STATUSES.length ? (ORDER_STATUSES[index] as OrderStatus) : weighted(random, STATUS_WEIGHTS);

  // How far it got in the warehouse, and what was cancelled on the way.
  const cancelledWhole = status === 'cancelled';
  const partial =
    status === 'partially_cancelled' ||
    (['shipped', 'delivered', 'completed'].includes(status) && random() < 0.06);
  const stage: Stage = cancelledWhole
    ? weighted(random, [
        ['draft', 15],
        ['confirmed', 35],
        ['allocated', 35],
        ['picking', 15],
      ])
    : status === 'partially_cancelled'
      ? weighted(random, [
          ['confirmed', 30],
          ['allocated', 50],
          ['picking', 20],
        ])
      : status;

  // Lines: distinct SKUs, mostly one or two units.
  const skus = new Set<string>();
  const lineCount = 1 + Math.floor(random() ** 2 * 4);
  while (skus.size < lineCount) skus.add(pick(random, SKUS));
  const lines: SalesOrderLine[] = [...skus].map((sku, lineIndex) => {
    const item = state.item(sku);
    const listPrice = currency === 'CNY' ? item.unitPriceMinor : item.unitPriceUsdMinor;
    // One line in ten is on promotion, 10% off.
    const unitPriceMinor = random() < 0.1 ? Math.round(listPrice * 0.9) : listPrice;
    return {
      lineId: `L${lineIndex + 1}`,
      sku,
      warehouse,
      quantity: 1 + Math.floor(random() ** 3 * 4),
      reservedQuantity: 0,
      cancelledQuantity: 0,
      unitPriceMinor,
      status: 'open',
    };
  });
  const first = lines[0] as SalesOrderLine;
  // A partial cancellation needs a unit to leave behind.
  if (partial && lines.length === 1 && first.quantity === 1) first.quantity = 2;
  const totalMinor = lines.reduce((sum, line) => sum + line.quantity * line.unitPriceMinor, 0);

  // Units awaited from suppliers: some open orders back-order a line or have it drop-shipped; some cancelled
  // ones had back-ordered a line, whose purchase order the cancellation took off.
  const openOrder = ['confirmed', 'allocated', 'picking'].includes(status);
  const supplyRoll = random();
  const supplied: 'back_order' | 'drop_ship' | undefined =
    (openOrder || (cancelledWhole && reached(stage, 'allocated'))) && supplyRoll < 0.12
      ? 'back_order'
      : openOrder && supplyRoll < 0.17
        ? 'drop_ship'
        : undefined;
  const suppliedLine = supplied ? pick(random, lines) : undefined;
  if (suppliedLine && supplied === 'drop_ship') suppliedLine.warehouse = DROP_SHIP_LOCATION;

  const history: SalesOrderDocument['history'] = [];
  let at = createdAt;
  const step = (reachedStatus: OrderStatus, actor: string, after: number) => {
    at = new Date(at.getTime() + after);
    history.push({ key: `${orderNumber}:${reachedStatus}`, at, status: reachedStatus, actor });
  };
  history.push({ key: `${orderNumber}:placed`, at, status: 'draft', actor: 'shop' });

  const payments: PaymentDocument[] = [];
  if (reached(stage, 'confirmed')) {
    step('confirmed', 'shop', between(random, 2, 30) * MINUTE);
    payments.push(...pay(state, books, random, orderNumber, market, currency, totalMinor, at));
  }
  let link: SupplyLink | undefined;
  if (suppliedLine && supplied) {
    link = raisePurchaseOrder(state, books, random, orderNumber, suppliedLine, supplied, stage, at);
  }
  if (reached(stage, 'allocated')) {
    step('allocated', 'wms', between(random, 1, 8) * HOUR);
    for (const line of lines) {
      if (line.warehouse === DROP_SHIP_LOCATION) continue;
      const awaited = link?.lineId === line.lineId && link.kind === 'back_order' ? link.quantity : 0;
      const units = line.quantity - awaited;
      reserve(state, books, at, orderNumber, line, units, `${orderNumber}:reserve:${line.lineId}`);
      line.reservedQuantity = units;
    }
    if (link?.kind === 'back_order') receivePart(state, books, random, orderNumber, lines, link, at);
  }

  const shipmentIds: string[] = [];
  const cancellationIds: string[] = [];
  let cancellation: SalesOrderDocument['cancellation'] = { cancellationIds };
  const cancel = (whole: boolean) => {
    at = new Date(at.getTime() + between(random, 10, 48 * 60) * MINUTE);
    const made = makeCancellation(state, books, random, {
      orderNumber,
      customer,
      currency,
      stage,
      lines,
      payments,
      link,
      whole,
      at,
    });
    cancellationIds.push(made.cancellationId);
    cancellation = {
      reasonCode: made.reasonCode,
      ...(made.note ? { note: made.note } : {}),
      cancellationIds,
    };
    history.push({
      key: `${made.cancellationId}:close-order`,
      at: made.closedAt,
      status: whole ? 'cancelled' : 'partially_cancelled',
      actor: 'cancelflow',
      note: made.reasonCode,
    });
    at = made.closedAt;
  };
  if (status === 'partially_cancelled' || cancelledWhole) {
    if (reached(stage, 'picking')) step('picking', 'wms', between(random, 4, 24) * HOUR);
    cancel(cancelledWhole);
  } else {
    // An order that went on after a partial cancellation lost those units while allocated.
    if (partial) cancel(false);
    if (reached(stage, 'picking')) step('picking', 'wms', between(random, 4, 24) * HOUR);
    if (reached(stage, 'shipped')) {
      step('shipped', 'wms', between(random, 2, 12) * HOUR);
      const parcel = ship(state, books, random, orderNumber, market, warehouse, lines, at, stage);
      shipmentIds.push(parcel.shipmentId);
      if (reached(stage, 'delivered'))
        step('delivered', 'carrier', parcel.deliveredAt.getTime() - at.getTime());
      if (reached(stage, 'completed')) step('completed', 'shop', between(random, 7, 10) * DAY);
    }
  }

  for (const line of lines) line.status = lineStatusOf(line);
  books.salesOrders.push({
    _id: objectId(state.seed, ID_KINDS.order, index, createdAt),
    orderNumber,
    customerId: customer.document.customerId,
    status,
    currency,
    lines,
    totalMinor,
    cancellation,
    history,
    paymentIds: payments.map((payment) => payment.paymentId),
    shipmentIds,
    purchaseOrderNumbers: link ? [link.purchaseOrder.poNumber] : [],
    ...customer.orderCopy,
    createdAt,
    updatedAt: at,
  });
}
