// The analytics page (R22, R23, R29): every figure of GET /v1/analytics/… for one window, each in a section
// with its table (the accessible form of the figures, and what the chart is drawn from: ../analytics-script.ts),
// a chart where one helps, and a link to the same figure as CSV from the API.
import type { AnalyticsAnswer, AnalyticsFigure } from '../../../client/contract';
import { ANALYTICS_GRANULARITIES, type AnalyticsGranularity } from '../../../contracts/analytics.contract';
import { html, type Interpolation, type SafeHtml } from '../html';
import { formatMoney, type MessageKey, type Translator } from '../i18n';
import { notice, page, type PageContext } from './layout';

/** The page's form, as the person filled it in (dates as YYYY-MM-DD at the offset). */
export interface AnalyticsForm {
  from: string;
  to: string;
  granularity: AnalyticsGranularity;
  utcOffset: string;
}

export type AnalyticsAnswers = { [F in AnalyticsFigure]: AnalyticsAnswer<F> };

export interface AnalyticsView {
  answers?: AnalyticsAnswers;
  /** Where each figure's CSV is, for this window. */
  csvHref: (figure: AnalyticsFigure) => string;
  /** The cancellations that make a repeat canceller. */
  repeatMinimum: number;
  error?: string;
}

// ---- Cells.

const number = (t: Translator, value: number) => new Intl.NumberFormat(t.language).format(value);

/** A duration the way the language writes it, in the largest unit that keeps it readable. */
export function formatDuration(t: Translator, ms: number): string {
  const decimal = (value: number) =>
    new Intl.NumberFormat(t.language, { maximumFractionDigits: 1 }).format(value);
  if (ms < 60_000) return t('analytics.duration.seconds', { n: decimal(ms / 1000) });
  if (ms < 3_600_000) return t('analytics.duration.minutes', { n: decimal(ms / 60_000) });
  if (ms < 86_400_000) return t('analytics.duration.hours', { n: decimal(ms / 3_600_000) });
  return t('analytics.duration.days', { n: decimal(ms / 86_400_000) });
}

/** A header cell; `series`: a column the chart draws, optionally named otherwise in its legend. */
function head(label: string, options: { number?: boolean; series?: string; seriesLabel?: string } = {}) {
  return html`<th
    scope="col"
    ${options.number ? html`class="number"` : ''}
    ${options.series ? html`data-series="${options.series}"` : ''}
    ${options.seriesLabel ? html`data-series-label="${options.seriesLabel}"` : ''}
  >
    ${label}
  </th>`;
}

/** A numeric cell; `series` with the value the chart draws (when it is not the number shown). */
function cell(shown: Interpolation, options: { series?: string; value?: number } = {}) {
  return options.series
    ? html`<td class="number" data-series="${options.series}" data-value="${options.value ?? 0}">
        ${shown}
      </td>`
    : html`<td class="number">${shown}</td>`;
}

const counted = (t: Translator, value: number, series?: string) =>
  cell(number(t, value), series ? { series, value } : {});

const OUTCOME_COLUMNS = ['completed', 'stopped', 'running'] as const;

function outcomeHeads(t: Translator, charted: boolean) {
  return html`${head(t('analytics.col.cancellations'), { number: true })}
  ${OUTCOME_COLUMNS.map((column) =>
    head(t(`analytics.col.${column}`), { number: true, ...(charted ? { series: column } : {}) }),
  )}`;
}

function outcomeCells(
  t: Translator,
  row: { cancellations: number; completed: number; stopped: number; running: number },
  charted: boolean,
) {
  return html`${counted(t, row.cancellations)}
  ${OUTCOME_COLUMNS.map((column) => counted(t, row[column], charted ? column : undefined))}`;
}

// ---- Sections.

interface SectionSpec {
  figure: AnalyticsFigure;
  title: string;
  hint?: string;
  /** The chart drawn from the table, if any. */
  chart?: { type: 'bar' | 'line'; horizontal?: boolean; stacked?: boolean };
  /** Above the table: a sentence about the figure as a whole. */
  lead?: Interpolation;
  heads: Interpolation;
  rows: readonly SafeHtml[];
}

