import { postMessage } from '../models/message-centre';
import { paymentsInRefundOrder } from '../models/refund-ledger';
import { planRefund, type RefundShare } from '../rules/refund-plan.rules';
import type { Language } from '../contracts/books.contract';
import type { EffectParams } from '../contracts/effects.contract';
import type { ActivityDeps } from './deps';
import { formatMoney } from './templates/render';

export function createStaffActivities({ models }: Pick<ActivityDeps, 'models'>) {
  /** One action-required message to each person, in both languages (each reads their own). */
  async function ask(
    people: string[],
    key: string,
    about: { cancellationId: string; orderNumber: string },
    category: 'action_required' | 'refund',
    content: { 'zh-CN': { title: string; body: string }; en: { title: string; body: string } },
  ): Promise<void> {
    for (const personId of people) {
      await postMessage(models, { idempotencyKey: key, to: { personId }, ...about, category, content });
    }
  }

  return {
    /** Who may act in a role (finance clerks settle refunds by hand; ops resume what needs attention). */
    async findStaff(params: EffectParams['findStaff']): Promise<string[]> {
      const people = await models.Person.find({ roles: params.role, active: true })
        .sort({ personId: 1 })
        .lean();
      return people.map((person) => person.personId);
    },

    /** R11, R28: tells finance that a refund failed for good and must be settled by hand. */
    async requestSettlement(params: EffectParams['requestSettlement']): Promise<void> {
      // In each reader's language, with the currency's own decimals (JPY none, KWD three).
      const amount = (language: Language) => formatMoney(language, params.outstandingMinor, params.currency);
      // What to pay back to each payment, in its own currency: the shares the settlement will record (R11).
      const payments = await paymentsInRefundOrder(models, params.orderNumber);
      let shares: RefundShare[] = [];
      try {
        shares = planRefund(payments, params.currency, params.outstandingMinor).shares;
      } catch {
        // A payment whose worth is unknown: the settlement will stop for ops; finance gets the total.
      }
      const perPayment = (language: Language) =>
        shares
          .map((share) =>
            language === 'zh-CN'
              ? `支付 ${share.paymentId} 退还 ${formatMoney(language, share.amountMinor, share.currency)}`
              : `${formatMoney(language, share.amountMinor, share.currency)} to payment ${share.paymentId}`,
          )
          .join(language === 'zh-CN' ? '；' : '; ');
      const zhHow = shares.length > 0 ? `（${perPayment('zh-CN')}）` : '';
      const enHow = shares.length > 0 ? ` (${perPayment('en')})` : '';
      await ask(params.clerks, `${params.cancellationId}:settlement-request`, params, 'action_required', {
        'zh-CN': {
          title: `订单 ${params.orderNumber} 退款失败，需人工处理`,
          body: `取消申请 ${params.cancellationId} 的退款 ${amount('zh-CN')} 被支付网关拒绝：${params.failure}。请人工退款${zhHow}并登记凭证号。`,
        },
        en: {
          title: `Refund for ${params.orderNumber} failed: settle it by hand`,
          body: `The gateway refused the refund of ${amount('en')} for cancellation ${params.cancellationId}: ${params.failure}. Refund by hand${enHow} and record the reference.`,
        },
      });
    },

    /** Tells ops what stopped and why; they resume the cancellation once the cause is repaired. */
    async reportAttention(params: EffectParams['reportAttention']): Promise<void> {
      await ask(
        params.ops,
        `${params.cancellationId}:attention-${params.occurrence}:${params.state}`,
        params,
        'action_required',
        {
          'zh-CN': {
            title: `取消申请 ${params.cancellationId} 需要处理`,
            body: `订单 ${params.orderNumber} 的取消在 ${params.state} 停止：${params.reason}`,
          },
          en: {
            title: `Cancellation ${params.cancellationId} needs attention`,
            body: `The cancellation of ${params.orderNumber} stopped in ${params.state}: ${params.reason}`,
          },
        },
      );
    },
  };
}
