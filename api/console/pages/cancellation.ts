// A cancellation's page (R17, row 32): its state, the timeline, every decision explained (the policy version,
// the risk and what raised it, the approvals, the refund plan per payment and currency), its notifications with
// how each fared, and a link to its history in the Temporal UI. The live part is drawn by `liveParts` both for
// the page and for each server-sent event, so the page and its updates cannot differ.
import type { CancellationResource } from '../../../client/contract';
import { html, type SafeHtml } from '../html';
import { formatMoment, formatMoney, type Translator } from '../i18n';
import { dueByFact, facts, notice, page, type PageContext } from './layout';
import { statechartFigure } from '../statechart';

export interface NotificationRow {
  channel: string;
  recipient: string;
  audience?: string | null;
  department?: string | null;
  moment?: string | null;
  status: string;
  attempts?: number | null;
  error?: string | null;
}

/** The state's top level as the catalogue names it, with the sub-state when there is one. */
export function stateName(t: Translator, state: string): string {
  const [top = state] = state.split('.');
  return t.of('state', top);
}

/** Whether the cancellation has ended: nothing more will change but its notifications' delivery. */
export const hasEnded = (resource: Pick<CancellationResource, 'outcome' | 'state'>) =>
  resource.outcome !== undefined || resource.state.startsWith('workflow ');

export function stateLine(t: Translator, resource: CancellationResource): SafeHtml {
  const ended = hasEnded(resource);
  const label = resource.outcome ? t.of('outcome', resource.outcome) : stateName(t, resource.state);
  return html`${t('cancellation.state')}:
    <span
      class="badge ${ended ? `ended-${resource.outcome ?? 'refused'}` : 'running'}"
      data-state="${resource.state}"
      data-outcome="${resource.outcome ?? ''}"
      >${label}</span
    >
    <span class="muted">${ended ? t('cancellation.ended') : t('cancellation.live')}</span>`;
}

/** The step's deadline, marked when it passed (the workflow escalates or ends it then). */
function decideByLine(t: Translator, decideBy: Date): SafeHtml {
  const [label, value] = dueByFact(t, decideBy, decideBy.getTime() < Date.now());
  return html`<p data-decide-by="${decideBy.toISOString()}">${label}: ${value}</p>`;
}

function approvals(t: Translator, resource: CancellationResource): SafeHtml {
  const { approval, risk } = resource;
  if (!approval) return risk ? html`<p>${t('approval.none')}</p>` : html``;
  const waiting = resource.state.startsWith('awaitingApproval') && !resource.outcome;
  return html`${
    waiting
      ? html`<p>
            ${t('approval.step', {
              step: approval.step + 1,
              steps: approval.steps,
              level: approval.requiredLevel,
            })}
          </p>
          <p>${t('approval.eligible', { people: approval.eligibleApprovers.join(', ') })}</p>
          ${approval.decideBy ? decideByLine(t, new Date(approval.decideBy)) : ''}`
      : ''
  }
  ${approval.escalations > 0 ? html`<p>${t('approval.escalations', { count: approval.escalations })}</p>` : ''}
  ${
    approval.decisions.length > 0
      ? html`<ul data-decisions="${approval.decisions.length}">
          ${approval.decisions.map(
            (decision) =>
              html`<li>
                ${t(decision.approved ? 'approval.approved' : 'approval.rejected', {
                  approver: decision.approver,
                  level: decision.level,
                })}
                ${decision.onBehalfOf ? `(${t('approval.onBehalfOf', { person: decision.onBehalfOf })})` : ''}
                ${decision.reason ? html`: “${decision.reason}”` : ''}
              </li>`,
          )}
        </ul>`
      : ''
  }`;
}

