import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../lib/config';

export type Mailer = Transporter;

/** SMTP through nodemailer: the local mail catcher by default, any real SMTP server when configured. */
export function createMailer(
  config: Pick<Config, 'SMTP_HOST' | 'SMTP_PORT' | 'SMTP_SECURE' | 'SMTP_USER' | 'SMTP_PASSWORD'>,
): Mailer {
  return nodemailer.createTransport({
    host: config.SMTP_HOST,
    port: config.SMTP_PORT,
    secure: config.SMTP_SECURE,
    // A local catcher offers no TLS; a real server that offers STARTTLS gets it.
    ignoreTLS: !config.SMTP_SECURE && config.SMTP_HOST === '127.0.0.1',
    auth: config.SMTP_USER ? { user: config.SMTP_USER, pass: config.SMTP_PASSWORD } : undefined,
    // Connections kept open and reused: a connection per mail (connect, greeting, EHLO, QUIT) was the
    // nodemailer share of the worker's CPU under load (issue #13). The owner of the deps closes the pool.
    pool: true,
    maxConnections: 5,
    // Bounded well within a delivery attempt (1 minute), so an attempt never outlives its claim on a message.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
}
