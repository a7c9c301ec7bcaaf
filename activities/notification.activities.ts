// Telling the customer (R12, R16, R18): the message for the moment is rendered in their language, for the
// channels they consented to, and recorded in the outbox; the delivery workflow sends each entry with retries
// (notification-delivery.workflow.ts), so a slow or failing provider never holds the cancellation up.
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { customerLinkUrl } from '../lib/customer-link';
import { isCancelflowError } from '../lib/errors';
import { readPhone } from '../lib/phone';
import type { Models } from '../models';
import { parseInput } from '../models/books-validation';
import { issueFeedbackCode } from '../models/feedback';
import type { NotificationChannel } from '../models/notification.model';
import { shipmentsOf } from '../models/order-links';
import { markOutboxFailed, recordOutboxEntries, type OutboxEntryInput } from '../models/outbox';
import { refundsOfCancellation } from '../models/refund-ledger';
import type { Language } from '../contracts/books.contract';
import type { EffectParams } from '../contracts/effects.contract';
import type { NotificationResult } from '../contracts/cancellation.contract';
import {
  RESOLUTION_OPTIONS,
  type GoodsFate,
  type ReasonCode,
  type ResolutionOffer,
} from '../contracts/cancellation.contract';
import type { ActivityDeps } from './deps';
import { deliverOutboxEntry, publicBaseUrlOf, type OutboxSettings } from './outbox';
import {
  goodsFateWording,
  goodsWhereWording,
  itemsWording,
  offerWording,
  reasonWording,
  refundWording,
  renderCustomerMessage,
  type CustomerMoment,
  type GoodsWhereabouts,
  type ItemLine,
  type RefundedAmount,
} from './templates/customer.templates';
import { FAILURE } from '../contracts/failures.contract';

export interface NotifiedLine {
  lineId: string;
  sku: string;
  quantity: number;
}

export interface CustomerNotificationParams {
  cancellationId: string;
  orderNumber: string;
  customerId: string;
  moment: CustomerMoment;
  reasonCode: ReasonCode;
  /** What was refunded (completed); 0 when nothing was. */
  refundedMinor: number;
  currency: string;
  /** Why the request was not accepted: required when the moment is `rejected`. */
  refusal?: string;
  /** The lines cancelled (or asked to be); absent: the whole order. */
  lines?: NotifiedLine[];
  /** What the customer may choose (R12): required when the moment is `options_offered`. */
  offer?: ResolutionOffer;
  /** What became of the goods (completed); absent: not shipped, their reservation released. */
  goods?: GoodsFate;
  /** What was kept back from the refund when the customer kept the goods (completed, `goods: 'kept'`). */
  deductionMinor?: number;
}

const minorUnits = z
  .number('must be a number')
  .int('must be whole minor units')
  .nonnegative('must be 0 or more');
const offerInput = z.object({
  offer: z
    .object(
      {
        options: z
          .array(z.enum(RESOLUTION_OPTIONS, 'is not an option'))
          .min(1, 'offer at least one option')
          .refine((options) => new Set(options).size === options.length, 'names an option twice'),
        defaultOption: z.enum(RESOLUTION_OPTIONS, 'is not an option'),
        decideBy: z.iso.datetime({ offset: true, error: 'must be an ISO date-time' }),
        refundableMinor: minorUnits,
        deductionMinor: minorUnits,
      },
      'is required',
    )
    .superRefine((offer, context) => {
      // The customer is never told "choose A or B, or else C".
      if (!offer.options.includes(offer.defaultOption)) {
        context.addIssue({ code: 'custom', path: ['defaultOption'], message: 'is not one of the options' });
      }
      if (offer.deductionMinor > offer.refundableMinor) {
        context.addIssue({
          code: 'custom',
          path: ['deductionMinor'],
          message: 'is more than refundableMinor',
        });
      }
    }),
});

/**
 * An offer the customer can be told as it stands: options offered once each, the default among them, a
 * deadline, and a deduction no larger than the refund. Otherwise a `validation_failed` error naming the field
 * (`offer`, `offer.defaultOption`…).
 */
export function checkedOffer(offer: ResolutionOffer | undefined): ResolutionOffer {
  return parseInput(offerInput, { offer }).offer;
}

