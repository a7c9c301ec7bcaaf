// What the console shows when a request is refused or fails: a page, or a fragment for htmx to swap in.
import { html, type SafeHtml } from '../html';
import type { Translator } from '../i18n';
import { notice, page, type PageContext } from './layout';

/** The catalogue's headline for an HTTP status. */
export function headlineOf(t: Translator, status: number): string {
  if (status === 404) return t('error.notFound');
  if (status === 403) return t('error.forbidden');
  if (status === 409 || status === 422) return t('error.conflict');
  if (status === 503) return t('error.unavailable');
  if (status >= 500) return t('error.internal');
  return t('error.invalid');
}

export function errorFragment(t: Translator, status: number, detail?: string): SafeHtml {
  return html`<div data-error-status="${status}">${notice('error', headlineOf(t, status), detail)}</div>`;
}

export function errorPage(context: PageContext, status: number, detail?: string): SafeHtml {
  const { t } = context;
  return page(
    context,
    t('error.title'),
    html`<h1>${t('error.title')}</h1>
      ${errorFragment(t, status, detail)}
      <p><a href="/console/orders">${t('error.back')}</a></p>`,
  );
}
