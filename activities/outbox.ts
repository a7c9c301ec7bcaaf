// The notification outbox (R17, R18): every message is recorded, rendered, before it is sent; one attempt at
// a time claims it, hands it to the provider and marks it sent. Once marked sent, nothing sends it again. The
// one window for a duplicate is a crash after the provider accepted the message and before it is marked sent:
// the retry cannot tell whether the provider took it and sends it again. It errs towards twice rather than
// never; mail carries a stable Message-ID, so a receiving system can drop the copy (docs/notifications.md).
import { createHash } from 'node:crypto';
import { CancelflowError } from '../lib/errors';
import type { Models } from '../models';
import type { NotificationChannel } from '../models/notification.model';
import type { DepartmentCode, Language } from '../models/organisation.model';
import type { NotificationResult } from '../contracts/cancellation.contract';
import type { ActivityDeps } from './deps';

/**
 * How long one attempt holds an entry: longer than an activity attempt may run (1 minute) and than the
 * providers' own timeouts, so a second attempt never sends while a first may still be sending.
 */
export const OUTBOX_LEASE_MS = 2 * 60_000;

/** Settings the outbox needs beyond the providers: where the world reaches our API. */
export type OutboxSettings = Pick<ActivityDeps, 'publicBaseUrl'>;

/** PUBLIC_BASE_URL without a trailing slash. */
export function publicBaseUrlOf(settings: OutboxSettings): string {
  return settings.publicBaseUrl.replace(/\/$/, '');
}

export type OutboxDeps = Pick<ActivityDeps, 'models' | 'mailer' | 'mailFrom' | 'sms' | 'smsFrom' | 'logger'> &
  OutboxSettings;

export interface OutboxEntryInput {
  idempotencyKey: string;
  cancellationId: string;
  channel: NotificationChannel;
  recipient: string;
  template: string;
  language: Language;
  audience?: 'customer' | 'department' | 'person';
  department?: DepartmentCode;
  moment?: string;
  payload?: Record<string, string | undefined>;
  content?: { subject?: string; text?: string; html?: string; body?: string };
}

/** An entry as stored (a lean document). */
export type OutboxEntry = NonNullable<Awaited<ReturnType<typeof findEntry>>>;

function findEntry(models: Models, key: string) {
  return models.Notification.findOne({ idempotencyKey: key }).lean();
}

/** The Message-ID a mail carries on every attempt: derived from the key, valid in any header. */
export function mailMessageId(idempotencyKey: string): string {
  return `<${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40)}@cancelflow>`;
}

/** Where Twilio reports what became of a message (a path prefix of the public address is kept). */
export function twilioStatusCallbackUrl(publicBaseUrl: string): string {
  return `${publicBaseUrl}/v1/webhooks/twilio/status`;
}

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

/** Records an entry once under its key: a repeat returns the entry as first recorded, content and all. */
export async function recordOutboxEntry(models: Models, entry: OutboxEntryInput): Promise<OutboxEntry> {
  const insert = {
    ...entry,
    ...(entry.channel === 'email' ? { messageId: mailMessageId(entry.idempotencyKey) } : {}),
    status: 'queued',
    attempts: 0,
  };
  try {
    return await models.Notification.findOneAndUpdate(
      { idempotencyKey: entry.idempotencyKey },
      { $setOnInsert: insert },
      { upsert: true, returnDocument: 'after' },
    )
      .lean()
      .orFail();
  } catch (error) {
    // Two attempts upserting at once: the other one's insert won, and is the entry.
    if (!isDuplicateKey(error)) throw error;
    return (await findEntry(models, entry.idempotencyKey)) as OutboxEntry;
  }
}

export type OutboxClaim =
  | { kind: 'claimed'; entry: OutboxEntry }
  /** Sent or delivered already: nothing to send. */
  | { kind: 'done'; entry: OutboxEntry }
  /** Given up for good: nothing to send either. */
  | { kind: 'failed'; entry: OutboxEntry }
  /** Another attempt holds it until then. */
  | { kind: 'busy'; until: Date };

