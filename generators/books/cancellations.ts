// Cancellations as cancelflow completes them: the reason, the risk and its approvals, the reserved units
// released, the purchase order's units taken off, the refunds (with their vouchers, and finance's manual
// settlement when the gateway refuses) and the timeline of the states it went through.
import type { PurchaseLine, ReductionRefusal } from '../../models/purchase-order.model';
import { openQuantity, purchaseOrderStatusFor } from '../../models/purchasing';
import {
  cancellationWorkflowId,
  REASON_CODES,
  type ApprovalProgress,
  type PurchasingReport,
  type ReasonCode,
  type RiskAssessment,
} from '../../contracts/cancellation.contract';
import type { Language } from '../../contracts/books.contract';
import type { GeneratedCustomer } from './customers';
import type {
  Books,
  CancellationDocument,
  PaymentDocument,
  RefundDocument,
  SalesOrderLine,
} from './documents';
import { HOUR, ID_KINDS, MINUTE, yearOf } from './numbering';
import { PAYMENT_METHODS, REFUND_FAILURES } from './payments';
import type { SupplyLink } from './purchase-orders';
import { between, digits, pick, uuid, weighted, type Random } from './random';
import { reached, type Stage } from './stages';
import type { RunState } from './state';

const REASON_SHARES: Partial<Record<ReasonCode, number>> = {
  customer_changed_mind: 40,
  out_of_stock: 12,
  duplicate_order: 10,
  price_error: 6,
  suspected_fraud: 2,
};
const REASON_WEIGHTS = REASON_CODES.map((code) => [code, REASON_SHARES[code] ?? 8] as const);
const REASON_NOTES: Record<Language, readonly string[]> = {
  'zh-CN': ['客户来电要求取消', '客户在线申请取消', '客户重复下单', '地址无法送达', '等待时间过长'],
  en: [
    'customer called to cancel',
    'cancelled through the customer portal',
    'ordered twice',
    'address cannot be reached',
    'waited too long',
  ],
};
const REQUESTERS = ['clerk-1', 'erp:clerk-7', 'customer-portal'];

/**
 * A completed cancellation as cancelflow makes it: reserved units released, the purchase order's units taken
 * off, the refund per policy (all that was captured for a whole cancellation, the lines' amount for a partial
 * one) against the payments oldest first, with a voucher for each, and the record of it all.
 */
