// The notification outbox's store (R17, R18): every message is recorded, rendered, under its key before it is
// sent; one attempt at a time claims it, and it is marked sent, given up, or (from the provider's report)
// delivered. Once marked sent, no claim takes it again. Sending it through the providers is the activities'
// part (activities/outbox.ts).
import { createHash, randomUUID } from 'node:crypto';
import type { Language } from '../contracts/books.contract';
import { CancelflowError } from '../lib/errors';
import type { Models } from './index';
import { createOrFind, onlyDuplicateKeys } from './mongo-errors';
import type { NotificationChannel } from './notification.model';
import type { Department } from '../contracts/cancellation.contract';

/**
 * How long one attempt holds an entry: longer than an activity attempt may run (1 minute) and than the
 * providers' own timeouts, so a second attempt never sends while a first may still be sending.
 */
export const OUTBOX_LEASE_MS = 2 * 60_000;

export interface OutboxEntryInput {
  idempotencyKey: string;
  cancellationId: string;
  channel: NotificationChannel;
  recipient: string;
  template: string;
  language: Language;
  audience?: 'customer' | 'department' | 'person';
  department?: Department;
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

/** What a new entry is stored as: queued, untried, mail with its Message-ID. */
function insertedEntry(entry: OutboxEntryInput) {
  return {
    ...entry,
    ...(entry.channel === 'email' ? { messageId: mailMessageId(entry.idempotencyKey) } : {}),
    status: 'queued' as const,
    attempts: 0,
  };
}

/** Records an entry once under its key: a repeat returns the entry as first recorded, content and all. */
export async function recordOutboxEntry(models: Models, entry: OutboxEntryInput): Promise<OutboxEntry> {
  const insert = insertedEntry(entry);
  return createOrFind(
    () =>
      models.Notification.findOneAndUpdate(
        { idempotencyKey: entry.idempotencyKey },
        { $setOnInsert: insert },
        { upsert: true, returnDocument: 'after' },
      )
        .lean()
        .orFail(),
    // Two attempts upserting at once: the other one's insert won, and is the entry.
    async () => (await findEntry(models, entry.idempotencyKey)) as OutboxEntry,
  );
}

/**
 * Records entries once each under their keys, in one bulk write (issue #13): what a notice's messages need when
 * the caller does not read them back. A repeat leaves each entry as first recorded.
 */
export async function recordOutboxEntries(
  models: Models,
  entries: readonly OutboxEntryInput[],
): Promise<void> {
  if (entries.length === 0) return;
  await models.Notification.bulkWrite(
    entries.map((entry) => ({
      updateOne: {
        filter: { idempotencyKey: entry.idempotencyKey },
        update: { $setOnInsert: insertedEntry(entry) },
        upsert: true,
      },
    })),
    { ordered: false },
  ).catch((error: unknown) => {
    // Two attempts upserting at once: the other one's inserts won, and are the entries.
    if (!onlyDuplicateKeys(error)) throw error;
  });
}

export type OutboxClaim =
  | { kind: 'claimed'; entry: OutboxEntry }
  /** Sent or delivered already: nothing to send. */
  | { kind: 'done'; entry: OutboxEntry }
  /** Given up for good: nothing to send either. */
  | { kind: 'failed'; entry: OutboxEntry }
  /** Another attempt holds it until then. */
  | { kind: 'busy'; until: Date };

/** What an entry's state says to an attempt that wants it, or undefined when it may be claimed. */
function standingOf(entry: OutboxEntry, now: Date): OutboxClaim | undefined {
  if (entry.status === 'sent' || entry.status === 'delivered') return { kind: 'done', entry };
  if (entry.status === 'failed') return { kind: 'failed', entry };
  if (entry.claimedUntil && entry.claimedUntil > now) return { kind: 'busy', until: entry.claimedUntil };
  return undefined;
}

/**
 * Takes each entry for one send attempt, unless it is done, failed, or another attempt holds it; a key with no
 * entry is left out of the answer. Three writes a batch rather than three an entry (issue #13): the entries
 * read by key (`$in` on the unique key), the claimable ones claimed in one bulk write, each by key, status and
 * the attempts read (every claim counts one; the unique index on those three serves it), and only when a claim
 * missed (another attempt came in between) read again to learn, by this attempt's token, which it won.
 */
export async function claimOutboxEntries(
  models: Models,
  keys: readonly string[],
  now: Date = new Date(),
  leaseMs = OUTBOX_LEASE_MS,
): Promise<Map<string, OutboxClaim>> {
  const claims = new Map<string, OutboxClaim>();
  const claimToken = randomUUID();
  const claimedUntil = new Date(now.getTime() + leaseMs);
  let open = [...new Set(keys)];
  while (open.length > 0) {
    const entries = await models.Notification.find({ idempotencyKey: { $in: open } }).lean();
    const claimable: OutboxEntry[] = [];
    for (const entry of entries) {
      const standing =
        entry.claimToken === claimToken ? { kind: 'claimed' as const, entry } : standingOf(entry, now);
      if (standing) claims.set(entry.idempotencyKey, standing);
      else claimable.push(entry);
    }
    if (claimable.length === 0) break;
    const written = await models.Notification.bulkWrite(
      claimable.map((entry) => ({
        updateOne: {
          filter: {
            idempotencyKey: entry.idempotencyKey,
            status: 'queued',
            attempts: entry.attempts ?? null,
          },
          update: { $set: { claimedUntil, claimToken, lastAttemptAt: now }, $inc: { attempts: 1 } },
        },
      })),
      { ordered: false },
    );
    if (written.matchedCount === claimable.length) {
      for (const entry of claimable) {
        const attempts = (entry.attempts ?? 0) + 1;
        const claimed = { ...entry, claimedUntil, claimToken, lastAttemptAt: now, attempts };
        claims.set(entry.idempotencyKey, { kind: 'claimed', entry: claimed });
      }
      break;
    }
    open = claimable.map((entry) => entry.idempotencyKey);
  }
  return claims;
}

/** Takes the entry for one send attempt, unless it is done, failed, or another attempt holds it. */
export async function claimOutboxEntry(
  models: Models,
  key: string,
  now: Date = new Date(),
  leaseMs = OUTBOX_LEASE_MS,
): Promise<OutboxClaim> {
  const claim = (await claimOutboxEntries(models, [key], now, leaseMs)).get(key);
  if (!claim)
    throw new CancelflowError('not_found', `no notification ${key} in the outbox`, { field: 'key' });
  return claim;
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
    {
      $set: { status: 'sent', providerMessageId, sentAt: now },
      $unset: { claimedUntil: 1, claimToken: 1, error: 1 },
    },
  );
  return marked.modifiedCount === 1;
}

/** Notes why an attempt failed and lets the next attempt go at once. */
export async function recordOutboxAttemptFailure(models: Models, key: string, error: string): Promise<void> {
  await models.Notification.updateOne(
    { idempotencyKey: key, status: 'queued' },
    { $set: { error }, $unset: { claimedUntil: 1, claimToken: 1 } },
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
