import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from './config';

export type { Logger };

/** The configuration's secrets: the keys redactConfig masks (lib/config.ts). */
const CONFIG_SECRETS = [
  'SMTP_PASSWORD',
  'TWILIO_AUTH_TOKEN',
  'CARRIER_API_KEY',
  'CARRIER_WEBHOOK_SECRET',
  'SESSION_SECRET',
  'OIDC_CLIENT_SECRET',
  'PAYLOAD_KEYS',
  'CUSTOMER_LINK_SECRET',
] as const;

/** One structured logger per process. Secrets never reach it: configuration is logged redacted. */
export function createLogger(
  config: Pick<Config, 'LOG_LEVEL'>,
  name: string,
  /** `destination`: where the lines go instead of stdout (a test reads them back). */
  options: { pretty?: boolean; destination?: DestinationStream } = {},
): Logger {
  const settings: pino.LoggerOptions = {
    name,
    level: config.LOG_LEVEL,
    // Readable lines for a person at a terminal (`npm start`); JSON lines for machines everywhere else.
    transport: options.pretty
      ? { target: 'pino-pretty', options: { ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss' } }
      : undefined,
    // A second line of defence, should a secret be handed to the logger by mistake: every secret of the
    // configuration (those redactConfig masks), and the credentials a request or a session carries.
    redact: {
      paths: [
        '*.password',
        '*.authToken',
        '*.token',
        '*.csrfToken',
        ...CONFIG_SECRETS.map((key) => `*.${key}`),
        ...['headers', 'req.headers'].flatMap((headers) =>
          ['authorization', 'cookie', 'set-cookie', 'x-csrf-token', 'x-twilio-signature'].map(
            (header) => `${headers}["${header}"]`,
          ),
        ),
      ],
      censor: '***',
    },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
