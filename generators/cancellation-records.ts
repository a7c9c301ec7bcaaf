// Cancellation records in bulk, for the analytics benchmark (bench/analytics.ts): what the database copy holds
// once the flow has run, written straight to the collections (no workflow, no order), with the stock ledger's
// release and return movements and the purchase orders reduced that the analytics also read. Seeded and
// per-record: record i is the same whatever the batch it is made in.
//
// The shop is the books generator's (./books): its catalogue (prices, costs, suppliers) and warehouses; the
// requesters are the demo's people (generators/demo-data.ts) and two systems not in the books.
import { REQUEST_CHANNELS, type RequestChannel } from '../contracts/analytics.contract';
import {
  REASON_CODES,
  type Department,
  type ReasonCode,
  type RiskLevel,
} from '../contracts/cancellation.contract';
import { analyticsSummaryOf } from '../models/analytics-summary';
import { catalogueOf, type CatalogueItem } from './books/catalogue';
import { SUPPLIERS, WAREHOUSES } from './books/organisation';
import { between, mix, pick, seededRandom, uuid, weighted, type Random } from './books/random';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The records span the year before this moment (fixed, so that a run's windows are the same every time). */
export const RECORDS_END = new Date('2026-01-01T00:00:00Z');
export const RECORDS_SPAN_MS = 365 * DAY;

const REQUESTERS: readonly (readonly [
  { personId: string; department?: Department; channels: RequestChannel[] },
  number,
])[] = [
  [{ personId: 'clerk-1', department: 'sales', channels: ['console', 'api_session'] }, 45],
  [{ personId: 'manager-1', department: 'sales', channels: ['console'] }, 10],
  [{ personId: 'erp:clerk-7', channels: ['api_key'] }, 30],
  [{ personId: 'customer-portal', channels: ['api_key'] }, 15],
];
const REASONS = REASON_CODES.map(
  (code) => [code, code === 'customer_changed_mind' ? 40 : code === 'out_of_stock' ? 15 : 7] as const,
);
const RISKS = [
  ['low', 70],
  ['medium', 22],
  ['high', 8],
] as const satisfies readonly (readonly [RiskLevel, number])[];

type Ending = 'completed' | 'refused' | 'rejected' | 'withdrawn' | 'redelivered' | 'running';

export interface GeneratedRecords {
  cancellations: Record<string, unknown>[];
  stockMovements: Record<string, unknown>[];
  purchaseOrders: Record<string, unknown>[];
}

export class CancellationRecordsGenerator {
  readonly catalogue: readonly CatalogueItem[];
  private made = 0;

  constructor(
    readonly seed: number,
    /** How many records the run makes in all: they spread evenly over the year. */
    readonly total: number,
  ) {
    this.catalogue = catalogueOf(seed);
  }

  get count(): number {
    return this.made;
  }

  /** Products as the books hold them, with their purchase cost (what restocked stock is valued at). */
  products(): Record<string, unknown>[] {
    return this.catalogue.map((item) => ({
      sku: item.sku,
      name: item.names['zh-CN'],
      unitPriceMinor: item.unitPriceMinor,
      unitCostMinor: item.unitCostMinor,
      currency: 'CNY',
      createdAt: new Date(RECORDS_END.getTime() - RECORDS_SPAN_MS),
      updatedAt: new Date(RECORDS_END.getTime() - RECORDS_SPAN_MS),
    }));
  }

  next(count: number): GeneratedRecords {
    const records: GeneratedRecords = { cancellations: [], stockMovements: [], purchaseOrders: [] };
    for (const end = Math.min(this.total, this.made + count); this.made < end; this.made += 1) {
      this.record(this.made, records);
    }
    return records;
  }

  private record(index: number, into: GeneratedRecords): void {
    const random = seededRandom(mix(this.seed, 7, index));
    const cancellationId = uuid(random);
    const createdAt = new Date(
      RECORDS_END.getTime() - RECORDS_SPAN_MS + ((index + random()) * RECORDS_SPAN_MS) / this.total,
    );
    // A customer base a quarter of the records: many customers cancel more than once.
    const customerId = `BC-${String(Math.floor(random() ** 1.5 * Math.max(100, this.total / 4))).padStart(6, '0')}`;
    const requester = weighted(random, REQUESTERS);
    const abroad = random() < 0.1;
    const currency = abroad ? 'USD' : 'CNY';
    const warehouse = abroad ? WAREHOUSES[2].code : pick(random, WAREHOUSES.slice(0, 2)).code;
    const lines = Array.from({ length: between(random, 1, 3) }, (_, position) => {
      const item = pick(random, this.catalogue);
      const quantity = between(random, 1, 4);
      return {
        lineId: `L${position + 1}`,
        sku: item.sku,
        warehouse,
        quantity,
        amountMinor: quantity * (abroad ? item.unitPriceUsdMinor : item.unitPriceMinor),
      };
    });
    const risk = weighted(random, RISKS);
    const approvals = risk === 'high' ? 2 : risk === 'medium' ? 1 : 0;
    const ending = weighted<Ending>(random, [
      ['completed', 80],
      ['refused', 4],
      ['rejected', approvals > 0 ? 20 : 0],
      ['withdrawn', 4],
      ['redelivered', 2],
      ['running', 5],
    ]);

    let clock = createdAt.getTime();
    const timeline: { step: number; state: string; at: Date }[] = [];
    const enter = (state: string, afterMs: number) => {
      clock += afterMs;
      timeline.push({ step: timeline.length, state, at: new Date(clock) });
    };
    const seconds = (low: number, high: number) => between(random, low, high) * SECOND;
    enter('loadingPolicy', seconds(0, 2));
    enter('reviewing', seconds(1, 3));
    let state: string = ending;
    let escalations = 0;
    if (ending === 'refused') enter(state, seconds(1, 5));
    else {
      enter('assessingRisk', seconds(1, 5));
      for (let step = 0; step < approvals && ending !== 'running'; step += 1) {
        enter('awaitingApproval.waitingForDecision', seconds(1, 3));
        // Most decisions come within hours; some wait past a day, and are escalated.
        const waitMs = Math.round(5 * MINUTE + random() ** 3 * 48 * HOUR);
        clock += waitMs;
        if (waitMs > DAY) escalations += 1;
      }
      if (ending === 'running') {
        state = approvals > 0 ? 'awaitingApproval.waitingForDecision' : 'releasingStock';
        enter(state, seconds(1, 5));
      } else if (ending === 'rejected' || ending === 'withdrawn') {
        enter(state, seconds(0, 2));
      } else {
        if (approvals > 0) enter('proceeding', seconds(0, 2));
        enter('releasingStock', seconds(1, 3));
        const releasedAt = new Date(clock);
        enter('adjustingPurchasing', seconds(1, 10));
        const adjustedAt = new Date(clock);
        enter('refunding', seconds(1, 5));
        if (random() < 0.05) {
          enter('awaitingSettlement', seconds(5, 30));
          enter('recordingSettlement', Math.round(HOUR + random() * 72 * HOUR));
        }
        enter('closingOrder', seconds(2, 30));
        enter('notifyingCustomer', seconds(1, 5));
        enter(state, seconds(1, 10));
        if (ending === 'completed') {
          this.effects(random, { cancellationId, index, lines, releasedAt, adjustedAt }, into);
        }
      }
    }
    into.cancellations.push(
      this.document({
        cancellationId,
        index,
        customerId,
        requester,
        risk,
        escalations,
        ending,
        state,
        currency,
        lines,
        timeline,
        createdAt,
        random,
      }),
    );
  }

  private document(parts: {
    cancellationId: string;
    index: number;
    customerId: string;
    requester: (typeof REQUESTERS)[number][0];
    risk: RiskLevel;
    escalations: number;
    ending: Ending;
    state: string;
    currency: string;
    lines: { lineId: string; sku: string; warehouse: string; quantity: number; amountMinor: number }[];
    timeline: { step: number; state: string; at: Date }[];
    createdAt: Date;
    random: Random;
  }): Record<string, unknown> {
    const { cancellationId, requester, ending, lines, timeline, createdAt } = parts;
    const reasonCode: ReasonCode = weighted(parts.random, REASONS);
    const channel = pick(parts.random, requester.channels);
    // As the flow's write leaves it: with the analytics' summary of this timeline and these lines.
    const analytics = analyticsSummaryOf({ timeline, lines, currency: parts.currency });
    return {
      cancellationId,
      workflowId: `cancellation-${cancellationId}`,
      orderNumber: `SO-B-${String(parts.index).padStart(7, '0')}`,
      customerId: parts.customerId,
      reasonCode,
      requestedBy: requester.personId,
      ...(requester.department ? { requesterDepartment: requester.department } : {}),
      ...((REQUEST_CHANNELS as readonly string[]).includes(channel) ? { channel } : {}),
      confirmed: [],
      state: parts.state,
      ...(ending === 'running' ? {} : { outcome: ending }),
      risk: { level: parts.risk, reasons: [] },
      ...(parts.risk === 'low' ? {} : { approval: { escalations: parts.escalations, decisions: [] } }),
      refundedMinor: ending === 'completed' ? lines.reduce((sum, line) => sum + line.amountMinor, 0) : 0,
      currency: parts.currency,
      lines,
      notifications: [],
      timeline,
      analytics,
      createdAt,
      updatedAt: timeline[timeline.length - 1]?.at ?? createdAt,
    };
  }

  /** A completed cancellation's stock released (and now and then a parcel returned) and purchase order reduced. */
  private effects(
    random: Random,
    done: {
      cancellationId: string;
      index: number;
      lines: { lineId: string; sku: string; warehouse: string; quantity: number }[];
      releasedAt: Date;
      adjustedAt: Date;
    },
    into: GeneratedRecords,
  ): void {
    const movement = (
      key: string,
      type: 'release' | 'return',
      line: (typeof done.lines)[number],
      at: Date,
    ) => ({
      idempotencyKey: key,
      type,
      sku: line.sku,
      warehouse: line.warehouse,
      onHandDelta: type === 'return' ? line.quantity : 0,
      reservedDelta: type === 'release' ? -line.quantity : 0,
      document: {
        kind: 'sales_order',
        id: `SO-B-${String(done.index).padStart(7, '0')}`,
        lineId: line.lineId,
      },
      actor: 'cancelflow',
      reason: `cancellation ${done.cancellationId}`,
      state: 'applied',
      createdAt: at,
      updatedAt: at,
    });
    for (const line of done.lines) {
      // One line in twenty had shipped: it comes back as a return a few days later, not as a release.
      if (random() < 0.05) {
        const back = new Date(done.releasedAt.getTime() + between(random, 1, 10) * DAY);
        into.stockMovements.push(
          movement(`${done.cancellationId}:return:SH1:${line.lineId}`, 'return', line, back),
        );
      } else {
        into.stockMovements.push(
          movement(`${done.cancellationId}:release:${line.lineId}`, 'release', line, done.releasedAt),
        );
      }
    }
    // One in ten had a line back-ordered from a supplier.
    const [line] = done.lines;
    if (!line || random() >= 0.1) return;
    const item = this.catalogue.find((candidate) => candidate.sku === line.sku);
    const supplier = SUPPLIERS.find((candidate) => candidate.supplierId === item?.supplierId) ?? SUPPLIERS[0];
    const statusBefore = pick(random, ['draft', 'sent', 'confirmed'] as const);
    const left = random() < 0.2 ? 1 : 0;
    const reduced = line.quantity;
    into.purchaseOrders.push({
      poNumber: `PO-B-${String(done.index).padStart(7, '0')}`,
      supplier: { supplierId: supplier?.supplierId, name: supplier?.name, email: supplier?.email },
      status: statusBefore,
      currency: 'CNY',
      warehouse: line.warehouse,
      dropShip: false,
      lines: [
        {
          lineId: 'P1',
          sku: line.sku,
          unitCostMinor: item?.unitCostMinor ?? 0,
          orderedQuantity: reduced + left,
          cancelledQuantity: reduced,
          supplierShippedQuantity: left,
          receivedQuantity: 0,
          raisedFor: [],
        },
      ],
      adjustments: [
        {
          key: `${done.cancellationId}:reduce-purchase-orders`,
          kind: 'reduce_for_cancellation',
          at: done.adjustedAt,
          actor: 'cancelflow',
          reason: `cancellation ${done.cancellationId}`,
          changes: [{ lineId: 'P1', salesLineId: line.lineId, quantity: reduced }],
          refusals: left
            ? [{ lineId: 'P1', salesLineId: line.lineId, quantity: left, reason: 'supplier_shipped' }]
            : [],
          statusBefore,
          statusAfter: statusBefore,
        },
      ],
      revision: 1,
      createdAt: new Date(done.adjustedAt.getTime() - 7 * DAY),
      updatedAt: done.adjustedAt,
    });
  }
}
