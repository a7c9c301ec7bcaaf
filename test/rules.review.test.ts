// The review of an order before it is cancelled (R2, R5, R9, R11): whether it can be, which confirmation it
// needs, which lines and units, what goes back, and where shipped goods are. Pure, table-driven, against the
// shipped policy; the reasons are what the requester is answered.
import { readFileSync } from 'node:fs';
import { ORDER_STATUSES, type OrderStatus } from '../contracts/books.contract';
import type {
  ConfirmableStage,
  GoodsOutside,
  OrderReview,
  RequestedLine,
} from '../contracts/cancellation.contract';
import { parsePolicy } from '../lib/policy';
import {
  confirmationNeeded,
  reviewOrder,
  type ReviewableOrder,
  type ReviewablePayment,
  type ReviewableShipment,
  type ReviewOutcome,
  type ReviewRules,
} from '../rules/review.rules';

const policy: ReviewRules = parsePolicy(
  JSON.parse(readFileSync('policies/cancellation-policy.json', 'utf8')),
);

type OrderLine = ReviewableOrder['lines'][number];

/** 2 × 100.00 on L1, 1 × 50.00 on L2; all reserved unless the goods have left. */
const line = (
  lineId: string,
  quantity: number,
  unitPriceMinor: number,
  over: Partial<OrderLine> = {},
): OrderLine => ({
  lineId,
  sku: `SKU-${lineId}`,
  warehouse: 'WH-1',
  quantity,
  reservedQuantity: quantity,
  cancelledQuantity: 0,
  unitPriceMinor,
  ...over,
});
const shipped = { reservedQuantity: 0 };

const order = (status: OrderStatus, lines?: OrderLine[]): ReviewableOrder => {
  const away = status === 'shipped' || status === 'delivered' ? shipped : {};
  return {
    orderNumber: 'SO-1',
    customerId: 'C-1',
    status,
    currency: 'CNY',
    lines: lines ?? [line('L1', 2, 10000, away), line('L2', 1, 5000, away)],
  };
};

/** 260.00 paid: the lines' 250.00 and 10.00 shipping. */
const paid: ReviewablePayment = {
  paymentId: 'PAY-1',
  currency: 'CNY',
  capturedMinor: 26000,
  refundedMinor: 0,
};

const shipment = (
  shipmentId: string,
  status: string,
  lines: [lineId: string, quantity: number, returnedQuantity?: number][],
): ReviewableShipment => ({
  shipmentId,
  carrier: 'SF',
  trackingNumber: `T-${shipmentId}`,
  warehouse: 'WH-1',
  status,
  lines: lines.map(([lineId, quantity, returnedQuantity = 0]) => ({
    lineId,
    sku: `SKU-${lineId}`,
    quantity,
    returnedQuantity,
  })),
});
/** The whole order in one parcel on its way. */
const onTheWay = [
  shipment('SH-1', 'in_transit', [
    ['L1', 2],
    ['L2', 1],
  ]),
];

const everyStage: ConfirmableStage[] = ['awaiting_shipment', 'shipped'];

const refusedBecause = (
  code: 'not_cancellable' | 'confirmation_required' | 'validation_failed',
  reason: string,
  field?: string,
): ReviewOutcome => ({ ok: false, code, reason, ...(field ? { field } : {}) });

test.each<[OrderStatus, ConfirmableStage | undefined]>([
  ['draft', undefined],
  ['confirmed', 'awaiting_shipment'],
  ['allocated', 'awaiting_shipment'],
  ['picking', 'awaiting_shipment'],
  ['partially_cancelled', 'awaiting_shipment'],
  ['shipped', 'shipped'],
  ['delivered', 'shipped'],
  ['completed', undefined],
  ['cancelled', undefined],
])('the confirmation a %s order needs: %s (R2)', (status, stage) => {
  expect(confirmationNeeded(status)).toBe(stage);
});

