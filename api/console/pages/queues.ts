// The queues of the people who act (issue #14): finance settles refunds the gateway refused, the warehouse
// confirms goods that came back, ops resume cancellations that stopped. Each item says since when it waited, by
// when it is due and whether that passed, and carries its action, sent through the same Update as the API's
// route (settlement, returns, resumption); the answer replaces the form.
import { html, type SafeHtml } from '../html';
import { formatMoment, formatMoney, type Translator } from '../i18n';
import type { QueueItem, QueueName } from '../queues';
import { stateName } from './cancellation';
import { dueByFact, facts, notice, page, type PageContext } from './layout';

const cancellationPath = (cancellationId: string) =>
  `/console/cancellations/${encodeURIComponent(cancellationId)}`;

/** Since, due by, and a badge when overdue. */
function timing(t: Translator, item: QueueItem): [string, SafeHtml | string][] {
  return [
    [
      t('queue.since'),
      html`<time datetime="${item.since.toISOString()}">${formatMoment(t.language, item.since)}</time>`,
    ],
    dueByFact(t, item.dueBy, item.overdue),
  ];
}

function settlementForm(t: Translator, cancellationId: string): SafeHtml {
  const path = `${cancellationPath(cancellationId)}/settlement`;
  return html`<form
    class="action"
    hx-post="${path}"
    hx-target="this"
    hx-swap="outerHTML"
    method="post"
    action="${path}"
  >
    <label for="reference-${cancellationId}">${t('settle.reference')}</label>
    <input id="reference-${cancellationId}" name="reference" required maxlength="200" autocomplete="off" />
    <div class="actions">
      <button class="primary" type="submit">${t('settle.submit')}</button>
    </div>
  </form>`;
}

function resumptionForm(t: Translator, cancellationId: string): SafeHtml {
  const path = `${cancellationPath(cancellationId)}/resumption`;
  return html`<form
    class="action"
    hx-post="${path}"
    hx-target="this"
    hx-swap="outerHTML"
    method="post"
    action="${path}"
  >
    <label for="note-${cancellationId}">${t('resume.note')}</label>
    <textarea id="note-${cancellationId}" name="note" rows="2" maxlength="2000"></textarea>
    <div class="actions">
      <button class="primary" type="submit">${t('resume.submit')}</button>
    </div>
  </form>`;
}

function returnForm(t: Translator, cancellationId: string, shipmentId: string, index: number): SafeHtml {
  const path = `${cancellationPath(cancellationId)}/returns`;
  const id = `return-${index}-${cancellationId}`;
  return html`<form
    class="action"
    hx-post="${path}"
    hx-target="this"
    hx-swap="outerHTML"
    method="post"
    action="${path}"
  >
    <input type="hidden" name="shipmentId" value="${shipmentId}" />
    <label for="${id}">${t('return.note', { shipment: shipmentId })}</label>
    <input id="${id}" name="note" maxlength="2000" autocomplete="off" />
    <div class="actions">
      <button class="primary" type="submit">${t('return.submit', { shipment: shipmentId })}</button>
    </div>
  </form>`;
}

function itemFacts(t: Translator, name: QueueName, item: QueueItem): SafeHtml {
  const { summary } = item;
  const money = (minor: number) => formatMoney(t.language, minor, summary.currency ?? 'CNY');
  const common: [string, SafeHtml | string][] = [
    [t('cancellation.state'), stateName(t, summary.state)],
    [t('cancellation.reason'), t.of('reason', summary.reasonCode)],
    [t('cancellation.requestedBy'), summary.requestedBy],
  ];
  if (name === 'settlements') {
    return facts([
      ...timing(t, item),
      [t('settle.outstanding'), summary.settlement ? money(summary.settlement.outstandingMinor) : ''],
      [t('settle.failure'), summary.settlement?.failure ?? ''],
      [t('settle.refundedSoFar'), money(summary.refundedMinor)],
      ...common,
    ]);
  }
  if (name === 'attention') {
    return facts([
      ...timing(t, item),
      [t('attention.from'), summary.attention ? stateName(t, summary.attention.from) : ''],
      [t('attention.reason'), summary.attention?.reason ?? ''],
      ...common,
    ]);
  }
  return facts([...timing(t, item), ...common]);
}

