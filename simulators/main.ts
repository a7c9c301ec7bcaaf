// The simulators process: the Twilio Messages API, the payment gateway, the carrier and (unless --no-mail,
// for stacks where Mailpit catches mail) an SMTP mail catcher, on the ports the rest of the stack is
// configured to use.
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import {
  startCarrierSimulator,
  startMailCatcher,
  startPaymentGatewaySimulator,
  startSmsSimulator,
} from './index';
import { reachableHost } from './server-support';

const usage = 'usage: node dist/simulators/main.js [--no-mail]';

/** Starts one service, naming it and its address when it cannot (e.g. the port is taken). */
async function start<T>(name: string, address: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new Error(
      `${name} could not start on ${address}: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((arg) => arg !== '--no-mail');
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown.join(' ')}; ${usage}`);
  const withMail = !args.includes('--no-mail');

  const config = loadConfig();
  const logger = createLogger(config, 'simulators');
  const host = config.SIMULATORS_HOST;
  const running: { close(): Promise<void> }[] = [];
  const closeAll = async () => {
    await Promise.allSettled(running.splice(0).map((service) => service.close()));
  };

  // Registered before anything listens, so a signal during start-up still closes what has started.
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await closeAll();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    const sms = await start('sms simulator', `${host}:${config.SMS_SIMULATOR_PORT}`, () =>
      startSmsSimulator({
        host,
        port: config.SMS_SIMULATOR_PORT,
        accountSid: config.TWILIO_ACCOUNT_SID,
        authToken: config.TWILIO_AUTH_TOKEN,
        // Reports each message delivered to its StatusCallback, so the outbox shows it as Twilio's would.
        deliverAfterMs: 2000,
        logger: logger.child({ simulator: 'sms' }),
      }),
    );
    running.push(sms);
    logger.info(
      { url: sms.url, accountSid: config.TWILIO_ACCOUNT_SID },
      `sms simulator (Twilio API) at ${sms.url}`,
    );

    const gateway = await start('payment gateway simulator', `${host}:${config.PAYMENT_GATEWAY_PORT}`, () =>
      startPaymentGatewaySimulator({
        host,
        port: config.PAYMENT_GATEWAY_PORT,
        logger: logger.child({ simulator: 'payment-gateway' }),
      }),
    );
    running.push(gateway);
    logger.info({ url: gateway.url }, `payment gateway simulator at ${gateway.url}`);

    const carrier = await start('carrier simulator', `${host}:${config.CARRIER_PORT}`, () =>
      startCarrierSimulator({
        host,
        port: config.CARRIER_PORT,
        webhookUrl: `${config.PUBLIC_BASE_URL.replace(/\/$/, '')}/v1/webhooks/carrier`,
        webhookSecret: config.CARRIER_WEBHOOK_SECRET,
        apiKey: config.CARRIER_API_KEY,
        logger: logger.child({ simulator: 'carrier' }),
      }),
    );
    running.push(carrier);
    logger.info({ url: carrier.url }, `carrier simulator at ${carrier.url}`);

    if (withMail) {
      const smtpAddress = `${host}:${config.SMTP_PORT}`;
      const mail = await start('mail catcher', `${smtpAddress} (web ${config.MAIL_CATCHER_HTTP_PORT})`, () =>
        startMailCatcher({
          host,
          smtpPort: config.SMTP_PORT,
          httpPort: config.MAIL_CATCHER_HTTP_PORT,
          logger: logger.child({ simulator: 'mail' }),
        }),
      );
      running.push(mail);
      const smtpUrl = `smtp://${reachableHost(host)}:${mail.smtpPort}`;
      logger.info(
        { smtp: smtpUrl, url: mail.httpUrl },
        `mail catcher: SMTP at ${smtpUrl}, messages at ${mail.httpUrl}`,
      );
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
}

main().catch((error: unknown) => {
  console.error('simulators failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
