// The customer's own page of their order (issue #14), reached from the signed link in the shop's order mail,
// with no account: the order's items and status in their language, and a form to cancel all of it or chosen
// items, with a reason in their words and the confirmation R2 asks for. As the form changes the rules answer at
// once, from the same preview the staff's order page uses (api/console/preview.ts), worded for the customer:
// cancelled and refunded, needs the shop's approval, or too late and what they can do instead. Nothing of the
// rules' inner workings (risk factors, payments, policy) is shown.
import type { OrderStatus } from '../../../contracts/books.contract';
import type { ReasonCode } from '../../../contracts/cancellation.contract';
import { confirmationNeeded } from '../../../rules/review.rules';
import { html, type SafeHtml } from '../html';
import { formatMoment, formatMoney, type MessageKey, type Translator } from '../i18n';
import type { Preview } from '../preview';
import { cancelFormFields } from './cancel-form';
import { facts, notice, page, type PageContext } from './layout';

/** The reasons a customer gives, in their words: the shop's own (fraud, price errors, stock) are not theirs. */
export const CUSTOMER_REASONS = [
  'customer_changed_mind',
  'duplicate_order',
  'address_problem',
  'delivery_delay',
  'other',
] as const satisfies readonly ReasonCode[];

export interface CustomerOrderFacts {
  orderNumber: string;
  status: OrderStatus;
  currency: string;
  totalMinor: number;
  createdAt: Date | string;
  lines: {
    lineId: string;
    sku: string;
    quantity: number;
    cancelledQuantity: number;
    unitPriceMinor: number;
  }[];
  customerName?: string;
  productNames: ReadonlyMap<string, string>;
  /** The page's path and its signed query: where the form posts and the answer is asked for. */
  path: string;
  search: string;
}

/** The rules' answer as it stands, or the form's own gap (no item chosen). */
export type CustomerAnswer = Preview | { ok: false; code: 'chooseLines' };

/** What the customer can do instead when it is too late, by where their order is. */
function tooLateKey(status: OrderStatus, reason: string): MessageKey {
  if (status === 'cancelled' || /already cancelled/.test(reason)) return 'customerOrder.tooLate.cancelled';
  if (status === 'completed') return 'customerOrder.tooLate.completed';
  if (status === 'shipped' || status === 'delivered') return 'customerOrder.tooLate.shipped';
  return 'customerOrder.tooLate.other';
}

/** The rules' answer in the customer's words, with the button that asks for it when they allow it. */
export function customerAnswerFragment(t: Translator, status: OrderStatus, answer: CustomerAnswer): SafeHtml {
  if (!answer.ok) {
    if (answer.code === 'not_cancellable' || answer.code === 'not_found' || answer.code === 'forbidden') {
      return html`<div class="notice error" data-answer="too_late">
        <p><strong>${t('customerOrder.answer.tooLate')}</strong></p>
        <p>${t(tooLateKey(status, answer.reason))}</p>
      </div>`;
    }
    const text =
      answer.code === 'chooseLines'
        ? t('customerOrder.answer.chooseLines')
        : answer.code === 'confirmation_required'
          ? t('customerOrder.answer.confirm', { stage: t.of('stage', answer.stage ?? '') })
          : t('customerOrder.answer.invalid');
    return html`<div class="notice info" data-answer="${answer.code}"><p>${text}</p></div>`;
  }
  const { review, approvals } = answer;
  const money = formatMoney(t.language, review.refundableMinor, review.currency);
  const needsApproval = approvals.length > 0;
  const headline = needsApproval
    ? t('customerOrder.answer.approval', { amount: money })
    : review.refundableMinor > 0
      ? t('customerOrder.answer.refund', { amount: money })
      : t('customerOrder.answer.noRefund');
  return html`<div class="notice ok" data-answer="${needsApproval ? 'needs_approval' : 'cancelled'}">
    <p><strong>${headline}</strong></p>
    ${review.goods?.recall ? html`<p>${t('customerOrder.answer.recall')}</p>` : ''}
    ${
      review.goods && !review.goods.recall
        ? html`<p>
            ${t('customerOrder.answer.delivered', {
              options: answer.customerOptions.map((option) => t.of('customerOption', option)).join(' / '),
            })}
          </p>`
        : ''
    }
    <button class="primary" type="submit" id="confirm-cancel">${t('customerOrder.cancel.submit')}</button>
  </div>`;
}

