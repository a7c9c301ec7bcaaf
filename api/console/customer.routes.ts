// The customer's own pages (issue #14, row 31, R12, R16): public routes, because the customer has no account;
// what guards them is the signed, expiring link (lib/customer-link.ts) in their query. Every request checks it
// before reading anything else: a link that is not ours or was changed, one for another cancellation or order,
// or one past its time gets a page saying so, and nothing of any cancellation.
//
// What the customer does goes through what the API's routes use: their choice is the same Update as
// `POST /v1/cancellations/:id/choice`, sent as the customer (their id, from the books, as `by`); their rating is
// the same operation as `POST /v1/feedback/:code` (models/feedback.ts), on their cancellation's code.
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { chooseResolution } from '../../client/cancellation-decisions';
import { cancellationIdParams, choiceBody, type CancellationResource } from '../../client/contract';
import type { Language } from '../../contracts/books.contract';
import type { CancellationPolicy } from '../../contracts/policy.contract';
import {
  checkCustomerLink,
  customerLinkSearch,
  customerPagePath,
  type CustomerLinkQuery,
  type CustomerLinkRefusal,
  type CustomerLinkSettings,
} from '../../lib/customer-link';
import { isCancelflowError } from '../../lib/errors';
import type { Models } from '../../models';
import { issueFeedbackCode, submitFeedback } from '../../models/feedback';
import type { ApiInstance } from '../auth/access';
import type { CancellationService } from '../cancellation.service';
import { isDatabaseUnreachable, RETRY_AFTER_SECONDS } from '../deadlines';
import { registerCustomerOrderRoutes } from './customer-order.routes';
import { html } from './html';
import { isLanguage, languageOf, translator } from './i18n';
import { bodyOf, one, sendHtml, textField, type Form } from './kit';
import { streamCancellation, type LiveOptions, type OpenStreams } from './live';
import {
  customerLiveParts,
  customerPage,
  customerRefusedPage,
  type CustomerFeedback,
  type CustomerPageFacts,
} from './pages/customer';
import { errorFragment } from './pages/errors';
import { page, type PageContext } from './pages/layout';
import { waitingSince } from './queues';

const byLink = {
  access: { public: 'the signed, expiring link from the customer’s message guards it' },
} as const;

const linkQuery = z.looseObject({
  order: z.string().max(256).optional(),
  expires: z.string().max(32).optional(),
  sig: z.string().max(128).optional(),
  lang: z.string().max(16).optional(),
  done: z.string().max(16).optional(),
});
type LinkQuery = z.output<typeof linkQuery>;

/** A link that does not hold, with the status its page answers. */
class LinkRefused extends Error {
  constructor(
    readonly why: CustomerLinkRefusal | 'unknown',
    /** What the link was to open: a cancellation, or (the order mail's link) an order. */
    readonly what: 'cancellation' | 'order' = 'cancellation',
  ) {
    super(`customer link refused: ${why}`);
  }
  get status(): number {
    return this.why === 'expired' ? 410 : this.why === 'unknown' ? 404 : 403;
  }
}

interface Opened {
  cancellationId: string;
  /** The products' names by SKU, read once the first time the page is drawn (the lines do not change). */
  productNames?: ReadonlyMap<string, string>;
  orderNumber: string;
  customerId: string;
  customerName?: string;
  language: Language;
  /** The link's signed parts, as they came: the page's forms and language switch carry them on. */
  signed: CustomerLinkQuery;
  lang?: Language;
}

