// The customer's own page of their cancellation (issue #14, row 31, R12, R16), reached from the signed link in
// their messages, with no account: how far it has come, in their language and their words (not the workflow's
// states); what is cancelled and what went back to them; when the goods could not be stopped, the options the
// offer gives them, each with what it means for their money, and until when; once it ended, their rating.
// It moves as the cancellation does, by the same server-sent events as the staff's page.
//
// What a link that does not hold gets (another cancellation's or order's, changed, or expired) is a page that
// says so and shows nothing of any cancellation.
import type { CancellationResource } from '../../../client/contract';
import type { ResolutionOption } from '../../../contracts/cancellation.contract';
import { html, type SafeHtml } from '../html';
import { formatMoment, formatMoney, type MessageKey, type Translator } from '../i18n';
import { notice, page, type PageContext } from './layout';

/** What the customer sees of their feedback: not asked yet, or what they gave. */
export interface CustomerFeedback {
  rating: number | null;
  comment?: string;
}

export interface CustomerPageFacts {
  resource: CancellationResource;
  customerName?: string;
  /** The offer's deadline, when the customer is asked to choose. */
  decideBy?: Date;
  feedback?: CustomerFeedback;
  /** The products' names, by SKU, as the customer knows them from their order. */
  productNames?: ReadonlyMap<string, string>;
  /** Where the page's forms post to (the page's path and its signed query). */
  path: string;
  search: string;
}

/** The cancellation's state in the customer's words: a handful of stages, not the workflow's states. */
export function customerStage(resource: Pick<CancellationResource, 'state' | 'outcome'>): string {
  switch (resource.outcome) {
    case 'completed':
      return 'cancelled';
    case 'refused':
    case 'rejected':
      return 'notAccepted';
    case 'withdrawn':
      return 'withdrawn';
    case 'redelivered':
      return 'redelivered';
    case undefined:
      break;
  }
  const [top = ''] = resource.state.split('.');
  if (top.startsWith('workflow ')) return 'handling';
  const stages: Record<string, string> = {
    awaitingApproval: 'reviewing',
    recallingShipment: 'stoppingParcel',
    awaitingCarrier: 'stoppingParcel',
    agreeingWithCustomer: 'yourChoice',
    followingChoice: 'followingChoice',
    arrangingRedelivery: 'followingChoice',
    awaitingReturn: 'awaitingGoods',
    returningStock: 'awaitingGoods',
    releasingStock: 'refunding',
    adjustingPurchasing: 'refunding',
    refunding: 'refunding',
    awaitingSettlement: 'refunding',
    recordingSettlement: 'refunding',
    closingOrder: 'refunding',
    notifyingCustomer: 'refunding',
    needsAttention: 'handling',
    // The states a cancellation ends in, as its timeline names them.
    completed: 'cancelled',
    refused: 'notAccepted',
    rejected: 'notAccepted',
    withdrawn: 'withdrawn',
    redelivered: 'redelivered',
  };
  return stages[top] ?? 'received';
}

const stageKey = (stage: string) => `customer.stage.${stage}` as MessageKey;

/** Whether the customer is asked to choose now: the offer stands and nobody chose yet. */
export const asksForChoice = (resource: CancellationResource) =>
  !resource.outcome &&
  resource.state.startsWith('agreeingWithCustomer') &&
  Boolean(resource.goods?.offer) &&
  !resource.goods?.choice;

function optionMeaning(t: Translator, resource: CancellationResource, option: ResolutionOption): string {
  const offer = resource.goods?.offer;
  const currency = resource.currency ?? 'CNY';
  const money = (minor: number) => formatMoney(t.language, minor, currency);
  if (!offer) return '';
  if (option === 'return') return t('customer.option.return', { amount: money(offer.refundableMinor) });
  if (option === 'refund_without_return')
    return t('customer.option.refund_without_return', {
      amount: money(offer.refundableMinor - offer.deductionMinor),
      deduction: money(offer.deductionMinor),
    });
  return t('customer.option.redelivery');
}