function parcels(t: Translator, item: QueueItem): SafeHtml {
  const expected = item.parcels ?? [];
  const returned = item.returned ?? [];
  return html`${
    expected.length === 0
      ? html`<p class="muted">${t('return.noneExpected')}</p>`
      : html`<table>
          <caption class="visually-hidden">
            ${t('return.expected')}
          </caption>
          <thead>
            <tr>
              <th scope="col">${t('shipment.id')}</th>
              <th scope="col">${t('shipment.carrier')}</th>
              <th scope="col">${t('shipment.status')}</th>
              <th scope="col">${t('shipment.contents')}</th>
            </tr>
          </thead>
          <tbody>
            ${expected.map(
              (parcel) =>
                html`<tr data-parcel="${parcel.shipmentId}">
                  <th scope="row">${parcel.shipmentId}</th>
                  <td>${parcel.carrier} ${parcel.trackingNumber ?? ''}</td>
                  <td>${t.of('shipmentStatus', parcel.status)}</td>
                  <td>${parcel.lines.map((line) => `${line.sku} × ${line.quantity}`).join(', ')}</td>
                </tr>`,
            )}
          </tbody>
        </table>`
  }
  ${
    returned.length > 0
      ? html`<p>
          ${t('return.confirmed', { parcels: returned.map((entry) => `${entry.shipmentId} (${entry.by})`).join(', ') })}
        </p>`
      : ''
  }
  ${expected.map((parcel, index) => returnForm(t, item.summary.cancellationId, parcel.shipmentId, index))}`;
}

export function queuePage(
  context: PageContext,
  name: QueueName,
  queue: { items: QueueItem[]; total: number },
  due: { hours: number; days: number },
): SafeHtml {
  const { t } = context;
  const title = t(`queue.${name}.title`);
  const overdue = queue.items.filter((item) => item.overdue).length;
  return page(
    { ...context, section: name },
    title,
    html`<h1>${title}</h1>
      <p>${t(`queue.${name}.hint`, due)}</p>
      <p role="status" data-queue="${name}" data-total="${queue.total}">
        ${queue.total === 0 ? t('queue.none') : t('queue.count', { count: queue.total, overdue })}
        ${queue.total > queue.items.length ? t('queue.more', { shown: queue.items.length }) : ''}
      </p>
      ${queue.items.map(
        (item, index) =>
          html`<article
            class="inbox-item${item.overdue ? ' late' : ''}"
            data-cancellation="${item.summary.cancellationId}"
            data-overdue="${item.overdue ? 'true' : 'false'}"
            aria-labelledby="${name}-${index}"
          >
            <h2 id="${name}-${index}">
              <a href="${cancellationPath(item.summary.cancellationId)}"
                >${t('inbox.open', { order: item.summary.orderNumber })}</a
              >
            </h2>
            ${itemFacts(t, name, item)}
            ${
              name === 'settlements'
                ? settlementForm(t, item.summary.cancellationId)
                : name === 'attention'
                  ? resumptionForm(t, item.summary.cancellationId)
                  : parcels(t, item)
            }
          </article>`,
      )}`,
  );
}

/** What replaces an action's form once the workflow took it. */
export function actionDone(
  t: Translator,
  kind: 'settled' | 'resumed' | 'returned',
  cancellationId: string,
  detail: string,
): SafeHtml {
  const path = cancellationPath(cancellationId);
  return html`<div data-done="${kind}">
    ${notice('ok', detail, html`<a href="${path}">${t('queue.openCancellation')}</a>`)}
  </div>`;
}