/** Takes the entry for one send attempt, unless it is done, failed, or another attempt holds it. */
export async function claimOutboxEntry(
  models: Models,
  key: string,
  now: Date = new Date(),
  leaseMs = OUTBOX_LEASE_MS,
): Promise<OutboxClaim> {
  const claimed = await models.Notification.findOneAndUpdate(
    { idempotencyKey: key, status: 'queued', $or: [{ claimedUntil: null }, { claimedUntil: { $lte: now } }] },
    { $set: { claimedUntil: new Date(now.getTime() + leaseMs), lastAttemptAt: now }, $inc: { attempts: 1 } },
    { returnDocument: 'after' },
  ).lean();
  if (claimed) return { kind: 'claimed', entry: claimed };
  const entry = await findEntry(models, key);
  if (!entry)
    throw new CancelflowError('not_found', `no notification ${key} in the outbox`, { field: 'key' });
  if (entry.status === 'sent' || entry.status === 'delivered') return { kind: 'done', entry };
  if (entry.status === 'failed') return { kind: 'failed', entry };
  return { kind: 'busy', until: entry.claimedUntil ?? now };
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
  const permanent =
    detail.code === 'EENVELOPE' || (reply !== undefined && reply >= 500 && !smtpAuthReplies.has(reply));
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
      to: entry.recipient,
      from: deps.smsFrom,
      body: content.body ?? '',
      statusCallback: twilioStatusCallbackUrl(publicBaseUrlOf(deps)),
    });
    return message.sid;
  } catch (error) {
    throw providerRefusal(entry.channel, error);
  }
}

/** Marks a claimed entry sent; false when it was not queued any more (a concurrent report came first). */
export async function markOutboxSent(
  models: Models,
  key: string,
  providerMessageId: string,
  now: Date = new Date(),
): Promise<boolean> {
  const marked = await models.Notification.updateOne(
    { idempotencyKey: key, status: 'queued' },
    { $set: { status: 'sent', providerMessageId, sentAt: now }, $unset: { claimedUntil: 1, error: 1 } },
  );
  return marked.modifiedCount === 1;
}

/** Notes why an attempt failed and lets the next attempt go at once. */
export async function recordOutboxAttemptFailure(models: Models, key: string, error: string): Promise<void> {
  await models.Notification.updateOne(
    { idempotencyKey: key, status: 'queued' },
    { $set: { error }, $unset: { claimedUntil: 1 } },
  );
}

/**
 * Gives up on a queued entry for good, keeping the provider's last error (or `reason` when there is none,
 * e.g. when the retries ran out of time before an attempt could even fail).
 */
export async function markOutboxFailed(
  models: Models,
  key: string,
  reason: string,
  now: Date = new Date(),
): Promise<void> {
  const entry = await findEntry(models, key);
  if (!entry)
    throw new CancelflowError('not_found', `no notification ${key} in the outbox`, { field: 'key' });
  await models.Notification.updateOne(
    { idempotencyKey: key, status: 'queued' },
    { $set: { status: 'failed', failedAt: now, error: entry.error ?? reason }, $unset: { claimedUntil: 1 } },
  );
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
  const claim = await claimOutboxEntry(deps.models, key);
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

export interface OutboxMessage {
  idempotencyKey: string;
  cancellationId: string;
  channel: NotificationChannel;
  recipient: string;
  template: string;
  language: Language;
}

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

export interface ProviderStatusReport {
  providerMessageId: string;
  /** Twilio's MessageStatus: queued, sending, sent, delivered, undelivered, failed, … */
  status: string;
  errorCode?: string;
}

export type StatusReportOutcome = 'unknown' | 'updated' | 'unchanged';

/**
 * A provider's delivery report. `delivered` and `undelivered`/`failed` are final and change a sent entry
 * once; the report of an earlier stage (a late `sent` after `delivered`) changes nothing but is no error.
 */
export async function applyProviderStatusReport(
  models: Models,
  report: ProviderStatusReport,
  now: Date = new Date(),
): Promise<StatusReportOutcome> {
  const entry = await models.Notification.findOne({ providerMessageId: report.providerMessageId }).lean();
  if (!entry) return 'unknown';
  const filter = { providerMessageId: report.providerMessageId, status: 'sent' as const };
  let change;
  if (report.status === 'delivered') {
    change = { $set: { status: 'delivered', providerStatus: report.status, deliveredAt: now } };
  } else if (report.status === 'undelivered' || report.status === 'failed') {
    const code = report.errorCode ? ` (Twilio error ${report.errorCode})` : '';
    change = {
      $set: {
        status: 'failed',
        providerStatus: report.status,
        failedAt: now,
        error: `${report.status}${code}`,
      },
    };
  } else {
    change = { $set: { providerStatus: report.status } };
  }
  const updated = await models.Notification.updateOne(filter, change);
  return updated.modifiedCount === 1 ? 'updated' : 'unchanged';
}
