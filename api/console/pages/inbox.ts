// What waits for the signed-in person (the list's waitingFor=me): for an approver, the approvals they may give,
// each decided here with a comment through the same Update as the API's decision route.
import type { CancellationSummary } from '../../../client/contract';
import { html, type SafeHtml } from '../html';
import { formatMoment, type Translator } from '../i18n';
import { decisionForm, stateName } from './cancellation';
import { dueByFact, facts, page, type PageContext } from './layout';

/**
 * When an approval waiting for a decision is due: its step's deadline as the workflow set it (the database copy
 * has it from the moment the approvers were asked), after which it escalates or ends as the policy says.
 */
function approvalDue(item: CancellationSummary, now: Date): { dueBy: Date; overdue: boolean } | undefined {
  const decideBy = item.state.startsWith('awaitingApproval') ? item.approval?.decideBy : undefined;
  if (!decideBy) return undefined;
  const dueBy = new Date(decideBy);
  return { dueBy, overdue: dueBy.getTime() < now.getTime() };
}

function whatWaits(t: Translator, item: CancellationSummary): string {
  const [top] = item.state.split('.');
  switch (top) {
    case 'awaitingApproval':
      return t('inbox.what.approval', { level: item.approval?.requiredLevel ?? 1 });
    case 'awaitingSettlement':
      return t('inbox.what.settlement');
    case 'needsAttention':
      return t('inbox.what.attention');
    case 'awaitingReturn':
      return t('inbox.what.return');
    case 'agreeingWithCustomer':
      return t('inbox.what.choice');
    default:
      return t('inbox.what.other');
  }
}

export function inboxPage(
  context: PageContext,
  items: CancellationSummary[],
  total: number,
  mayDecide: (item: CancellationSummary) => boolean,
  now: Date = new Date(),
): SafeHtml {
  const { t } = context;
  return page(
    context,
    t('inbox.title'),
    html`<h1>${t('inbox.title')}</h1>
      <p role="status">${items.length === 0 ? t('inbox.none') : t('inbox.count', { count: total })}</p>
      ${items.map((item, index) => {
        const due = approvalDue(item, now);
        return html`<article
          class="inbox-item${due?.overdue ? ' late' : ''}"
          data-cancellation="${item.cancellationId}"
          data-due-by="${due?.dueBy.toISOString() ?? ''}"
          aria-labelledby="item-${index}"
        >
          <h2 id="item-${index}">
            <a href="/console/cancellations/${encodeURIComponent(item.cancellationId)}"
              >${t('inbox.open', { order: item.orderNumber })}</a
            >
          </h2>
          ${facts([
            [t('inbox.what'), whatWaits(t, item)],
            [t('cancellation.state'), stateName(t, item.state)],
            [t('cancellation.reason'), t.of('reason', item.reasonCode)],
            [t('cancellation.requestedBy'), item.requestedBy],
            [
              t('cancellation.risk'),
              item.risk
                ? [t.of('risk', item.risk.level), ...item.risk.reasons].join(' · ')
                : t('cancellation.riskPending'),
            ],
            [t('cancellation.created'), formatMoment(t.language, item.createdAt)],
            ...(due ? [dueByFact(t, due.dueBy, due.overdue)] : []),
          ])}
          ${mayDecide(item) ? decisionForm(t, item.cancellationId) : ''}
        </article>`;
      })}`,
  );
}
