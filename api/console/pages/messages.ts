// The message centre of the signed-in person (R19, R24): their messages, newest first, in the language they
// were written for them, the unread ones marked; each marked read on its own or all at once, through the same
// operations as the API's message routes. The navigation's badge counts the unread ones.
import type { MessageView } from '../../../client/contract';
import { html, type SafeHtml } from '../html';
import { formatMoment, type Translator } from '../i18n';
import { notice, page, unreadBadge, type PageContext } from './layout';

const readPath = (messageId: string) => `/console/messages/${encodeURIComponent(messageId)}/read`;

export function messageArticle(t: Translator, message: MessageView, index: number): SafeHtml {
  return html`<article
    class="inbox-item message${message.read ? '' : ' unread'}"
    data-message="${message.messageId}"
    data-read="${message.read ? 'true' : 'false'}"
    aria-labelledby="message-${index}"
  >
    <h2 id="message-${index}">
      ${message.read ? '' : html`<span class="badge running">${t('messages.new')}</span> `}${message.title}
    </h2>
    <p class="muted">
      <time datetime="${message.createdAt}">${formatMoment(t.language, message.createdAt)}</time> ·
      ${t.of('category', message.category)}${message.department ? html` · ${t.of('department', message.department)}` : ''}
      ·
      <a href="/console/cancellations/${encodeURIComponent(message.cancellationId)}"
        >${t('inbox.open', { order: message.orderNumber })}</a
      >
    </p>
    <p class="message-body">${message.body}</p>
    ${
      message.read
        ? html`<p class="muted">
            ${message.readAt ? t('messages.readAt', { time: formatMoment(t.language, message.readAt) }) : ''}
          </p>`
        : html`<form
            hx-post="${readPath(message.messageId)}"
            hx-target="closest article"
            hx-swap="outerHTML"
            method="post"
            action="${readPath(message.messageId)}"
          >
            <input type="hidden" name="index" value="${index}" />
            <button class="secondary" type="submit">
              ${t('messages.markRead')}<span class="visually-hidden">: ${message.title}</span>
            </button>
          </form>`
    }
  </article>`;
}

/** The article marked read, and the badge with the count now (swapped out of band). */
export function markedRead(t: Translator, message: MessageView, index: number, unread: number): SafeHtml {
  return html`${messageArticle(t, message, index)}${unreadBadge(t, unread, true)}`;
}

export function messagesPage(
  context: PageContext,
  messages: MessageView[],
  options: { unreadOnly: boolean; nextHref?: string },
): SafeHtml {
  const { t } = context;
  const unread = context.unread ?? 0;
  return page(
    { ...context, section: 'messages' },
    t('messages.title'),
    html`<h1>${t('messages.title')}</h1>
      <p role="status" data-unread-count="${unread}">
        ${unread === 0 ? t('messages.noneUnread') : t('messages.unreadCount', { count: unread })}
      </p>
      <div class="actions">
        ${
          options.unreadOnly
            ? html`<a href="/console/messages">${t('messages.showAll')}</a>`
            : html`<a href="/console/messages?unread=true">${t('messages.showUnread')}</a>`
        }
        ${
          unread > 0
            ? html`<form
                hx-post="/console/messages/read-all"
                method="post"
                action="/console/messages/read-all"
              >
                <button class="secondary" type="submit">${t('messages.markAllRead')}</button>
              </form>`
            : ''
        }
      </div>
      ${messages.length === 0 ? notice('info', t('messages.none')) : ''}
      ${messages.map((message, index) => messageArticle(t, message, index))}
      ${options.nextHref ? html`<p><a href="${options.nextHref}">${t('orders.next')}</a></p>` : ''}`,
  );
}
