// A local mail catcher: a real SMTP server that accepts every message (any or no authentication, no TLS),
// parses it the way a mail client would and keeps it in memory, plus a small web page and JSON API to read
// what cancelflow sent. docker-compose uses Mailpit instead; this one needs nothing but Node.
import { EventEmitter } from 'node:events';
import Fastify from 'fastify';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import type { Logger } from 'pino';
import { SMTPServer } from 'smtp-server';
import { frameworkLogger, httpUrl, listeningPort, reachableHost } from './server-support';

export interface CaughtMail {
  messageId: string | null;
  /** The From header as written, e.g. `cancelflow <no-reply@cancelflow.local>`. */
  from: string;
  /** Addresses in the To header. */
  to: string[];
  cc: string[];
  subject: string;
  text: string;
  /** Null when the message has no HTML part. */
  html: string | null;
  /** The Date header, or the arrival time when there is none. */
  date: Date;
  receivedAt: Date;
  /** What the SMTP client actually sent to: includes Bcc recipients, which no header shows. */
  envelope: { from: string | null; to: string[] };
  /** Raw header lines as received, in order. */
  headers: { key: string; line: string }[];
  attachments: { filename: string | null; contentType: string; size: number }[];
}

export interface MailCatcherOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  smtpPort?: number;
  /** 0 (the default) picks a free port. */
  httpPort?: number;
  logger?: Logger | false;
  /** Oldest messages are dropped beyond this many, so a long-running stack does not grow without bound. */
  maxMessages?: number;
}

export interface MailCatcher {
  readonly smtpPort: number;
  readonly httpPort: number;
  readonly httpUrl: string;
  /** Every message caught, oldest first. */
  readonly messages: readonly CaughtMail[];
  /** Resolves with the first message (already caught or still to come) that matches; rejects after timeoutMs. */
  waitForMessage(predicate?: (message: CaughtMail) => boolean, timeoutMs?: number): Promise<CaughtMail>;
  clear(): void;
  close(): Promise<void>;
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const objects = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return objects
    .flatMap((object) =>
      object.value.flatMap((entry) => [
        entry.address,
        ...(entry.group ?? []).map((member) => member.address),
      ]),
    )
    .filter((address): address is string => Boolean(address));
}

function toCaughtMail(parsed: ParsedMail, envelope: CaughtMail['envelope']): CaughtMail {
  const receivedAt = new Date();
  return {
    messageId: parsed.messageId ?? null,
    from: parsed.from?.text ?? '',
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    subject: parsed.subject ?? '',
    text: parsed.text ?? '',
    html: parsed.html || null,
    // A missing or unparseable Date header falls back to the arrival time.
    date: parsed.date && !Number.isNaN(parsed.date.getTime()) ? parsed.date : receivedAt,
    receivedAt,
    envelope,
    headers: parsed.headerLines.map(({ key, line }) => ({ key, line })),
    attachments: parsed.attachments.map((attachment) => ({
      filename: attachment.filename ?? null,
      contentType: attachment.contentType,
      size: attachment.size,
    })),
  };
}

const htmlEscapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => htmlEscapes[character] ?? character);
}

