import { pino, type Logger } from 'pino';
import type { Config } from './config';

export type { Logger };

/** One structured logger per process. Secrets never reach it: configuration is logged redacted. */
export function createLogger(
  config: Pick<Config, 'LOG_LEVEL'>,
  name: string,
  options: { pretty?: boolean } = {},
): Logger {
  return pino({
    name,
    level: config.LOG_LEVEL,
    // Readable lines for a person at a terminal (`npm start`); JSON lines for machines everywhere else.
    transport: options.pretty
      ? { target: 'pino-pretty', options: { ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss' } }
      : undefined,
    redact: {
      paths: ['*.password', '*.authToken', '*.TWILIO_AUTH_TOKEN', '*.SMTP_PASSWORD', 'headers.authorization'],
      censor: '***',
    },
  });
}
