// The customer asks to cancel their own order (issue #14), from the signed link in the shop's order mail
// (lib/customer-link.ts, signOrderLink; handed out by POST /v1/orders/:orderNumber/customer-link). Public routes,
// registered inside the customer pages' scope (customer.routes.ts) so a link that does not hold gets the same
// refusal page (403, or 410 when expired) with nothing of the order.
//
// The answer as the form changes is the staff's preview (api/console/preview.ts) after the person check, worded
// for the customer; the request goes through the same service as POST /v1/cancellations, as the customer whose
// order it is (`customer:<customerId>`, from the books, never from the form) on the channel `customer_link`, with
// the form's idempotency key; then to the customer's signed page of that cancellation.
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Language } from '../../contracts/books.contract';
import type { CancellationPolicy } from '../../contracts/policy.contract';
import {
  checkOrderLink,
  customerLinkSearch,
  customerOrderPagePath,
  customerPagePath,
  orderLinkSearch,
  signCustomerLink,
  type CustomerLinkRefusal,
  type CustomerLinkSettings,
  type OrderLinkQuery,
} from '../../lib/customer-link';
import { isCancelflowError } from '../../lib/errors';
import type { Models } from '../../models';
import type { ApiInstance } from '../auth/access';
import type { CancellationService } from '../cancellation.service';
import { idempotencyKeyOf } from '../request-parts';
import { cancelRequestOf } from './cancel-request';
import { isLanguage, languageOf } from './i18n';
import { one, sendHtml, type Form } from './kit';
import {
  CUSTOMER_REASONS,
  customerAnswerFragment,
  customerOrderPage,
  type CustomerAnswer,
  type CustomerOrderFacts,
} from './pages/customer-order';
import type { PageContext } from './pages/layout';
import { previewForOrder } from './preview';

const byLink = {
  access: { public: 'the signed, expiring link from the shop’s order mail guards it' },
} as const;

const orderParams = z.object({ orderNumber: z.string().min(1).max(64) });
const linkQuery = z.looseObject({
  expires: z.string().max(32).optional(),
  sig: z.string().max(128).optional(),
  lang: z.string().max(16).optional(),
});
type LinkQuery = z.output<typeof linkQuery>;

interface OpenedOrder {
  order: CustomerOrderFacts;
  customerId: string;
  language: Language;
  signed: OrderLinkQuery;
  lang?: Language;
}

