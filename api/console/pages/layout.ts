// The frame of every console page: language, skip link, navigation, who is signed in, the language switch and
// signing out; htmx and its SSE extension, served by the API itself.
import { ANALYTICS_READERS } from '../../../contracts/analytics.contract';
import { LANGUAGES, type Language, type PersonRole } from '../../../contracts/books.contract';
import { html, join, jsonAttribute, type Interpolation, type SafeHtml } from '../html';
import { WEBHOOK_ADMINS } from '../../webhook-subscriptions.service';
import { formatMoment, type Translator } from '../i18n';

export type Section =
  | 'orders'
  | 'inbox'
  | 'settlements'
  | 'returns'
  | 'attention'
  | 'messages'
  | 'analytics'
  | 'bulk'
  | 'webhooks';

export interface PageContext {
  t: Translator;
  /** The signed-in person, on pages behind sign-in; their roles say which queues they see. */
  person?: { personId: string; name: string; roles?: readonly PersonRole[] };
  /** How many of the person's messages are unread: the badge in the navigation (absent: not shown). */
  unread?: number;
  /** Sent by htmx with every write made with the session cookie (the access hook checks it). */
  csrfToken?: string;
  /** This page's address, where the language switch comes back to. */
  here: string;
  /** Which navigation entry this page is. */
  section?: Section;
  /**
   * Where each language's version of this page is, when not through the console's switch (which keeps the
   * choice in a cookie and leads back to console pages only): the customer's pages, whose link carries it.
   */
  languageHref?: (language: Language) => string;
}

/** The queues in the navigation, each for the role that works it (api/console/queues.ts). */
const QUEUE_LINKS: readonly { section: Section; role: PersonRole; href: string }[] = [
  { section: 'settlements', role: 'finance_clerk', href: '/console/queues/settlements' },
  { section: 'returns', role: 'warehouse_clerk', href: '/console/queues/returns' },
  { section: 'attention', role: 'ops', href: '/console/queues/attention' },
];

/** Who starts bulk cancellation jobs (requesters) or steers anyone's (ops, admins): api/console/bulk.routes.ts. */
const BULK_ROLES: readonly PersonRole[] = ['requester', 'ops', 'admin'];
/** Who manages outbound webhooks (api/console/webhooks.routes.ts): the routes' own access. */
const WEBHOOK_ROLES: readonly PersonRole[] = WEBHOOK_ADMINS.roles;

/** htmx also swaps refusals (4xx) and failures into their targets: the console answers them as HTML. */
const HTMX_CONFIG = {
  responseHandling: [
    { code: '204', swap: false },
    { code: '[2345]..', swap: true, error: false },
  ],
  // Only this origin, and no inline script evaluation (the Content-Security-Policy forbids it anyway).
  selfRequestsOnly: true,
  allowEval: false,
  allowScriptTags: false,
};

export function languageSwitch(context: PageContext): SafeHtml {
  const { t } = context;
  return html`<nav class="languages" aria-label="${t('nav.language')}">
    ${LANGUAGES.map((language) => {
      const href =
        context.languageHref?.(language) ??
        `/console/language?lang=${encodeURIComponent(language)}&next=${encodeURIComponent(context.here)}`;
      return language === t.language
        ? html`<a href="${href}" lang="${language}" aria-current="true">${t(`lang.${language}`)}</a>`
        : html`<a href="${href}" lang="${language}" hreflang="${language}">${t(`lang.${language}`)}</a>`;
    })}
  </nav>`;
}

/**
 * The unread messages' badge: its own element, so that marking a message read can replace it (htmx's
 * out-of-band swap, `oob`). Empty when nothing is unread.
 */
export function unreadBadge(t: Translator, unread: number, oob = false): SafeHtml {
  return html`<span
    id="unread-badge"
    class="count"
    data-unread="${unread}"
    ${oob ? html`hx-swap-oob="true"` : ''}
    >${
      unread > 0
        ? html`<span aria-hidden="true">${unread}</span
            ><span class="visually-hidden">${t('messages.unreadBadge', { count: unread })}</span>`
        : ''
    }</span
  >`;
}

