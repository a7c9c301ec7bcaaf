// A whole cancelflow for one test file, in-process but over real connections: its own database on the run's
// MongoDB, the run's Temporal server with its own task queue, the simulators on free ports, a worker running
// the bundled workflow code, and the API on a free port with the typed client pointed at it.
import { TEST_DATA_CONVERTER } from './data-converter';
import { Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { ActivityDeps } from '../../activities';
import { apiSettingsFrom, buildApp } from '../../api/app';
import { CancelflowClient } from '../../client/cancelflow-client';
import { parseConfig } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { loadPolicyFile } from '../../lib/policy';
import type { Models } from '../../models';
import { issueApiKey } from '../../models/credentials';
import { freePort } from '../../scripts/servers';
import type { CarrierSimulator, MailCatcher, PaymentGatewaySimulator, SmsSimulator } from '../../simulators';
import { createActivityDeps, createWorker, type WorkflowSource } from '../../worker/worker';
import type { DeliveryOptions } from '../../contracts/delivery.contract';
import type { Tracing } from '../../lib/tracing';
import { testEnvironment } from './environment';
import { startSimulatedWorld } from './simulated-world';
import { openTemporalConnection } from '../../lib/temporal-connection';

export interface TestStack {
  models: Models;
  /** What the worker's activities were built from. */
  deps: ActivityDeps;
  temporal: Client;
  taskQueue: string;
  /** The API without credentials (public routes, and checking that the others refuse). */
  api: CancelflowClient;
  /** The API as this person of the books: an API key in all their roles, issued on first use. */
  as(personId: string): Promise<CancelflowClient>;
  apiUrl: string;
  mail: MailCatcher;
  sms: SmsSimulator;
  gateway: PaymentGatewaySimulator;
  carrier: CarrierSimulator;
  worker: Worker;
  /** Every line the API and the worker logged, as written (JSON), when started with `captureLogs`; else empty. */
  logLines: string[];
  stop(): Promise<void>;
}

/**
 * By default the stack runs on the run's Temporal dev server; a test that needs to move time hands in a
 * time-skipping TestWorkflowEnvironment's connections instead. `deliveryRetry` shortens the notification
 * deliveries' backoff (the delivery workflow's defaults otherwise).
 */
export async function startTestStack(
  name: string,
  temporalServer?: { nativeConnection: NativeConnection; client: Client },
  /**
   * `workflows`: another version of the workflow code (a fixture) in place of the run's bundle. `apiPort` and
   * `settings`: the API's port and configuration, for a test whose other servers must know them first (an
   * identity provider registers the API's callback URL before the API learns the provider's address).
   * `captureLogs`: the API and the worker log at this level into `logLines` (silent otherwise).
   * `tracing`: the stack's client and worker trace (lib/tracing.ts); with workflows bundled from source, as the
   * run's bundle has no tracing interceptors.
   */
  options: {
    deliveryRetry?: DeliveryOptions;
    workflows?: WorkflowSource;
    apiPort?: number;
    settings?: Record<string, string>;
    captureLogs?: 'debug' | 'trace';
    tracing?: Tracing;
  } = {},
): Promise<TestStack> {
  const env = testEnvironment();
  const config = parseConfig({ LOG_LEVEL: 'warn', ...options.settings });
  const apiPort = options.apiPort ?? (await freePort());
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const world = await startSimulatedWorld(name, config, apiUrl);
  const { models, mail, sms, gateway, carrier } = world;
  const taskQueue = `${name}-${world.suffix}`;
  const logLines: string[] = [];
  const logger = createLogger({ LOG_LEVEL: options.captureLogs ?? 'silent' }, name, {
    destination: { write: (line: string) => void logLines.push(line) },
  });

  const temporal =
    temporalServer?.client ??
    new Client({
      connection: await openTemporalConnection({ address: env.temporalAddress }),
      namespace: 'default',
      dataConverter: TEST_DATA_CONVERTER,
      interceptors: options.tracing?.clientInterceptors,
    });
  // Activities start notification deliveries on the same server the worker runs on.
  const deps = {
    ...(await createActivityDeps(world.config, logger, models, temporal)),
    deliveryRetry: options.deliveryRetry,
  };

  const ownConnections = !temporalServer;
  const workerConnection =
    temporalServer?.nativeConnection ?? (await NativeConnection.connect({ address: env.temporalAddress }));
  const worker = await createWorker({
    connection: workerConnection,
    namespace: 'default',
    taskQueue,
    deps,
    dataConverter: TEST_DATA_CONVERTER,
    workflows: options.workflows ?? { workflowBundle: { codePath: env.workflowBundlePath } },
    tracing: options.tracing,
  });
  const workerRun = worker.run();

  const app = buildApp({
    models,
    temporal,
    taskQueue,
    policy: await loadPolicyFile(config.CANCELLATION_POLICY_FILE),
    ...apiSettingsFrom(config),
    logger,
  });
  await app.listen({ host: '127.0.0.1', port: apiPort });

  const clients = new Map<string, Promise<CancelflowClient>>();
  const as = (personId: string): Promise<CancelflowClient> => {
    let client = clients.get(personId);
    if (!client) {
      client = (async () => {
        const person = await models.Person.findOne({ personId }).lean();
        if (!person) throw new Error(`${personId} is not in the books: add the people first`);
        const { token } = await issueApiKey(models, {
          name: `test ${personId}`,
          personId,
          scopes: person.roles,
          createdBy: 'test',
        });
        return new CancelflowClient({ baseUrl: apiUrl, apiKey: token });
      })();
      clients.set(personId, client);
    }
    return client;
  };

  return {
    models,
    deps,
    temporal,
    taskQueue,
    api: new CancelflowClient({ baseUrl: apiUrl }),
    as,
    apiUrl,
    mail,
    sms,
    gateway,
    carrier,
    worker,
    logLines,
    async stop() {
      await app.close();
      worker.shutdown();
      await workerRun;
      if (ownConnections) await Promise.all([temporal.connection.close(), workerConnection.close()]);
      deps.mailer.close();
      await world.stop();
    },
  };
}
