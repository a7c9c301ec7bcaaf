// What every test stack needs around the workflow: its own database on the run's MongoDB, and the outside
// world on free ports (a real SMTP catcher, the Twilio-compatible SMS API, the payment gateway).
import { randomUUID } from 'node:crypto';
import type { Config } from '../../lib/config';
import { connectModels } from '../../models';
import { startMailCatcher, startPaymentGatewaySimulator, startSmsSimulator } from '../../simulators';
import { testEnvironment } from './environment';

export async function startSimulatedWorld(name: string, config: Config) {
  const suffix = randomUUID().slice(0, 8);
  const [models, mail, sms, gateway] = await Promise.all([
    connectModels(testEnvironment().mongoUri, `${name.replace(/\W/g, '_')}_${suffix}`),
    startMailCatcher({ smtpPort: 0, httpPort: 0, logger: false }),
    startSmsSimulator({
      port: 0,
      accountSid: config.TWILIO_ACCOUNT_SID,
      authToken: config.TWILIO_AUTH_TOKEN,
      logger: false,
    }),
    startPaymentGatewaySimulator({ port: 0, logger: false }),
  ]);
  return {
    suffix,
    models,
    mail,
    sms,
    gateway,
    /** The configuration pointed at these simulators, for `createActivityDeps`. */
    config: {
      ...config,
      SMTP_PORT: mail.smtpPort,
      TWILIO_API_BASE_URL: sms.url,
      PAYMENT_GATEWAY_URL: gateway.url,
    },
    async stop() {
      await Promise.all([mail.close(), sms.close(), gateway.close()]);
      await models.db.dropDatabase();
      await models.db.close();
    },
  };
}
