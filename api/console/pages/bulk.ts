// Bulk cancellation in the console (issue #16): the jobs and the form that dry-runs and starts one; a job's page,
// whose progress htmx polls while the job runs, with its pause, resume and stop buttons and its CSV report.
import type { BulkDryRun, BulkJobSummary, BulkJobView } from '../../../client/bulk.contract';
import { ORDER_STATUSES } from '../../../contracts/books.contract';
import { REASON_CODES } from '../../../contracts/cancellation.contract';
import { html, type SafeHtml } from '../html';
import { formatMoment, formatMoney, type Translator } from '../i18n';
import { facts, notice, page, type PageContext } from './layout';

const money = (t: Translator, amounts: readonly { currency: string; amountMinor: number }[]) =>
  amounts.length === 0
    ? t('bulk.nothing')
    : amounts.map((amount) => formatMoney(t.language, amount.amountMinor, amount.currency)).join(', ');

const counts = (t: Translator, record: Record<string, number>) =>
  Object.entries(record)
    .filter(([, count]) => count > 0)
    .map(([name, count]) => `${name} ${count}`)
    .join(', ') || t('bulk.nothing');

const jobPath = (jobId: string) => `/console/bulk/${encodeURIComponent(jobId)}`;

export function dryRunResult(t: Translator, figures: BulkDryRun): SafeHtml {
  return html`<div id="bulk-dry-run" data-found="${figures.found}" data-orders="${figures.toCancel.orders}">
    ${notice(
      'info',
      t('bulk.dryRun.result', {
        found: figures.found,
        orders: figures.toCancel.orders,
        lines: figures.toCancel.lines,
        money: money(t, figures.toCancel.money),
      }),
      t('bulk.dryRun.leftAlone', { counts: counts(t, figures.leftAlone) }),
    )}
    ${
      figures.examples.length > 0
        ? html`<table>
            <thead>
              <tr>
                <th scope="col">${t('bulk.order')}</th>
                <th scope="col">${t('bulk.standing')}</th>
                <th scope="col">${t('bulk.why')}</th>
              </tr>
            </thead>
            <tbody>
              ${figures.examples.map(
                (example) =>
                  html`<tr>
                    <td>${example.orderNumber}</td>
                    <td>${example.status}</td>
                    <td>${example.reason}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
        : ''
    }
  </div>`;
}

function jobForm(t: Translator): SafeHtml {
  return html`<form class="bulk-form" method="post" action="/console/bulk" hx-post="/console/bulk">
    <label for="bulk-orders">${t('bulk.orderNumbers')}</label>
    <textarea id="bulk-orders" name="orderNumbers" rows="3"></textarea>
    <label for="bulk-skus">${t('bulk.skus')}</label>
    <input id="bulk-skus" name="skus" />
    <label for="bulk-supplier">${t('bulk.supplier')}</label>
    <input id="bulk-supplier" name="supplierId" />
    <label for="bulk-customers">${t('bulk.customers')}</label>
    <input id="bulk-customers" name="customerIds" />
    <label for="bulk-status">${t('bulk.status')}</label>
    <select id="bulk-status" name="status" multiple size="4">
      ${ORDER_STATUSES.map((status) => html`<option value="${status}">${t.of('status', status)}</option>`)}
    </select>
    <label for="bulk-from">${t('bulk.createdFrom')}</label>
    <input id="bulk-from" name="createdFrom" type="date" />
    <label for="bulk-to">${t('bulk.createdTo')}</label>
    <input id="bulk-to" name="createdTo" type="date" />
    <label for="bulk-reason">${t('bulk.reason')}</label>
    <select id="bulk-reason" name="reasonCode" required>
      ${REASON_CODES.map((code) => html`<option value="${code}">${t.of('reason', code)}</option>`)}
    </select>
    <label for="bulk-note">${t('bulk.note')}</label>
    <textarea id="bulk-note" name="note" rows="2"></textarea>
    <label
      ><input type="checkbox" name="confirm" value="awaiting_shipment" checked /> ${t('bulk.confirm')}</label
    >
    <div class="actions">
      <button type="submit" hx-post="/console/bulk/dry-run" hx-target="#bulk-dry-run" hx-swap="outerHTML">
        ${t('bulk.dryRun')}
      </button>
      <button class="primary" type="submit">${t('bulk.start')}</button>
    </div>
    <div id="bulk-dry-run" role="status"></div>
  </form>`;
}

export function bulkListPage(context: PageContext, jobs: BulkJobSummary[], mayStart: boolean): SafeHtml {
  const { t } = context;
  return page(
    context,
    t('bulk.title'),
    html`<h1>${t('bulk.title')}</h1>
      ${
        mayStart
          ? html`<p>${t('bulk.hint')}</p>
              ${jobForm(t)}`
          : ''
      }
      <h2>${t('bulk.jobs')}</h2>
      ${
        jobs.length === 0
          ? html`<p>${t('bulk.none')}</p>`
          : html`<table>
              <thead>
                <tr>
                  <th scope="col">${t('bulk.job', { id: '' })}</th>
                  <th scope="col">${t('bulk.state')}</th>
                  <th scope="col">${t('bulk.orders')}</th>
                  <th scope="col">${t('bulk.reason')}</th>
                  <th scope="col">${t('bulk.startedBy')}</th>
                  <th scope="col">${t('bulk.created')}</th>
                </tr>
              </thead>
              <tbody>
                ${jobs.map(
                  (job) =>
                    html`<tr data-job="${job.jobId}">
                      <td><a href="${jobPath(job.jobId)}">${job.jobId}</a></td>
                      <td>${job.state}</td>
                      <td>${job.total ?? ''}</td>
                      <td>${t.of('reason', job.reasonCode)}</td>
                      <td>${job.requestedBy}</td>
                      <td>${formatMoment(t.language, job.createdAt)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }`,
  );
}

const FINAL = ['completed', 'stopped', 'failed'];

/** The part of a job's page that moves: polled every two seconds until the job ended. */
export function bulkProgress(t: Translator, job: BulkJobView): SafeHtml {
  const path = jobPath(job.jobId);
  const running = !FINAL.includes(job.state);
  const button = (action: 'pause' | 'resume' | 'stop') =>
    html`<button type="button" hx-post="${path}/${action}" hx-target="#bulk-progress" hx-swap="outerHTML">
      ${t(`bulk.${action}`)}
    </button>`;
  return html`<section
    id="bulk-progress"
    data-state="${job.state}"
    aria-live="polite"
    ${running ? html`hx-get="${path}/progress" hx-trigger="every 2s" hx-swap="outerHTML"` : ''}
  >
    ${facts([
      [t('bulk.state'), html`<strong>${job.state}</strong>`],
      ...(job.failureReason ? [[t('bulk.failureReason'), job.failureReason] as [string, string]] : []),
      [t('bulk.orders'), String(job.total ?? '')],
      [t('bulk.progress'), t('bulk.phases', { ...job.phases })],
      [t('bulk.byState'), counts(t, job.byState)],
      [t('bulk.refunded'), money(t, job.refunded)],
    ])}
    <div class="actions">
      ${job.state === 'running' || job.state === 'selecting' ? button('pause') : ''}
      ${job.state === 'paused' ? button('resume') : ''} ${running ? button('stop') : ''}
      <a href="/v1/bulk-cancellations/${encodeURIComponent(job.jobId)}/report">${t('bulk.report')}</a>
    </div>
    ${
      job.control.length > 0
        ? html`<h2>${t('bulk.control')}</h2>
            <ul>
              ${job.control.map(
                (entry) =>
                  html`<li>
                    ${entry.action} · ${entry.by} ·
                    ${formatMoment(t.language, entry.at)}${entry.note ? ` · ${entry.note}` : ''}
                  </li>`,
              )}
            </ul>`
        : ''
    }
    ${
      job.failures.length > 0
        ? html`<h2>${t('bulk.failures', { count: job.failureCount })}</h2>
            <table>
              <thead>
                <tr>
                  <th scope="col">${t('bulk.order')}</th>
                  <th scope="col">${t('bulk.standing')}</th>
                  <th scope="col">${t('bulk.why')}</th>
                </tr>
              </thead>
              <tbody>
                ${job.failures.map(
                  (failure) =>
                    html`<tr>
                      <td>${failure.orderNumber}</td>
                      <td>${failure.status}</td>
                      <td>${failure.reason ?? ''}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
        : ''
    }
  </section>`;
}

export function bulkJobPage(context: PageContext, job: BulkJobView): SafeHtml {
  const { t } = context;
  return page(
    context,
    t('bulk.job', { id: job.jobId }),
    html`<h1>${t('bulk.job', { id: job.jobId })}</h1>
      ${facts([
        [t('bulk.startedBy'), job.requestedBy],
        [t('bulk.reason'), t.of('reason', job.reasonCode)],
        [t('bulk.note'), job.note ?? ''],
        [t('bulk.created'), formatMoment(t.language, job.createdAt)],
      ])}
      ${bulkProgress(t, job)}`,
  );
}