describe('every order status, without and with the confirmation it needs (R2, R5)', () => {
  const rows: [OrderStatus, ConfirmableStage[], ReviewOutcome | 'ok'][] = [
    ['draft', [], 'ok'],
    [
      'confirmed',
      [],
      refusedBecause(
        'confirmation_required',
        'SO-1 is awaiting shipment (status confirmed): confirm "awaiting_shipment" to cancel it',
        'confirm',
      ),
    ],
    ['confirmed', ['awaiting_shipment'], 'ok'],
    [
      'allocated',
      [],
      refusedBecause(
        'confirmation_required',
        'SO-1 is awaiting shipment (status allocated): confirm "awaiting_shipment" to cancel it',
        'confirm',
      ),
    ],
    ['allocated', ['awaiting_shipment'], 'ok'],
    [
      'picking',
      ['shipped'],
      refusedBecause(
        'confirmation_required',
        'SO-1 is awaiting shipment (status picking): confirm "awaiting_shipment" to cancel it',
        'confirm',
      ),
    ],
    ['picking', ['awaiting_shipment'], 'ok'],
    [
      'partially_cancelled',
      [],
      refusedBecause(
        'confirmation_required',
        'SO-1 is awaiting shipment (status partially_cancelled): confirm "awaiting_shipment" to cancel it',
        'confirm',
      ),
    ],
    ['partially_cancelled', ['awaiting_shipment'], 'ok'],
    [
      'shipped',
      ['awaiting_shipment'],
      refusedBecause(
        'confirmation_required',
        'SO-1 is shipped (status shipped): confirm "shipped" to cancel it',
        'confirm',
      ),
    ],
    ['shipped', ['shipped'], 'ok'],
    [
      'delivered',
      [],
      refusedBecause(
        'confirmation_required',
        'SO-1 is shipped (status delivered): confirm "shipped" to cancel it',
        'confirm',
      ),
    ],
    ['delivered', ['shipped'], 'ok'],
    [
      'completed',
      everyStage,
      refusedBecause('not_cancellable', 'SO-1: a completed order cannot be cancelled'),
    ],
    ['cancelled', everyStage, refusedBecause('not_cancellable', 'SO-1: the order is already cancelled')],
    ['draft', everyStage, 'ok'],
  ];

  test('the table covers every order status', () => {
    expect(new Set(rows.map(([status]) => status))).toEqual(new Set(ORDER_STATUSES));
  });

  test.each(rows)('%s, confirmed %j', (status, confirmed, expected) => {
    const outcome = reviewOrder(order(status), [paid], { confirmed }, policy, onTheWay);
    if (expected === 'ok') expect(outcome).toMatchObject({ ok: true, review: { cancelsWholeOrder: true } });
    else expect(outcome).toEqual(expected);
  });
});

test.each<[string, OrderStatus, ReviewRules['cancellableStatuses'], ReviewOutcome]>([
  [
    'a status the policy leaves out is refused (R8)',
    'draft',
    ['confirmed'],
    refusedBecause('not_cancellable', 'SO-1: the cancellation policy does not allow cancelling draft orders'),
  ],
  [
    'even when confirmed',
    'shipped',
    ['draft', 'confirmed'],
    refusedBecause(
      'not_cancellable',
      'SO-1: the cancellation policy does not allow cancelling shipped orders',
    ),
  ],
  [
    'a completed order is refused as completed whatever the policy lists',
    'completed',
    ['completed'],
    refusedBecause('not_cancellable', 'SO-1: a completed order cannot be cancelled'),
  ],
  [
    'so is a cancelled one',
    'cancelled',
    ['cancelled'],
    refusedBecause('not_cancellable', 'SO-1: the order is already cancelled'),
  ],
])('policy: %s', (_case, status, cancellableStatuses, expected) => {
  const outcome = reviewOrder(
    order(status),
    [paid],
    { confirmed: everyStage },
    { ...policy, cancellableStatuses },
  );
  expect(outcome).toEqual(expected);
});

