// Telling the departments (R6, R17, R19, R24): each hears what concerns it, read from the books as they stand
// (refunds and vouchers, purchase-order changes, stock movements, shipments), by an entry in every active
// member's message centre and a mail to the department's mailbox through the outbox.
import { CancelflowError } from '../lib/errors';
import type { Models } from '../models';
import { postMessages } from '../models/message-centre';
import type { MessageCategory } from '../models/message-centre.model';
import type { Department } from '../contracts/cancellation.contract';
import type { Language } from '../contracts/books.contract';
import { purchaseOrdersOf, shipmentsOf } from '../models/order-links';
import { recordOutboxEntries, type OutboxEntryInput } from '../models/outbox';
import { refundsOfPayments } from '../models/refund-ledger';
import type { PurchaseOrderStatus } from '../models/purchase-order.model';
import type { ReasonCode, ResolutionOffer } from '../contracts/cancellation.contract';
import type { ActivityDeps } from './deps';
import { checkedOffer, namedLines, notQueued, type NotifiedLine } from './notification.activities';
import { reasonWording } from './templates/customer.templates';
import {
  departmentDetails,
  departmentOfferWording,
  renderDepartmentMessage,
  type DepartmentFacts,
  type DepartmentMessage,
  type DepartmentMoment,
} from './templates/department.templates';
import { concernsDepartment, DEPARTMENTS_BY_MOMENT } from '../rules/notices.rules';

export interface DepartmentNotificationParams {
  cancellationId: string;
  orderNumber: string;
  moment: DepartmentMoment;
  reasonCode: ReasonCode;
  /** Why the request was not accepted: required when the moment is `rejected`. */
  refusal?: string;
  /** The lines cancelled (or asked to be); absent: those on the cancellation record, else the whole order. */
  lines?: NotifiedLine[];
  /** Who to tell; by default those the moment concerns (DEPARTMENTS_BY_MOMENT). */
  departments?: Department[];
  /** What the customer was offered: required when the moment is `options_offered`. */
  offer?: ResolutionOffer;
}

const categoryOf: Record<Department, MessageCategory> = {
  sales: 'cancellation_progress',
  finance: 'refund',
  purchasing: 'purchasing',
  logistics: 'logistics',
};

/** Where the message stands in the member's message centre: goods overdue and a re-delivery need someone. */
function categoryFor(department: Department, moment: DepartmentMoment): MessageCategory {
  if (moment === 'return_overdue') return 'action_required';
  if (moment === 'redelivery' && department === 'logistics') return 'action_required';
  return categoryOf[department];
}

// Parcels in these states have left the warehouse.
const LEFT_WAREHOUSE: readonly string[] = ['picked_up', 'in_transit', 'delivered', 'recalled', 'returned'];

/**
 * The offer worded for both languages, in the order's currency. Only `options_offered` tells it (an offer
 * passed along with another moment is not its news); without one there, its template names what is missing.
 */
async function offerVariables(
  models: Models,
  params: DepartmentNotificationParams,
): Promise<Record<Language, string> | undefined> {
  if (params.moment !== 'options_offered' || params.offer === undefined) return undefined;
  const offer = checkedOffer(params.offer);
  const order = await models.SalesOrder.findOne({ orderNumber: params.orderNumber }, { currency: 1 }).lean();
  if (!order) {
    throw new CancelflowError('not_found', `no order ${params.orderNumber}`, { field: 'orderNumber' });
  }
  return {
    'zh-CN': departmentOfferWording('zh-CN', offer, order.currency),
    en: departmentOfferWording('en', offer, order.currency),
  };
}

// From these statuses on, the supplier has the order and must hear of a change.
const WITH_SUPPLIER: readonly PurchaseOrderStatus[] = ['sent', 'confirmed', 'partially_received'];

/** The department's message-centre and mailbox key for the moment: one each, however often asked. */
export function departmentNotificationKey(
  cancellationId: string,
  department: Department,
  moment: DepartmentMoment,
): string {
  return `${cancellationId}:department:${department}:${moment}`;
}