export function registerCustomerOrderRoutes<Logger extends FastifyBaseLogger>(
  scope: ApiInstance<Logger>,
  deps: {
    models: Models;
    cancellations: CancellationService;
    policy: CancellationPolicy;
    links: CustomerLinkSettings;
    /** The refusal the customer pages' error handler answers with its page (403, 404 or 410). */
    refused: (why: CustomerLinkRefusal | 'unknown') => Error;
    contextFor: (
      request: FastifyRequest,
      language: Language,
      languageHref?: (other: Language) => string,
    ) => PageContext;
  },
): void {
  const { models, cancellations } = deps;

  /** The link checked first; then the order (by its exact number, as signed), its customer and their items. */
  async function open(request: FastifyRequest, orderNumber: string): Promise<OpenedOrder> {
    const query = request.query as LinkQuery;
    const check = checkOrderLink(deps.links, orderNumber, query);
    if (!check.ok) throw deps.refused(check.why);
    const order = await models.SalesOrder.findOne({ orderNumber }).lean();
    if (!order) throw deps.refused('unknown');
    const skus = [...new Set(order.lines.map((line) => line.sku))];
    const [customer, products] = await Promise.all([
      models.Customer.findOne({ customerId: order.customerId }, { name: 1, language: 1 }).lean(),
      models.Product.find({ sku: { $in: skus } }, { sku: 1, name: 1 }).lean(),
    ]);
    const lang = one(query.lang);
    const chosen = isLanguage(lang) ? lang : undefined;
    const signed = { expires: query.expires ?? '', sig: query.sig ?? '' };
    return {
      order: {
        orderNumber: order.orderNumber,
        status: order.status,
        currency: order.currency,
        totalMinor: order.totalMinor,
        createdAt: order.createdAt,
        lines: order.lines.map((line) => ({
          lineId: line.lineId,
          sku: line.sku,
          quantity: line.quantity,
          cancelledQuantity: line.cancelledQuantity,
          unitPriceMinor: line.unitPriceMinor,
        })),
        customerName: customer?.name,
        productNames: new Map(products.map((product) => [product.sku, product.name])),
        path: customerOrderPagePath(order.orderNumber),
        search: orderLinkSearch(signed, chosen),
      },
      customerId: order.customerId,
      language:
        chosen ??
        (customer?.language === 'en' || customer?.language === 'zh-CN'
          ? customer.language
          : languageOf(request)),
      signed,
      lang: chosen,
    };
  }

  const contextOf = (request: FastifyRequest, opened: OpenedOrder) =>
    deps.contextFor(
      request,
      opened.language,
      (other) => `${opened.order.path}?${orderLinkSearch(opened.signed, other)}`,
    );

  /** The customer's signed page of a cancellation of this order, in the language they are reading. */
  const cancellationPageOf = (opened: OpenedOrder, cancellationId: string) =>
    `${customerPagePath(cancellationId)}?${customerLinkSearch(
      signCustomerLink(deps.links, { cancellationId, orderNumber: opened.order.orderNumber }),
      opened.lang,
    )}`;

  /** The running cancellation of this order, if any (by the unique key that holds the order while it runs). */
  const runningOf = (orderNumber: string) =>
    models.Cancellation.findOne({ activeForOrder: orderNumber }, { cancellationId: 1 }).lean();

  /** The form as the API's body, with a customer's reason only (anything else is taken as `other`). */
  function wantedOf(orderNumber: string, form: Form) {
    const { scope, request } = cancelRequestOf(orderNumber, form);
    const reasonCode = CUSTOMER_REASONS.find((code) => code === request.reasonCode) ?? 'other';
    return { scope, request: { ...request, reasonCode } };
  }

  async function answerOf(opened: OpenedOrder, form: Form): Promise<CustomerAnswer> {
    const { scope, request } = wantedOf(opened.order.orderNumber, form);
    if (scope === 'lines' && (request.lines ?? []).length === 0) return { ok: false, code: 'chooseLines' };
    return previewForOrder(models, deps.policy, request);
  }

  scope.get(
    '/customer/orders/:orderNumber',
    { config: byLink, schema: { hide: true, params: orderParams, querystring: linkQuery } },
    async (request, reply) => {
      const opened = await open(request, request.params.orderNumber);
      // Asked for already and still under way: that cancellation's page, not a second request.
      const running = await runningOf(opened.order.orderNumber);
      if (running) return reply.redirect(cancellationPageOf(opened, running.cancellationId), 303);
      const answer = await answerOf(opened, { scope: 'whole', reasonCode: CUSTOMER_REASONS[0] });
      return sendHtml(reply, customerOrderPage(contextOf(request, opened), opened.order, answer));
    },
  );

  scope.get(
    '/customer/orders/:orderNumber/preview',
    { config: byLink, schema: { hide: true, params: orderParams, querystring: linkQuery } },
    async (request, reply) => {
      const opened = await open(request, request.params.orderNumber);
      const answer = await answerOf(opened, request.query as Form);
      const { t } = contextOf(request, opened);
      return sendHtml(reply, customerAnswerFragment(t, opened.order.status, answer));
    },
  );

  scope.post(
    '/customer/orders/:orderNumber/cancellations',
    { config: byLink, schema: { hide: true, params: orderParams, querystring: linkQuery } },
    async (request, reply) => {
      const opened = await open(request, request.params.orderNumber);
      const form = (request.body ?? {}) as Form;
      const { scope: chosen, request: wanted } = wantedOf(opened.order.orderNumber, form);
      const context = contextOf(request, opened);
      const refusedWith = async (status: number) =>
        sendHtml(
          reply,
          customerOrderPage(context, opened.order, await answerOf(opened, form), {
            kind: 'error',
            text: context.t('customerOrder.notSent'),
          }),
          status,
        );
      if (chosen === 'lines' && (wanted.lines ?? []).length === 0) return refusedWith(400);
      try {
        // The same service as POST /v1/cancellations: it reviews, records and starts, as this order's customer.
        const accepted = await cancellations.create(
          wanted,
          { customerId: opened.customerId },
          idempotencyKeyOf(one(form.idempotencyKey)),
        );
        request.log.info(
          {
            cancellationId: accepted.cancellationId,
            orderNumber: accepted.orderNumber,
            existing: accepted.existing,
          },
          'customer asked to cancel their order',
        );
        return reply.redirect(cancellationPageOf(opened, accepted.cancellationId), 303);
      } catch (error) {
        if (!isCancelflowError(error) || error.httpStatus >= 500) throw error;
        return refusedWith(error.httpStatus);
      }
    },
  );
}
