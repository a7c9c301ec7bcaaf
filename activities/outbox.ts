// Sending through the notification outbox (R17, R18): an attempt claims a recorded entry (models/outbox.ts),
// hands it to its provider and marks it sent. Once marked sent, nothing sends it again. The one window for a
// duplicate is a crash after the provider accepted the message and before it is marked sent: the retry cannot
// tell whether the provider took it and sends it again. It errs towards twice rather than never; mail carries
// a stable Message-ID, so a receiving system can drop the copy (docs/notifications.md).
import type { NotificationChannel } from '../models/notification.model';
import {
  claimOutboxEntry,
  mailMessageId,
  markOutboxFailed,
  markOutboxSent,
  recordOutboxAttemptFailure,
  recordOutboxEntry,
  type OutboxClaim,
  type OutboxEntry,
  type OutboxEntryInput,
} from '../models/outbox';
import type { NotificationResult } from '../contracts/cancellation.contract';
import type { ActivityDeps } from './deps';
import { toE164 } from '../lib/phone';

/** Settings the outbox needs beyond the providers: where the world reaches our API. */
export type OutboxSettings = Pick<ActivityDeps, 'publicBaseUrl'>;

/** PUBLIC_BASE_URL without a trailing slash. */
export function publicBaseUrlOf(settings: OutboxSettings): string {
  return settings.publicBaseUrl.replace(/\/$/, '');
}

export type OutboxDeps = Pick<ActivityDeps, 'models' | 'mailer' | 'mailFrom' | 'sms' | 'smsFrom' | 'logger'> &
  OutboxSettings;

/** Where Twilio reports what became of a message (a path prefix of the public address is kept). */
export function twilioStatusCallbackUrl(publicBaseUrl: string): string {
  return `${publicBaseUrl}/v1/webhooks/twilio/status`;
}