function refunds(t: Translator, resource: CancellationResource): SafeHtml {
  const currency = resource.currency;
  const total = currency
    ? html`<p>
        ${t('cancellation.refunded', {
          amount: formatMoney(t.language, resource.refundedMinor, currency),
        })}
      </p>`
    : '';
  if (resource.refunds.length === 0) return html`<p class="muted">${t('cancellation.noRefund')}</p>`;
  return html`<table>
      <thead>
        <tr>
          <th scope="col">${t('refund.payment')}</th>
          <th scope="col" class="number">${t('refund.amount')}</th>
          <th scope="col" class="number">${t('refund.orderCurrency')}</th>
          <th scope="col">${t('refund.status')}</th>
          <th scope="col">${t('refund.reference')}</th>
        </tr>
      </thead>
      <tbody>
        ${resource.refunds.map(
          (refund) =>
            html`<tr>
              <th scope="row">${refund.paymentId}</th>
              <td class="number">${formatMoney(t.language, refund.amountMinor, refund.currency)}</td>
              <td class="number">
                ${
                  refund.orderCurrencyMinor !== undefined && currency
                    ? formatMoney(t.language, refund.orderCurrencyMinor, currency)
                    : ''
                }
              </td>
              <td>${t.of('refundStatus', refund.status)}</td>
              <td>${refund.reference ?? ''}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${total}`;
}

function goods(t: Translator, resource: CancellationResource): SafeHtml {
  const { goods: view } = resource;
  if (!view) return html``;
  return html`<h3>${t('cancellation.goods')}</h3>
    <ul>
      ${view.recalls.map(
        (recall) =>
          html`<li>
            ${t('cancellation.recall', { shipment: recall.shipmentId, status: t.of('recall', recall.status) })}
          </li>`,
      )}
      ${
        view.choice
          ? html`<li>
              ${t('cancellation.choice', { option: t.of('option', view.choice.option), by: view.choice.by })}
            </li>`
          : ''
      }
    </ul>`;
}

function notifications(t: Translator, rows: NotificationRow[]): SafeHtml {
  if (rows.length === 0) return html`<p class="muted">${t('cancellation.noNotifications')}</p>`;
  return html`<table>
    <thead>
      <tr>
        <th scope="col">${t('notification.channel')}</th>
        <th scope="col">${t('notification.to')}</th>
        <th scope="col">${t('notification.moment')}</th>
        <th scope="col">${t('notification.status')}</th>
        <th scope="col" class="number">${t('notification.attempts')}</th>
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (row) =>
          html`<tr data-delivery="${row.status}">
            <td>${t.of('channel', row.channel)}</td>
            <td>
              ${row.audience ? t.of('audience', row.audience) : ''} ${row.department ?? ''}
              <span class="muted">${row.recipient}</span>
            </td>
            <td>${row.moment ? t.of('moment', row.moment) : ''}</td>
            <td>${t.of('delivery', row.status)}${row.error ? html`: ${row.error}` : ''}</td>
            <td class="number">${row.attempts ?? 0}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/** The parts of the page that move: the state line (announced to screen readers) and the rest. */
export function liveParts(
  t: Translator,
  resource: CancellationResource,
  rows: NotificationRow[],
): { state: SafeHtml; view: SafeHtml } {
  const money = (minor: number) => formatMoney(t.language, minor, resource.currency ?? 'CNY');
  // Why it waits for ops or finance (attention, settlement) is in the list's copy, for their queues (later).
  return {
    state: stateLine(t, resource),
    view: html`${resource.refusal ? notice('error', t('cancellation.refusal', { reason: resource.refusal })) : ''}
      <div class="grid2">
        <section aria-labelledby="timeline-title">
          <h2 id="timeline-title">${t('cancellation.timeline')}</h2>
          <ol class="timeline" data-steps="${resource.timeline.length}">
            ${resource.timeline.map(
              (entry) =>
                html`<li data-timeline-state="${entry.state}">
                  <time datetime="${entry.at}">${formatMoment(t.language, entry.at)}</time> —
                  ${stateName(t, entry.state)}${entry.note ? html` <span class="muted">(${entry.note})</span>` : ''}
                </li>`,
            )}
          </ol>
        </section>
        <section aria-labelledby="decisions-title">
          <h2 id="decisions-title">${t('cancellation.decisions')}</h2>
          ${facts([
            [t('cancellation.policy'), resource.policyVersion ?? t('cancellation.policyPending')],
            [
              t('cancellation.risk'),
              resource.risk
                ? html`<span class="badge risk-${resource.risk.level}" data-risk="${resource.risk.level}"
                      >${t.of('risk', resource.risk.level)}</span
                    >
                    ${
                      resource.risk.reasons.length > 0
                        ? html`<ul>
                            ${resource.risk.reasons.map((reason) => html`<li>${reason}</li>`)}
                          </ul>`
                        : html`<span class="muted">${t('cancellation.riskNone')}</span>`
                    }`
                : t('cancellation.riskPending'),
            ],
          ])}
          <h3>${t('cancellation.approvals')}</h3>
          ${approvals(t, resource)}
        </section>
      </div>
      <section aria-labelledby="refunds-title">
        <h2 id="refunds-title">${t('cancellation.refunds')}</h2>
        ${refunds(t, resource)} ${goods(t, resource)}
      </section>
      <section aria-labelledby="lines-title">
        <h2 id="lines-title">${t('cancellation.lines')}</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">${t('line.id')}</th>
              <th scope="col">${t('line.sku')}</th>
              <th scope="col">${t('line.warehouse')}</th>
              <th scope="col" class="number">${t('line.quantity')}</th>
              <th scope="col" class="number">${t('line.amount')}</th>
            </tr>
          </thead>
          <tbody>
            ${resource.lines.map(
              (line) =>
                html`<tr>
                  <th scope="row">${line.lineId}</th>
                  <td>${line.sku}</td>
                  <td>${line.warehouse}</td>
                  <td class="number">${line.quantity}</td>
                  <td class="number">${money(line.amountMinor)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="notifications-title">
        <h2 id="notifications-title">${t('cancellation.notifications')}</h2>
        ${notifications(t, rows)}
      </section>
      <section aria-labelledby="statechart-heading">
        <h2 id="statechart-heading">${t('statechart.heading')}</h2>
        ${statechartFigure(
          t,
          resource.state,
          resource.timeline.map((entry) => entry.state),
        )}
      </section>`,
  };
}

/** The approver's form: approve or reject with a comment; the answer replaces it. */
export function decisionForm(t: Translator, cancellationId: string): SafeHtml {
  const id = encodeURIComponent(cancellationId);
  return html`<form
    class="decision"
    hx-post="/console/cancellations/${id}/decision"
    hx-target="this"
    hx-swap="outerHTML"
    method="post"
    action="/console/cancellations/${id}/decision"
  >
    <label for="comment-${cancellationId}">${t('decision.comment')}</label>
    <textarea id="comment-${cancellationId}" name="comment" rows="2" maxlength="2000"></textarea>
    <div class="actions">
      <button class="primary" type="submit" name="approved" value="true">${t('decision.approve')}</button>
      <button class="primary danger" type="submit" name="approved" value="false">
        ${t('decision.reject')}
      </button>
    </div>
  </form>`;
}

export function cancellationPage(
  context: PageContext,
  resource: CancellationResource,
  rows: NotificationRow[],
  options: {
    temporalUrl: string;
    mayDecide: boolean;
    /** The customer's own page, signed now, for whoever talks to them to pass on (row 31). */
    customerLink?: { url: string; days: number };
  },
): SafeHtml {
  const { t } = context;
  const live = liveParts(t, resource, rows);
  const id = encodeURIComponent(resource.cancellationId);
  // While it runs, the page listens for its server-sent events; once ended there is nothing to follow.
  const follow = hasEnded(resource)
    ? html``
    : html` hx-ext="sse" sse-connect="/console/cancellations/${id}/events" sse-close="end"`;
  return page(
    context,
    t('cancellation.title', { order: resource.orderNumber }),
    html`<h1>${t('cancellation.title', { order: resource.orderNumber })}</h1>
      ${facts([
        [
          t('cancellation.order'),
          html`<a href="/console/orders/${encodeURIComponent(resource.orderNumber)}"
            >${resource.orderNumber}</a
          >`,
        ],
        [t('cancellation.requestedBy'), resource.requestedBy],
        [t('cancellation.reason'), t.of('reason', resource.reasonCode)],
        ...(resource.note ? [[t('cancellation.note'), resource.note] as [string, string]] : []),
        [t('cancellation.created'), formatMoment(t.language, resource.createdAt)],
        ...(options.customerLink
          ? [
              [
                t('cancellation.customerLink'),
                html`<a href="${options.customerLink.url}" data-customer-link
                  >${t('cancellation.customerLinkText', { days: options.customerLink.days })}</a
                >`,
              ] as [string, SafeHtml],
            ]
          : []),
      ])}
      <div id="live" data-cancellation="${resource.cancellationId}" ${follow}>
        <p id="state-line" role="status" sse-swap="state">${live.state}</p>
        ${
          options.mayDecide
            ? html`<section aria-labelledby="decision-title">
                <h2 id="decision-title">${t('decision.title')}</h2>
                ${decisionForm(t, resource.cancellationId)}
              </section>`
            : ''
        }
        <div id="live-view" sse-swap="view">${live.view}</div>
      </div>
      <p>
        <a href="${options.temporalUrl}">${t('cancellation.temporal')}</a>
      </p>`,
  );
}
