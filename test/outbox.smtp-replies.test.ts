// Which SMTP failures the outbox retries and which end a message (docs/notifications.md): the server's reply
// decides. Found by `npm run chaos` (issue #15): a mail server stopping answers DATA with "421 Server shutting
// down", which nodemailer reports as an envelope error; the mail was marked failed for good and never sent.
import { ProviderRefusal, sendOutboxEntry, type OutboxDeps } from '../activities/outbox';
import type { OutboxEntry } from '../models/outbox';

const entry = {
  idempotencyKey: 'c-1:customer:options_offered:email',
  channel: 'email',
  recipient: 'li.lei@example.cn',
  content: { subject: 'Your cancellation', text: 'Choose an option' },
} as unknown as OutboxEntry;

/** What a send through a mailer that fails this way is taken for. */
async function refusalOf(failure: { message: string; code?: string; responseCode?: number }) {
  const mailer = { sendMail: () => Promise.reject(Object.assign(new Error(failure.message), failure)) };
  const deps = { mailer, mailFrom: 'cancelflow <no-reply@cancelflow.local>' } as unknown as OutboxDeps;
  return sendOutboxEntry(deps, entry).then(
    () => undefined,
    (error: unknown) => error as ProviderRefusal,
  );
}

test.each([
  ['a server shutting down during DATA (421)', false, { code: 'EENVELOPE', responseCode: 421 }],
  ['a mailbox busy (450)', false, { code: 'EENVELOPE', responseCode: 450 }],
  ['the server refusing the connection', false, { code: 'ESOCKET' }],
  ['an unknown mailbox (550)', true, { code: 'EENVELOPE', responseCode: 550 }],
  ['no recipient at all (no reply)', true, { code: 'EENVELOPE' }],
  ['authentication refused (535: a setting to fix)', false, { code: 'EAUTH', responseCode: 535 }],
])('%s: for good %s', async (_what, permanent, failure) => {
  const refusal = await refusalOf({ message: 'Data command failed', ...failure });
  expect(refusal).toBeInstanceOf(ProviderRefusal);
  expect(refusal?.permanent).toBe(permanent);
});
