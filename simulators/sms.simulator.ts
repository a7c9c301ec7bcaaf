// A local stand-in for Twilio's Messages API, faithful enough that the real twilio client cannot tell the
// difference: the same paths, form-encoded requests, HTTP Basic auth, JSON resources and error shape.
// Messages are kept in memory (nothing is delivered); a small /_sim API lets people and tests inspect them
// and make the next requests fail.
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { frameworkLogger, httpUrl, listeningPort } from './server-support';

const apiVersion = '2010-04-01';

export interface SimulatedSms {
  sid: string;
  accountSid: string;
  to: string;
  /** Null when the request named a messaging service instead of a sender. */
  from: string | null;
  body: string;
  status: 'queued' | 'accepted';
  numSegments: number;
  mediaUrls: string[];
  messagingServiceSid: string | null;
  statusCallback: string | null;
  dateCreated: Date;
}

export interface SimulatedTwilioError {
  /** HTTP status; defaults to the usual one for a known code, else 500. */
  status?: number;
  /** Twilio error code, e.g. 21211 (invalid 'To'); defaults to 20500. */
  code?: number;
  message?: string;
}

export interface SmsSimulatorOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** When given, only this account's Basic credentials are accepted. */
  accountSid?: string;
  /** When given, the Basic password must be this token. */
  authToken?: string;
  logger?: Logger | false;
}

export interface SmsSimulator {
  readonly url: string;
  readonly port: number;
  /** Every message accepted so far, oldest first. */
  readonly messages: readonly SimulatedSms[];
  /** The next `count` message creations answer with this Twilio error instead. */
  failNext(count: number, error?: SimulatedTwilioError): void;
  /** Forgets the messages and any pending failures. */
  clear(): void;
  close(): Promise<void>;
}

interface TwilioErrorBody {
  code: number;
  message: string;
  more_info: string;
  status: number;
}

// Status and wording Twilio uses for the codes a test is likely to simulate.
const knownErrors: Record<number, { status: number; message: string }> = {
  20001: { status: 400, message: 'Invalid parameter' },
  20003: { status: 401, message: 'Authenticate' },
  20404: { status: 404, message: 'The requested resource was not found' },
  20429: { status: 429, message: 'Too Many Requests' },
  20500: { status: 500, message: 'An internal server error has occurred' },
  20503: { status: 503, message: 'Service unavailable' },
  21211: { status: 400, message: "Invalid 'To' Phone Number" },
  21408: {
    status: 400,
    message: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
  },
  21610: { status: 400, message: 'Attempt to send to unsubscribed recipient' },
  21614: { status: 400, message: "'To' number is not a valid mobile number" },
};

function twilioError(code: number, message?: string, status?: number): TwilioErrorBody {
  const known = knownErrors[code];
  return {
    code,
    message: message ?? known?.message ?? `simulated error ${code}`,
    more_info: `https://www.twilio.com/docs/errors/${code}`,
    status: status ?? known?.status ?? 500,
  };
}

function defaultCode(status: number | undefined): number {
  if (status === undefined || status >= 500) return status === 503 ? 20503 : 20500;
  return status === 429 ? 20429 : 20001;
}

function sendError(reply: FastifyReply, error: TwilioErrorBody): FastifyReply {
  return reply.status(error.status).send(error);
}

const failNextRequest = z.object({
  count: z.int().min(1).max(10_000).default(1),
  status: z.int().min(400).max(599).optional(),
  code: z.int().positive().optional(),
  message: z.string().min(1).optional(),
});

// Twilio's own checks, loosely: E.164 recipients; senders may also be short codes or alphanumeric IDs.
const e164 = /^\+[1-9]\d{6,14}$/;
const shortCode = /^\d{3,8}$/;
const alphanumericSender = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/;
const maxBodyCharacters = 1600;

const gsm7Basic = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const gsm7Extended = new Set('^{}\\[~]|€\f');

/** Segments as a carrier bills them: GSM-7 fits 160 septets (153 when split), anything else UCS-2 70 (67). */
export function countSegments(body: string): number {
  let septets = 0;
  for (const character of body) {
    if (gsm7Basic.has(character)) septets += 1;
    else if (gsm7Extended.has(character)) septets += 2;
    else {
      const units = body.length; // UTF-16 code units, which is what UCS-2 counts
      return units <= 70 ? 1 : Math.ceil(units / 67);
    }
  }
  return septets <= 160 ? 1 : Math.ceil(septets / 153);
}