/** A provider's refusal: `permanent` when sending the same message again cannot succeed. */
export class ProviderRefusal extends Error {
  override readonly name = 'ProviderRefusal';
  constructor(
    message: string,
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// SMTP: a 5xx reply refuses this message for good, except the authentication replies, which a corrected
// configuration fixes; a 4xx reply or a broken connection is worth another try.
const smtpAuthReplies = new Set([530, 534, 535, 538]);

function providerRefusal(channel: NotificationChannel, error: unknown): ProviderRefusal {
  const detail = error as { status?: unknown; code?: unknown; responseCode?: unknown; message?: unknown };
  const message = typeof detail.message === 'string' ? detail.message : String(error);
  if (channel === 'sms') {
    // Twilio answers 400 to a message it will never send (bad number, unsubscribed recipient…); 401, 404,
    // 429 and 5xx are about the account or the moment.
    const permanent = detail.status === 400;
    const code = typeof detail.code === 'number' ? ` (Twilio error ${detail.code})` : '';
    return new ProviderRefusal(`${message}${code}`, permanent, { cause: error });
  }
  const reply = typeof detail.responseCode === 'number' ? detail.responseCode : undefined;
  // The server's reply decides when there is one: nodemailer calls a DATA command the server refused an envelope
  // error too, and "421 Server shutting down" (found by npm run chaos) is a moment's trouble, not a refusal.
  // An envelope error with no reply is nodemailer's own (no recipient at all): for good.
  const permanent =
    reply === undefined ? detail.code === 'EENVELOPE' : reply >= 500 && !smtpAuthReplies.has(reply);
  return new ProviderRefusal(message, permanent, { cause: error });
}

/** Hands the entry's content to its provider; returns the provider's id for it. */
export async function sendOutboxEntry(deps: OutboxDeps, entry: OutboxEntry): Promise<string> {
  const content = entry.content;
  if (!content) {
    throw new ProviderRefusal(`notification ${entry.idempotencyKey} has no recorded content to send`, true);
  }
  try {
    if (entry.channel === 'email') {
      const info = (await deps.mailer.sendMail({
        from: deps.mailFrom,
        to: entry.recipient,
        subject: content.subject ?? '',
        text: content.text ?? '',
        html: content.html ?? undefined,
        messageId: entry.messageId ?? mailMessageId(entry.idempotencyKey),
      })) as { messageId: string };
      return info.messageId;
    }
    const message = await deps.sms.messages.create({
      // Recorded in E.164 (queueCustomerNotifications). An entry recorded before, with the number as the
      // customer wrote it, still goes out when it was written with its country code: "+1 (512) 555-0534".
      to: toE164(entry.recipient) ?? entry.recipient,
      from: deps.smsFrom,
      body: content.body ?? '',
      statusCallback: twilioStatusCallbackUrl(publicBaseUrlOf(deps)),
    });
    return message.sid;
  } catch (error) {
    throw providerRefusal(entry.channel, error);
  }
}

export type DeliveryOutcome =
  | { status: 'sent'; alreadySent: boolean }
  | { status: 'failed'; alreadyFailed: true; error: string }
  | { status: 'busy'; until: Date }
  | { status: 'refused'; error: string; permanent: boolean };

/**
 * One delivery attempt of a recorded entry: claim, send, mark sent. A provider's refusal is recorded on the
 * entry and returned; the caller decides whether to try again (the delivery workflow's retry policy) or to
 * give up (`markOutboxFailed`).
 */
export async function deliverOutboxEntry(deps: OutboxDeps, key: string): Promise<DeliveryOutcome> {
  return deliverClaimedEntry(deps, key, await claimOutboxEntry(deps.models, key));
}

/**
 * The sending half of a delivery attempt, for an entry claimed alone or in a batch (claimOutboxEntries):
 * unless the claim says there is nothing to send, send and mark sent. Marking stays one write an entry, right
 * after its send, so a batch widens the duplicate window of none of its messages.
 */
export async function deliverClaimedEntry(
  deps: OutboxDeps,
  key: string,
  claim: OutboxClaim,
): Promise<DeliveryOutcome> {
  if (claim.kind === 'done') return { status: 'sent', alreadySent: true };
  if (claim.kind === 'failed')
    return { status: 'failed', alreadyFailed: true, error: claim.entry.error ?? '' };
  if (claim.kind === 'busy') return { status: 'busy', until: claim.until };
  let providerMessageId: string;
  try {
    providerMessageId = await sendOutboxEntry(deps, claim.entry);
  } catch (error) {
    const refusal =
      error instanceof ProviderRefusal ? error : new ProviderRefusal(String(error), false, { cause: error });
    deps.logger.warn(
      { key, channel: claim.entry.channel, attempt: claim.entry.attempts, error: refusal.message },
      'notification attempt failed',
    );
    await recordOutboxAttemptFailure(deps.models, key, refusal.message);
    return { status: 'refused', error: refusal.message, permanent: refusal.permanent };
  }
  // The duplicate window: a crash here leaves the entry queued, and the next attempt (once the lease ran
  // out) sends the message again.
  await markOutboxSent(deps.models, key, providerMessageId);
  deps.logger.info({ key, channel: claim.entry.channel }, 'notification sent');
  return { status: 'sent', alreadySent: false };
}

export type OutboxMessage = Pick<
  OutboxEntryInput,
  'idempotencyKey' | 'cancellationId' | 'channel' | 'recipient' | 'template' | 'language'
>;

/**
 * Sends one message through the outbox at once, with the caller's own send: recorded first, sent once,
 * marked sent. A failure is recorded as final and returned, never thrown, so that it cannot block or fail
 * the cancellation. For messages that must not be lost, record them and start a delivery workflow instead
 * (notification-delivery.workflow.ts), which retries with backoff.
 */
export async function deliverThroughOutbox(
  { models, logger }: Pick<ActivityDeps, 'models' | 'logger'>,
  message: OutboxMessage,
  send: () => Promise<string>,
): Promise<NotificationResult> {
  await recordOutboxEntry(models, message);
  const claim = await claimOutboxEntry(models, message.idempotencyKey);
  if (claim.kind === 'done') return { channel: message.channel, status: 'sent' };
  if (claim.kind === 'failed')
    return { channel: message.channel, status: 'failed', detail: claim.entry.error ?? '' };
  if (claim.kind === 'busy') {
    return { channel: message.channel, status: 'failed', detail: 'another attempt is sending it' };
  }
  try {
    await markOutboxSent(models, message.idempotencyKey, await send());
    return { channel: message.channel, status: 'sent' };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    logger.warn({ key: message.idempotencyKey, detail }, 'notification failed');
    await recordOutboxAttemptFailure(models, message.idempotencyKey, detail);
    await markOutboxFailed(models, message.idempotencyKey, detail);
    return { channel: message.channel, status: 'failed', detail };
  }
}