function choiceForm(t: Translator, facts: CustomerPageFacts): SafeHtml {
  const { resource } = facts;
  const offer = resource.goods?.offer;
  if (!offer) return html``;
  const action = `${facts.path}/choice?${facts.search}`;
  return html`<section aria-labelledby="choice-title" id="choice">
    <h2 id="choice-title">${t('customer.choice.title')}</h2>
    <p>${t('customer.choice.why')}</p>
    ${
      facts.decideBy
        ? html`<p>
            ${t('customer.choice.by', {
              time: formatMoment(t.language, facts.decideBy),
              option: t.of('customerOption', offer.defaultOption),
            })}
          </p>`
        : ''
    }
    <form method="post" action="${action}" class="customer-choice">
      <fieldset>
        <legend>${t('customer.choice.legend')}</legend>
        ${offer.options.map(
          (option, index) =>
            html`<div class="choice option">
              <input type="radio" id="option-${index}" name="option" value="${option}" required />
              <label for="option-${index}"
                ><strong>${t.of('customerOption', option)}</strong>:
                ${optionMeaning(t, resource, option)}</label
              >
            </div>`,
        )}
      </fieldset>
      <label for="choice-note">${t('customer.choice.note')}</label>
      <textarea id="choice-note" name="note" rows="2" maxlength="2000"></textarea>
      <div class="actions">
        <button class="primary" type="submit">${t('customer.choice.submit')}</button>
      </div>
    </form>
  </section>`;
}

function feedbackSection(t: Translator, facts: CustomerPageFacts): SafeHtml {
  const given = facts.feedback;
  if (given && given.rating !== null) {
    return html`<section aria-labelledby="feedback-title" id="feedback" data-rated="${given.rating}">
      <h2 id="feedback-title">${t('customer.feedback.title')}</h2>
      <p>${t('customer.feedback.thanks', { rating: given.rating })}</p>
      ${given.comment ? html`<blockquote>${given.comment}</blockquote>` : ''}
    </section>`;
  }
  const action = `${facts.path}/feedback?${facts.search}`;
  return html`<section aria-labelledby="feedback-title" id="feedback">
    <h2 id="feedback-title">${t('customer.feedback.title')}</h2>
    <form method="post" action="${action}" class="customer-feedback">
      <fieldset>
        <legend>${t('customer.feedback.legend')}</legend>
        <div class="rating">
          ${[1, 2, 3, 4, 5].map(
            (rating) =>
              html`<div class="choice">
                <input type="radio" id="rating-${rating}" name="rating" value="${rating}" required />
                <label for="rating-${rating}">${t(`customer.rating.${rating}` as MessageKey)}</label>
              </div>`,
          )}
        </div>
      </fieldset>
      <label for="feedback-comment">${t('customer.feedback.comment')}</label>
      <textarea id="feedback-comment" name="comment" rows="3" maxlength="2000"></textarea>
      <div class="actions">
        <button class="primary" type="submit">${t('customer.feedback.submit')}</button>
      </div>
    </form>
  </section>`;
}

/** The stages the cancellation went through, each once, with when it got there. */
function progress(t: Translator, resource: CancellationResource): SafeHtml {
  const steps: { stage: string; at: string }[] = [];
  for (const entry of resource.timeline) {
    const stage = customerStage({
      state: entry.state,
      outcome: undefined,
    });
    if (steps[steps.length - 1]?.stage !== stage) steps.push({ stage, at: entry.at });
  }
  const now = customerStage(resource);
  if (resource.outcome && steps[steps.length - 1]?.stage !== now) {
    steps.push({ stage: now, at: resource.updatedAt });
  }
  return html`<ol class="timeline" data-steps="${steps.length}">
    ${steps.map(
      (step) =>
        html`<li>
          <time datetime="${step.at}">${formatMoment(t.language, step.at)}</time> — ${t(stageKey(step.stage))}
        </li>`,
    )}
  </ol>`;
}