/** What the books say this cancellation did, as far as departments care. */
async function gatherFacts(models: Models, params: DepartmentNotificationParams): Promise<DepartmentFacts> {
  const ownKey = (key: string) => key.startsWith(`${params.cancellationId}:`);
  // The order lists its payments, parcels and purchase orders: each is read by its key (models/order-links.ts).
  const order = await models.SalesOrder.findOne(
    { orderNumber: params.orderNumber },
    { lines: 1, paymentIds: 1, shipmentIds: 1, purchaseOrderNumbers: 1 },
  ).lean();
  const [cancellation, refunds, purchaseOrders, shipments] = await Promise.all([
    params.lines ? undefined : models.Cancellation.findOne({ cancellationId: params.cancellationId }).lean(),
    refundsOfPayments(models, params.cancellationId, order?.paymentIds ?? []),
    order ? purchaseOrdersOf(models, order) : [],
    order ? shipmentsOf(models, order) : [],
  ]);
  // The ledger is the largest collection: its movements are read by their idempotency keys (unique), which
  // this cancellation's stock activities derive from the cancellation, the order's lines and its parcels
  // (issue #13: read by any other field, each notice scanned the whole ledger). Likewise a refund's voucher.
  const voucherKeys = refunds.map((refund) => `${refund.idempotencyKey}:voucher`);
  const releaseKeys = (order?.lines ?? []).map((line) => `${params.cancellationId}:release:${line.lineId}`);
  // Returned units are booked against the shipment they came back from, not the order.
  const returnKeys = shipments.flatMap((shipment) =>
    shipment.lines.map((line) => `${params.cancellationId}:return:${shipment.shipmentId}:${line.lineId}`),
  );
  const movementsBy = async (keys: string[]) =>
    keys.length === 0
      ? []
      : models.StockMovement.find({ idempotencyKey: { $in: keys } })
          .sort({ createdAt: 1 })
          .lean();
  const [vouchers, movements, returns] = await Promise.all([
    voucherKeys.length === 0 ? [] : models.Voucher.find({ idempotencyKey: { $in: voucherKeys } }).lean(),
    movementsBy(releaseKeys),
    movementsBy(returnKeys),
  ]);
  const notified =
    params.lines ??
    cancellation?.lines.map((line) => ({
      lineId: line.lineId ?? '',
      sku: line.sku ?? '',
      quantity: line.quantity ?? 0,
    }));
  const cancelledLineIds = notified && new Set(notified.map((line) => line.lineId));
  const ofCancelledLines = (line: { lineId: string }) =>
    !cancelledLineIds || cancelledLineIds.has(line.lineId);

  const adjustments = purchaseOrders.flatMap((po) =>
    po.adjustments
      .filter((adjustment) => adjustment.kind === 'reduce_for_cancellation' && ownKey(adjustment.key))
      .map((adjustment) => ({ po, adjustment })),
  );
  return {
    lines: await namedLines(models, notified),
    refunds: refunds.map((refund) => ({
      paymentId: refund.paymentId,
      amountMinor: refund.amountMinor,
      currency: refund.currency,
      status: refund.status,
      providerRefundId: refund.providerRefundId,
      failure: refund.failure,
    })),
    vouchers: vouchers.map((voucher) => ({
      idempotencyKey: voucher.idempotencyKey,
      currency: voucher.currency,
      lines: voucher.lines.map(({ account, debitMinor, creditMinor }) => ({
        account,
        debitMinor,
        creditMinor,
      })),
    })),
    purchaseReductions: adjustments.flatMap(({ po, adjustment }) =>
      adjustment.changes.map((change) => ({
        poNumber: po.poNumber,
        lineId: change.lineId,
        quantity: change.quantity,
        supplierMustBeTold: WITH_SUPPLIER.includes(adjustment.statusBefore),
      })),
    ),
    purchaseRefusals: adjustments.flatMap(({ po, adjustment }) =>
      adjustment.refusals.map((refusal) => ({
        poNumber: po.poNumber,
        lineId: refusal.lineId,
        quantity: refusal.quantity,
        reason: refusal.reason,
      })),
    ),
    stockReleases: movements
      .filter((movement) => ownKey(movement.idempotencyKey))
      .map((movement) => ({
        sku: movement.sku,
        warehouse: movement.warehouse,
        quantity: -movement.reservedDelta,
      })),
    stockReturns: returns.flatMap((movement) =>
      movement.document && ownKey(movement.idempotencyKey)
        ? [
            {
              sku: movement.sku,
              warehouse: movement.warehouse,
              quantity: movement.onHandDelta,
              shipmentId: movement.document.id,
            },
          ]
        : [],
    ),
    shipments: shipments.map((shipment) => ({
      shipmentId: shipment.shipmentId,
      carrier: shipment.carrier,
      trackingNumber: shipment.trackingNumber,
      status: shipment.status,
    })),
    parcels: shipments
      .filter((shipment) => LEFT_WAREHOUSE.includes(shipment.status) && shipment.lines.some(ofCancelledLines))
      .map((shipment) => {
        const lines = shipment.lines.filter(ofCancelledLines);
        return {
          shipmentId: shipment.shipmentId,
          carrier: shipment.carrier,
          trackingNumber: shipment.trackingNumber,
          status: shipment.status,
          shippedQuantity: lines.reduce((sum, line) => sum + line.quantity, 0),
          returnedQuantity: lines.reduce((sum, line) => sum + line.returnedQuantity, 0),
        };
      }),
  };
}

