// A local stand-in for Twilio's Messages API, faithful enough that the real twilio client cannot tell the
// difference: the same paths, form-encoded requests, HTTP Basic auth, JSON resources and error shape.
// Messages are kept in memory (nothing is delivered); a small /_sim API lets people and tests inspect them,
// make the next requests fail, and have a message's delivery reported to its StatusCallback, signed with the
// auth token exactly as Twilio signs (X-Twilio-Signature).
import { createHmac, randomBytes } from 'node:crypto';
import Fastify, { type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { frameworkLogger, httpUrl, listeningPort } from './server-support';

const apiVersion = '2010-04-01';

/** The statuses a Twilio message goes through, as its status callbacks report them. */
export const SMS_STATUSES = [
  'queued',
  'accepted',
  'sending',
  'sent',
  'delivered',
  'undelivered',
  'failed',
] as const;
export type SimulatedSmsStatus = (typeof SMS_STATUSES)[number];

export interface SimulatedSms {
  sid: string;
  accountSid: string;
  to: string;
  /** Null when the request named a messaging service instead of a sender. */
  from: string | null;
  body: string;
  status: SimulatedSmsStatus;
  /** Set with an `undelivered` or `failed` report, e.g. 30003 (unreachable handset). */
  errorCode: number | null;
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
  /**
   * When set, every message created with a StatusCallback is reported `delivered` this many milliseconds
   * later, as a carrier would; otherwise reports go out only when asked (`reportStatus`).
   */
  deliverAfterMs?: number;
}

/** One status callback the simulator posted, and what the receiver answered. */
export interface StatusCallbackDelivery {
  sid: string;
  status: SimulatedSmsStatus;
  url: string;
  /** The receiver's HTTP status; null when it could not be reached. */
  responseStatus: number | null;
  error?: string;
  at: Date;
}

export interface SmsSimulator {
  readonly url: string;
  readonly port: number;
  /** Every message accepted so far, oldest first. */
  readonly messages: readonly SimulatedSms[];
  /** Every status callback posted so far, oldest first. */
  readonly callbacks: readonly StatusCallbackDelivery[];
  /** The next `count` message creations answer with this Twilio error instead. */
  failNext(count: number, error?: SimulatedTwilioError): void;
  /**
   * From now on, this share (0 to 1) of message creations, drawn at random, answer with this Twilio error
   * instead (by default 503, which a client retries); 0 stops it.
   */
  failShare(share: number, error?: SimulatedTwilioError): void;
  /**
   * Moves the message to `status` and posts Twilio's status callback to its StatusCallback, signed with the
   * auth token; resolves with the receiver's HTTP status. Rejects when the message has no StatusCallback.
   */
  reportStatus(sid: string, status: SimulatedSmsStatus, errorCode?: number): Promise<number>;
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
    error_code: message.errorCode,
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

/**
 * Twilio's request signature: HMAC-SHA1 with the auth token over the URL followed by every POST parameter's
 * name and value, sorted by name, in base64 (https://www.twilio.com/docs/usage/webhooks/webhooks-security).
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((signed, name) => signed + name + params[name], url);
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

const reportStatusRequest = z.object({
  status: z.enum(SMS_STATUSES),
  errorCode: z.int().positive().optional(),
});

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
  const callbacks: StatusCallbackDelivery[] = [];
  const deliveryTimers = new Set<NodeJS.Timeout>();
  let failing: { share: number; error: TwilioErrorBody } = { share: 0, error: twilioError(20503) };

  const reportStatus = async (
    sid: string,
    status: SimulatedSmsStatus,
    errorCode?: number,
  ): Promise<number> => {
    const message = messages.find((candidate) => candidate.sid === sid);
    if (!message) throw new Error(`no message ${sid}`);
    if (!message.statusCallback) throw new Error(`message ${sid} was created without a StatusCallback`);
    if (options.authToken === undefined)
      throw new Error('status callbacks are signed: give the simulator an authToken');
    message.status = status;
    message.errorCode = errorCode ?? null;
    // The parameters Twilio posts for a message status change.
    const params: Record<string, string> = {
      AccountSid: message.accountSid,
      ApiVersion: apiVersion,
      From: message.from ?? '',
      MessageSid: sid,
      MessageStatus: status,
      SmsSid: sid,
      SmsStatus: status,
      To: message.to,
      ...(errorCode === undefined ? {} : { ErrorCode: String(errorCode) }),
    };
    const url = message.statusCallback;
    const delivery: StatusCallbackDelivery = { sid, status, url, responseStatus: null, at: new Date() };
    callbacks.push(delivery);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilioSignature(options.authToken, url, params),
          'user-agent': 'TwilioProxy/1.1',
        },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(10_000),
      });
      delivery.responseStatus = response.status;
      log?.info({ sid, status, url, responseStatus: response.status }, 'status callback posted');
      return response.status;
    } catch (error) {
      delivery.error = error instanceof Error ? error.message : String(error);
      log?.warn({ sid, status, url, error: delivery.error }, 'status callback could not be posted');
      throw error;
    }
  };

  const failNext = (count: number, error: SimulatedTwilioError = {}) => {
    if (!Number.isInteger(count) || count < 1)
      throw new RangeError('failNext count must be a positive integer');
    const body = twilioError(error.code ?? defaultCode(error.status), error.message, error.status);
    for (let i = 0; i < count; i += 1) failures.push(body);
  };

  const failShare = (share: number, error: SimulatedTwilioError = { status: 503 }) => {
    if (!(share >= 0 && share <= 1)) throw new RangeError('failShare share must be from 0 to 1');
    failing = {
      share,
      error: twilioError(error.code ?? defaultCode(error.status), error.message, error.status),
    };
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
      if (failing.share > 0 && Math.random() < failing.share) return sendError(reply, failing.error);

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
        errorCode: null,
        numSegments: body ? countSegments(body) : 1,
        mediaUrls,
        messagingServiceSid,
        statusCallback: form.get('StatusCallback') || null,
        dateCreated: new Date(),
      };
      messages.push(message);
      log?.info({ sid: message.sid, to, from, segments: message.numSegments, body }, 'sms accepted');
      if (options.deliverAfterMs !== undefined && message.statusCallback) {
        const timer = setTimeout(() => {
          deliveryTimers.delete(timer);
          reportStatus(message.sid, 'delivered').catch(() => undefined); // logged by reportStatus
        }, options.deliverAfterMs);
        deliveryTimers.add(timer);
      }
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
  app.post<{ Params: { sid: string } }>('/_sim/messages/:sid/status', async (request, reply) => {
    const parsed = reportStatusRequest.safeParse(request.body ?? {});
    if (!parsed.success) return reply.status(400).send({ error: z.prettifyError(parsed.error) });
    if (!messages.some((message) => message.sid === request.params.sid)) {
      return reply.status(404).send({ error: `no message ${request.params.sid}` });
    }
    try {
      const callbackStatus = await reportStatus(
        request.params.sid,
        parsed.data.status,
        parsed.data.errorCode,
      );
      return reply.send({ callbackStatus });
    } catch (error) {
      return reply.status(409).send({ error: error instanceof Error ? error.message : String(error) });
    }
  });
  app.get('/_sim/callbacks', () => callbacks);
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
    callbacks,
    failNext,
    failShare,
    reportStatus,
    clear() {
      messages.length = 0;
      failures.length = 0;
      failing = { share: 0, error: failing.error };
      callbacks.length = 0;
    },
    async close() {
      for (const timer of deliveryTimers) clearTimeout(timer);
      deliveryTimers.clear();
      await app.close();
    },
  };
}
