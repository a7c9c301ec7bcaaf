// The outside world of a cancellation, for one integration test file, over real connections: its own
// database, the mail catcher (SMTP), the Twilio-compatible SMS API (through the twilio client), the payment
// gateway and carrier simulators over HTTP, a worker on the run's Temporal server running the real workflows
// and activities (plus test-workflows.ts), and the API on a port chosen up front, so that Twilio's status
// callbacks, signed for PUBLIC_BASE_URL, reach it. Log lines are kept, so refusals can be asserted.
import { TEST_DATA_CONVERTER } from './data-converter';
import { Writable } from 'node:stream';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { pino } from 'pino';
import { createActivities, type ActivityDeps } from '../../activities';
import type { OutboxSettings } from '../../activities/outbox';
import { buildApp } from '../../api/app';
import { apiSettingsFrom } from '../../api/app';
import type { WebhookSettings } from '../../api/webhooks.routes';
import { parseConfig } from '../../lib/config';
import { loadPolicyFile } from '../../lib/policy';
import type { Models } from '../../models';
import { freePort } from '../../scripts/servers';
import type { CarrierSimulator, MailCatcher, PaymentGatewaySimulator, SmsSimulator } from '../../simulators';
import { createActivityDeps } from '../../worker/worker';
import { testEnvironment } from './environment';
import { startSimulatedWorld } from './simulated-world';
import { openTemporalConnection } from '../../lib/temporal-connection';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface IntegrationStack {
  models: Models;
  /** Replaceable: a test may stop the mail server and start another on the same port. */
  mail: MailCatcher;
  sms: SmsSimulator;
  gateway: PaymentGatewaySimulator;
  carrier: CarrierSimulator;
  deps: ActivityDeps & OutboxSettings;
  activities: ReturnType<typeof createActivities>;
  temporal: Client;
  taskQueue: string;
  apiUrl: string;
  webhooks: WebhookSettings;
  logs: LogLine[];
  stop(): Promise<void>;
}

export async function startIntegrationStack(name: string): Promise<IntegrationStack> {
  const env = testEnvironment();
  const config = parseConfig({});
  const apiPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const world = await startSimulatedWorld(name, config, apiUrl);
  const { suffix, models, mail, sms, gateway, carrier } = world;
  const taskQueue = `${name}-${suffix}`;
  const logs: LogLine[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logs.push(JSON.parse(chunk.toString('utf8')) as LogLine);
        callback();
      },
    }),
  );

  const webhooks: WebhookSettings = {
    publicBaseUrl: apiUrl,
    twilioAuthToken: config.TWILIO_AUTH_TOKEN,
    carrierWebhookSecret: config.CARRIER_WEBHOOK_SECRET,
  };
  const temporal = new Client({
    connection: await openTemporalConnection({ address: env.temporalAddress }),
    namespace: 'default',
    dataConverter: TEST_DATA_CONVERTER,
  });
  const deps = {
    ...(await createActivityDeps(world.config, logger, models, temporal)),
    publicBaseUrl: apiUrl,
  };
  const activities = createActivities(deps);

  const workerConnection = await NativeConnection.connect({ address: env.temporalAddress });
  const worker = await Worker.create({
    connection: workerConnection,
    namespace: 'default',
    taskQueue,
    activities,
    dataConverter: TEST_DATA_CONVERTER,
    workflowBundle: { codePath: env.testWorkflowBundlePath },
  });
  const workerRun = worker.run();

  const app = buildApp({
    models,
    temporal,
    taskQueue,
    policy: await loadPolicyFile(config.CANCELLATION_POLICY_FILE),
    logger,
    ...apiSettingsFrom(config),
    webhooks,
  });
  await app.listen({ host: '127.0.0.1', port: apiPort });

  const stack: IntegrationStack = {
    models,
    mail,
    sms,
    gateway,
    carrier,
    deps,
    activities,
    temporal,
    taskQueue,
    apiUrl,
    webhooks,
    logs,
    async stop() {
      await app.close();
      worker.shutdown();
      await workerRun;
      await Promise.all([temporal.connection.close(), workerConnection.close()]);
      deps.mailer.close();
      // A test may have replaced the mail catcher; the world closes only the one it started.
      if (stack.mail !== world.mail) await stack.mail.close();
      await world.stop();
    },
  };
  return stack;
}