describe('the lines and units asked for (R2)', () => {
  const cancelled = (lineId: string, quantity: number, reservedQuantity: number, amountMinor: number) => ({
    lineId,
    sku: `SKU-${lineId}`,
    warehouse: 'WH-1',
    quantity,
    reservedQuantity,
    amountMinor,
  });

  test.each<[string, ReviewableOrder, RequestedLine[] | undefined, ReviewOutcome]>([
    [
      'none named: every line, whole',
      order('confirmed'),
      undefined,
      {
        ok: true,
        review: {
          orderNumber: 'SO-1',
          customerId: 'C-1',
          currency: 'CNY',
          lines: [cancelled('L1', 2, 2, 20000), cancelled('L2', 1, 1, 5000)],
          cancelsWholeOrder: true,
          refundableMinor: 26000,
        },
      },
    ],
    [
      'every line named with all it has: the whole order',
      order('confirmed'),
      [
        { lineId: 'L2', quantity: 1 },
        { lineId: 'L1', quantity: 2 },
      ],
      {
        ok: true,
        review: {
          orderNumber: 'SO-1',
          customerId: 'C-1',
          currency: 'CNY',
          lines: [cancelled('L2', 1, 1, 5000), cancelled('L1', 2, 2, 20000)],
          cancelsWholeOrder: true,
          refundableMinor: 26000,
        },
      },
    ],
    [
      'part of a line: partial, what those units cost',
      order('confirmed'),
      [{ lineId: 'L1', quantity: 1 }],
      {
        ok: true,
        review: {
          orderNumber: 'SO-1',
          customerId: 'C-1',
          currency: 'CNY',
          lines: [cancelled('L1', 1, 1, 10000)],
          cancelsWholeOrder: false,
          refundableMinor: 10000,
        },
      },
    ],
    [
      'a whole line of two: partial',
      order('confirmed'),
      [{ lineId: 'L2', quantity: 1 }],
      {
        ok: true,
        review: {
          orderNumber: 'SO-1',
          customerId: 'C-1',
          currency: 'CNY',
          lines: [cancelled('L2', 1, 1, 5000)],
          cancelsWholeOrder: false,
          refundableMinor: 5000,
        },
      },
    ],
    [
      'units not all reserved: only those reserved are released',
      order('allocated', [line('L1', 2, 10000, { reservedQuantity: 1 }), line('L2', 1, 5000)]),
      [{ lineId: 'L1', quantity: 2 }],
      {
        ok: true,
        review: {
          orderNumber: 'SO-1',
          customerId: 'C-1',
          currency: 'CNY',
          lines: [cancelled('L1', 2, 1, 20000)],
          cancelsWholeOrder: false,
          refundableMinor: 20000,
        },
      },
    ],
    [
      'none named on a partially cancelled order: what is left of each line',
      order('partially_cancelled', [
        line('L1', 2, 10000, { cancelledQuantity: 1, reservedQuantity: 1 }),
        line('L2', 1, 5000, { cancelledQuantity: 1, reservedQuantity: 0 }),
      ]),
      undefined,
      {
        ok: true,
        review: {
          orderNumber: 'SO-1',
          customerId: 'C-1',
          currency: 'CNY',
          lines: [cancelled('L1', 1, 1, 10000)],
          cancelsWholeOrder: true,
          refundableMinor: 26000,
        },
      },
    ],
    [
      'a line not on the order',
      order('confirmed'),
      [{ lineId: 'L9', quantity: 1 }],
      refusedBecause('validation_failed', 'line L9 is not on order SO-1', 'lines[0].lineId'),
    ],
    [
      'a line not on the order, named second',
      order('confirmed'),
      [
        { lineId: 'L1', quantity: 1 },
        { lineId: 'L9', quantity: 1 },
      ],
      refusedBecause('validation_failed', 'line L9 is not on order SO-1', 'lines[1].lineId'),
    ],
    [
      'a line named twice',
      order('confirmed'),
      [
        { lineId: 'L1', quantity: 1 },
        { lineId: 'L1', quantity: 1 },
      ],
      refusedBecause('validation_failed', 'line L1 is named twice', 'lines[1].lineId'),
    ],
    [
      'no units',
      order('confirmed'),
      [{ lineId: 'L1', quantity: 0 }],
      refusedBecause(
        'validation_failed',
        'quantity must be a whole number of at least 1',
        'lines[0].quantity',
      ),
    ],
    [
      'fewer than no units',
      order('confirmed'),
      [{ lineId: 'L1', quantity: -1 }],
      refusedBecause(
        'validation_failed',
        'quantity must be a whole number of at least 1',
        'lines[0].quantity',
      ),
    ],
    [
      'part of a unit',
      order('confirmed'),
      [
        { lineId: 'L2', quantity: 1 },
        { lineId: 'L1', quantity: 1.5 },
      ],
      refusedBecause(
        'validation_failed',
        'quantity must be a whole number of at least 1',
        'lines[1].quantity',
      ),
    ],
    [
      'one unit more than the line has',
      order('confirmed'),
      [{ lineId: 'L1', quantity: 3 }],
      refusedBecause('validation_failed', 'line L1 has 2 left to cancel, not 3', 'lines[0].quantity'),
    ],
    [
      'more than is left after an earlier cancellation',
      order('partially_cancelled', [
        line('L1', 2, 10000, { cancelledQuantity: 1, reservedQuantity: 1 }),
        line('L2', 1, 5000),
      ]),
      [{ lineId: 'L1', quantity: 2 }],
      refusedBecause('validation_failed', 'line L1 has 1 left to cancel, not 2', 'lines[0].quantity'),
    ],
    [
      'a line already cancelled',
      order('partially_cancelled', [
        line('L1', 2, 10000),
        line('L2', 1, 5000, { cancelledQuantity: 1, reservedQuantity: 0 }),
      ]),
      [{ lineId: 'L2', quantity: 1 }],
      refusedBecause('validation_failed', 'line L2 has 0 left to cancel, not 1', 'lines[0].quantity'),
    ],
    [
      'none named when every line is already cancelled',
      order('partially_cancelled', [
        line('L1', 2, 10000, { cancelledQuantity: 2, reservedQuantity: 0 }),
        line('L2', 1, 5000, { cancelledQuantity: 1, reservedQuantity: 0 }),
      ]),
      undefined,
      refusedBecause('not_cancellable', 'SO-1: every line is already cancelled'),
    ],
  ])('%s', (_case, reviewed, lines, expected) => {
    const confirmed: ConfirmableStage[] = ['awaiting_shipment'];
    expect(reviewOrder(reviewed, [paid], { lines, confirmed }, policy)).toEqual(expected);
  });
});