export function page(context: PageContext, title: string, content: Interpolation): SafeHtml {
  const { t, person } = context;
  const current = (section: PageContext['section']) =>
    context.section === section ? html` aria-current="page"` : '';
  const queues = QUEUE_LINKS.filter((queue) => person?.roles?.includes(queue.role));
  const readsAnalytics = ANALYTICS_READERS.some((role) => person?.roles?.includes(role));
  const navigation = person
    ? html`<nav aria-label="${t('nav.main')}">
          <ul>
            <li><a href="/console/orders" ${current('orders')}>${t('nav.orders')}</a></li>
            <li><a href="/console/inbox" ${current('inbox')}>${t('nav.inbox')}</a></li>
            ${queues.map(
              (queue) =>
                html`<li>
                  <a href="${queue.href}" ${current(queue.section)}>${t(`nav.${queue.section}`)}</a>
                </li>`,
            )}
            ${
              readsAnalytics
                ? html`<li>
                    <a href="/console/analytics" ${current('analytics')}>${t('nav.analytics')}</a>
                  </li>`
                : ''
            }
            ${
              BULK_ROLES.some((role) => person.roles?.includes(role))
                ? html`<li><a href="/console/bulk" ${current('bulk')}>${t('nav.bulk')}</a></li>`
                : ''
            }
            ${
              WEBHOOK_ROLES.some((role) => person.roles?.includes(role))
                ? html`<li><a href="/console/webhooks" ${current('webhooks')}>${t('nav.webhooks')}</a></li>`
                : ''
            }
            <li>
              <a href="/console/messages" ${current('messages')}
                >${t('nav.messages')} ${context.unread === undefined ? '' : unreadBadge(t, context.unread)}</a
              >
            </li>
          </ul>
        </nav>
        <div class="who">
          <span>${t('nav.signedInAs', { name: `${person.name} (${person.personId})` })}</span>
          ${languageSwitch(context)}
          <form method="post" action="/console/sign-out">
            <button type="submit">${t('nav.signOut')}</button>
          </form>
        </div>`
    : html`<div class="who">${languageSwitch(context)}</div>`;
  const headers = context.csrfToken ? jsonAttribute({ 'x-csrf-token': context.csrfToken }) : undefined;
  return html`<!doctype html>
<html lang="${t.language}">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="htmx-config" content="${jsonAttribute(HTMX_CONFIG)}" />
    <title>${title} · ${context.languageHref ? t('app.customerName') : t('app.name')}</title>
    <link rel="stylesheet" href="/console/assets/console.css" />
    <script src="/console/assets/htmx.min.js" defer></script>
    <script src="/console/assets/htmx-ext-sse.min.js" defer></script>
  </head>
  <body${headers ? html` hx-headers="${headers}"` : ''}>
    <a class="skip" href="#main">${t('nav.skip')}</a>
    <header class="top">
      ${
        context.languageHref
          ? html`<span class="brand">${t('app.customerName')}</span>`
          : html`<a class="brand" href="/console/orders">${t('app.name')}</a>`
      }
      ${navigation}
    </header>
    <main id="main" tabindex="-1">
      ${content}
    </main>
  </body>
</html>`;
}

/** A notice (`role=status` for news, `role=alert` for refusals), for pages and htmx fragments alike. */
export function notice(kind: 'ok' | 'error' | 'info', ...lines: Interpolation[]): SafeHtml {
  return html`<div
    class="notice ${kind === 'info' ? '' : kind}"
    role="${kind === 'error' ? 'alert' : 'status'}"
  >
    ${join(
      lines.filter((line) => line !== undefined && line !== ''),
      html`<br />`,
    )}
  </div>`;
}

/** A list of terms and their descriptions. */
export function facts(entries: readonly [string, Interpolation][]): SafeHtml {
  return html`<dl class="facts">
    ${entries.map(
      ([term, description]) =>
        html`<dt>${term}</dt>
          <dd>${description}</dd>`,
    )}
  </dl>`;
}

/** "Due by" and its moment, with a badge when it passed: the queues' and the approvers' inbox's. */
export function dueByFact(t: Translator, dueBy: Date, overdue: boolean): [string, SafeHtml] {
  return [
    t('queue.dueBy'),
    html`<time datetime="${dueBy.toISOString()}">${formatMoment(t.language, dueBy)}</time>
      ${overdue ? html` <span class="badge overdue" data-overdue="true">${t('queue.overdue')}</span>` : ''}`,
  ];
}
