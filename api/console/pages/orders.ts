// Finding orders (R1, R13): the order search of the API (models/order-search.ts) behind a form. A plain GET
// form, so a search is a link one can keep, share and go back to.
import { ORDER_STATUSES, type OrderSearchPage } from '../../../contracts/books.contract';
import { html, type SafeHtml } from '../html';
import { formatMoment, formatMoney } from '../i18n';
import { notice, page, type PageContext } from './layout';

/** The search form's fields, as the person typed them. */
export const SEARCH_FIELDS = [
  'orderNumber',
  'customer',
  'phone',
  'sku',
  'status',
  'createdFrom',
  'createdTo',
] as const;
export type SearchForm = Partial<Record<(typeof SEARCH_FIELDS)[number], string>>;

export function ordersPage(
  context: PageContext,
  form: SearchForm,
  outcome: { results?: OrderSearchPage; error?: string; nextHref?: string },
): SafeHtml {
  const { t } = context;
  const text = (name: 'orderNumber' | 'customer' | 'phone' | 'sku', label: string, extra?: SafeHtml) =>
    html`<div>
      <label for="${name}">${label}</label>
      <input id="${name}" name="${name}" value="${form[name] ?? ''}" ${extra} />
    </div>`;
  const date = (name: 'createdFrom' | 'createdTo', label: string) =>
    html`<div>
      <label for="${name}">${label}</label>
      <input id="${name}" name="${name}" type="date" value="${form[name] ?? ''}" />
    </div>`;
  const { results } = outcome;
  return page(
    context,
    t('orders.title'),
    html`<h1>${t('orders.title')}</h1>
      <p class="muted" id="search-hint">${t('orders.hint')}</p>
      <form class="search" method="get" action="/console/orders" role="search" aria-describedby="search-hint">
        ${text('orderNumber', t('orders.orderNumber'))} ${text('customer', t('orders.customer'))}
        ${text('phone', t('orders.phone'), html`inputmode="tel"`)} ${text('sku', t('orders.sku'))}
        <div>
          <label for="status">${t('orders.status')}</label>
          <select id="status" name="status">
            <option value="">${t('orders.anyStatus')}</option>
            ${ORDER_STATUSES.map(
              (status) =>
                html`<option value="${status}" ${form.status === status ? html`selected` : ''}>
                  ${t.of('status', status)}
                </option>`,
            )}
          </select>
        </div>
        ${date('createdFrom', t('orders.createdFrom'))} ${date('createdTo', t('orders.createdTo'))}
        <div><button class="primary" type="submit">${t('orders.search')}</button></div>
      </form>
      ${outcome.error ? notice('error', t('error.invalid'), outcome.error) : ''}
      ${
        results
          ? html`<section aria-labelledby="results-title">
              <h2 id="results-title" aria-live="polite">
                ${
                  results.items.length === 0
                    ? t('orders.none')
                    : t('orders.results', { count: results.total ?? results.items.length })
                }
              </h2>
              ${
                results.items.length > 0
                  ? html`<table>
                      <thead>
                        <tr>
                          <th scope="col">${t('orders.col.number')}</th>
                          <th scope="col">${t('orders.col.customer')}</th>
                          <th scope="col">${t('orders.col.status')}</th>
                          <th scope="col" class="number">${t('orders.col.total')}</th>
                          <th scope="col" class="number">${t('orders.col.lines')}</th>
                          <th scope="col">${t('orders.col.created')}</th>
                        </tr>
                      </thead>
                      <tbody>
                        ${results.items.map(
                          (order) =>
                            html`<tr data-order="${order.orderNumber}">
                              <td>
                                <a href="/console/orders/${encodeURIComponent(order.orderNumber)}"
                                  >${order.orderNumber}</a
                                >
                              </td>
                              <td>${order.customerName ?? order.customerId}</td>
                              <td>${t.of('status', order.status)}</td>
                              <td class="number">
                                ${formatMoney(t.language, order.totalMinor, order.currency)}
                              </td>
                              <td class="number">${order.lineCount}</td>
                              <td>${formatMoment(t.language, order.createdAt)}</td>
                            </tr>`,
                        )}
                      </tbody>
                    </table>`
                  : ''
              }
              ${outcome.nextHref ? html`<a href="${outcome.nextHref}">${t('orders.next')}</a>` : ''}
            </section>`
          : ''
      }`,
  );
}
