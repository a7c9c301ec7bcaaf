// What every test stack needs around the workflow: its own database on the run's MongoDB, and the outside
// world on free ports (a real SMTP catcher, the Twilio-compatible SMS API, the payment gateway).
import { randomUUID } from 'node:crypto';
import type { Config } from '../../lib/config';
import { connectModels } from '../../models';
import {
  startCarrierSimulator,
  startMailCatcher,
  startPaymentGatewaySimulator,
  startSmsSimulator,
} from '../../simulators';
import { testEnvironment } from './environment';

/** `apiUrl`: where the stack's API will listen, for the carrier's webhook posts. */
export async function startSimulatedWorld(name: string, config: Config, apiUrl: string) {
  const suffix = randomUUID().slice(0, 8);
  const [models, mail, sms, gateway, carrier] = await Promise.all([
    connectModels(testEnvironment().mongoUri, `${name.replace(/\W/g, '_')}_${suffix}`),
    startMailCatcher({ smtpPort: 0, httpPort: 0, logger: false }),
    startSmsSimulator({
      port: 0,
      accountSid: config.TWILIO_ACCOUNT_SID,
      authToken: config.TWILIO_AUTH_TOKEN,
      logger: false,
    }),
    startPaymentGatewaySimulator({ port: 0, logger: false }),
    startCarrierSimulator({
      port: 0,
      webhookUrl: `${apiUrl}/v1/webhooks/carrier`,
      webhookSecret: config.CARRIER_WEBHOOK_SECRET,
      logger: false,
    }),
  ]);
  return {
    suffix,
    models,
    mail,
    sms,
    gateway,
    carrier,
    /** The configuration pointed at these simulators, for `createActivityDeps`. */
    config: {
      ...config,
      SMTP_PORT: mail.smtpPort,
      TWILIO_API_BASE_URL: sms.url,
      PAYMENT_GATEWAY_URL: gateway.url,
      CARRIER_URL: carrier.url,
    },
    async stop() {
      await Promise.all([mail.close(), sms.close(), gateway.close(), carrier.close()]);
      await models.db.dropDatabase();
      await models.db.close();
    },
  };
}