export function createDepartmentNotificationActivities({ models, logger }: ActivityDeps) {
  return {
    /**
     * R6, R19, R24: tells each department what concerns it at this moment: an entry in every active member's
     * message centre, written here, and a mail to the department's mailbox, recorded in the outbox. Returns
     * the outbox keys to deliver. Safe to retry: one key per cancellation, department and moment.
     */
    async queueDepartmentNotifications(params: DepartmentNotificationParams): Promise<string[]> {
      const facts = await gatherFacts(models, params);
      let offer;
      try {
        offer = await offerVariables(models, params);
      } catch (error) {
        notQueued(error);
      }
      const departments =
        params.departments ??
        DEPARTMENTS_BY_MOMENT[params.moment].filter((department) =>
          concernsDepartment(department, params.moment, {
            refunded: facts.refunds.length > 0,
            changedPurchasing: facts.purchaseReductions.length + facts.purchaseRefusals.length > 0,
          }),
        );

      // Everything is rendered before anything is written: a missing variable stops all of it.
      const messages: [Department, DepartmentMessage][] = [];
      try {
        for (const department of departments) {
          const variables = (language: Language) => ({
            orderNumber: params.orderNumber,
            cancellationId: params.cancellationId,
            reason: reasonWording(language, params.reasonCode),
            refusal: params.refusal,
            offer: offer?.[language],
            details: departmentDetails(department, params.moment, language, facts),
          });
          messages.push([
            department,
            renderDepartmentMessage(params.moment, department, {
              'zh-CN': variables('zh-CN'),
              en: variables('en'),
            }),
          ]);
        }
      } catch (error) {
        notQueued(error);
      }

      const keys: string[] = [];
      // The mailboxes read at once, by the departments' unique codes.
      const mailboxes = new Map(
        (
          await models.Department.find(
            { code: { $in: messages.map(([department]) => department) } },
            { code: 1, email: 1 },
          ).lean()
        ).map((mailbox) => [mailbox.code, mailbox]),
      );
      const keyOf = (department: Department) =>
        departmentNotificationKey(params.cancellationId, department, params.moment);
      const membersByKey = await postMessages(
        models,
        messages.map(([department, message]) => ({
          idempotencyKey: keyOf(department),
          to: { department },
          cancellationId: params.cancellationId,
          orderNumber: params.orderNumber,
          category: categoryFor(department, params.moment),
          content: message.content,
        })),
      );
      const mails: OutboxEntryInput[] = [];
      for (const [department, message] of messages) {
        const key = keyOf(department);
        const members = membersByKey.get(key) ?? [];
        const mailbox = mailboxes.get(department);
        if (!mailbox) {
          logger.warn({ department, key }, 'department has no mailbox: message centre only');
          continue;
        }
        mails.push({
          idempotencyKey: `${key}:email`,
          cancellationId: params.cancellationId,
          channel: 'email',
          recipient: mailbox.email,
          audience: 'department',
          department,
          moment: params.moment,
          template: `department-${department}-${params.moment}`,
          // Both languages in one mail, Chinese first.
          language: 'zh-CN',
          content: message.email,
        });
        keys.push(`${key}:email`);
        logger.info({ department, key, members: members.length }, 'department notified');
      }
      // The mails recorded together once the message centre has them all.
      await recordOutboxEntries(models, mails);
      return keys;
    },
  };
}