describe('what goes back: whole and partial cancellations per policy (R11)', () => {
  const foreign: ReviewablePayment = {
    paymentId: 'PAY-USD',
    currency: 'USD',
    capturedMinor: 3700,
    refundedMinor: 0,
    orderCurrencyMinor: 26000,
  };

  test.each<
    [string, ReviewableOrder, RequestedLine[] | undefined, ReviewablePayment[], ReviewRules['refund'], number]
  >([
    ['whole, all captured: shipping included', order('confirmed'), undefined, [paid], policy.refund, 26000],
    [
      'whole, by lines amount: shipping kept',
      order('confirmed'),
      undefined,
      [paid],
      { ...policy.refund, wholeCancellation: 'lines_amount' },
      25000,
    ],
    [
      'partial, by lines amount',
      order('confirmed'),
      [{ lineId: 'L1', quantity: 1 }],
      [paid],
      policy.refund,
      10000,
    ],
    [
      'partial, when the policy refunds nothing for it',
      order('confirmed'),
      [{ lineId: 'L1', quantity: 1 }],
      [paid],
      { ...policy.refund, partialCancellation: 'none' },
      0,
    ],
    [
      'the rest after an earlier partial refund: what is left of the money',
      order('partially_cancelled', [
        line('L1', 2, 10000),
        line('L2', 1, 5000, { cancelledQuantity: 1, reservedQuantity: 0 }),
      ]),
      undefined,
      [{ ...paid, refundedMinor: 5000 }],
      policy.refund,
      21000,
    ],
    [
      'partial, no more than is left to refund',
      order('confirmed'),
      [{ lineId: 'L1', quantity: 1 }],
      [{ ...paid, refundedMinor: 20000 }],
      policy.refund,
      6000,
    ],
    ['nothing paid: nothing to refund', order('confirmed'), undefined, [], policy.refund, 0],
    [
      'several payments: all that is left of each',
      order('confirmed'),
      undefined,
      [
        { ...paid, capturedMinor: 20000 },
        { ...paid, paymentId: 'PAY-2', capturedMinor: 6000 },
      ],
      policy.refund,
      26000,
    ],
    [
      'a foreign payment counts what it settled of the order',
      order('confirmed'),
      undefined,
      [foreign],
      policy.refund,
      26000,
    ],
    [
      'a payment refunded past its capture gives nothing, and takes nothing',
      order('confirmed'),
      undefined,
      [{ ...paid, refundedMinor: 30000 }],
      policy.refund,
      0,
    ],
  ])('%s', (_case, reviewed, lines, payments, refund, refundableMinor) => {
    const outcome = reviewOrder(
      reviewed,
      payments,
      { lines, confirmed: ['awaiting_shipment'] },
      { ...policy, refund },
    );
    expect(outcome).toMatchObject({ ok: true, review: { refundableMinor } });
  });

  test('a foreign payment whose worth in the order currency is unknown is not refunded by guess', () => {
    const { orderCurrencyMinor: _unknown, ...unknownWorth } = foreign;
    expect(
      reviewOrder(order('confirmed'), [paid, unknownWorth], { confirmed: ['awaiting_shipment'] }, policy),
    ).toEqual(
      refusedBecause(
        'not_cancellable',
        'payment PAY-USD was made in USD, and the books do not say what it settled of the order in CNY; ' +
          'finance must record that before it can be refunded',
      ),
    );
  });
});