function section(t: Translator, view: AnalyticsView, spec: SectionSpec): SafeHtml {
  const id = `figure-${spec.figure}`;
  const { chart } = spec;
  const drawn = chart && spec.rows.length > 0;
  return html`<section
    class="figure"
    id="${id}"
    aria-labelledby="${id}-title"
    data-figure="${spec.figure}"
    ${drawn ? html`data-chart="${chart.type}"` : ''}
    ${drawn && chart.horizontal ? html`data-chart-axis="y"` : ''}
    ${drawn && chart.stacked ? html`data-chart-stacked` : ''}
  >
    <h2 id="${id}-title">${spec.title}</h2>
    ${spec.hint ? html`<p class="muted">${spec.hint}</p>` : ''} ${spec.lead ?? ''}
    ${
      drawn
        ? html`<div class="chart">
            <canvas role="img" aria-label="${t('analytics.chartLabel', { title: spec.title })}"></canvas>
          </div>`
        : ''
    }
    ${
      spec.rows.length === 0
        ? html`<p>${t('analytics.none')}</p>`
        : html`<table>
            <caption class="visually-hidden">
              ${spec.title}
            </caption>
            <thead>
              <tr>
                ${spec.heads}
              </tr>
            </thead>
            <tbody>
              ${spec.rows}
            </tbody>
          </table>`
    }
    <p>
      <a href="${view.csvHref(spec.figure)}" download data-csv="${spec.figure}"
        >${t('analytics.csv', { title: spec.title })}</a
      >
    </p>
  </section>`;
}

