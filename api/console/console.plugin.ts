// The web console (issue #14), served by the API under /console: server-rendered pages (./pages, escaped by
// ./html.ts), made interactive with htmx, in zh-CN and English (./i18n). Its routes are the API's like any
// other: each states its access (api/auth/access.ts enforces it, sessions' writes carry the CSRF token), and
// what they do goes through the same services and models the JSON routes use: the order search, the
// cancellation service (a cancel is `create` as the signed-in person; a decision, a settlement, a resumption, a
// return are the same Updates), the message centre's operations, the rules. They are hidden from the OpenAPI
// document, which describes the JSON API. The queues (./queues.routes.ts), the message centre
// (./messages.routes.ts), the analytics page (./analytics.routes.ts), bulk cancellation (./bulk.routes.ts),
// outbound webhooks for admins (./webhooks.routes.ts) and the customer's own pages (./customer.routes.ts) are
// registered from here.
import fastifyStatic from '@fastify/static';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { decideApproval } from '../../client/cancellation-decisions';
import {
  cancellationIdParams,
  cancellationListQuery,
  decisionBody,
  orderNumberParams,
  type CancellationResource,
} from '../../client/contract';
import { REASON_CODES } from '../../contracts/cancellation.contract';
import type { CancellationPolicy } from '../../contracts/policy.contract';
import type { Config } from '../../lib/config';
import { customerLinkUrl, type CustomerLinkSettings } from '../../lib/customer-link';
import { CancelflowError, isCancelflowError } from '../../lib/errors';
import type { Models } from '../../models';
import { checkPassword, endSession, startSession } from '../../models/credentials';
import { unreadCount } from '../../models/message-centre';
import { getOrder, searchOrders } from '../../models/order-search';
import {
  ANY_ROLE,
  callerOf,
  SESSION_COOKIE,
  sessionIdOf,
  touchesOnlyOwn,
  type Access,
  type ApiInstance,
  type Caller,
} from '../auth/access';
import { setSessionCookie, type SessionSettings } from '../auth/auth.routes';
import type { CancellationService } from '../cancellation.service';
import type { BulkCancellationService } from '../bulk-cancellation.service';
import type { WebhookSubscriptionService } from '../webhook-subscriptions.service';
import { isDatabaseUnreachable, RETRY_AFTER_SECONDS } from '../deadlines';
import { idempotencyKeyOf } from '../request-parts';
import { registerAnalyticsConsoleRoutes } from './analytics.routes';
import { cancelRequestOf } from './cancel-request';
import { assetDirectory, STYLESHEET, STYLESHEET_ETAG } from './assets';
import { registerCustomerRoutes } from './customer.routes';
import { html } from './html';
import { formatMoment, isLanguage, LANGUAGE_COOKIE, languageOf, translator } from './i18n';
import { isHtmx, one, sendHtml, type ConsoleKit, type Form } from './kit';
import { LIVE_DEFAULTS, OpenStreams, streamCancellation, type LiveOptions } from './live';
import { registerMessageCentreRoutes } from './messages.routes';
import { previewCancellation } from './preview';
import { cancellationPage, liveParts, type NotificationRow } from './pages/cancellation';
import { errorFragment, errorPage } from './pages/errors';
import { inboxPage } from './pages/inbox';
import { notice, type PageContext } from './pages/layout';
import { orderPage, previewFragment } from './pages/order';
import { ordersPage, SEARCH_FIELDS, type SearchForm } from './pages/orders';
import { signInPage } from './pages/sign-in';
import { QUEUE_TARGETS, type QueueTargets } from './queues';
import { registerQueueRoutes } from './queues.routes';
import { registerBulkConsoleRoutes } from './bulk.routes';
import { registerWebhookConsoleRoutes } from './webhooks.routes';

export interface ConsoleSettings {
  /** The Temporal Web UI, where a cancellation's page links its workflow's history. */
  temporalUiUrl: string;
  temporalNamespace: string;
  /** Whether cookies go over HTTPS only. */
  secureCookies: boolean;
  live: LiveOptions;
  /** The API as the world reaches it: the links customers are given start with it. */
  publicBaseUrl: string;
  /** The key and lifetime of the customers' links (lib/customer-link.ts). */
  customerLinks: CustomerLinkSettings;
  /** How long finance and ops should take (./queues.ts). */
  queueTargets: QueueTargets;
}

