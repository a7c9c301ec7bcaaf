import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { createHttpCarrier } from '../integrations/carrier';
import { createMailer } from '../integrations/mailer';
import { createHttpPaymentGateway } from '../integrations/payment-gateway';
import { createSmsClient } from '../integrations/sms';
import { mongoUri, type Config } from '../lib/config';
import { temporalDataConverter } from '../lib/payload-codec';
import type { Logger } from '../lib/logger';
import { connectModels, type Models } from '../models';

/**
 * Builds the activities' real dependencies from configuration: the one place that wires them, for the worker
 * process, `npm start` and the tests alike. An open database connection may be handed in to share it, and
 * a Temporal client (a test's own server); otherwise one is connected to TEMPORAL_ADDRESS.
 */
export async function createActivityDeps(
  config: Config,
  logger: Logger,
  models?: Models,
  temporal?: Client,
): Promise<ActivityDeps> {
  return {
    models:
      models ??
      (await connectModels(mongoUri(config), config.MONGODB_DATABASE, {
        timeoutMs: config.MONGODB_TIMEOUT_MS,
      })),
    mailer: createMailer(config),
    mailFrom: config.MAIL_FROM,
    sms: createSmsClient(config),
    smsFrom: config.TWILIO_FROM_NUMBER,
    paymentGateway: createHttpPaymentGateway(config.PAYMENT_GATEWAY_URL),
    carrier: createHttpCarrier(config.CARRIER_URL, { apiKey: config.CARRIER_API_KEY }),
    policyFile: config.CANCELLATION_POLICY_FILE,
    publicBaseUrl: config.PUBLIC_BASE_URL,
    customerLinks: {
      secret: config.CUSTOMER_LINK_SECRET,
      ttlMs: config.CUSTOMER_LINK_DAYS * 86_400_000,
    },
    logger,
    temporal:
      temporal ??
      new Client({
        connection: await Connection.connect({ address: config.TEMPORAL_ADDRESS }),
        namespace: config.TEMPORAL_NAMESPACE,
        dataConverter: temporalDataConverter(config),
      }),
  };
}

/** Where the worker finds workflow code: bundled at run time from source, or a prebuilt bundle (tests). */
export type WorkflowSource = Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle'>;

export const workflowsFromSource: WorkflowSource = { workflowsPath: require.resolve('../workflows') };

/**
 * `dataConverter`: temporalDataConverter(config), as every client of the same server uses; a worker that read
 * payloads another way could not read what the clients wrote.
 */
export async function createWorker(options: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  dataConverter: DataConverter;
  workflows?: WorkflowSource;
}): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    dataConverter: options.dataConverter,
    activities: createActivities(options.deps),
    ...(options.workflows ?? workflowsFromSource),
  });
}
