// An order's page (R2, R25): what a clerk reviews before cancelling (lines, payments, shipments, history,
// earlier cancellations), and the cancel form whose answer from the rules comes at once, as the form changes.
import type { OrderResource } from '../../../contracts/books.contract';
import { REASON_CODES } from '../../../contracts/cancellation.contract';
import { confirmationNeeded } from '../../../rules/review.rules';
import { html, type SafeHtml } from '../html';
import { formatMoment, formatMoney, type Translator } from '../i18n';
import type { Preview } from '../preview';
import { cancelFormFields } from './cancel-form';
import { facts, notice, page, type PageContext } from './layout';

export interface ShipmentRow {
  shipmentId: string;
  carrier: string;
  trackingNumber?: string | null;
  status: string;
  lines: { lineId: string; sku: string; quantity: number; returnedQuantity: number }[];
}

const orderPath = (orderNumber: string) => `/console/orders/${encodeURIComponent(orderNumber)}`;

function cancelForm(t: Translator, order: OrderResource): SafeHtml {
  const open = order.lines.filter((line) => line.quantity - line.cancelledQuantity > 0);
  if (open.length === 0) return notice('info', t('cancel.nothingLeft'));
  const stage = confirmationNeeded(order.status);
  const path = orderPath(order.orderNumber);
  return html`<form
    id="cancel-form"
    hx-post="${path}/cancellations"
    hx-target="#cancel-result"
    hx-swap="innerHTML"
    method="post"
    action="${path}/cancellations"
  >
    ${cancelFormFields({
      lines: open.map((line) => {
        const left = line.quantity - line.cancelledQuantity;
        return {
          lineId: line.lineId,
          left,
          label: t('cancel.lineChoice', { line: line.lineId, sku: line.sku }),
          quantityLabel: t('cancel.quantity', { line: line.lineId, max: left }),
        };
      }),
      reasons: REASON_CODES.map((code) => ({ code, label: t.of('reason', code) })),
      labels: {
        scope: t('cancel.scope'),
        whole: t('cancel.whole'),
        chosen: t('cancel.chosen'),
        lines: t('cancel.lines'),
        reason: t('cancel.reason'),
        note: t('cancel.note'),
      },
      ...(stage ? { confirmation: { stage, label: t(`cancel.confirmStage.${stage}`) } } : {}),
    })}
    <section aria-labelledby="preview-title">
      <h3 id="preview-title">${t('preview.title')}</h3>
      <div
        id="preview"
        aria-live="polite"
        hx-get="${path}/preview"
        hx-trigger="load, change from:#cancel-form"
        hx-include="#cancel-form"
        hx-target="this"
        hx-swap="innerHTML"
      ></div>
    </section>
    <div id="cancel-result"></div>
  </form>`;
}

