// Outbound webhooks in the console, for admins (issue #16): the subscriptions with the form that adds one (its
// signing secret shown once, as the API answers it), pausing, resuming and removing each; a subscription's page
// with the form that changes its URL, event types and description, its deliveries, their attempts, a filter by
// status (the parked ones are `failed`), and redelivering one.
import type { EventDeliveryView, WebhookSubscriptionView } from '../../../client/contract';
import {
  BULK_JOB_EVENT_TYPES,
  CANCELLATION_EVENT_TYPES,
  EVENT_DELIVERY_STATUSES,
  WEBHOOK_EVENT_TYPES,
  type EventDeliveryStatus,
} from '../../../contracts/cancellation-events.contract';
import { html, jsonAttribute, type SafeHtml } from '../html';
import { formatMoment, type Translator } from '../i18n';
import { facts, notice, page, type PageContext } from './layout';

const subscriptionPath = (subscriptionId: string) =>
  `/console/webhooks/${encodeURIComponent(subscriptionId)}`;

/** What a subscription receives: every type, or the ones it named. */
const eventTypesOf = (t: Translator, subscription: WebhookSubscriptionView) =>
  WEBHOOK_EVENT_TYPES.every((type) => subscription.eventTypes.includes(type))
    ? t('webhooks.allTypes')
    : subscription.eventTypes.join(', ');

function eventTypeBoxes(
  t: Translator,
  legend: string,
  types: readonly string[],
  ticked: readonly string[] = [],
): SafeHtml {
  return html`<fieldset>
    <legend>${legend}</legend>
    ${types.map(
      (type) =>
        html`<label
          ><input
            type="checkbox"
            name="eventTypes"
            value="${type}"
            ${ticked.includes(type) ? 'checked' : ''}
          />
          ${type}</label
        >`,
    )}
  </fieldset>`;
}

function subscriptionForm(t: Translator): SafeHtml {
  return html`<form
    class="webhook-form"
    method="post"
    action="/console/webhooks"
    hx-post="/console/webhooks"
    hx-target="#webhook-subscriptions"
    hx-swap="outerHTML"
  >
    <label for="webhook-url">${t('webhooks.url')}</label>
    <input id="webhook-url" name="url" type="url" required placeholder="https://erp.example.com/hooks" />
    <p>${t('webhooks.eventTypesHint')}</p>
    ${eventTypeBoxes(t, t('webhooks.cancellationEvents'), CANCELLATION_EVENT_TYPES)}
    ${eventTypeBoxes(t, t('webhooks.bulkJobEvents'), BULK_JOB_EVENT_TYPES)}
    <label for="webhook-description">${t('webhooks.description')}</label>
    <input id="webhook-description" name="description" maxlength="200" />
    <div class="actions"><button class="primary" type="submit">${t('webhooks.add')}</button></div>
  </form>`;
}

/** What one of the list's buttons says it did, above the list: the secret of one just added, or a removal. */
export type SubscriptionsNews =
  | { kind: 'created'; subscriptionId: string; secret: string }
  | { kind: 'removed'; subscriptionId: string; url: string };