/**
 * What went back to the customer for this cancellation, per currency: a payment in another currency than the
 * order's is refunded in its own (R11), and the message says so. The books' refunds are the truth; without
 * them (nothing refunded yet, or a message asked for by hand) the amount the workflow gives stands.
 */
async function refundedAmounts(
  models: Models,
  params: Pick<CustomerNotificationParams, 'cancellationId' | 'orderNumber' | 'refundedMinor' | 'currency'>,
): Promise<RefundedAmount[]> {
  // Read by their keys (issue #13); the made ones picked here.
  const refunds = (await refundsOfCancellation(models, params)).filter(
    (refund) => refund.status === 'succeeded' || refund.status === 'settled_manually',
  );
  if (refunds.length === 0) return [{ amountMinor: params.refundedMinor, currency: params.currency }];
  const byCurrency = new Map<string, number>([[params.currency, 0]]);
  for (const refund of refunds) {
    byCurrency.set(refund.currency, (byCurrency.get(refund.currency) ?? 0) + refund.amountMinor);
  }
  return [...byCurrency].map(([currency, amountMinor]) => ({ currency, amountMinor }));
}

// Parcels in these states have left the warehouse and are not (yet) back.
const OUTSIDE: readonly string[] = ['picked_up', 'in_transit', 'delivered'];

/**
 * Where the parcels carrying the lines are (all delivered, some, or none yet: on their way), and where they go
 * back to: the return address of each parcel's warehouse, in the customer's language, when the books have it.
 */
async function goodsWhereabouts(
  models: Models,
  orderNumber: string,
  lines: NotifiedLine[] | undefined,
  language: Language,
): Promise<{ whereabouts: GoodsWhereabouts; returnAddress?: string }> {
  const lineIds = lines && new Set(lines.map((line) => line.lineId));
  // The parcels the order lists, each read by its key (issue #13).
  const order = await models.SalesOrder.findOne({ orderNumber }, { shipmentIds: 1 }).lean();
  const parcels = (order ? await shipmentsOf(models, order) : []).filter(
    (parcel) =>
      OUTSIDE.includes(parcel.status) && (!lineIds || parcel.lines.some((line) => lineIds.has(line.lineId))),
  );
  const delivered = parcels.filter((parcel) => parcel.status === 'delivered').length;
  const whereabouts =
    delivered > 0 && delivered === parcels.length
      ? 'delivered'
      : delivered > 0
        ? 'partly_delivered'
        : 'on_the_way';

  const codes = [...new Set(parcels.map((parcel) => parcel.warehouse))];
  const warehouses = await models.Warehouse.find(
    { code: { $in: codes } },
    { code: 1, returnAddress: 1 },
  ).lean();
  const addresses = new Map(
    warehouses.map((warehouse) => [warehouse.code, warehouse.returnAddress[language]]),
  );
  // Without an address for every parcel, the message says customer service gives it rather than half of it.
  if (codes.length === 0 || codes.some((code) => !addresses.has(code))) return { whereabouts };
  if (codes.length === 1) return { whereabouts, returnAddress: addresses.get(codes[0] ?? '') };
  const perParcel = parcels.map((parcel) =>
    language === 'zh-CN'
      ? `包裹 ${parcel.shipmentId} 寄至 ${addresses.get(parcel.warehouse) ?? ''}`
      : `parcel ${parcel.shipmentId} to ${addresses.get(parcel.warehouse) ?? ''}`,
  );
  return { whereabouts, returnAddress: perParcel.join(language === 'zh-CN' ? '；' : '; ') };
}

/** The outbox key of the customer's message for a moment on a channel: one message, however often asked. */
export function customerNotificationKey(
  cancellationId: string,
  moment: CustomerMoment,
  channel: NotificationChannel,
): string {
  return `${cancellationId}:customer:${moment}:${channel}`;
}

/** Lines with their products' names, for people to read. */
export async function namedLines(models: Models, lines: NotifiedLine[] | undefined): Promise<ItemLine[]> {
  if (!lines || lines.length === 0) return [];
  const products = await models.Product.find(
    { sku: { $in: lines.map((line) => line.sku) } },
    { sku: 1, name: 1 },
  ).lean();
  const names = new Map(products.map((product) => [product.sku, product.name]));
  return lines.map((line) => ({ sku: line.sku, name: names.get(line.sku), quantity: line.quantity }));
}

