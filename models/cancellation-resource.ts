// What GET /v1/cancellations/:id answers, from the database copy, the cancellation's refunds and, while it runs,
// the workflow's own view: one function for the API and for the events outbound webhooks carry, so that a
// receiver sees exactly what the API shows, and no more.
import type {
  ApprovalProgress,
  CancellationView,
  GoodsView,
  RiskAssessment,
} from '../contracts/cancellation.contract';
import type { CancellationRecord } from './cancellation.model';
import type { Refund } from './money.model';

export type StoredCancellation = CancellationRecord & { createdAt: Date; updatedAt: Date };

/**
 * The copy's free-form fields in their wire shape, read by the caller: the API checks them against its
 * schemas (a record written by an older version may not fit); an activity that just wrote them from the
 * workflow's view hands that view's.
 */
export interface StoredParts {
  approval?: ApprovalProgress;
  risk?: RiskAssessment;
  goods?: GoodsView;
}

type RefundRow = Pick<Refund, 'paymentId' | 'amountMinor' | 'currency' | 'status'> & {
  orderCurrencyMinor?: number | null;
  providerRefundId?: string | null;
};

/** `live`: the workflow's view while it runs; without it the database copy answers (`source: 'database'`). */
export function cancellationResourceOf(
  record: StoredCancellation,
  refunds: readonly RefundRow[],
  live: CancellationView | undefined,
  stored: StoredParts,
) {
  return {
    cancellationId: record.cancellationId,
    workflowId: record.workflowId,
    orderNumber: record.orderNumber,
    reasonCode: record.reasonCode,
    note: record.note ?? undefined,
    requestedBy: record.requestedBy,
    state: live?.state ?? record.state,
    outcome: live?.outcome ?? record.outcome ?? undefined,
    refusal: live?.refusal ?? record.refusal ?? undefined,
    policyVersion: live?.policyVersion ?? record.policyVersion ?? undefined,
    approval: live?.approval ?? stored.approval,
    risk: live?.risk ?? stored.risk,
    goods: live?.goods ?? stored.goods,
    refundedMinor: live?.refundedMinor ?? record.refundedMinor ?? 0,
    currency: live?.review?.currency ?? record.currency ?? undefined,
    refunds: refunds.map((refund) => ({
      paymentId: refund.paymentId,
      amountMinor: refund.amountMinor,
      currency: refund.currency,
      orderCurrencyMinor: refund.orderCurrencyMinor ?? undefined,
      status: refund.status,
      reference: refund.providerRefundId ?? undefined,
    })),
    lines: (live?.review?.lines ?? record.lines).map((line) => ({
      lineId: line.lineId ?? '',
      sku: line.sku ?? '',
      warehouse: line.warehouse ?? '',
      quantity: line.quantity ?? 0,
      amountMinor: line.amountMinor ?? 0,
    })),
    notifications: (live?.notifications ?? record.notifications).map((n) => ({
      channel: n.channel ?? '',
      status: n.status ?? '',
      detail: n.detail ?? undefined,
    })),
    timeline: record.timeline.map((entry) => ({
      step: entry.step ?? 0,
      state: entry.state ?? '',
      at: (entry.at ?? record.createdAt).toISOString(),
      ...(entry.note ? { note: entry.note } : {}),
    })),
    source: live ? ('workflow' as const) : ('database' as const),
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
  };
}
