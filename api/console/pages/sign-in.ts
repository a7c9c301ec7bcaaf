// Signing in (R25): a plain form, so it works before any script has loaded; the session it starts is the API's.
import { html, type SafeHtml } from '../html';
import { notice, page, type PageContext } from './layout';

export function signInPage(
  context: PageContext,
  options: { next: string; login?: string; message?: { kind: 'error' | 'info' | 'ok'; text: string } },
): SafeHtml {
  const { t } = context;
  return page(
    context,
    t('signIn.title'),
    html`<h1>${t('signIn.title')}</h1>
      ${options.message ? notice(options.message.kind, options.message.text) : ''}
      <form method="post" action="/console/sign-in" class="sign-in">
        <input type="hidden" name="next" value="${options.next}" />
        <p>
          <label for="login">${t('signIn.login')}</label>
          <input id="login" name="login" autocomplete="username" required value="${options.login ?? ''}" />
        </p>
        <p>
          <label for="password">${t('signIn.password')}</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required />
        </p>
        <button class="primary" type="submit">${t('signIn.submit')}</button>
      </form>`,
  );
}