function listPage(messages: readonly CaughtMail[]): string {
  const rows = messages
    .map((message, index) => ({ message, index }))
    .reverse()
    .map(
      ({ message, index }) => `<tr>
  <td><a href="/api/messages/${index}">${escapeHtml(message.subject || '(no subject)')}</a>${
    message.html === null ? '' : ` <a class="html" href="/messages/${index}/html">html</a>`
  }</td>
  <td>${escapeHtml(message.to.join(', '))}</td>
  <td>${escapeHtml(message.from)}</td>
  <td><time datetime="${message.date.toISOString()}">${escapeHtml(message.date.toISOString())}</time></td>
</tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>cancelflow mail catcher (${messages.length})</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 0.4rem 0.8rem; border-bottom: 1px solid #ddd; }
  a.html { font-size: 0.8em; color: #666; }
</style>
</head>
<body>
<h1>Mail catcher</h1>
<p>${messages.length} message(s), newest first. JSON: <a href="/api/messages">/api/messages</a></p>
<table>
<thead><tr><th>Subject</th><th>To</th><th>From</th><th>Date</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="4">No messages yet.</td></tr>'}
</tbody>
</table>
</body>
</html>
`;
}

export async function startMailCatcher(options: MailCatcherOptions = {}): Promise<MailCatcher> {
  const host = options.host ?? '127.0.0.1';
  const log = options.logger || undefined;
  const maxMessages = options.maxMessages ?? 1000;
  const messages: CaughtMail[] = [];
  const arrivals = new EventEmitter();
  arrivals.setMaxListeners(0); // every waitForMessage adds one

  const smtp = new SMTPServer({
    banner: 'cancelflow mail catcher',
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // Clients that leave a connection open must not hold close() up for the default 30 seconds.
    closeTimeout: 1000,
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username ?? 'anonymous' });
    },
    onData(stream, session, callback) {
      const envelope = {
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
        to: session.envelope.rcptTo.map((recipient) => recipient.address),
      };
      simpleParser(stream).then(
        (parsed) => {
          const message = toCaughtMail(parsed, envelope);
          messages.push(message);
          if (messages.length > maxMessages) messages.splice(0, messages.length - maxMessages);
          log?.info(
            { messageId: message.messageId, to: message.to, subject: message.subject },
            'mail caught',
          );
          arrivals.emit('message', message);
          callback(null, `Message queued as ${message.messageId ?? 'unknown'}`);
        },
        (error: unknown) => {
          log?.warn({ err: error }, 'unparseable mail refused');
          callback(error instanceof Error ? error : new Error(String(error)));
        },
      );
    },
  });

  await new Promise<void>((resolve, reject) => {
    smtp.once('error', reject);
    smtp.listen(options.smtpPort ?? 0, host, () => {
      smtp.off('error', reject);
      resolve();
    });
  });
  // After start-up an error is one client's broken connection: log it, never crash the catcher.
  smtp.on('error', (error: Error) => log?.warn({ err: error }, 'smtp connection error'));
  const smtpPort = listeningPort(smtp.server);
  const closeSmtp = () => new Promise<void>((resolve) => smtp.close(resolve));

  // Not one log line per request: one per mail caught (above).
  const app = Fastify({
    loggerInstance: frameworkLogger(log),
    forceCloseConnections: true,
  });
  const byIndex = (raw: string) => {
    const index = Number(raw);
    return Number.isInteger(index) ? messages[index] : undefined;
  };
  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(listPage(messages)));
  app.get('/api/messages', () => messages);
  app.get<{ Params: { index: string } }>('/api/messages/:index', async (request, reply) => {
    const message = byIndex(request.params.index);
    return message ? reply.send(message) : reply.status(404).send({ error: 'no such message' });
  });
  app.get<{ Params: { index: string } }>('/messages/:index/html', async (request, reply) => {
    const message = byIndex(request.params.index);
    if (!message?.html) return reply.status(404).send({ error: 'no such message or no html part' });
    // The mail's own HTML, shown as-is but sandboxed: no scripts, no access to this origin.
    return reply
      .header('content-security-policy', 'sandbox')
      .type('text/html; charset=utf-8')
      .send(message.html);
  });
  app.delete('/api/messages', async (_request, reply) => {
    messages.length = 0;
    return reply.status(204).send();
  });

  try {
    await app.listen({ host, port: options.httpPort ?? 0 });
  } catch (error) {
    await closeSmtp();
    throw error;
  }
  const httpPort = listeningPort(app.server);

  return {
    smtpPort,
    httpPort,
    httpUrl: httpUrl(host, httpPort),
    messages,
    waitForMessage(predicate = () => true, timeoutMs = 5000) {
      const caught = messages.find(predicate);
      if (caught) return Promise.resolve(caught);
      return new Promise<CaughtMail>((resolve, reject) => {
        const onMessage = (message: CaughtMail) => {
          if (!predicate(message)) return;
          clearTimeout(timer);
          arrivals.off('message', onMessage);
          resolve(message);
        };
        const timer = setTimeout(() => {
          arrivals.off('message', onMessage);
          reject(
            new Error(
              `no matching mail arrived at ${reachableHost(host)}:${smtpPort} within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
        arrivals.on('message', onMessage);
      });
    },
    clear() {
      messages.length = 0;
    },
    async close() {
      await Promise.all([app.close(), closeSmtp()]);
    },
  };
}
