import { pino, type Logger } from 'pino';
import type { Config } from './config';

export type { Logger };

/** One structured logger per process. Secrets never reach it: configuration is logged redacted. */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, name: string): Logger {
  return pino({
    name,
    level: config.LOG_LEVEL,
    redact: { paths: ['*.password', '*.authToken', '*.TWILIO_AUTH_TOKEN', '*.SMTP_PASSWORD', 'headers.authorization'], censor: '***' },
  });
}