/** Twilio's date format, e.g. "Thu, 28 Nov 2024 18:29:00 +0000" (the client parses exactly this). */
function rfc2822(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

function messageResource(message: SimulatedSms) {
  const uri = `/${apiVersion}/Accounts/${message.accountSid}/Messages/${message.sid}.json`;
  const date = rfc2822(message.dateCreated);
  return {
    account_sid: message.accountSid,
    api_version: apiVersion,
    body: message.body,
    date_created: date,
    date_sent: null,
    date_updated: date,
    direction: 'outbound-api',
    error_code: null,
    error_message: null,
    from: message.from,
    messaging_service_sid: message.messagingServiceSid,
    // Twilio sends these two counts as strings.
    num_media: String(message.mediaUrls.length),
    num_segments: String(message.numSegments),
    price: null,
    price_unit: 'USD',
    sid: message.sid,
    status: message.status,
    subresource_uris: { media: uri.replace(/\.json$/, '/Media.json') },
    to: message.to,
    uri,
  };
}

function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
  const encoded = /^Basic\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export async function startSmsSimulator(options: SmsSimulatorOptions = {}): Promise<SmsSimulator> {
  const host = options.host ?? '127.0.0.1';
  const log = options.logger || undefined;
  const messages: SimulatedSms[] = [];
  const failures: TwilioErrorBody[] = [];

  const failNext = (count: number, error: SimulatedTwilioError = {}) => {
    if (!Number.isInteger(count) || count < 1)
      throw new RangeError('failNext count must be a positive integer');
    const body = twilioError(error.code ?? defaultCode(error.status), error.message, error.status);
    for (let i = 0; i < count; i += 1) failures.push(body);
  };

  /** Twilio answers 20003 to missing or wrong credentials and to credentials for another account. */
  const authenticate = (
    authorization: string | undefined,
    accountSid: string,
  ): TwilioErrorBody | undefined => {
    const credentials = basicCredentials(authorization);
    const valid =
      credentials !== undefined &&
      credentials.username === accountSid &&
      (options.accountSid === undefined || credentials.username === options.accountSid) &&
      (options.authToken === undefined || credentials.password === options.authToken);
    return valid ? undefined : twilioError(20003);
  };

  const app = Fastify({
    loggerInstance: frameworkLogger(options.logger),
    // Keep-alive sockets of the twilio client must not hold close() up.
    forceCloseConnections: true,
  });

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, new URLSearchParams(typeof body === 'string' ? body : body.toString('utf8')));
    },
  );

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, twilioError(20404, `The requested resource ${request.url} was not found`)),
  );
  app.setErrorHandler((error, request, reply) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error }, 'sms simulator failed');
    const message = error instanceof Error ? error.message : String(error);
    return sendError(reply, twilioError(status < 500 ? 20001 : 20500, message, status));
  });

  app.post<{ Params: { accountSid: string }; Body: unknown }>(
    `/${apiVersion}/Accounts/:accountSid/Messages.json`,
    async (request, reply) => {
      const { accountSid } = request.params;
      const denied = authenticate(request.headers.authorization, accountSid);
      if (denied) return sendError(reply.header('www-authenticate', 'Basic realm="Twilio API"'), denied);
      const failure = failures.shift();
      if (failure) return sendError(reply, failure);

      const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
      const to = form.get('To')?.trim() ?? '';
      const from = form.get('From')?.trim() || null;
      const messagingServiceSid = form.get('MessagingServiceSid')?.trim() || null;
      const body = form.get('Body') ?? '';
      const mediaUrls = form.getAll('MediaUrl');
      if (!to) return sendError(reply, twilioError(21604, "A 'To' phone number is required.", 400));
      if (!e164.test(to)) {
        return sendError(
          reply,
          twilioError(21211, `The 'To' number ${to} is not a valid phone number.`, 400),
        );
      }
      if (!from && !messagingServiceSid) {
        return sendError(reply, twilioError(21603, "A 'From' phone number is required.", 400));
      }
      if (from && !e164.test(from) && !shortCode.test(from) && !alphanumericSender.test(from)) {
        const message = `The 'From' number ${from} is not a valid phone number, shortcode, or alphanumeric sender ID.`;
        return sendError(reply, twilioError(21212, message, 400));
      }
      if (!body && mediaUrls.length === 0 && !form.get('ContentSid')) {
        return sendError(reply, twilioError(21602, 'Message body is required.', 400));
      }
      if ([...body].length > maxBodyCharacters) {
        const message = `The concatenated message body exceeds the ${maxBodyCharacters} character limit.`;
        return sendError(reply, twilioError(21617, message, 400));
      }

      const message: SimulatedSms = {
        sid: `SM${randomBytes(16).toString('hex')}`,
        accountSid,
        to,
        from,
        body,
        // Twilio queues a message with a sender at once; a messaging service first has to pick one.
        status: from ? 'queued' : 'accepted',
        numSegments: body ? countSegments(body) : 1,
        mediaUrls,
        messagingServiceSid,
        statusCallback: form.get('StatusCallback') || null,
        dateCreated: new Date(),
      };
      messages.push(message);
      log?.info({ sid: message.sid, to, from, segments: message.numSegments, body }, 'sms accepted');
      return reply.status(201).send(messageResource(message));
    },
  );

  app.get<{ Params: { accountSid: string; messageSid: string } }>(
    `/${apiVersion}/Accounts/:accountSid/Messages/:messageSid.json`,
    async (request, reply) => {
      const { accountSid, messageSid } = request.params;
      const denied = authenticate(request.headers.authorization, accountSid);
      if (denied) return sendError(reply.header('www-authenticate', 'Basic realm="Twilio API"'), denied);
      const message = messages.find(
        (candidate) => candidate.sid === messageSid && candidate.accountSid === accountSid,
      );
      if (!message)
        return sendError(reply, twilioError(20404, `The requested resource ${request.url} was not found`));
      return reply.send(messageResource(message));
    },
  );

  app.get('/_sim/messages', () => messages);
  app.delete('/_sim/messages', async (_request, reply) => {
    messages.length = 0;
    return reply.status(204).send();
  });
  app.post('/_sim/fail-next', async (request, reply) => {
    const parsed = failNextRequest.safeParse(request.body ?? {});
    if (!parsed.success) return reply.status(400).send({ error: z.prettifyError(parsed.error) });
    const { count, ...error } = parsed.data;
    failNext(count, error);
    return reply.send({ pendingFailures: failures.length });
  });

  await app.listen({ host, port: options.port ?? 0 });
  const port = listeningPort(app.server);
  return {
    url: httpUrl(host, port),
    port,
    messages,
    failNext,
    clear() {
      messages.length = 0;
      failures.length = 0;
    },
    close: () => app.close(),
  };
}