function sections(t: Translator, view: AnalyticsView, answers: AnalyticsAnswers): SafeHtml[] {
  const money = (minor: number, currency: string) =>
    currency ? formatMoney(t.language, minor, currency) : number(t, minor);
  const hours = (ms: number) => Math.round((ms / 3_600_000) * 100) / 100;
  const hoursLabel = (key: MessageKey) => t('analytics.series.hours', { name: t(key) });
  const repeat = answers['repeat-cancellers'];
  return [
    section(t, view, {
      figure: 'over-time',
      title: t('analytics.overTime.title'),
      chart: { type: 'bar', stacked: true },
      heads: html`${head(t('analytics.col.period'))} ${outcomeHeads(t, true)}`,
      rows: answers['over-time'].rows.map(
        (row) =>
          html`<tr>
            <th scope="row"><time datetime="${row.period}">${row.period}</time></th>
            ${outcomeCells(t, row, true)}
          </tr>`,
      ),
    }),
    section(t, view, {
      figure: 'reasons',
      title: t('analytics.reasons.title'),
      chart: { type: 'bar', horizontal: true, stacked: true },
      heads: html`${head(t('analytics.col.reason'))} ${outcomeHeads(t, true)}`,
      rows: answers.reasons.rows.map(
        (row) =>
          html`<tr data-reason="${row.reasonCode}">
            <th scope="row">${t.of('reason', row.reasonCode)}</th>
            ${outcomeCells(t, row, true)}
          </tr>`,
      ),
    }),
    section(t, view, {
      figure: 'products',
      title: t('analytics.products.title'),
      chart: { type: 'bar', horizontal: true },
      heads: html`${head(t('analytics.col.sku'))} ${head(t('analytics.col.product'))}
      ${head(t('analytics.col.cancellations'), { number: true, series: 'cancellations' })}
      ${head(t('analytics.col.unitsCancelled'), { number: true, series: 'units' })}
      ${head(t('analytics.col.amount'), { number: true })}`,
      rows: answers.products.rows.map(
        (row) =>
          html`<tr>
            <th scope="row">${row.sku}</th>
            <td>${row.name ?? ''}</td>
            ${counted(t, row.cancellations, 'cancellations')} ${counted(t, row.unitsCancelled, 'units')}
            ${cell(money(row.amountMinor, row.currency))}
          </tr>`,
      ),
    }),
    section(t, view, {
      figure: 'departments',
      title: t('analytics.departments.title'),
      chart: { type: 'bar', stacked: true },
      heads: html`${head(t('analytics.col.department'))} ${outcomeHeads(t, true)}`,
      rows: answers.departments.rows.map(
        (row) =>
          html`<tr>
            <th scope="row">
              ${row.department === 'unknown' || row.department === 'customer' ? t(`analytics.department.${row.department}`) : t.of('department', row.department)}
            </th>
            ${outcomeCells(t, row, true)}
          </tr>`,
      ),
    }),
    section(t, view, {
      figure: 'channels',
      title: t('analytics.channels.title'),
      chart: { type: 'bar', stacked: true },
      heads: html`${head(t('analytics.col.channel'))} ${outcomeHeads(t, true)}`,
      rows: answers.channels.rows.map(
        (row) =>
          html`<tr>
            <th scope="row">${t(`analytics.channel.${row.channel}`)}</th>
            ${outcomeCells(t, row, true)}
          </tr>`,
      ),
    }),
    section(t, view, {
      figure: 'refunds',
      title: t('analytics.refunds.title'),
      heads: html`${head(t('analytics.col.currency'))}
      ${head(t('analytics.col.refundedCancellations'), { number: true })}
      ${head(t('analytics.col.refunded'), { number: true })}`,
      rows: answers.refunds.rows.map(
        (row) =>
          html`<tr>
            <th scope="row">${row.currency}</th>
            ${counted(t, row.cancellations)} ${cell(money(row.refundedMinor, row.currency))}
          </tr>`,
      ),
    }),
    section(t, view, {
      figure: 'restocked',
      title: t('analytics.restocked.title'),
      hint: t('analytics.restocked.hint'),
      chart: { type: 'bar', horizontal: true, stacked: true },
      heads: html`${head(t('analytics.col.sku'))} ${head(t('analytics.col.product'))}
      ${head(t('analytics.col.released'), { number: true, series: 'released' })}
      ${head(t('analytics.col.returned'), { number: true, series: 'returned' })}
      ${head(t('analytics.col.value'), { number: true })}`,
      rows: answers.restocked.rows.map(
        (row) =>
          html`<tr>
            <th scope="row">${row.sku}</th>
            <td>${row.name ?? ''}</td>
            ${counted(t, row.releasedUnits, 'released')} ${counted(t, row.returnedUnits, 'returned')}
            ${cell(
              row.valueMinor !== undefined && row.currency
                ? money(row.valueMinor, row.currency)
                : html`<span class="muted">${t('analytics.noCost')}</span>`,
            )}
          </tr>`,
      ),
    }),
    section(t, view, {
      figure: 'suppliers',
      title: t('analytics.suppliers.title'),
      chart: { type: 'bar', horizontal: true, stacked: true },
      heads: html`${head(t('analytics.col.supplier'))}
      ${head(t('analytics.col.purchaseOrders'), { number: true })}
      ${head(t('analytics.col.unitsReduced'), { number: true, series: 'reduced' })}
      ${head(t('analytics.col.unitsNotReduced'), { number: true, series: 'left' })}
      ${head(t('analytics.col.valueReduced'), { number: true })}
      ${head(t('analytics.col.told'), { number: true })}`,
      rows: answers.suppliers.rows.map(
        (row) =>
          html`<tr>
            <th scope="row">${row.supplierName} (${row.supplierId})</th>
            ${counted(t, row.purchaseOrders)} ${counted(t, row.unitsReduced, 'reduced')}
            ${counted(t, row.unitsNotReduced, 'left')} ${cell(money(row.valueReducedMinor, row.currency))}
            ${counted(t, row.supplierToldOfChanges)}
          </tr>`,
      ),
    }),
    section(t, view, {
      figure: 'approvals',
      title: t('analytics.approvals.title'),
      chart: { type: 'bar' },
      heads: html`${head(t('analytics.col.risk'))} ${head(t('analytics.col.approvals'), { number: true })}
      ${head(t('analytics.col.rejected'), { number: true })}
      ${head(t('analytics.col.escalations'), { number: true })}
      ${head(t('analytics.col.average'), { number: true })}
      ${head(t('analytics.col.median'), { number: true, series: 'median', seriesLabel: hoursLabel('analytics.col.median') })}
      ${head(t('analytics.col.p90'), { number: true, series: 'p90', seriesLabel: hoursLabel('analytics.col.p90') })}
      ${head(t('analytics.col.max'), { number: true })}`,
      rows: answers.approvals.rows.map(
        (row) =>
          html`<tr>
            <th scope="row">
              ${row.riskLevel === 'unknown' ? t('analytics.risk.unknown') : t.of('risk', row.riskLevel)}
            </th>
            ${counted(t, row.approvals)} ${counted(t, row.rejected)} ${counted(t, row.escalations)}
            ${cell(formatDuration(t, row.averageMs))}
            ${cell(formatDuration(t, row.medianMs), { series: 'median', value: hours(row.medianMs) })}
            ${cell(formatDuration(t, row.p90Ms), { series: 'p90', value: hours(row.p90Ms) })}
            ${cell(formatDuration(t, row.maxMs))}
          </tr>`,
      ),
    }),
    section(t, view, {
      figure: 'state-times',
      title: t('analytics.stateTimes.title'),
      chart: { type: 'bar', horizontal: true },
      heads: html`${head(t('analytics.col.state'))} ${head(t('analytics.col.stays'), { number: true })}
      ${head(t('analytics.col.average'), { number: true, series: 'average', seriesLabel: hoursLabel('analytics.col.average') })}
      ${head(t('analytics.col.max'), { number: true })} ${head(t('analytics.col.total'), { number: true })}`,
      rows: answers['state-times'].rows.map(
        (row) =>
          html`<tr>
            <th scope="row">${t.of('state', row.state)}</th>
            ${counted(t, row.stays)}
            ${cell(formatDuration(t, row.averageMs), { series: 'average', value: hours(row.averageMs) })}
            ${cell(formatDuration(t, row.maxMs))} ${cell(formatDuration(t, row.totalMs))}
          </tr>`,
      ),
    }),
    section(t, view, {
      figure: 'customers',
      title: t('analytics.customers.title'),
      heads: html`${head(t('analytics.col.customer'))} ${outcomeHeads(t, false)}`,
      rows: answers.customers.rows.map(
        (row) =>
          html`<tr>
            <th scope="row">${row.customerId}</th>
            ${outcomeCells(t, row, false)}
          </tr>`,
      ),
    }),
    section(t, view, {
      figure: 'repeat-cancellers',
      title: t('analytics.repeat.title'),
      lead: html`<p data-repeat-customers="${repeat.summary.repeatCustomers}">
        ${t('analytics.repeat.summary', {
          repeat: number(t, repeat.summary.repeatCustomers),
          customers: number(t, repeat.summary.customers),
          minimum: view.repeatMinimum,
        })}
      </p>`,
      heads: html`${head(t('analytics.col.customer'))}
      ${head(t('analytics.col.cancellations'), { number: true })}
      ${head(t('analytics.col.completed'), { number: true })} ${head(t('analytics.col.first'))}
      ${head(t('analytics.col.last'))} ${head(t('analytics.col.reasons'))}`,
      rows: repeat.rows.map(
        (row) =>
          html`<tr>
            <th scope="row">${row.customerId}</th>
            ${counted(t, row.cancellations)} ${counted(t, row.completed)}
            <td><time datetime="${row.firstAt}">${row.firstAt.slice(0, 10)}</time></td>
            <td><time datetime="${row.lastAt}">${row.lastAt.slice(0, 10)}</time></td>
            <td>${row.reasons.map((reason) => t.of('reason', reason)).join('、')}</td>
          </tr>`,
      ),
    }),
  ];
}