/** The subscriptions, with what was just done: the part the page's forms and buttons replace. */
export function subscriptionsSection(
  t: Translator,
  subscriptions: readonly WebhookSubscriptionView[],
  news?: SubscriptionsNews,
): SafeHtml {
  const button = (subscription: WebhookSubscriptionView, action: string, label: string, value?: string) =>
    html`<button
      type="button"
      hx-post="${subscriptionPath(subscription.subscriptionId)}/${action}"
      ${value === undefined ? '' : html`hx-vals="${jsonAttribute({ active: value })}"`}
      hx-target="#webhook-subscriptions"
      hx-swap="outerHTML"
      aria-label="${label} ${subscription.url}"
    >
      ${label}
    </button>`;
  return html`<section id="webhook-subscriptions" aria-labelledby="webhook-subscriptions-title">
    ${
      news?.kind === 'created'
        ? html`<div class="notice ok" role="status" data-created="${news.subscriptionId}">
            ${t('webhooks.created', { id: news.subscriptionId })}
            <p><code class="secret" data-secret>${news.secret}</code></p>
          </div>`
        : news?.kind === 'removed'
          ? notice('ok', t('webhooks.removed', { id: news.subscriptionId, url: news.url }))
          : ''
    }
    <h2 id="webhook-subscriptions-title">${t('webhooks.subscriptions')}</h2>
    ${
      subscriptions.length === 0
        ? html`<p>${t('webhooks.none')}</p>`
        : html`<table>
            <thead>
              <tr>
                <th scope="col">${t('webhooks.url')}</th>
                <th scope="col">${t('webhooks.description')}</th>
                <th scope="col">${t('webhooks.eventTypes')}</th>
                <th scope="col">${t('webhooks.active')}</th>
                <th scope="col">${t('webhooks.createdBy')}</th>
                <th scope="col">${t('webhooks.actions')}</th>
              </tr>
            </thead>
            <tbody>
              ${subscriptions.map(
                (subscription) =>
                  html`<tr
                    data-subscription="${subscription.subscriptionId}"
                    data-active="${String(subscription.active)}"
                  >
                    <td>
                      <a href="${subscriptionPath(subscription.subscriptionId)}">${subscription.url}</a>
                    </td>
                    <td>${subscription.description ?? ''}</td>
                    <td>${eventTypesOf(t, subscription)}</td>
                    <td>${subscription.active ? t('webhooks.yes') : t('webhooks.paused')}</td>
                    <td>${subscription.createdBy} · ${formatMoment(t.language, subscription.createdAt)}</td>
                    <td class="actions">
                      ${
                        subscription.active
                          ? button(subscription, 'active', t('webhooks.pause'), 'false')
                          : button(subscription, 'active', t('webhooks.resume'), 'true')
                      }
                      ${button(subscription, 'remove', t('webhooks.remove'))}
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
  </section>`;
}

export function webhooksPage(
  context: PageContext,
  subscriptions: readonly WebhookSubscriptionView[],
  news?: SubscriptionsNews,
): SafeHtml {
  const { t } = context;
  return page(
    context,
    t('webhooks.title'),
    html`<h1>${t('webhooks.title')}</h1>
      <p>${t('webhooks.hint')}</p>
      <h2>${t('webhooks.add')}</h2>
      ${subscriptionForm(t)} ${subscriptionsSection(t, subscriptions, news)}`,
  );
}

function subjectOf(t: Translator, delivery: EventDeliveryView): SafeHtml {
  if (delivery.bulkJobId !== undefined)
    return html`<a href="/console/bulk/${encodeURIComponent(delivery.bulkJobId)}"
      >${t('webhooks.subject.bulkJob', { id: delivery.bulkJobId })}</a
    >`;
  const cancellationId = delivery.cancellationId ?? '';
  return html`<a href="/console/cancellations/${encodeURIComponent(cancellationId)}"
    >${t('webhooks.subject.cancellation', { id: cancellationId })}</a
  >`;
}

/** One delivery: its event, status, attempts (each with its answer) and the button that sends it again. */
export function deliveryRow(t: Translator, delivery: EventDeliveryView): SafeHtml {
  const when = delivery.failedAt ?? delivery.deliveredAt ?? delivery.nextAttemptAt;
  return html`<tr
    data-delivery="${delivery.deliveryId}"
    data-status="${delivery.status}"
    data-attempts="${delivery.attemptCount}"
  >
    <td>${delivery.eventType}</td>
    <td>${subjectOf(t, delivery)} #${delivery.sequence}</td>
    <td><strong>${t.of('deliveryStatus', delivery.status)}</strong></td>
    <td>
      ${
        delivery.attempts.length === 0
          ? String(delivery.attemptCount)
          : html`<details>
              <summary>${t('webhooks.attemptCount', { count: delivery.attemptCount })}</summary>
              <ol>
                ${delivery.attempts.map(
                  (attempt) =>
                    html`<li>
                      ${formatMoment(t.language, attempt.at)} ·
                      ${attempt.statusCode !== undefined ? `HTTP ${attempt.statusCode}` : ''}
                      ${attempt.error ?? ''} · ${t('webhooks.duration', { ms: attempt.durationMs })}
                    </li>`,
                )}
              </ol>
            </details>`
      }
    </td>
    <td>${delivery.lastError ?? ''}</td>
    <td>
      ${when ? formatMoment(t.language, when) : ''}
      ${
        delivery.redeliveredBy
          ? html`<br />${t('webhooks.redeliveredBy', { by: delivery.redeliveredBy })}`
          : ''
      }
    </td>
    <td>
      <button
        type="button"
        hx-post="/console/webhook-deliveries/${encodeURIComponent(delivery.deliveryId)}/redelivery"
        hx-target="closest tr"
        hx-swap="outerHTML"
        aria-label="${t('webhooks.redeliver')} ${delivery.eventType} #${delivery.sequence}"
      >
        ${t('webhooks.redeliver')}
      </button>
    </td>
  </tr>`;
}

/** What the edit form shows: the subscription's values, or the ones just refused, as they were typed. */
export interface SubscriptionDraft {
  url: string;
  eventTypes: readonly string[];
  description: string;
}

/** What the edit form's answer says above it: saved, or refused with the API's reason (the draft kept). */
export type SubscriptionEditNews = { kind: 'saved' } | { kind: 'refused'; detail: string };

/**
 * A subscription's heading, facts and the form that changes its URL, event types and description: the part the
 * form replaces, so the heading and facts show what was saved.
 */
export function subscriptionDetails(
  t: Translator,
  subscription: WebhookSubscriptionView,
  news?: SubscriptionEditNews,
  draft?: SubscriptionDraft,
): SafeHtml {
  const path = subscriptionPath(subscription.subscriptionId);
  const shown: SubscriptionDraft = draft ?? {
    url: subscription.url,
    eventTypes: subscription.eventTypes,
    description: subscription.description ?? '',
  };
  return html`<section id="webhook-subscription" aria-labelledby="webhook-subscription-title">
    <h1 id="webhook-subscription-title">${t('webhooks.subscription', { url: subscription.url })}</h1>
    ${
      news?.kind === 'saved'
        ? notice('ok', t('webhooks.saved'))
        : news?.kind === 'refused'
          ? html`<div data-error-status="400">${notice('error', t('webhooks.notSaved'), news.detail)}</div>`
          : ''
    }
    ${facts([
      [t('webhooks.id'), subscription.subscriptionId],
      [t('webhooks.description'), subscription.description ?? ''],
      [t('webhooks.eventTypes'), eventTypesOf(t, subscription)],
      [t('webhooks.active'), subscription.active ? t('webhooks.yes') : t('webhooks.paused')],
      [
        t('webhooks.createdBy'),
        `${subscription.createdBy} · ${formatMoment(t.language, subscription.createdAt)}`,
      ],
    ])}
    <h2 id="webhook-edit-title">${t('webhooks.edit')}</h2>
    <form
      class="webhook-form"
      method="post"
      action="${path}/edit"
      hx-post="${path}/edit"
      hx-target="#webhook-subscription"
      hx-swap="outerHTML"
      aria-labelledby="webhook-edit-title"
    >
      <label for="webhook-edit-url">${t('webhooks.url')}</label>
      <input id="webhook-edit-url" name="url" type="url" required value="${shown.url}" />
      <p>${t('webhooks.eventTypesHint')}</p>
      ${eventTypeBoxes(t, t('webhooks.cancellationEvents'), CANCELLATION_EVENT_TYPES, shown.eventTypes)}
      ${eventTypeBoxes(t, t('webhooks.bulkJobEvents'), BULK_JOB_EVENT_TYPES, shown.eventTypes)}
      <label for="webhook-edit-description">${t('webhooks.description')}</label>
      <input id="webhook-edit-description" name="description" maxlength="200" value="${shown.description}" />
      <div class="actions"><button class="primary" type="submit">${t('webhooks.save')}</button></div>
    </form>
  </section>`;
}

export function subscriptionPage(
  context: PageContext,
  subscription: WebhookSubscriptionView,
  deliveries: readonly EventDeliveryView[],
  status: EventDeliveryStatus | undefined,
): SafeHtml {
  const { t } = context;
  const title = t('webhooks.subscription', { url: subscription.url });
  return page(
    context,
    title,
    html`<p><a href="/console/webhooks">${t('webhooks.back')}</a></p>
      ${subscriptionDetails(t, subscription)}
      <h2>${t('webhooks.deliveries')}</h2>
      <form class="filter" method="get" action="${subscriptionPath(subscription.subscriptionId)}">
        <label for="delivery-status">${t('webhooks.status')}</label>
        <select id="delivery-status" name="status">
          <option value="" ${status === undefined ? 'selected' : ''}>${t('webhooks.anyStatus')}</option>
          ${EVENT_DELIVERY_STATUSES.map(
            (option) =>
              html`<option value="${option}" ${status === option ? 'selected' : ''}>
                ${t.of('deliveryStatus', option)}
              </option>`,
          )}
        </select>
        <button type="submit">${t('webhooks.filter')}</button>
      </form>
      ${
        deliveries.length === 0
          ? html`<p>${t('webhooks.noDeliveries')}</p>`
          : html`<table id="webhook-deliveries">
              <thead>
                <tr>
                  <th scope="col">${t('webhooks.event')}</th>
                  <th scope="col">${t('webhooks.subject')}</th>
                  <th scope="col">${t('webhooks.status')}</th>
                  <th scope="col">${t('webhooks.attempts')}</th>
                  <th scope="col">${t('webhooks.lastError')}</th>
                  <th scope="col">${t('webhooks.when')}</th>
                  <th scope="col">${t('webhooks.actions')}</th>
                </tr>
              </thead>
              <tbody>
                ${deliveries.map((delivery) => deliveryRow(t, delivery))}
              </tbody>
            </table>`
      }`,
  );
}
