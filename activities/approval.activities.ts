import { postMessage } from '../models/message-centre';
import { delegationsInForce } from '../models/delegations';
import { recordOutboxEntry } from '../models/outbox';
import type { Language } from '../contracts/books.contract';
import type { EffectParams, FoundApprovers } from '../contracts/effects.contract';
import type { ActivityDeps } from './deps';
import { deliverThroughOutbox } from './outbox';

export function createApprovalActivities({ models, mailer, mailFrom, logger }: ActivityDeps) {
  /**
   * Asks the eligible approvers to decide (R3), or reminds them: an action-required entry in each one's
   * message centre (R19), and a mail to each one with an address, recorded in the outbox with its content.
   * Keys include the clock and its reminder count, so each reminder is one message per approver, however often
   * the activity is retried. Returns the mails recorded, with their content.
   */
  async function recordApprovalRequest(params: EffectParams['requestApproval']) {
    const isReminder = params.reminder > 0;
    const kind = isReminder ? 'reminder' : 'request';
    const key = `${params.cancellationId}:approval:clock-${params.clock}:${kind}-${params.reminder}`;
    const risk = params.risk
      ? `${params.risk.level} (${params.risk.reasons.join('; ') || 'no reasons'})`
      : 'unknown';
    const mails: {
      key: string;
      personId: string;
      email: string;
      language: Language;
      subject: string;
      text: string;
    }[] = [];
    // R15: each delegate is asked too, on their approver's behalf, under a key of its own (an approver who is
    // also someone's delegate gets both); the approvers' own keys are as before delegation existed.
    const recipients = [
      ...params.approvers.map((personId) => ({ personId, onBehalfOf: undefined as string | undefined })),
      ...(params.delegates ?? []).map((pair) => ({ personId: pair.delegate, onBehalfOf: pair.onBehalfOf })),
    ];
    for (const { personId, onBehalfOf } of recipients) {
      const messageKey = onBehalfOf === undefined ? key : `${key}:for-${onBehalfOf}`;
      const zhFor = onBehalfOf === undefined ? '' : `（代 ${onBehalfOf} 审批）`;
      const enFor = onBehalfOf === undefined ? '' : ` on behalf of ${onBehalfOf}`;
      await postMessage(models, {
        idempotencyKey: messageKey,
        to: { personId },
        cancellationId: params.cancellationId,
        orderNumber: params.orderNumber,
        category: 'action_required',
        content: {
          'zh-CN': {
            title: `${isReminder ? '提醒：' : ''}订单 ${params.orderNumber} 取消待审批${zhFor}`,
            body: `取消申请 ${params.cancellationId} 需要 ${params.level} 级审批${zhFor}。风险：${risk}。`,
          },
          en: {
            title: `${isReminder ? 'Reminder: ' : ''}cancellation of ${params.orderNumber} awaits your approval${enFor}`,
            body: `Cancellation ${params.cancellationId} needs a level ${params.level} approval${enFor}. Risk: ${risk}.`,
          },
        },
      });
      const person = await models.Person.findOne({ personId }).lean();
      if (!person?.email) continue;
      const subject =
        person.language === 'en'
          ? `${isReminder ? 'Reminder: ' : ''}approve the cancellation of ${params.orderNumber}${enFor}`
          : `${isReminder ? '提醒：' : ''}请审批订单 ${params.orderNumber} 的取消申请${zhFor}`;
      const text = `${subject}\n\ncancellation ${params.cancellationId}, level ${params.level}, risk ${risk}`;
      const mailKey = `${messageKey}:${personId}:email`;
      // A retry finds the entry as first recorded: the same mail on every attempt.
      const entry = await recordOutboxEntry(models, {
        idempotencyKey: mailKey,
        cancellationId: params.cancellationId,
        channel: 'email',
        recipient: person.email,
        audience: 'person',
        template: `approval-${kind}`,
        language: person.language,
        payload: {
          personId,
          level: String(params.level),
          risk,
          ...(onBehalfOf === undefined ? {} : { onBehalfOf }),
        },
        content: { subject, text },
      });
      mails.push({
        key: mailKey,
        personId,
        email: entry.recipient,
        language: person.language,
        subject: entry.content?.subject ?? subject,
        text: entry.content?.text ?? text,
      });
    }
    return { key, mails };
  }

  return {
    /**
     * R3, R15: the active approvers of this level or higher, and the delegations in force now from any of them
     * to an active approver of this level or higher (R15). Who of them may decide (never the requester, nor
     * who decided an earlier step) is the rules' to say (eligibleApprovers, stepDelegates), when the machine
     * takes the list. The clock read here is the activity's: the workflow gets the answer as recorded data.
     */
    async findApprovers(params: EffectParams['findApprovers']): Promise<FoundApprovers> {
      const qualified = {
        roles: 'approver' as const,
        approvalLevel: { $gte: params.level },
        active: true,
      };
      const people = await models.Person.find(qualified).sort({ approvalLevel: 1, personId: 1 }).lean();
      const approvers = people.map((person) => person.personId);
      const inForce = await delegationsInForce(models, { delegators: approvers }, new Date());
      const delegates = new Set(
        (
          await models.Person.find({
            ...qualified,
            personId: { $in: inForce.map((pair) => pair.delegate) },
          }).lean()
        ).map((person) => person.personId),
      );
      return { approvers, delegations: inForce.filter((pair) => delegates.has(pair.delegate)) };
    },

    /**
     * The approval request or reminder (R3, R19): message-centre entries, and mails recorded in the outbox.
     * Returns the mails' outbox keys, for their delivery workflows (startDeliveryWorkflows).
     */
    async queueApprovalRequest(params: EffectParams['requestApproval']): Promise<string[]> {
      const { mails } = await recordApprovalRequest(params);
      return mails.map((mail) => mail.key);
    },

    /**
     * The same, with each mail sent at once in one attempt; a failure is final. What histories recorded before
     * the `approval-mails-delivered-by-workflows` patch call (queueApprovalRequest since), under the same keys.
     */
    async requestApproval(params: EffectParams['requestApproval']): Promise<void> {
      const { key, mails } = await recordApprovalRequest(params);
      for (const mail of mails) {
        await deliverThroughOutbox(
          { models, logger },
          {
            idempotencyKey: mail.key,
            cancellationId: params.cancellationId,
            channel: 'email',
            recipient: mail.email,
            template: `approval-${params.reminder > 0 ? 'reminder' : 'request'}`,
            language: mail.language,
          },
          async () => {
            const info = (await mailer.sendMail({
              from: mailFrom,
              to: mail.email,
              subject: mail.subject,
              text: mail.text,
              messageId: `<${key}:${mail.personId}@cancelflow>`,
            })) as { messageId: string };
            return info.messageId;
          },
        );
      }
    },
  };
}