export function analyticsPage(context: PageContext, form: AnalyticsForm, view: AnalyticsView): SafeHtml {
  const { t } = context;
  const title = t('analytics.title');
  const answers = view.answers;
  const total = answers?.reasons.rows.reduce((sum, row) => sum + row.cancellations, 0) ?? 0;
  return page(
    { ...context, section: 'analytics' },
    title,
    html`<h1>${title}</h1>
      <p class="muted" id="analytics-hint">${t('analytics.hint')}</p>
      <form class="search" method="get" action="/console/analytics" aria-describedby="analytics-hint">
        <div>
          <label for="from">${t('analytics.from')}</label>
          <input id="from" name="from" type="date" value="${form.from}" required />
        </div>
        <div>
          <label for="to">${t('analytics.to')}</label>
          <input id="to" name="to" type="date" value="${form.to}" required />
        </div>
        <div>
          <label for="granularity">${t('analytics.granularity')}</label>
          <select id="granularity" name="granularity">
            ${ANALYTICS_GRANULARITIES.map(
              (granularity) =>
                html`<option value="${granularity}" ${form.granularity === granularity ? html`selected` : ''}>
                  ${t(`analytics.granularity.${granularity}`)}
                </option>`,
            )}
          </select>
        </div>
        <div>
          <label for="utcOffset">${t('analytics.utcOffset')}</label>
          <input
            id="utcOffset"
            name="utcOffset"
            value="${form.utcOffset}"
            pattern="[+\\-]\\d\\d:\\d\\d"
            aria-describedby="utcOffset-hint"
            autocomplete="off"
          />
          <span class="muted" id="utcOffset-hint">${t('analytics.utcOffsetHint')}</span>
        </div>
        <div><button class="primary" type="submit">${t('analytics.show')}</button></div>
      </form>
      ${view.error ? notice('error', t('error.invalid'), view.error) : ''}
      ${
        answers
          ? html`<p role="status" data-total="${total}">
                ${t('analytics.window', { count: number(t, total), from: form.from, to: form.to, offset: form.utcOffset })}
              </p>
              ${sections(t, view, answers)}`
          : ''
      }
      <script src="/console/assets/chart.umd.min.js" defer></script>
      <script src="/console/assets/analytics.js" defer></script>`,
  );
}