export function makeCancellation(
  state: RunState,
  books: Books,
  random: Random,
  order: {
    orderNumber: string;
    customer: GeneratedCustomer;
    currency: string;
    stage: Stage;
    lines: SalesOrderLine[];
    payments: PaymentDocument[];
    link: SupplyLink | undefined;
    whole: boolean;
    at: Date;
  },
): { cancellationId: string; reasonCode: ReasonCode; note?: string; closedAt: Date } {
  const { orderNumber, customer, currency, lines, payments, link, whole, at } = order;
  const cancellationId = uuid(random);
  const reasonCode = weighted(random, REASON_WEIGHTS);
  const language = customer.document.language;
  const note = random() < 0.3 ? pick(random, REASON_NOTES[language]) : undefined;

  // Which units: all that are left, or part of one line (never the whole order).
  let requested: { lineId: string; quantity: number }[];
  if (whole) {
    requested = lines.map((line) => ({
      lineId: line.lineId,
      quantity: line.quantity - line.cancelledQuantity,
    }));
  } else {
    const line = pick(random, lines);
    const wholeOrderUnits = lines.reduce((sum, candidate) => sum + candidate.quantity, 0);
    const quantity = Math.min(between(random, 1, line.quantity), wholeOrderUnits - 1);
    requested = [{ lineId: line.lineId, quantity }];
  }

  let clock = at.getTime();
  const timeline: CancellationDocument['timeline'] = [];
  const enter = (state: string, after = between(random, 1, 30) * 1000) => {
    clock += after;
    timeline.push({ step: timeline.length, at: new Date(clock), state });
  };
  ['loadingPolicy', 'reviewing', 'assessingRisk'].forEach((state) => enter(state));

  const cancelledLines = requested.map((want) => {
    const line = lines.find((candidate) => candidate.lineId === want.lineId) as SalesOrderLine;
    return {
      line,
      quantity: want.quantity,
      reservedQuantity: Math.min(want.quantity, line.reservedQuantity),
      amountMinor: want.quantity * line.unitPriceMinor,
    };
  });
  const capturedLeft = payments.reduce(
    (sum, payment) => sum + payment.capturedMinor - payment.refundedMinor,
    0,
  );
  const linesAmount = cancelledLines.reduce((sum, line) => sum + line.amountMinor, 0);
  const refundableMinor = Math.min(capturedLeft, whole ? capturedLeft : linesAmount);

  // Risk as assessRisk rates it; medium and high needed approval, and got it.
  const risk: RiskAssessment = { level: 'low', reasons: [] };
  const raise = (level: 'medium' | 'high', reason: string) => {
    risk.reasons.push(reason);
    if (level === 'high' || risk.level === 'low') risk.level = level;
  };
  if (refundableMinor >= 1_000_000) raise('high', `refund of ${refundableMinor} minor units ${currency}`);
  else if (refundableMinor >= 200_000)
    raise('medium', `refund of ${refundableMinor} minor units ${currency}`);
  if (reasonCode === 'suspected_fraud') raise('high', `reason: ${reasonCode}`);
  if (customer.document.tier === 'vip') raise('medium', 'vip customer');
  const withSupplier =
    link && ['sent', 'confirmed', 'partially_received'].includes(link.purchaseOrder.status);
  if (withSupplier && link)
    raise('medium', `purchase orders already with suppliers: ${link.purchaseOrder.poNumber}`);
  let approval: ApprovalProgress | undefined;
  if (risk.level !== 'low') {
    const levels = risk.level === 'high' ? [1, 2] : [1];
    enter('awaitingApproval.waitingForDecision');
    enter('proceeding', between(random, 5, 600) * MINUTE);
    approval = {
      step: levels.length,
      steps: levels.length,
      requiredLevel: levels[levels.length - 1] as number,
      escalations: 0,
      eligibleApprovers: risk.level === 'high' ? ['director-1'] : ['manager-1', 'director-1'],
      decisions: levels.map((level) => ({
        approver: level === 1 ? 'manager-1' : 'director-1',
        approved: true,
        level,
      })),
    };
  }

  // Stock: the reserved units go back to available.
  enter('releasingStock');
  for (const cancelled of cancelledLines) {
    if (cancelled.reservedQuantity === 0) continue;
    state.move(books, new Date(clock), {
      idempotencyKey: `${cancellationId}:release:${cancelled.line.lineId}`,
      type: 'release',
      sku: cancelled.line.sku,
      warehouse: cancelled.line.warehouse,
      onHandDelta: 0,
      reservedDelta: -cancelled.reservedQuantity,
      document: { kind: 'sales_order', id: orderNumber, lineId: cancelled.line.lineId },
      actor: 'cancelflow',
      reason: `cancellation ${cancellationId}`,
    });
  }

  // Purchasing: the units still awaited for the cancelled line come off its purchase order, except those the
  // supplier already shipped (as reducePurchaseOrdersForCancelledLines plans it).
  enter('adjustingPurchasing');
  let purchasing: PurchasingReport | undefined;
  const awaited = cancelledLines.find((cancelled) => cancelled.line.lineId === link?.lineId);
  const wanted = awaited ? awaited.quantity - awaited.reservedQuantity : 0;
  if (link && wanted > 0) {
    const po = link.purchaseOrder;
    const poLine = po.lines[0] as PurchaseLine;
    const salesLink = poLine.raisedFor[0] as PurchaseLine['raisedFor'][number];
    const off = Math.min(wanted, salesLink.quantity - salesLink.cancelledQuantity, openQuantity(poLine));
    const kept = wanted - off;
    const reason: ReductionRefusal =
      poLine.receivedQuantity === 0 && poLine.supplierShippedQuantity === 0
        ? 'purchase_order_closed'
        : poLine.receivedQuantity >= poLine.supplierShippedQuantity
          ? 'received'
          : 'supplier_shipped';
    const statusBefore = po.status;
    poLine.cancelledQuantity += off;
    salesLink.cancelledQuantity += off;
    po.status = purchaseOrderStatusFor(po.status, po.lines);
    po.revision += 1;
    po.updatedAt = new Date(clock);
    const changes = off > 0 ? [{ lineId: poLine.lineId, salesLineId: link.lineId, quantity: off }] : [];
    const refusals =
      kept > 0 ? [{ lineId: poLine.lineId, salesLineId: link.lineId, quantity: kept, reason }] : [];
    po.adjustments.push({
      key: `${cancellationId}:reduce-purchase-orders`,
      kind: 'reduce_for_cancellation',
      at: new Date(clock),
      actor: 'cancelflow',
      reason: `cancellation ${cancellationId}`,
      orderNumber,
      requested: [{ lineId: link.lineId, quantity: wanted }],
      changes,
      refusals,
      statusBefore,
      statusAfter: po.status,
    });
    purchasing = {
      reduced: changes.map((change) => ({
        poNumber: po.poNumber,
        poLineId: change.lineId,
        salesLineId: change.salesLineId,
        quantity: change.quantity,
        supplierMustBeTold: ['sent', 'confirmed', 'partially_received'].includes(statusBefore),
      })),
      notReduced: refusals.map((refusal) => ({
        poNumber: po.poNumber,
        poLineId: refusal.lineId,
        salesLineId: refusal.salesLineId,
        quantity: refusal.quantity,
        reason: refusal.reason,
      })),
    };
  }

  // Money: through the gateway; one refund in twelve the gateway refuses and finance settles by hand.
  enter('refunding');
  const manual = refundableMinor > 0 && random() < 1 / 12;
  let settlement: CancellationDocument['settlement'];
  let outstanding = refundableMinor;
  for (const payment of payments) {
    if (outstanding <= 0) break;
    const amountMinor = Math.min(outstanding, payment.capturedMinor - payment.refundedMinor);
    if (amountMinor <= 0) continue;
    const method = PAYMENT_METHODS[payment.method];
    const gatewayKey = `${cancellationId}:refund:${payment.paymentId}`;
    const base = {
      paymentId: payment.paymentId,
      orderNumber,
      cancellationId,
      amountMinor,
      currency,
    };
    let key = gatewayKey;
    let completed: Pick<RefundDocument, 'status' | 'providerRefundId'>;
    if (manual) {
      const failure = pick(random, REFUND_FAILURES);
      books.refunds.push({
        _id: state.id(ID_KINDS.refund, new Date(clock)),
        idempotencyKey: gatewayKey,
        ...base,
        status: 'failed',
        failure,
        createdAt: new Date(clock),
        updatedAt: new Date(clock),
      });
      if (!settlement) {
        enter('awaitingSettlement');
        enter('recordingSettlement', between(random, 2, 72) * HOUR);
        settlement = {
          failure: `payment gateway refused: ${failure}`,
          outstandingMinor: refundableMinor,
          by: 'finance-1',
          reference: `FIN-${yearOf(new Date(clock))}-${digits(random, 6)}`,
        };
      }
      key = `${cancellationId}:manual-settlement:${payment.paymentId}`;
      completed = { status: 'settled_manually', providerRefundId: `manual:${settlement.reference}` };
    } else {
      completed = { status: 'succeeded', providerRefundId: method.refundReference(random) };
    }
    const refundAt = new Date(clock);
    books.refunds.push({
      _id: state.id(ID_KINDS.refund, refundAt),
      idempotencyKey: key,
      ...base,
      ...completed,
      createdAt: refundAt,
      updatedAt: refundAt,
    });
    books.vouchers.push({
      _id: state.id(ID_KINDS.voucher, refundAt),
      idempotencyKey: `${key}:voucher`,
      kind: 'refund',
      currency,
      document: { kind: 'refund', id: key },
      memo: `refund of order ${orderNumber} for cancellation ${cancellationId}`,
      lines: [
        { account: '6001 sales revenue', debitMinor: amountMinor, creditMinor: 0 },
        { account: '1002 bank deposits', debitMinor: 0, creditMinor: amountMinor },
      ],
      createdAt: refundAt,
      updatedAt: refundAt,
    });
    payment.refundedMinor += amountMinor;
    payment.updatedAt = refundAt;
    outstanding -= amountMinor;
  }

  // The order closes with the reason; the customer hears on the channels they agreed to.
  enter('closingOrder');
  const closedAt = new Date(clock);
  for (const cancelled of cancelledLines) {
    cancelled.line.cancelledQuantity += cancelled.quantity;
    cancelled.line.reservedQuantity -= cancelled.reservedQuantity;
  }
  enter('notifyingCustomer');
  enter('completed');
  const { consent, email, phone } = customer.document;
  books.cancellations.push({
    _id: state.id(ID_KINDS.cancellation, at),
    cancellationId,
    workflowId: cancellationWorkflowId(cancellationId),
    orderNumber,
    customerId: customer.document.customerId,
    reasonCode,
    ...(note ? { note } : {}),
    requestedBy: pick(random, REQUESTERS),
    confirmed: reached(order.stage, 'confirmed') ? ['awaiting_shipment'] : [],
    ...(whole ? {} : { requestedLines: requested }),
    state: 'completed',
    outcome: 'completed',
    risk,
    ...(approval ? { approval } : {}),
    ...(purchasing ? { purchasing } : {}),
    ...(settlement ? { settlement } : {}),
    refundedMinor: refundableMinor - outstanding,
    currency,
    lines: cancelledLines.map((cancelled) => ({
      lineId: cancelled.line.lineId,
      sku: cancelled.line.sku,
      warehouse: cancelled.line.warehouse,
      quantity: cancelled.quantity,
      amountMinor: cancelled.amountMinor,
    })),
    notifications: [
      { channel: 'email', status: consent.email && email ? 'sent' : 'skipped' },
      { channel: 'sms', status: consent.sms && phone ? 'sent' : 'skipped' },
    ],
    timeline,
    createdAt: at,
    updatedAt: new Date(clock),
  });
  return { cancellationId, reasonCode, ...(note ? { note } : {}), closedAt };
}