/**
 * A message that cannot be recorded (unknown customer, a template variable missing) will not become
 * recordable by retrying: a non-retryable failure that names what is wrong, and nothing is recorded or sent.
 */
export function notQueued(error: unknown): never {
  if (isCancelflowError(error) && (error.code === 'validation_failed' || error.code === 'not_found')) {
    throw ApplicationFailure.create({
      message: error.message,
      type: FAILURE.notificationNotQueued,
      nonRetryable: true,
      details: [error.details],
    });
  }
  throw error;
}

export function createNotificationActivities(deps: ActivityDeps & OutboxSettings) {
  const { models, logger } = deps;
  const customerUrlOf = (params: Pick<CustomerNotificationParams, 'cancellationId' | 'orderNumber'>) =>
    deps.customerLinks && customerLinkUrl(deps.customerLinks, publicBaseUrlOf(deps), params);

  /** Renders the moment's message for each consented channel and records it; returns what it recorded. */
  async function queueForCustomer(params: CustomerNotificationParams) {
    const customer = await models.Customer.findOne({ customerId: params.customerId }).lean();
    if (!customer) {
      throw ApplicationFailure.nonRetryable(
        `no customer ${params.customerId}`,
        FAILURE.notificationNotQueued,
      );
    }
    const language: Language = customer.language === 'en' ? 'en' : 'zh-CN';
    const variables: Record<string, string | undefined> = {
      customerName: customer.name,
      orderNumber: params.orderNumber,
      cancellationId: params.cancellationId,
      reason: reasonWording(language, params.reasonCode),
      items: itemsWording(language, await namedLines(models, params.lines)),
      refusal: params.refusal,
      customerUrl: customerUrlOf(params),
    };
    if (params.moment === 'completed') {
      const order = await models.SalesOrder.findOne({ orderNumber: params.orderNumber }, { lines: 1 }).lean();
      const restOfOrderShips = (order?.lines ?? []).some((line) => line.cancelledQuantity < line.quantity);
      const code = await issueFeedbackCode(models, {
        cancellationId: params.cancellationId,
        orderNumber: params.orderNumber,
        customerId: params.customerId,
      });
      Object.assign(
        variables,
        refundWording(language, await refundedAmounts(models, params)),
        goodsFateWording(language, params.goods ?? 'released', {
          restOfOrderShips,
          currency: params.currency,
          deductionMinor: params.deductionMinor,
        }),
        {
          feedbackCode: code,
          // The customer's page takes the rating (and shows the rest); without the key, the API's address.
          feedbackUrl: variables.customerUrl ?? `${publicBaseUrlOf(deps)}/v1/feedback/${code}`,
        },
      );
    }
    if (params.moment === 'options_offered') {
      let offer;
      try {
        offer = checkedOffer(params.offer);
      } catch (error) {
        notQueued(error);
      }
      const goods = await goodsWhereabouts(models, params.orderNumber, params.lines, language);
      Object.assign(
        variables,
        offerWording(language, offer, params.currency, goods.returnAddress),
        goodsWhereWording(language, goods.whereabouts),
      );
    }
    // Rendered before anything is recorded: a missing variable stops every channel, not just the second.
    let message;
    try {
      message = renderCustomerMessage(params.moment, language, variables);
    } catch (error) {
      notQueued(error);
    }

    const base = {
      cancellationId: params.cancellationId,
      audience: 'customer' as const,
      moment: params.moment,
      template: `customer-${params.moment}`,
      language,
      payload: variables,
    };
    const queued: { channel: NotificationChannel; key: string }[] = [];
    const skipped: NotificationResult[] = [];
    const entries: OutboxEntryInput[] = [];
    if (customer.email && customer.consent?.email) {
      const key = customerNotificationKey(params.cancellationId, params.moment, 'email');
      entries.push({
        ...base,
        idempotencyKey: key,
        channel: 'email',
        recipient: customer.email,
        content: { subject: message.subject, text: message.text, html: message.html },
      });
      queued.push({ channel: 'email', key });
    } else {
      skipped.push({
        channel: 'email',
        status: 'skipped',
        detail: customer.email ? 'no consent' : 'no address',
      });
    }
    // Twilio takes E.164 only (error 21211 otherwise): the number as the books read it when it was written,
    // or, for a customer written before they did, read now the same way, with the customer's country.
    const number = !customer.phone
      ? undefined
      : customer.phoneE164
        ? ({ ok: true, e164: customer.phoneE164 } as const)
        : readPhone(customer.phone, customer.country);
    if (number?.ok && customer.consent?.sms) {
      const key = customerNotificationKey(params.cancellationId, params.moment, 'sms');
      entries.push({
        ...base,
        idempotencyKey: key,
        channel: 'sms',
        recipient: number.e164,
        content: { body: message.sms },
      });
      queued.push({ channel: 'sms', key });
    } else {
      let detail = 'no number';
      if (number && !customer.consent?.sms) detail = 'no consent';
      else if (number && !number.ok) detail = `the number "${customer.phone ?? ''}" ${number.problem}`;
      skipped.push({ channel: 'sms', status: 'skipped', detail });
    }
    await recordOutboxEntries(models, entries);
    logger.info(
      { cancellationId: params.cancellationId, moment: params.moment, queued: queued.length },
      'customer notifications queued',
    );
    return { queued, skipped };
  }

  return {
    /**
     * R12, R16, R18: records the customer's message for the moment, in their language, on the channels they
     * consented to. Returns the outbox keys to deliver (startNotificationDeliveries). Safe to retry: the keys
     * are per cancellation, moment and channel, and an entry is recorded once.
     */
    async queueCustomerNotifications(params: CustomerNotificationParams): Promise<string[]> {
      const { queued } = await queueForCustomer(params);
      return queued.map((entry) => entry.key);
    },

    /**
     * The "cancelled" message (R12, R18), recorded for each consented channel, for its delivery workflows
     * (startDeliveryWorkflows): returns the keys to start and, for the cancellation's view, each channel
     * `queued` or `skipped` with the reason. A message that cannot be made is reported as skipped, never
     * thrown: it must not fail the cancellation. Same keys as `queueCustomerNotifications` for `completed`.
     */
    async queueCustomerCompletion(
      params: EffectParams['notifyCustomer'],
    ): Promise<{ keys: string[]; results: NotificationResult[] }> {
      let recorded;
      try {
        recorded = await queueForCustomer({ ...params, moment: 'completed' });
      } catch (error) {
        if (!(error instanceof ApplicationFailure) || error.type !== FAILURE.notificationNotQueued)
          throw error;
        return { keys: [], results: [{ channel: 'email', status: 'skipped', detail: error.message }] };
      }
      const { queued, skipped } = recorded;
      const results: NotificationResult[] = [
        ...queued.map(({ channel }) => ({ channel, status: 'queued' as const })),
        ...skipped,
      ];
      return {
        keys: queued.map((entry) => entry.key),
        results: results.sort((a, b) => a.channel.localeCompare(b.channel)),
      };
    },

    /**
     * The "cancelled" message, recorded and sent at once, one attempt per channel: what histories recorded
     * before the `customer-completion-delivered-by-workflow` patch call (queueCustomerCompletion since). A
     * failure is recorded and reported, never thrown. Its keys are those of `queueCustomerCompletion`, so
     * switching over never sends twice. `goods` and `deductionMinor` say what became of shipped goods.
     */
    async notifyCustomer(
      params: EffectParams['notifyCustomer'] & { goods?: GoodsFate; deductionMinor?: number },
    ): Promise<NotificationResult[]> {
      let recorded;
      try {
        recorded = await queueForCustomer({ ...params, moment: 'completed' });
      } catch (error) {
        // This activity's contract: a message that cannot be made is reported, not thrown.
        if (!(error instanceof ApplicationFailure) || error.type !== FAILURE.notificationNotQueued)
          throw error;
        return [{ channel: 'email', status: 'skipped', detail: error.message }];
      }
      const { queued, skipped } = recorded;
      const results: NotificationResult[] = [];
      for (const { channel, key } of queued) {
        const outcome = await deliverOutboxEntry(deps, key);
        if (outcome.status === 'sent') {
          results.push({ channel, status: 'sent' });
        } else if (outcome.status === 'failed') {
          results.push({ channel, status: 'failed', detail: outcome.error });
        } else {
          const detail = outcome.status === 'busy' ? 'another attempt is sending it' : outcome.error;
          await markOutboxFailed(models, key, detail);
          results.push({ channel, status: 'failed', detail });
        }
      }
      return [...results, ...skipped].sort((a, b) => a.channel.localeCompare(b.channel));
    },
  };
}