export function registerCustomerRoutes<Logger extends FastifyBaseLogger>(
  routes: ApiInstance<Logger>,
  deps: {
    models: Models;
    cancellations: CancellationService;
    links: CustomerLinkSettings;
    /** The policy the customer's own order page previews a cancellation against (customer-order.routes.ts). */
    policy: CancellationPolicy;
    live: LiveOptions;
    streams: OpenStreams;
  },
): void {
  const { models, cancellations } = deps;

  void routes.register((scope: ApiInstance<Logger>, _options, done) => {
    const contextFor = (
      request: FastifyRequest,
      language: Language,
      languageHref?: (other: Language) => string,
    ): PageContext => ({
      t: translator(language),
      here: request.url,
      // The customer's pages switch language through their own link (the console's switch leads to console
      // pages only); without a link that holds, to the same address in the other language.
      languageHref:
        languageHref ?? ((other) => `${request.url.split('?')[0] ?? ''}?lang=${encodeURIComponent(other)}`),
    });
    const cancellationContext = (request: FastifyRequest, opened: Opened) =>
      contextFor(
        request,
        opened.language,
        (other) => `${customerPagePath(opened.cancellationId)}?${customerLinkSearch(opened.signed, other)}`,
      );
    const requestedLanguage = (request: FastifyRequest): Language => {
      const lang = one((request.query as LinkQuery | undefined)?.lang);
      return isLanguage(lang) ? lang : languageOf(request);
    };

    scope.setErrorHandler((error, request, reply) => {
      const language = requestedLanguage(request);
      if (error instanceof LinkRefused) {
        return sendHtml(
          reply,
          customerRefusedPage(contextFor(request, language), error.why, error.what),
          error.status,
        );
      }
      let status = 500;
      let detail: string | undefined;
      if (isCancelflowError(error)) {
        status = error.httpStatus;
        detail = status < 500 ? error.message : undefined;
      } else if (isDatabaseUnreachable(error)) {
        status = 503;
      } else if (hasZodFastifySchemaValidationErrors(error)) {
        status = 400;
      }
      if (status === 503) void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      if (status >= 500 && status !== 503)
        request.log.error({ err: error }, 'customer page: unhandled error');
      const context = contextFor(request, language);
      return sendHtml(
        reply,
        page(
          context,
          context.t('error.title'),
          html`<h1>${context.t('error.title')}</h1>
            ${errorFragment(context.t, status, detail)}`,
        ),
        status,
      );
    });

    /** The link checked, then the cancellation and its customer: what every customer route starts with. */
    async function open(request: FastifyRequest, cancellationId: string): Promise<Opened> {
      const query = request.query as LinkQuery;
      const check = checkCustomerLink(deps.links, cancellationId, query);
      if (!check.ok) throw new LinkRefused(check.why);
      // By the unique key alone (an index lookup, #13).
      const record = await models.Cancellation.findOne(
        { cancellationId },
        { orderNumber: 1, customerId: 1 },
      ).lean();
      if (!record) throw new LinkRefused('unknown');
      // Signed by us for this cancellation, but naming another order than its own: never shown.
      if (record.orderNumber !== check.orderNumber) throw new LinkRefused('tampered');
      const customer = await models.Customer.findOne(
        { customerId: record.customerId },
        { name: 1, language: 1 },
      ).lean();
      const lang = one(query.lang);
      const chosen = isLanguage(lang) ? lang : undefined;
      return {
        cancellationId,
        orderNumber: record.orderNumber,
        customerId: record.customerId,
        customerName: customer?.name,
        // The language they asked for on this page, else their own (the books keep it), else the browser's.
        language:
          chosen ??
          (customer?.language === 'en' || customer?.language === 'zh-CN'
            ? customer.language
            : languageOf(request)),
        signed: { order: query.order ?? '', expires: query.expires ?? '', sig: query.sig ?? '' },
        lang: chosen,
      };
    }

    const feedbackOf = async (cancellationId: string): Promise<CustomerFeedback | undefined> => {
      const feedback = await models.Feedback.findOne({ cancellationId }, { rating: 1, comment: 1 }).lean();
      return feedback
        ? { rating: feedback.rating ?? null, comment: feedback.comment ?? undefined }
        : undefined;
    };

    /** The names of the cancelled lines' products, read once per request by their unique SKUs. */
    const named = async (opened: Opened, resource: CancellationResource) => {
      if (opened.productNames) return;
      const skus = [...new Set(resource.lines.map((line) => line.sku))];
      const products = skus.length
        ? await models.Product.find({ sku: { $in: skus } }, { sku: 1, name: 1 }).lean()
        : [];
      opened.productNames = new Map(products.map((product) => [product.sku, product.name]));
    };

    const factsOf = (
      opened: Opened,
      resource: CancellationResource,
      feedback: CustomerFeedback | undefined,
    ): CustomerPageFacts => {
      const offer = resource.goods?.offer;
      // The offer's wait runs from when the customer was asked (on the workflow's clock, as its deadline).
      const askedAt = offer
        ? waitingSince(
            resource.timeline.map((entry) => ({ state: entry.state, at: new Date(entry.at) })),
            'agreeingWithCustomer',
            new Date(resource.updatedAt),
          )
        : undefined;
      return {
        resource,
        customerName: opened.customerName,
        decideBy: offer && askedAt ? new Date(askedAt.getTime() + offer.decideWithinMs) : undefined,
        feedback,
        productNames: opened.productNames,
        path: customerPagePath(opened.cancellationId),
        search: customerLinkSearch(opened.signed, opened.lang),
      };
    };

    async function render(
      request: FastifyRequest,
      reply: FastifyReply,
      opened: Opened,
      message?: { kind: 'ok' | 'error' | 'info'; text: string },
      status = 200,
    ) {
      const [resource, feedback] = await Promise.all([
        cancellations.get(opened.cancellationId),
        feedbackOf(opened.cancellationId),
      ]);
      await named(opened, resource);
      const context = cancellationContext(request, opened);
      return sendHtml(reply, customerPage(context, factsOf(opened, resource, feedback), message), status);
    }

    const translatorFor = (opened: Opened) => ({ t: translator(opened.language) });

    const pageUrl = (opened: Opened, doneWith: string) =>
      `${customerPagePath(opened.cancellationId)}?${customerLinkSearch(opened.signed, opened.lang)}&done=${doneWith}`;

    scope.get(
      '/customer/cancellations/:id',
      { config: byLink, schema: { hide: true, params: cancellationIdParams, querystring: linkQuery } },
      async (request, reply) => {
        const opened = await open(request, request.params.id);
        const { t } = translatorFor(opened);
        const doneWith = request.query.done;
        const message =
          doneWith === 'choice'
            ? { kind: 'ok' as const, text: t('customer.choice.done') }
            : doneWith === 'feedback'
              ? { kind: 'ok' as const, text: t('customer.feedback.done') }
              : undefined;
        return render(request, reply, opened, message);
      },
    );

    scope.get(
      '/customer/cancellations/:id/events',
      { config: byLink, schema: { hide: true, params: cancellationIdParams, querystring: linkQuery } },
      async (request, reply) => {
        const opened = await open(request, request.params.id);
        const { t } = translatorFor(opened);
        await streamCancellation(
          request,
          reply,
          {
            models,
            cancellations,
            options: deps.live,
            streams: deps.streams,
            // The customer's page shows no notifications: nothing to wait for once it ended.
            read: async (resource) => {
              await named(opened, resource);
              const feedback = await feedbackOf(opened.cancellationId);
              return { parts: customerLiveParts(t, factsOf(opened, resource, feedback)), queued: false };
            },
          },
          opened.cancellationId,
        );
        return reply;
      },
    );

    // R12: the customer's choice, as POST /v1/cancellations/:id/choice passes it on: the same Update, by them.
    scope.post(
      '/customer/cancellations/:id/choice',
      { config: byLink, schema: { hide: true, params: cancellationIdParams, querystring: linkQuery } },
      async (request, reply) => {
        const opened = await open(request, request.params.id);
        const { t } = translatorFor(opened);
        const form = (request.body ?? {}) as Form;
        try {
          const body = bodyOf(choiceBody, { option: one(form.option), note: textField(form, 'note') });
          await cancellations.act(chooseResolution, opened.cancellationId, {
            option: body.option,
            by: opened.customerId,
            note: body.note,
          });
        } catch (error) {
          if (!isCancelflowError(error) || error.httpStatus >= 500) throw error;
          const why =
            error.code === 'validation_failed' ? t('customer.choice.invalid') : t('customer.choice.refused');
          return render(request, reply, opened, { kind: 'error', text: why }, error.httpStatus);
        }
        return reply.redirect(pageUrl(opened, 'choice'), 303);
      },
    );

    // R16: their rating, as POST /v1/feedback/:code takes it, on their cancellation's code, once it ended.
    scope.post(
      '/customer/cancellations/:id/feedback',
      { config: byLink, schema: { hide: true, params: cancellationIdParams, querystring: linkQuery } },
      async (request, reply) => {
        const opened = await open(request, request.params.id);
        const { t } = translatorFor(opened);
        const record = await models.Cancellation.findOne(
          { cancellationId: opened.cancellationId },
          { outcome: 1, state: 1 },
        ).lean();
        if (!record?.outcome && !record?.state.startsWith('workflow ')) {
          return render(request, reply, opened, { kind: 'error', text: t('customer.feedback.notYet') }, 409);
        }
        const form = (request.body ?? {}) as Form;
        const rating = Number(one(form.rating));
        try {
          const code = await issueFeedbackCode(models, {
            cancellationId: opened.cancellationId,
            orderNumber: opened.orderNumber,
            customerId: opened.customerId,
          });
          await submitFeedback(models, code, {
            rating,
            ...(textField(form, 'comment') ? { comment: textField(form, 'comment') } : {}),
          });
        } catch (error) {
          if (!isCancelflowError(error) || error.httpStatus >= 500) throw error;
          const why =
            error.code === 'conflict' ? t('customer.feedback.already') : t('customer.feedback.invalid');
          return render(request, reply, opened, { kind: 'error', text: why }, error.httpStatus);
        }
        request.log.info({ cancellationId: opened.cancellationId, rating }, 'feedback received');
        return reply.redirect(pageUrl(opened, 'feedback'), 303);
      },
    );

    registerCustomerOrderRoutes(scope, {
      models,
      cancellations,
      policy: deps.policy,
      links: deps.links,
      refused: (why) => new LinkRefused(why, 'order'),
      contextFor,
    });

    done();
  });
}
