// The frame of every console page: language, skip link, navigation, who is signed in, the language switch and
// signing out; htmx and its SSE extension, served by the API itself.
import { LANGUAGES } from '../../../contracts/books.contract';
import { html, join, jsonAttribute, type Interpolation, type SafeHtml } from '../html';
import type { Translator } from '../i18n';

export interface PageContext {
  t: Translator;
  /** The signed-in person, on pages behind sign-in. */
  person?: { personId: string; name: string };
  /** Sent by htmx with every write made with the session cookie (the access hook checks it). */
  csrfToken?: string;
  /** This page's address, where the language switch comes back to. */
  here: string;
  /** Which navigation entry this page is. */
  section?: 'orders' | 'inbox';
}

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
      const href = `/console/language?lang=${encodeURIComponent(language)}&next=${encodeURIComponent(context.here)}`;
      return language === t.language
        ? html`<a href="${href}" lang="${language}" aria-current="true">${t(`lang.${language}`)}</a>`
        : html`<a href="${href}" lang="${language}" hreflang="${language}">${t(`lang.${language}`)}</a>`;
    })}
  </nav>`;
}

export function page(context: PageContext, title: string, content: Interpolation): SafeHtml {
  const { t, person } = context;
  const current = (section: PageContext['section']) =>
    context.section === section ? html` aria-current="page"` : '';
  const navigation = person
    ? html`<nav aria-label="${t('nav.main')}">
          <ul>
            <li><a href="/console/orders" ${current('orders')}>${t('nav.orders')}</a></li>
            <li><a href="/console/inbox" ${current('inbox')}>${t('nav.inbox')}</a></li>
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
    <title>${title} · ${t('app.name')}</title>
    <link rel="stylesheet" href="/console/assets/console.css" />
    <script src="/console/assets/htmx.min.js" defer></script>
    <script src="/console/assets/htmx-ext-sse.min.js" defer></script>
  </head>
  <body${headers ? html` hx-headers="${headers}"` : ''}>
    <a class="skip" href="#main">${t('nav.skip')}</a>
    <header class="top">
      <a class="brand" href="/console/orders">${t('app.name')}</a>
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
