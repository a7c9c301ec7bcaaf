import { postMessage } from '../models/message-centre.model';
import type { EffectParams } from '../workflows/cancellation.machine';
import type { ActivityDeps } from './deps';
import { deliverThroughOutbox } from './outbox';

export function createApprovalActivities({ models, mailer, mailFrom, logger }: ActivityDeps) {
  return {
    /** R3, R15: who may decide at this level: active approvers of that level or higher, never the requester. */
    async findApprovers(params: EffectParams['findApprovers']): Promise<string[]> {
      const people = await models.Person.find({
        roles: 'approver',
        approvalLevel: { $gte: params.level },
        active: true,
        personId: { $ne: params.requestedBy },
      })
        .sort({ approvalLevel: 1, personId: 1 })
        .lean();
      return people.map((person) => person.personId);
    },

    /**
     * Asks the eligible approvers to decide (R3), or reminds them: an action-required entry in each one's
     * message centre (R19) and an email. Keys include the clock's reminder count, so each reminder is one
     * message, however often the activity is retried.
     */
    async requestApproval(params: EffectParams['requestApproval']): Promise<void> {
      const isReminder = params.reminder > 0;
      const kind = isReminder ? 'reminder' : 'request';
      const key = `${params.cancellationId}:approval:clock-${params.clock}:${kind}-${params.reminder}`;
      const risk = params.risk
        ? `${params.risk.level} (${params.risk.reasons.join('; ') || 'no reasons'})`
        : 'unknown';
      for (const personId of params.approvers) {
        await postMessage(models, {
          idempotencyKey: key,
          to: { personId },
          cancellationId: params.cancellationId,
          orderNumber: params.orderNumber,
          category: 'action_required',
          content: {
            'zh-CN': {
              title: `${isReminder ? '提醒：' : ''}订单 ${params.orderNumber} 取消待审批`,
              body: `取消申请 ${params.cancellationId} 需要 ${params.level} 级审批。风险：${risk}。`,
            },
            en: {
              title: `${isReminder ? 'Reminder: ' : ''}cancellation of ${params.orderNumber} awaits your approval`,
              body: `Cancellation ${params.cancellationId} needs a level ${params.level} approval. Risk: ${risk}.`,
            },
          },
        });
        const person = await models.Person.findOne({ personId }).lean();
        if (!person?.email) continue;
        const email = person.email;
        await deliverThroughOutbox(
          { models, logger },
          {
            idempotencyKey: `${key}:${personId}:email`,
            cancellationId: params.cancellationId,
            channel: 'email',
            recipient: email,
            template: `approval-${kind}`,
            language: person.language,
          },
          async () => {
            const subject =
              person.language === 'en'
                ? `${isReminder ? 'Reminder: ' : ''}approve the cancellation of ${params.orderNumber}`
                : `${isReminder ? '提醒：' : ''}请审批订单 ${params.orderNumber} 的取消申请`;
            const info = (await mailer.sendMail({
              from: mailFrom,
              to: email,
              subject,
              text: `${subject}\n\ncancellation ${params.cancellationId}, level ${params.level}, risk ${risk}`,
              messageId: `<${key}:${personId}@cancelflow>`,
            })) as { messageId: string };
            return info.messageId;
          },
        );
      }
    },
  };
}