/** The console's settings from the configuration: the Temporal UI on the Temporal server's host. */
export function consoleSettingsFrom(
  config: Pick<
    Config,
    | 'TEMPORAL_ADDRESS'
    | 'TEMPORAL_UI_PORT'
    | 'TEMPORAL_NAMESPACE'
    | 'PUBLIC_BASE_URL'
    | 'CUSTOMER_LINK_SECRET'
    | 'CUSTOMER_LINK_DAYS'
  >,
): ConsoleSettings {
  const host = config.TEMPORAL_ADDRESS.replace(/:\d+$/, '') || '127.0.0.1';
  return {
    temporalUiUrl: `http://${host}:${config.TEMPORAL_UI_PORT}`,
    temporalNamespace: config.TEMPORAL_NAMESPACE,
    secureCookies: config.PUBLIC_BASE_URL.startsWith('https:'),
    live: LIVE_DEFAULTS,
    publicBaseUrl: config.PUBLIC_BASE_URL,
    customerLinks: {
      secret: config.CUSTOMER_LINK_SECRET,
      ttlMs: config.CUSTOMER_LINK_DAYS * 24 * 3_600_000,
    },
    queueTargets: QUEUE_TARGETS,
  };
}

export interface ConsoleDeps {
  models: Models;
  cancellations: CancellationService;
  /** Bulk cancellation jobs (issue #16), through the same service as the API's routes. */
  bulkCancellations: BulkCancellationService;
  /** Outbound webhooks' subscriptions and deliveries, for admins: the same service as the API's routes. */
  webhookSubscriptions: WebhookSubscriptionService;
  policy: CancellationPolicy;
  session: SessionSettings;
  console: ConsoleSettings;
}

/** A url-encoded form as an object; a repeated name becomes a list. */
export function parseForm(body: string): Form {
  const form: Form = {};
  for (const [name, value] of new URLSearchParams(body)) {
    const before = form[name];
    form[name] = before === undefined ? value : [before, value].flat();
  }
  return form;
}

/** Where a sign-in or a language switch may send the browser back to: a console page of this site only. */
export function safeNext(next: unknown): string {
  const path = one(next);
  return path && /^\/console(\/[^\\]*)?(\?[^\\]*)?$/.test(path) && !path.startsWith('//')
    ? path
    : '/console/orders';
}

// The cancel form as the API's body: shared with the customer's own order page (cancel-request.ts).
export { cancelRequestOf };

/** Whether the caller may decide the approval step under way (the workflow's validator decides for good). */
function mayDecide(
  caller: Pick<Caller, 'personId' | 'roles'>,
  item: Pick<CancellationResource, 'state' | 'approval' | 'outcome'>,
): boolean {
  if (!caller.roles.includes('approver') || item.outcome) return false;
  if (!item.state.startsWith('awaitingApproval.waitingForDecision')) return false;
  const approval = item.approval;
  return Boolean(
    approval &&
    (approval.eligibleApprovers.includes(caller.personId) ||
      approval.delegates?.some((pair) => pair.delegate === caller.personId)),
  );
}

const own = {
  roles: ANY_ROLE,
  ownFor: ['requester'],
  own: 'requesterOfCancellation',
} as const satisfies Access;
const listAccess = { roles: ANY_ROLE, ownFor: ['requester'] } as const satisfies Access;