/** The parts that move: the stage (announced) and the rest. */
export function customerLiveParts(
  t: Translator,
  facts: CustomerPageFacts,
): { state: SafeHtml; view: SafeHtml } {
  const { resource } = facts;
  const stage = customerStage(resource);
  const currency = resource.currency ?? 'CNY';
  const money = (minor: number) => formatMoney(t.language, minor, currency);
  const ended = resource.outcome !== undefined || resource.state.startsWith('workflow ');
  const choice = resource.goods?.choice;
  return {
    state: html`${t('customer.now')}:
      <strong
        class="badge ${ended ? 'ended-completed' : 'running'}"
        data-stage="${stage}"
        data-outcome="${resource.outcome ?? ''}"
        >${t(stageKey(stage))}</strong
      >`,
    view: html`${
        (resource.outcome === 'rejected' || resource.outcome === 'refused') && resource.refusal
          ? notice('info', t('customer.why', { reason: resource.refusal }))
          : ''
      }
      <p>${t(`customer.explain.${stage}` as MessageKey)}</p>
      ${asksForChoice(resource) ? choiceForm(t, facts) : ''}
      ${
        choice
          ? html`<p data-choice="${choice.option}">
              ${t(choice.defaulted ? 'customer.choice.defaulted' : 'customer.choice.made', {
                option: t.of('customerOption', choice.option),
              })}
            </p>`
          : ''
      }
      <section aria-labelledby="items-title">
        <h2 id="items-title">${t('customer.items')}</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">${t('customer.item')}</th>
              <th scope="col" class="number">${t('line.quantity')}</th>
              <th scope="col" class="number">${t('line.amount')}</th>
            </tr>
          </thead>
          <tbody>
            ${resource.lines.map(
              (line) =>
                html`<tr>
                  <th scope="row">
                    ${facts.productNames?.get(line.sku) ?? line.sku}
                    <span class="muted">(${line.sku})</span>
                  </th>
                  <td class="number">${line.quantity}</td>
                  <td class="number">${money(line.amountMinor)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="money-title">
        <h2 id="money-title">${t('customer.money')}</h2>
        ${
          resource.refunds.length === 0
            ? html`<p>${t(ended ? 'customer.money.none' : 'customer.money.notYet')}</p>`
            : html`<ul>
                ${resource.refunds.map(
                  (refund) =>
                    html`<li>
                      ${formatMoney(t.language, refund.amountMinor, refund.currency)}:
                      ${t.of('customerRefund', refund.status)}
                    </li>`,
                )}
              </ul>`
        }
        ${resource.refundedMinor > 0 ? html`<p>${t('customer.money.refunded', { amount: money(resource.refundedMinor) })}</p>` : ''}
      </section>
      <section aria-labelledby="progress-title">
        <h2 id="progress-title">${t('customer.progress')}</h2>
        ${progress(t, resource)}
      </section>
      ${ended ? feedbackSection(t, facts) : ''}`,
  };
}

export function customerPage(
  context: PageContext,
  facts: CustomerPageFacts,
  message?: { kind: 'ok' | 'error' | 'info'; text: string },
): SafeHtml {
  const { t } = context;
  const { resource } = facts;
  const live = customerLiveParts(t, facts);
  const ended = resource.outcome !== undefined || resource.state.startsWith('workflow ');
  const follow = ended
    ? html``
    : html` hx-ext="sse" sse-connect="${facts.path}/events?${facts.search}" sse-close="end"`;
  const title = t('customer.title', { order: resource.orderNumber });
  return page(
    context,
    title,
    html`<h1>${title}</h1>
      ${facts.customerName ? html`<p>${t('customer.hello', { name: facts.customerName })}</p>` : ''}
      ${message ? html`<div id="customer-message">${notice(message.kind, message.text)}</div>` : ''}
      <div id="live" data-cancellation="${resource.cancellationId}" ${follow}>
        <p id="state-line" role="status" sse-swap="state">${live.state}</p>
        <div id="live-view" sse-swap="view">${live.view}</div>
      </div>`,
  );
}

/** A link that does not hold: why, and whom to ask; nothing of any cancellation. */
export function customerRefusedPage(
  context: PageContext,
  why: 'tampered' | 'expired' | 'unknown',
  what: 'cancellation' | 'order' = 'cancellation',
): SafeHtml {
  const { t } = context;
  const title = t(what === 'order' ? 'customerOrder.refused.title' : 'customer.refused.title');
  return page(
    context,
    title,
    html`<h1>${title}</h1>
      <div data-link-refused="${why}">
        ${notice('error', t(`customer.refused.${why}`), t('customer.refused.help'))}
      </div>`,
  );
}