export function orderPage(
  context: PageContext,
  order: OrderResource,
  shipments: ShipmentRow[],
  mayCancel: boolean,
): SafeHtml {
  const { t } = context;
  const money = (minor: number, currency = order.currency) => formatMoney(t.language, minor, currency);
  const none = html`<p class="muted">${t('order.none')}</p>`;
  return page(
    context,
    t('order.title', { number: order.orderNumber }),
    html`<h1>${t('order.title', { number: order.orderNumber })}</h1>
      ${facts([
        [t('order.customer'), `${order.customerName ?? ''} (${order.customerId})`],
        [
          t('order.status'),
          html`<span data-order-status="${order.status}">${t.of('status', order.status)}</span>`,
        ],
        [t('order.total'), money(order.totalMinor)],
        [t('order.created'), formatMoment(t.language, order.createdAt)],
      ])}
      <h2>${t('order.lines')}</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">${t('line.id')}</th>
            <th scope="col">${t('line.sku')}</th>
            <th scope="col">${t('line.warehouse')}</th>
            <th scope="col" class="number">${t('line.quantity')}</th>
            <th scope="col" class="number">${t('line.reserved')}</th>
            <th scope="col" class="number">${t('line.cancelled')}</th>
            <th scope="col" class="number">${t('line.unitPrice')}</th>
            <th scope="col">${t('line.status')}</th>
          </tr>
        </thead>
        <tbody>
          ${order.lines.map(
            (line) =>
              html`<tr>
                <th scope="row">${line.lineId}</th>
                <td>${line.sku}</td>
                <td>${line.warehouse}</td>
                <td class="number">${line.quantity}</td>
                <td class="number">${line.reservedQuantity}</td>
                <td class="number">${line.cancelledQuantity}</td>
                <td class="number">${money(line.unitPriceMinor)}</td>
                <td>${t.of('lineStatus', line.status)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      <div class="grid2">
        <section aria-labelledby="payments-title">
          <h2 id="payments-title">${t('order.payments')}</h2>
          ${
            order.payments.length === 0
              ? none
              : html`<table>
                  <thead>
                    <tr>
                      <th scope="col">${t('payment.id')}</th>
                      <th scope="col">${t('payment.method')}</th>
                      <th scope="col" class="number">${t('payment.captured')}</th>
                      <th scope="col" class="number">${t('payment.refunded')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${order.payments.map(
                      (payment) =>
                        html`<tr>
                          <th scope="row">${payment.paymentId}</th>
                          <td>${payment.method}</td>
                          <td class="number">${money(payment.capturedMinor, payment.currency)}</td>
                          <td class="number">${money(payment.refundedMinor, payment.currency)}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>`
          }
        </section>
        <section aria-labelledby="shipments-title">
          <h2 id="shipments-title">${t('order.shipments')}</h2>
          ${
            shipments.length === 0
              ? none
              : html`<table>
                  <thead>
                    <tr>
                      <th scope="col">${t('shipment.id')}</th>
                      <th scope="col">${t('shipment.carrier')}</th>
                      <th scope="col">${t('shipment.status')}</th>
                      <th scope="col">${t('shipment.contents')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${shipments.map(
                      (shipment) =>
                        html`<tr>
                          <th scope="row">${shipment.shipmentId}</th>
                          <td>${shipment.carrier} ${shipment.trackingNumber ?? ''}</td>
                          <td>${t.of('shipmentStatus', shipment.status)}</td>
                          <td>
                            ${shipment.lines.map(
                              (line) => html`<div>${line.lineId} ${line.sku} × ${line.quantity}</div>`,
                            )}
                          </td>
                        </tr>`,
                    )}
                  </tbody>
                </table>`
          }
        </section>
      </div>
      <section aria-labelledby="cancellations-title">
        <h2 id="cancellations-title">${t('order.cancellations')}</h2>
        ${
          order.cancellations.length === 0
            ? none
            : html`<ul>
                ${order.cancellations.map(
                  (cancellation) =>
                    html`<li>
                      <a href="/console/cancellations/${encodeURIComponent(cancellation.cancellationId)}"
                        >${formatMoment(t.language, cancellation.createdAt)}</a
                      >
                      · ${t.of('reason', cancellation.reasonCode)} ·
                      ${
                        cancellation.outcome
                          ? t.of('outcome', cancellation.outcome)
                          : t.of('state', cancellation.state.split('.')[0] ?? '')
                      }
                    </li>`,
                )}
              </ul>`
        }
      </section>
      <section aria-labelledby="cancel-title">
        <h2 id="cancel-title">${t('cancel.title')}</h2>
        ${mayCancel ? cancelForm(t, order) : html`<p class="muted">${t('cancel.onlyRequesters')}</p>`}
      </section>
      <section aria-labelledby="history-title">
        <h2 id="history-title">${t('order.history')}</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">${t('history.at')}</th>
              <th scope="col">${t('history.status')}</th>
              <th scope="col">${t('history.actor')}</th>
              <th scope="col">${t('history.note')}</th>
            </tr>
          </thead>
          <tbody>
            ${order.history.map(
              (entry) =>
                html`<tr>
                  <td>${formatMoment(t.language, entry.at)}</td>
                  <td>${t.of('status', entry.status)}</td>
                  <td>${entry.actor}</td>
                  <td>${entry.note ?? ''}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </section>`,
  );
}

/** The rules' answer to the form as it stands, and the button that asks for it when they allow it. */
export function previewFragment(
  t: Translator,
  preview: Preview | { ok: false; code: 'chooseLines' },
): SafeHtml {
  if (!preview.ok) {
    const headline =
      preview.code === 'chooseLines'
        ? t('preview.code.chooseLines')
        : preview.code === 'confirmation_required'
          ? t('preview.code.confirmation_required', { stage: t.of('stage', preview.stage ?? '') })
          : preview.code === 'not_found'
            ? t('error.notFound')
            : t(`preview.code.${preview.code}`);
    return html`<div class="notice error" data-preview="refused">
      <p><strong>${t('preview.refused')}</strong> ${headline}</p>
      ${'reason' in preview ? html`<p class="muted">${t('preview.rule', { reason: preview.reason })}</p>` : ''}
    </div>`;
  }
  const { review, risk, approvals, refund } = preview;
  const money = (minor: number, currency = review.currency) => formatMoney(t.language, minor, currency);
  const released = review.lines.reduce((sum, line) => sum + line.reservedQuantity, 0);
  return html`<div class="notice ok" data-preview="allowed" data-risk="${risk.level}">
    <p><strong>${t('preview.ok')}</strong></p>
    <ul>
      <li>${review.cancelsWholeOrder ? t('preview.whole') : t('preview.partial')}</li>
      ${review.lines.map(
        (line) =>
          html`<li>
            ${t('preview.line', {
              line: line.lineId,
              quantity: line.quantity,
              sku: line.sku,
              amount: money(line.amountMinor),
            })}
          </li>`,
      )}
      ${released > 0 ? html`<li>${t('preview.stock', { count: released })}</li>` : ''}
      ${review.goods?.recall ? html`<li>${t('preview.recall')}</li>` : ''}
      ${
        review.goods && !review.goods.recall
          ? html`<li>
              ${t('preview.delivered', {
                options: preview.customerOptions.map((option) => t.of('option', option)).join(' / '),
              })}
            </li>`
          : ''
      }
      <li>
        ${
          review.refundableMinor > 0
            ? html`${t('preview.refund', { amount: money(review.refundableMinor) })}
                <ul>
                  ${refund.shares.map(
                    (share) =>
                      html`<li>
                        ${t('preview.refundShare', {
                          amount: money(share.amountMinor, share.currency),
                          payment: share.paymentId,
                        })}
                      </li>`,
                  )}
                </ul>`
            : t('preview.noRefund')
        }
      </li>
      <li>
        ${t('preview.risk', { level: t.of('risk', risk.level) })}
        ${
          risk.factors.length > 0
            ? html`<ul>
                ${risk.factors.map((factor) => html`<li>${t.of('riskKind', factor.kind)}: ${factor.reason}</li>`)}
              </ul>`
            : ''
        }
      </li>
      ${
        approvals.length === 0
          ? html`<li>${t('preview.noApproval')}</li>`
          : approvals.map(
              (step) =>
                html`<li>
                  ${t('preview.approvalStep', {
                    level: step.level,
                    hours: Math.round(step.deadlineMs / 3_600_000),
                  })}
                </li>`,
            )
      }
      <li>${t('preview.customerTold')}</li>
      <li class="muted">${t('preview.policy', { version: preview.policyVersion })}</li>
    </ul>
    <button class="primary" type="submit" id="confirm-cancel">${t('cancel.submit')}</button>
  </div>`;
}