function cancelForm(t: Translator, order: CustomerOrderFacts, answer: CustomerAnswer): SafeHtml {
  const open = order.lines.filter((line) => line.quantity - line.cancelledQuantity > 0);
  if (open.length === 0) return customerAnswerFragment(t, order.status, answer);
  const stage = confirmationNeeded(order.status);
  const nameOf = (sku: string) => order.productNames.get(sku) ?? sku;
  return html`<form id="cancel-form" method="post" action="${order.path}/cancellations?${order.search}">
    ${cancelFormFields({
      lines: open.map((line) => {
        const left = line.quantity - line.cancelledQuantity;
        return {
          lineId: line.lineId,
          left,
          label: nameOf(line.sku),
          quantityLabel: t('customerOrder.cancel.quantity', { name: nameOf(line.sku), max: left }),
        };
      }),
      reasons: CUSTOMER_REASONS.map((code) => ({ code, label: t(`customerOrder.reason.${code}`) })),
      labels: {
        scope: t('customerOrder.cancel.scope'),
        whole: t('customerOrder.cancel.whole'),
        chosen: t('customerOrder.cancel.chosen'),
        lines: t('customerOrder.cancel.items'),
        reason: t('customerOrder.cancel.reason'),
        note: t('customerOrder.cancel.note'),
      },
      ...(stage ? { confirmation: { stage, label: t(`customerOrder.confirm.${stage}`) } } : {}),
    })}
    <section aria-labelledby="answer-title">
      <h3 id="answer-title">${t('customerOrder.answer.title')}</h3>
      <div
        id="answer"
        aria-live="polite"
        hx-get="${order.path}/preview?${order.search}"
        hx-trigger="change from:#cancel-form"
        hx-include="#cancel-form"
        hx-target="this"
        hx-swap="innerHTML"
      >
        ${customerAnswerFragment(t, order.status, answer)}
      </div>
    </section>
  </form>`;
}

export function customerOrderPage(
  context: PageContext,
  order: CustomerOrderFacts,
  answer: CustomerAnswer,
  message?: { kind: 'ok' | 'error' | 'info'; text: string },
): SafeHtml {
  const { t } = context;
  const money = (minor: number) => formatMoney(t.language, minor, order.currency);
  const title = t('customerOrder.title', { order: order.orderNumber });
  return page(
    context,
    title,
    html`<h1>${title}</h1>
      ${order.customerName ? html`<p>${t('customerOrder.hello', { name: order.customerName })}</p>` : ''}
      ${message ? html`<div id="customer-message">${notice(message.kind, message.text)}</div>` : ''}
      ${facts([
        [
          t('customerOrder.status'),
          html`<span data-order-status="${order.status}">${t.of('status', order.status)}</span>`,
        ],
        [t('customerOrder.placed'), formatMoment(t.language, order.createdAt)],
        [t('customerOrder.total'), money(order.totalMinor)],
      ])}
      <section aria-labelledby="items-title">
        <h2 id="items-title">${t('customerOrder.items')}</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">${t('customerOrder.item')}</th>
              <th scope="col" class="number">${t('line.quantity')}</th>
              <th scope="col" class="number">${t('customerOrder.price')}</th>
              <th scope="col" class="number">${t('customerOrder.cancelled')}</th>
            </tr>
          </thead>
          <tbody>
            ${order.lines.map(
              (line) =>
                html`<tr data-line="${line.lineId}">
                  <th scope="row">
                    ${order.productNames.get(line.sku) ?? line.sku} <span class="muted">(${line.sku})</span>
                  </th>
                  <td class="number">${line.quantity}</td>
                  <td class="number">${money(line.unitPriceMinor)}</td>
                  <td class="number">${line.cancelledQuantity}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="cancel-title">
        <h2 id="cancel-title">${t('customerOrder.cancel.title')}</h2>
        ${cancelForm(t, order, answer)}
      </section>`,
  );
}