describe('goods that left the warehouse: recalled, or with the customer (R5, R9)', () => {
  const parcel = (shipmentId: string, lines: [lineId: string, quantity: number][]) => ({
    shipmentId,
    carrier: 'SF',
    trackingNumber: `T-${shipmentId}`,
    warehouse: 'WH-1',
    lines: lines.map(([lineId, quantity]) => ({ lineId, sku: `SKU-${lineId}`, quantity })),
  });

  test.each<
    [string, ReviewableOrder, RequestedLine[] | undefined, ReviewableShipment[], GoodsOutside | undefined]
  >([
    [
      'the whole order in transit in one parcel: recalled',
      order('shipped'),
      undefined,
      onTheWay,
      {
        stage: 'in_transit',
        recall: true,
        parcels: [
          parcel('SH-1', [
            ['L1', 2],
            ['L2', 1],
          ]),
        ],
      },
    ],
    [
      'one line of a parcel that carries another: not recalled (a parcel is recalled whole)',
      order('shipped'),
      [{ lineId: 'L1', quantity: 2 }],
      onTheWay,
      { stage: 'in_transit', recall: false, parcels: [parcel('SH-1', [['L1', 2]])] },
    ],
    [
      'part of a line in a parcel: not recalled',
      order('shipped', [line('L1', 2, 10000, shipped)]),
      [{ lineId: 'L1', quantity: 1 }],
      [shipment('SH-1', 'in_transit', [['L1', 2]])],
      { stage: 'in_transit', recall: false, parcels: [parcel('SH-1', [['L1', 1]])] },
    ],
    [
      'a line alone in its parcel: that parcel recalled, the other left',
      order('shipped'),
      [{ lineId: 'L2', quantity: 1 }],
      [shipment('SH-1', 'in_transit', [['L1', 2]]), shipment('SH-2', 'picked_up', [['L2', 1]])],
      { stage: 'in_transit', recall: true, parcels: [parcel('SH-2', [['L2', 1]])] },
    ],
    [
      'a line split over two parcels: both, in order',
      order('shipped', [line('L1', 2, 10000, shipped)]),
      undefined,
      [shipment('SH-1', 'in_transit', [['L1', 1]]), shipment('SH-2', 'pending', [['L1', 1]])],
      {
        stage: 'in_transit',
        recall: true,
        parcels: [parcel('SH-1', [['L1', 1]]), parcel('SH-2', [['L1', 1]])],
      },
    ],
    [
      'a parcel that came back carries nothing: the open one is recalled',
      order('shipped', [line('L1', 2, 10000, shipped)]),
      undefined,
      [shipment('SH-1', 'returned', [['L1', 2]]), shipment('SH-2', 'in_transit', [['L1', 2]])],
      { stage: 'in_transit', recall: true, parcels: [parcel('SH-2', [['L1', 2]])] },
    ],
    [
      'the order delivered: with the customer, nothing to recall',
      order('delivered'),
      undefined,
      [
        shipment('SH-1', 'delivered', [
          ['L1', 2],
          ['L2', 1],
        ]),
      ],
      {
        stage: 'delivered',
        recall: false,
        parcels: [
          parcel('SH-1', [
            ['L1', 2],
            ['L2', 1],
          ]),
        ],
      },
    ],
    [
      'the order says shipped, but the parcel was delivered: with the customer',
      order('shipped'),
      undefined,
      [
        shipment('SH-1', 'delivered', [
          ['L1', 2],
          ['L2', 1],
        ]),
      ],
      {
        stage: 'delivered',
        recall: false,
        parcels: [
          parcel('SH-1', [
            ['L1', 2],
            ['L2', 1],
          ]),
        ],
      },
    ],
    [
      'shipped, but the units cancelled are still reserved: nothing outside',
      order('shipped', [line('L1', 3, 10000, { reservedQuantity: 1 })]),
      [{ lineId: 'L1', quantity: 1 }],
      [shipment('SH-1', 'in_transit', [['L1', 2]])],
      undefined,
    ],
    [
      'shipped, the reserved unit and the parcel both cancelled: the parcel is recalled',
      order('shipped', [line('L1', 3, 10000, { reservedQuantity: 1 })]),
      undefined,
      [shipment('SH-1', 'in_transit', [['L1', 2]])],
      { stage: 'in_transit', recall: true, parcels: [parcel('SH-1', [['L1', 2]])] },
    ],
    [
      'units already returned from a parcel are not in it any more',
      order('shipped', [line('L1', 3, 10000, shipped)]),
      [{ lineId: 'L1', quantity: 2 }],
      [shipment('SH-1', 'in_transit', [['L1', 3, 1]])],
      { stage: 'in_transit', recall: true, parcels: [parcel('SH-1', [['L1', 2]])] },
    ],
  ])('%s', (_case, reviewed, lines, shipments, goods) => {
    const outcome = reviewOrder(reviewed, [paid], { lines, confirmed: ['shipped'] }, policy, shipments);
    expect(outcome.ok).toBe(true);
    expect((outcome as { review: OrderReview }).review.goods).toEqual(goods);
  });

  test.each<[string, ReviewableOrder, ReviewableShipment[], string]>([
    [
      'no shipment recorded at all',
      order('shipped'),
      [],
      'SO-1 is shipped, but no open shipment carries 2 of line L1',
    ],
    [
      'the only parcel was recalled already',
      order('shipped'),
      [
        shipment('SH-1', 'recalled', [
          ['L1', 2],
          ['L2', 1],
        ]),
      ],
      'SO-1 is shipped, but no open shipment carries 2 of line L1',
    ],
    [
      'a parcel carries fewer units than are outside',
      order('delivered'),
      [
        shipment('SH-1', 'delivered', [
          ['L1', 2, 1],
          ['L2', 1],
        ]),
      ],
      'SO-1 is delivered, but no open shipment carries 1 of line L1',
    ],
    [
      'a later line no parcel carries',
      order('shipped'),
      [shipment('SH-1', 'in_transit', [['L1', 2]])],
      'SO-1 is shipped, but no open shipment carries 1 of line L2',
    ],
  ])('units outside that no open parcel carries are refused: %s', (_case, reviewed, shipments, reason) => {
    expect(reviewOrder(reviewed, [paid], { confirmed: ['shipped'] }, policy, shipments)).toEqual(
      refusedBecause('not_cancellable', reason),
    );
  });

  test('an order that has not shipped has no goods outside, whatever shipments are passed', () => {
    const outcome = reviewOrder(
      order('picking'),
      [paid],
      { confirmed: ['awaiting_shipment'] },
      policy,
      onTheWay,
    );
    expect(outcome).toMatchObject({ ok: true });
    expect((outcome as { review: OrderReview }).review.goods).toBeUndefined();
  });
});