export function registerConsole<Logger extends FastifyBaseLogger>(
  routes: ApiInstance<Logger>,
  deps: ConsoleDeps,
): void {
  const { models, cancellations } = deps;
  const settings = deps.console;

  void routes.register((scope: ApiInstance<Logger>, _options, done) => {
    // Only reply.sendFile: each file the console serves is named below, nothing is served by directory.
    void scope.register(fastifyStatic, {
      root: assetDirectory('htmx.min.js')?.root ?? __dirname,
      serve: false,
    });
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 64 * 1024 },
      (_request, body, parsed) => parsed(null, parseForm(String(body))),
    );
    const streams = new OpenStreams();
    scope.addHook('preClose', (closed) => {
      streams.closeAll();
      closed();
    });

    const contextOf = (
      request: FastifyRequest,
      reply: FastifyReply,
      section?: PageContext['section'],
    ): PageContext => {
      const caller = request.caller;
      return {
        t: translator(languageOf(request, caller?.language)),
        person: caller ? { personId: caller.personId, name: caller.name, roles: caller.roles } : undefined,
        csrfToken:
          caller?.via === 'session' ? reply.generateCsrf({ userInfo: caller.credentialId }) : undefined,
        here: request.url,
        section,
      };
    };
    // A whole page also shows how many of the person's messages are unread (R19, R24): one count per page.
    const pageContextOf = async (
      request: FastifyRequest,
      reply: FastifyReply,
      section?: PageContext['section'],
    ): Promise<PageContext> => {
      const context = contextOf(request, reply, section);
      if (!request.caller) return context;
      return { ...context, unread: await unreadCount(models, request.caller.personId) };
    };
    const kit: ConsoleKit = { contextOf, pageContextOf };

    scope.setErrorHandler((error, request, reply) => {
      const context = contextOf(request, reply);
      let status = 500;
      let detail: string | undefined;
      if (isCancelflowError(error)) {
        status = error.httpStatus;
        detail = error.message;
      } else if (isDatabaseUnreachable(error)) {
        status = 503;
      } else if (hasZodFastifySchemaValidationErrors(error)) {
        status = 400;
        detail = error.validation[0]?.message;
      } else {
        const code = (error as { statusCode?: number }).statusCode;
        if (code && code >= 400 && code < 500) {
          status = code;
          detail = (error as Error).message;
        }
      }
      if (status === 503) void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      if (status >= 500 && status !== 503) request.log.error({ err: error }, 'console: unhandled error');
      if (status === 401) {
        // Not signed in (or the session ended): the sign-in page, coming back here after.
        const next = safeNext(
          isHtmx(request)
            ? new URL(String(request.headers['hx-current-url'] ?? '/'), 'http://x').pathname
            : request.url,
        );
        if (isHtmx(request))
          void reply.header('hx-redirect', `/console/sign-in?next=${encodeURIComponent(next)}`);
        const { t } = context;
        return sendHtml(
          reply,
          signInPage(
            { ...context, person: undefined, csrfToken: undefined },
            {
              next,
              message: {
                kind: 'info',
                text: request.cookies[SESSION_COOKIE]
                  ? `${t('signIn.required')} ${detail ?? ''}`
                  : t('signIn.required'),
              },
            },
          ),
          401,
        );
      }
      return sendHtml(
        reply,
        isHtmx(request) ? errorFragment(context.t, status, detail) : errorPage(context, status, detail),
        status,
      );
    });

    // ---- The way in, assets, language, signing in and out (public: they show or hold nothing of the books).

    scope.get(
      '/console',
      {
        config: { access: { public: 'the way into the console: its pages ask for sign-in' } },
        schema: { hide: true },
      },
      (_request, reply) => reply.redirect('/console/orders', 302),
    );

    scope.get(
      '/console/assets/:name',
      {
        config: { access: { public: "the console's scripts and stylesheet" } },
        schema: { hide: true, params: z.object({ name: z.string().min(1).max(64) }) },
      },
      (request, reply) => {
        const { name } = request.params;
        if (name === 'console.css') {
          if (request.headers['if-none-match'] === STYLESHEET_ETAG) return reply.status(304).send();
          return reply
            .type('text/css; charset=utf-8')
            .header('etag', STYLESHEET_ETAG)
            .header('cache-control', 'public, max-age=300')
            .send(STYLESHEET);
        }
        const asset = assetDirectory(name);
        if (!asset) throw new CancelflowError('not_found', `no console asset ${name}`);
        return reply.header('cache-control', 'public, max-age=3600').sendFile(asset.file, asset.root);
      },
    );

    scope.get(
      '/console/language',
      {
        config: { access: { public: 'choosing the language of the pages on this browser' } },
        schema: {
          hide: true,
          querystring: z.looseObject({ lang: z.string().optional(), next: z.string().optional() }),
        },
      },
      (request, reply) => {
        const { lang, next } = request.query;
        if (isLanguage(lang)) {
          void reply.setCookie(LANGUAGE_COOKIE, lang, {
            path: '/',
            httpOnly: true,
            sameSite: 'lax',
            secure: settings.secureCookies,
            maxAge: 365 * 24 * 3600,
          });
        }
        return reply.redirect(safeNext(next), 303);
      },
    );

    scope.get(
      '/console/sign-in',
      {
        config: { access: { public: 'the sign-in form' } },
        schema: {
          hide: true,
          querystring: z.looseObject({ next: z.string().optional(), signedOut: z.string().optional() }),
        },
      },
      (request, reply) => {
        const context = contextOf(request, reply);
        const message = request.query.signedOut
          ? { kind: 'ok' as const, text: context.t('signIn.signedOut') }
          : undefined;
        return sendHtml(reply, signInPage(context, { next: safeNext(request.query.next), message }));
      },
    );

    scope.post(
      '/console/sign-in',
      {
        config: { access: { public: 'signing in is how a person gets credentials' } },
        schema: { hide: true },
      },
      async (request, reply) => {
        const form = (request.body ?? {}) as Form;
        const login = one(form.login)?.trim() ?? '';
        const password = one(form.password) ?? '';
        const next = safeNext(form.next);
        const context = contextOf(request, reply);
        const { t } = context;
        const outcome =
          login && password
            ? await checkPassword(models, login, password, deps.session)
            : ({ ok: false, reason: 'invalid' } as const);
        if (!outcome.ok) {
          const locked = outcome.reason === 'locked';
          const text = locked
            ? t('signIn.locked', { time: formatMoment(t.language, outcome.lockedUntil) })
            : t('signIn.failed');
          if (locked) {
            const seconds = Math.max(1, Math.ceil((outcome.lockedUntil.getTime() - Date.now()) / 1000));
            void reply.header('retry-after', String(seconds));
          }
          return sendHtml(
            reply,
            signInPage(context, { next, login, message: { kind: 'error', text } }),
            locked ? 429 : 401,
          );
        }
        const sessionId = await startSession(
          models,
          outcome.principal.personId,
          'password',
          deps.session.ttlMs,
        );
        setSessionCookie(reply, sessionId, deps.session);
        return reply.redirect(next, 303);
      },
    );

    scope.post(
      '/console/sign-out',
      {
        config: {
          access: { public: 'ending a session needs none; it ends the one the cookie names, if any' },
        },
        schema: { hide: true },
      },
      async (request, reply) => {
        const sessionId = sessionIdOf(request);
        if (sessionId) await endSession(models, sessionId);
        void reply.clearCookie(SESSION_COOKIE, { path: '/' });
        // The next person at this browser gets their own language.
        void reply.clearCookie(LANGUAGE_COOKIE, { path: '/' });
        return reply.redirect('/console/sign-in?signedOut=1', 303);
      },
    );

    // ---- Finding and cancelling (R1, R2, R13, R25).

    scope.get(
      '/console/orders',
      {
        config: { access: { roles: ANY_ROLE } },
        schema: { hide: true, querystring: z.looseObject({ cursor: z.string().max(512).optional() }) },
      },
      async (request, reply) => {
        const context = await pageContextOf(request, reply, 'orders');
        const query = request.query as Record<string, unknown>;
        const form: SearchForm = {};
        for (const field of SEARCH_FIELDS) {
          const value = one(query[field])?.trim();
          if (value) form[field] = value;
        }
        const cursor = one(query.cursor);
        if (Object.keys(form).length === 0) return sendHtml(reply, ordersPage(context, form, {}));
        try {
          const results = await searchOrders(models, {
            ...form,
            status: form.status as never,
            cursor,
            count: !cursor,
            limit: 20,
          });
          const nextHref = results.nextCursor
            ? `/console/orders?${new URLSearchParams({ ...form, cursor: results.nextCursor }).toString()}`
            : undefined;
          return sendHtml(reply, ordersPage(context, form, { results, nextHref }));
        } catch (error) {
          if (!isCancelflowError(error) || error.code !== 'validation_failed') throw error;
          return sendHtml(reply, ordersPage(context, form, { error: error.message }), 400);
        }
      },
    );

    scope.get(
      '/console/orders/:orderNumber',
      { config: { access: { roles: ANY_ROLE } }, schema: { hide: true, params: orderNumberParams } },
      async (request, reply) => {
        const order = await getOrder(models, request.params.orderNumber);
        const shipments = await models.Shipment.find({ orderNumber: order.orderNumber })
          .sort({ shipmentId: 1 })
          .lean();
        const caller = callerOf(request);
        return sendHtml(
          reply,
          orderPage(
            await pageContextOf(request, reply, 'orders'),
            order,
            shipments,
            caller.roles.includes('requester'),
          ),
        );
      },
    );

    scope.get(
      '/console/orders/:orderNumber/preview',
      { config: { access: { roles: ['requester'] } }, schema: { hide: true, params: orderNumberParams } },
      async (request, reply) => {
        const { t } = contextOf(request, reply);
        const { scope: chosen, request: wanted } = cancelRequestOf(
          request.params.orderNumber,
          request.query as Form,
        );
        if (chosen === 'lines' && (wanted.lines ?? []).length === 0)
          return sendHtml(reply, previewFragment(t, { ok: false, code: 'chooseLines' }));
        const reasonCode = REASON_CODES.find((code) => code === wanted.reasonCode) ?? 'other';
        const preview = await previewCancellation(
          models,
          deps.policy,
          { ...wanted, reasonCode },
          callerOf(request).personId,
        );
        return sendHtml(reply, previewFragment(t, preview));
      },
    );

    scope.post(
      '/console/orders/:orderNumber/cancellations',
      { config: { access: { roles: ['requester'] } }, schema: { hide: true, params: orderNumberParams } },
      async (request, reply) => {
        const form = (request.body ?? {}) as Form;
        const { scope: chosen, request: wanted } = cancelRequestOf(request.params.orderNumber, form);
        const { t } = contextOf(request, reply);
        if (chosen === 'lines' && (wanted.lines ?? []).length === 0)
          return sendHtml(reply, previewFragment(t, { ok: false, code: 'chooseLines' }), 400);
        // The same service as POST /v1/cancellations, as the signed-in person: it reviews, records, starts.
        const accepted = await cancellations.create(
          wanted,
          callerOf(request).personId,
          idempotencyKeyOf(one(form.idempotencyKey)),
          'console',
        );
        const location = `/console/cancellations/${encodeURIComponent(accepted.cancellationId)}`;
        if (!isHtmx(request)) return reply.redirect(location, 303);
        void reply.header('hx-redirect', location);
        return sendHtml(reply, notice('ok', html`<a href="${location}">${accepted.cancellationId}</a>`));
      },
    );

    // ---- A cancellation, live (R17), and deciding (R3, R15).

    const notificationRows = (cancellationId: string) =>
      models.Notification.find(
        { cancellationId },
        {
          channel: 1,
          recipient: 1,
          audience: 1,
          department: 1,
          moment: 1,
          status: 1,
          attempts: 1,
          error: 1,
          _id: 0,
        },
      )
        .sort({ createdAt: 1, idempotencyKey: 1 })
        .lean<NotificationRow[]>();

    const temporalUrlOf = (workflowId: string) =>
      `${settings.temporalUiUrl}/namespaces/${encodeURIComponent(settings.temporalNamespace)}/workflows/${encodeURIComponent(workflowId)}`;

    scope.get(
      '/console/cancellations/:id',
      { config: { access: own }, schema: { hide: true, params: cancellationIdParams } },
      async (request, reply) => {
        const resource = await cancellations.get(request.params.id);
        const rows = await notificationRows(resource.cancellationId);
        return sendHtml(
          reply,
          cancellationPage(await pageContextOf(request, reply), resource, rows, {
            temporalUrl: temporalUrlOf(resource.workflowId),
            mayDecide: mayDecide(callerOf(request), resource),
            // For whoever talks to the customer: their own page, signed now, to pass on (row 31).
            customerLink: {
              url: customerLinkUrl(settings.customerLinks, settings.publicBaseUrl, resource),
              days: Math.round(settings.customerLinks.ttlMs / (24 * 3_600_000)),
            },
          }),
        );
      },
    );

    scope.get(
      '/console/cancellations/:id/events',
      { config: { access: own }, schema: { hide: true, params: cancellationIdParams } },
      async (request, reply) => {
        const t = translator(languageOf(request, callerOf(request).language));
        await streamCancellation(
          request,
          reply,
          {
            models,
            cancellations,
            options: settings.live,
            streams,
            // The notifications are read here only, when the stream reads the page again (./live.ts, #13).
            read: async (resource) => {
              const rows = await notificationRows(resource.cancellationId);
              return {
                parts: liveParts(t, resource, rows),
                queued: rows.some((row) => row.status === 'queued'),
              };
            },
          },
          request.params.id,
        );
        return reply;
      },
    );

    scope.get(
      '/console/inbox',
      { config: { access: listAccess }, schema: { hide: true } },
      async (request, reply) => {
        const caller = callerOf(request);
        const page = await cancellations.list(cancellationListQuery.parse({ waitingFor: 'me', limit: 50 }), {
          personId: caller.personId,
          roles: caller.roles,
          ownOnly: touchesOnlyOwn(caller, listAccess),
        });
        return sendHtml(
          reply,
          inboxPage(await pageContextOf(request, reply, 'inbox'), page.items, page.total, (item) =>
            mayDecide(caller, item),
          ),
        );
      },
    );

    scope.post(
      '/console/cancellations/:id/decision',
      { config: { access: { roles: ['approver'] } }, schema: { hide: true, params: cancellationIdParams } },
      async (request, reply) => {
        const form = (request.body ?? {}) as Form;
        const parsed = decisionBody.safeParse({
          approved: one(form.approved) === 'true' ? true : one(form.approved) === 'false' ? false : undefined,
          comment: one(form.comment)?.trim() || undefined,
        });
        if (!parsed.success) {
          const field = String(parsed.error.issues[0]?.path[0] ?? 'approved');
          throw new CancelflowError(
            'validation_failed',
            `${field}: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
            { field },
          );
        }
        const { id } = request.params;
        const approver = callerOf(request).personId;
        // As the API's decision route: on whose behalf comes from the books and the clock, never from the form.
        const onBehalfOf = await cancellations.decidingOnBehalfOf(id, approver);
        await cancellations.act(decideApproval, id, {
          approver,
          approved: parsed.data.approved,
          reason: parsed.data.comment,
          ...(onBehalfOf !== undefined ? { onBehalfOf } : {}),
        });
        const location = `/console/cancellations/${encodeURIComponent(id)}`;
        if (!isHtmx(request)) return reply.redirect(location, 303);
        const { t } = contextOf(request, reply);
        return sendHtml(
          reply,
          html`<div data-decided="${parsed.data.approved ? 'approved' : 'rejected'}">
            ${notice('ok', parsed.data.approved ? t('decision.approved') : t('decision.rejected'), html`<a href="${location}">${location}</a>`)}
          </div>`,
        );
      },
    );

    registerQueueRoutes(scope, kit, {
      models,
      cancellations,
      policy: deps.policy,
      targets: settings.queueTargets,
    });
    registerMessageCentreRoutes(scope, kit, { models });
    registerAnalyticsConsoleRoutes(scope, kit, { models });
    registerBulkConsoleRoutes(scope, kit, deps);
    registerWebhookConsoleRoutes(scope, kit, deps);
    registerCustomerRoutes(scope, {
      models,
      cancellations,
      policy: deps.policy,
      links: settings.customerLinks,
      live: settings.live,
      streams,
    });

    done();
  });
}
