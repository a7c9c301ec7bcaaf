import type { NotificationResult } from '../workflows/cancellation.machine';
import type { EffectParams } from '../workflows/cancellation.machine';
import type { ActivityDeps } from './deps';
import { renderCustomerCancellation } from './templates';

export function createNotificationActivities({
  models,
  mailer,
  mailFrom,
  sms,
  smsFrom,
  logger,
}: ActivityDeps) {
  /**
   * Sends one message through the outbox: recorded first, sent once, marked sent. A failure is recorded and
   * reported, never thrown, so that it cannot block or fail the cancellation.
   */
  async function deliver(
    record: {
      idempotencyKey: string;
      cancellationId: string;
      channel: 'email' | 'sms';
      recipient: string;
      template: string;
      language: string;
    },
    send: () => Promise<string>,
  ): Promise<NotificationResult> {
    const existing = await models.Notification.findOneAndUpdate(
      { idempotencyKey: record.idempotencyKey },
      { $setOnInsert: { ...record, status: 'queued' } },
      { upsert: true, returnDocument: 'after' },
    ).lean();
    if (existing.status === 'sent' || existing.status === 'delivered')
      return { channel: record.channel, status: 'sent' };
    try {
      const providerMessageId = await send();
      await models.Notification.updateOne(
        { idempotencyKey: record.idempotencyKey },
        { $set: { status: 'sent', providerMessageId }, $unset: { error: 1 }, $inc: { attempts: 1 } },
      );
      return { channel: record.channel, status: 'sent' };
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      logger.warn({ key: record.idempotencyKey, detail }, 'notification failed');
      await models.Notification.updateOne(
        { idempotencyKey: record.idempotencyKey },
        { $set: { status: 'failed', error: detail }, $inc: { attempts: 1 } },
      );
      return { channel: record.channel, status: 'failed', detail };
    }
  }

  return {
    /** R12, R18: tells the customer, in their language and on the channels they consented to. */
    async notifyCustomer(params: EffectParams['notifyCustomer']): Promise<NotificationResult[]> {
      const customer = await models.Customer.findOne({ customerId: params.customerId }).lean();
      if (!customer) return [{ channel: 'email', status: 'skipped', detail: 'customer not found' }];
      const message = renderCustomerCancellation(customer.language, {
        customerName: customer.name,
        orderNumber: params.orderNumber,
        reasonCode: params.reasonCode,
        refundedMinor: params.refundedMinor,
        currency: params.currency,
      });
      const base = {
        cancellationId: params.cancellationId,
        template: 'customer-cancelled',
        language: customer.language,
      };
      const results: NotificationResult[] = [];

      if (customer.email && customer.consent?.email) {
        const idempotencyKey = `${params.cancellationId}:customer-cancelled:email`;
        results.push(
          await deliver(
            { ...base, idempotencyKey, channel: 'email', recipient: customer.email },
            async () => {
              const info = (await mailer.sendMail({
                from: mailFrom,
                to: customer.email ?? undefined,
                subject: message.subject,
                text: message.text,
                html: message.html,
                // A stable Message-ID lets receiving servers drop a duplicate sent in the crash window.
                messageId: `<${idempotencyKey}@cancelflow>`,
              })) as { messageId: string };
              return info.messageId;
            },
          ),
        );
      } else {
        results.push({
          channel: 'email',
          status: 'skipped',
          detail: customer.email ? 'no consent' : 'no address',
        });
      }

      if (customer.phone && customer.consent?.sms) {
        const idempotencyKey = `${params.cancellationId}:customer-cancelled:sms`;
        results.push(
          await deliver({ ...base, idempotencyKey, channel: 'sms', recipient: customer.phone }, async () => {
            const sent = await sms.messages.create({
              to: customer.phone ?? '',
              from: smsFrom,
              body: message.sms,
            });
            return sent.sid;
          }),
        );
      } else {
        results.push({
          channel: 'sms',
          status: 'skipped',
          detail: customer.phone ? 'no consent' : 'no number',
        });
      }
      return results;
    },
  };
}
