// `npm start`: the whole of cancelflow on one machine, on embedded defaults. Starts the embedded MongoDB (unless
// MONGODB_URI names a real one), Temporal's dev server with its Web UI (unless TEMPORAL_ADDRESS points
// elsewhere), the mail catcher, SMS, payment gateway and carrier simulators, the worker in a process of its own
// and the API; seeds demo data; prints where everything is; and stops it all cleanly on Ctrl-C.
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { apiSettingsFrom, buildApp } from '../api/app';
import { codecEndpointOf } from '../api/codec.routes';
import { loadConfig, mongoUri, redactConfig, type Config } from '../lib/config';
import { temporalDataConverter } from '../lib/payload-codec';
import { createLogger } from '../lib/logger';
import { loadPolicyFile } from '../lib/policy';
import { startTracing } from '../lib/tracing';
import { connectModels } from '../models';
import { buildAnalyticsRollups } from '../models/analytics-rollups';
import { backfillAnalyticsSummaries } from '../models/analytics-summary';
import {
  startCarrierSimulator,
  startMailCatcher,
  startPaymentGatewaySimulator,
  startSmsSimulator,
} from '../simulators';
import { CANCELFLOW_SEARCH_ATTRIBUTES } from '../contracts/search-attributes';
import { issueDemoCredentials, seedDemoData } from '../generators/demo-data';
import { loadBooks } from './load-books';
import {
  assertPortsFree,
  clearLeftovers,
  configEnvironment,
  forgetServers,
  javaAvailable,
  projectRoot,
  recordServer,
  startMongoServer,
  startTemporalDevServer,
  startWorkerProcess,
  type PortInUse,
  type WorkerExit,
} from './servers';
import { openTemporalConnection } from '../lib/temporal-connection';

const dataDir = join(projectRoot, '.data');
const stoppers: { name: string; stop: () => Promise<unknown> }[] = [];

function step(message: string): () => void {
  const started = Date.now();
  process.stdout.write(`• ${message}… `);
  return () => process.stdout.write(`ready (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}

async function stopAll(): Promise<void> {
  for (const { name, stop } of stoppers.splice(0).reverse()) {
    await stop().catch((error: unknown) => console.error(`  could not stop ${name}: ${String(error)}`));
  }
}

/**
 * Metrics are off unless their ports are set (lib/config.ts); `npm start` turns them on, on these ports unless
 * set otherwise, and prints where.
 */
const LOCAL_METRICS_PORTS = { API_METRICS_PORT: 9464, WORKER_METRICS_PORT: 9465 } as const;

function withLocalMetrics(config: Config): Config {
  return {
    ...config,
    API_METRICS_PORT: config.API_METRICS_PORT ?? LOCAL_METRICS_PORTS.API_METRICS_PORT,
    WORKER_METRICS_PORT: config.WORKER_METRICS_PORT ?? LOCAL_METRICS_PORTS.WORKER_METRICS_PORT,
  };
}

function isLocal(address: string): boolean {
  return /^(127\.0\.0\.1|localhost|\[::1\]):\d+$/.test(address);
}

/** Every port `npm start` binds, with what needs it and the setting that moves it. */
function portsToBind(config: Config, temporalLocal: boolean): PortInUse[] {
  const local = '127.0.0.1';
  const host = config.SIMULATORS_HOST;
  const ports: PortInUse[] = [];
  if (!config.MONGODB_URI)
    ports.push({
      host: local,
      port: config.MONGODB_PORT,
      what: 'the embedded MongoDB',
      setting: 'MONGODB_PORT',
    });
  if (temporalLocal) {
    const port = Number(config.TEMPORAL_ADDRESS.split(':').pop());
    ports.push({ host: local, port, what: 'Temporal', setting: 'TEMPORAL_ADDRESS' });
    ports.push({
      host: local,
      port: config.TEMPORAL_UI_PORT,
      what: "Temporal's UI",
      setting: 'TEMPORAL_UI_PORT',
    });
  }
  ports.push(
    { host, port: config.SMTP_PORT, what: 'the mail catcher', setting: 'SMTP_PORT' },
    {
      host,
      port: config.MAIL_CATCHER_HTTP_PORT,
      what: 'the mail catcher',
      setting: 'MAIL_CATCHER_HTTP_PORT',
    },
    { host, port: config.SMS_SIMULATOR_PORT, what: 'the SMS simulator', setting: 'SMS_SIMULATOR_PORT' },
    { host, port: config.PAYMENT_GATEWAY_PORT, what: 'the payment gateway', setting: 'PAYMENT_GATEWAY_PORT' },
    { host, port: config.CARRIER_PORT, what: 'the carrier simulator', setting: 'CARRIER_PORT' },
    { host: config.API_HOST, port: config.API_PORT, what: 'the API', setting: 'API_PORT' },
  );
  for (const setting of ['API_METRICS_PORT', 'WORKER_METRICS_PORT'] as const) {
    const port = config[setting];
    if (port) ports.push({ host: config.METRICS_HOST, port, what: 'metrics', setting });
  }
  return ports;
}

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warning',
  50: 'error',
  60: 'fatal',
};

/** One line the worker wrote, for a person: pino's JSON as "time level: message (error)", anything else as is. */
function readWorkerLine(line: string): { level: number; text: string } {
  try {
    const entry = JSON.parse(line) as {
      level?: unknown;
      time?: unknown;
      msg?: unknown;
      err?: { message?: unknown };
    };
    if (typeof entry.level === 'number') {
      const time = typeof entry.time === 'number' ? new Date(entry.time).toTimeString().slice(0, 8) : '';
      const detail = typeof entry.err?.message === 'string' ? ` (${entry.err.message})` : '';
      const level = LEVELS[Math.min(60, Math.floor(entry.level / 10) * 10)] ?? String(entry.level);
      return { level: entry.level, text: `${time} ${level}: ${String(entry.msg)}${detail}`.trim() };
    }
  } catch {
    // not one of pino's lines: the SDK's own ("[WARN] …") or a crash's stack
  }
  return { level: /\[(WARN|ERROR)\]|^worker failed/.test(line) ? 40 : 30, text: line };
}

/**
 * The worker's log goes to .data/logs/worker.log; its warnings and errors come to the terminal too, as they did
 * when it ran in this process: its own (pino's, level 40 and up) and the SDK's ("[WARN]", "[ERROR]").
 */
function passOnWarnings(line: string): void {
  const { level, text } = readWorkerLine(line);
  if (level >= 40) console.error(`  worker ${text}`);
}

function workerDiedMessage(exit: WorkerExit, logFile: string): string {
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  const rule = '!'.repeat(100);
  return [
    '',
    rule,
    `!! THE WORKER (pid ${exit.pid}) ${how.toUpperCase()}: cancellations will not move until a worker runs again.`,
    '!! The API still answers and takes requests; they wait in Temporal. Stop with Ctrl-C and run `npm start`',
    `!! again. Its last lines (all of them in ${logFile}):`,
    ...exit.lastLines.slice(-10).map((line) => `!!   ${readWorkerLine(line).text}`),
    rule,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const config = withLocalMetrics(loadConfig());
  const logger = createLogger(config, 'cancelflow', { pretty: true });

  let stopping = false;
  let workerDied = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping cancelflow…`);
    void stopAll().then(() => process.exit(workerDied ? 1 : 0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // tsx runs this file in a child process of its own: if tsx (or npm above it) is killed, nobody would stop
  // us, so we stop when our parent changes (we were handed to init). Our servers follow us (issue #13).
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && shutdown('parent process gone'), 1_000).unref();

  // A run that crashed may have left its servers holding the ports and the database files: stop them, and
  // say so. Then every port must be free; one held by another program stops start-up naming its setting.
  const leftovers = await clearLeftovers(dataDir);
  if (leftovers) console.log(`• ${leftovers}`);
  const temporalLocal = isLocal(config.TEMPORAL_ADDRESS);
  const temporalPort = Number(config.TEMPORAL_ADDRESS.split(':').pop());
  const host = config.SIMULATORS_HOST;
  await assertPortsFree(portsToBind(config, temporalLocal));
  // Stopped last: once everything else is down, nothing of this run is left for the next one to clear.
  stoppers.push({ name: 'pid file', stop: () => Promise.resolve(forgetServers(dataDir)) });

  let databaseUri = mongoUri(config);
  if (config.MONGODB_URI) {
    console.log(`• MongoDB: using MONGODB_URI`);
  } else {
    if (!javaAvailable()) {
      throw new Error(
        "the embedded database needs Java 17+ (or set MONGODB_URI to a real MongoDB, e.g. docker-compose's)",
      );
    }
    const done = step(
      `starting the embedded MongoDB (mongo-java-server) on 127.0.0.1:${config.MONGODB_PORT}`,
    );
    const mongo = await startMongoServer({
      port: config.MONGODB_PORT,
      h2File: join(dataDir, 'mongodb', 'cancelflow.mv'),
      logFile: join(dataDir, 'logs', 'mongodb.log'),
    });
    stoppers.push(mongo);
    await recordServer(dataDir, mongo);
    databaseUri = mongo.uri;
    done();
  }

  let temporalUi: string | undefined;
  if (temporalLocal) {
    const done = step(`starting the Temporal dev server on ${config.TEMPORAL_ADDRESS} with its Web UI`);
    const temporal = await startTemporalDevServer({
      port: temporalPort,
      uiPort: config.TEMPORAL_UI_PORT,
      // The UI decodes payloads for a signed-in ops person through the API (README: personal data).
      uiCodecEndpoint: codecEndpointOf(config.PUBLIC_BASE_URL),
      dbFile: join(dataDir, 'temporal.db'),
      searchAttributes: CANCELFLOW_SEARCH_ATTRIBUTES,
      logFile: join(dataDir, 'logs', 'temporal.log'),
    });
    stoppers.push(temporal);
    await recordServer(dataDir, temporal);
    temporalUi = temporal.uiUrl;
    done();
  } else {
    console.log(`• Temporal: using ${config.TEMPORAL_ADDRESS}`);
  }

  let done = step('starting the mail catcher, SMS, payment gateway and carrier simulators');
  const quiet = logger.child({}, { level: 'warn' });
  const mail = await startMailCatcher({
    host,
    smtpPort: config.SMTP_PORT,
    httpPort: config.MAIL_CATCHER_HTTP_PORT,
    logger: quiet,
  });
  stoppers.push({ name: 'mail catcher', stop: () => mail.close() });
  const sms = await startSmsSimulator({
    host,
    port: config.SMS_SIMULATOR_PORT,
    accountSid: config.TWILIO_ACCOUNT_SID,
    authToken: config.TWILIO_AUTH_TOKEN,
    // Reports each message delivered to its StatusCallback, so the outbox shows it as Twilio's would.
    deliverAfterMs: 2000,
    logger: quiet,
  });
  stoppers.push({ name: 'sms simulator', stop: () => sms.close() });
  const gateway = await startPaymentGatewaySimulator({
    host,
    port: config.PAYMENT_GATEWAY_PORT,
    logger: quiet,
  });
  stoppers.push({ name: 'payment gateway simulator', stop: () => gateway.close() });
  const carrier = await startCarrierSimulator({
    host,
    port: config.CARRIER_PORT,
    webhookUrl: `${config.PUBLIC_BASE_URL.replace(/\/$/, '')}/v1/webhooks/carrier`,
    webhookSecret: config.CARRIER_WEBHOOK_SECRET,
    apiKey: config.CARRIER_API_KEY,
    logger: quiet,
  });
  stoppers.push({ name: 'carrier simulator', stop: () => carrier.close() });
  done();

  done = step('connecting to the database and seeding demo data');
  const models = await connectModels(databaseUri, config.MONGODB_DATABASE, {
    timeoutMs: config.MONGODB_TIMEOUT_MS,
  });
  stoppers.push({ name: 'database connection', stop: () => models.db.close() });
  const demoOrders = await seedDemoData(models);
  const demoCredentials = await issueDemoCredentials(models);
  // Beside them a small shop's books, orders in every status to search and cancel; a restart finds them there.
  const generatedBooks = { seed: 1, orders: 200 };
  await loadBooks(models, generatedBooks);
  // Records of an older version get the analytics' summary they lack (a no-op once every one has it, #14).
  await backfillAnalyticsSummaries(models);
  // In the background, as api/main.ts does; a failure here costs nothing but time: figures build what they need.
  buildAnalyticsRollups(models).catch(() => undefined);
  done();

  done = step('starting the worker in a process of its own (bundling workflow code)');
  // One client for the API (the worker has its own, for the notices' delivery workflows).
  const tracing = startTracing(config, 'cancelflow-api');
  if (tracing) stoppers.push({ name: 'tracing', stop: () => tracing.shutdown() });
  const clientConnection = await openTemporalConnection({ address: config.TEMPORAL_ADDRESS });
  const temporal = new Client({
    connection: clientConnection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: temporalDataConverter(config),
    interceptors: tracing?.clientInterceptors,
  });
  stoppers.push({ name: 'Temporal client', stop: () => clientConnection.close() });
  const workerLog = join(dataDir, 'logs', 'worker.log');
  const worker = await startWorkerProcess({
    // The settings this run uses, with the database it started; unless real Twilio is configured, SMS goes
    // to the simulator started above.
    env: configEnvironment({
      ...config,
      MONGODB_URI: databaseUri,
      TWILIO_API_BASE_URL: config.TWILIO_API_BASE_URL ?? sms.url,
    }),
    temporalAddress: config.TEMPORAL_ADDRESS,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    logFile: workerLog,
    onLine: passOnWarnings,
    onUnexpectedExit: (exit) => {
      if (stopping) return;
      workerDied = true;
      console.error(workerDiedMessage(exit, join('.data', 'logs', 'worker.log')));
    },
  });
  stoppers.push(worker); // stopped before the servers and simulators it uses, after the API
  await recordServer(dataDir, worker);
  done();

  done = step(`starting the API on ${config.API_HOST}:${config.API_PORT}`);
  const policy = await loadPolicyFile(config.CANCELLATION_POLICY_FILE);
  const app = buildApp({
    models,
    temporal,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    policy,
    logger: quiet,
    ...apiSettingsFrom(config),
  });
  await app.listen({ host: config.API_HOST, port: config.API_PORT });
  stoppers.push({ name: 'API', stop: () => app.close() });
  done();

  const api = `http://${config.API_HOST}:${config.API_PORT}`;
  logger.debug({ config: redactConfig(config) }, 'configuration');
  console.log(`
cancelflow is running. Ctrl-C stops everything.

  API              ${api}   (GET /health)
  Console          ${api}/console   (sign in as one of the people below)
  Temporal UI      ${temporalUi ?? "(the configured Temporal server's own UI)"}   (payloads decoded for ops: README)
  Metrics          http://${config.METRICS_HOST}:${config.API_METRICS_PORT}/metrics (API), http://${config.METRICS_HOST}:${config.WORKER_METRICS_PORT}/metrics (worker)
  Tracing          ${config.OTEL_EXPORTER_OTLP_ENDPOINT ? `to ${config.OTEL_EXPORTER_OTLP_ENDPOINT}` : 'off (set OTEL_EXPORTER_OTLP_ENDPOINT)'}
  Mail catcher     ${mail.httpUrl}   (SMTP on ${host}:${mail.smtpPort})
  SMS simulator    ${sms.url}/_sim/messages
  Payment gateway  ${gateway.url}/_sim/refunds
  Carrier          ${carrier.url}/_sim/recalls
  Worker           pid ${worker.workerPid}, polling ${config.TEMPORAL_TASK_QUEUE}   (log: ${join('.data', 'logs', 'worker.log')})
  Data             ${config.MONGODB_URI ? 'MONGODB_URI' : join('.data', 'mongodb')} and ${join('.data', 'temporal.db')}

People (sign in at POST ${api}/v1/auth/sign-in with {"login","password"}; new passwords every start):
${demoCredentials.people.map((person) => `  ${person.personId.padEnd(12)} ${person.password}   ${person.roles.join(', ')}`).join('\n')}

A back-end system's API key (acts as clerk-1, a requester): ${demoCredentials.apiKey}

Demo orders: ${demoOrders.join(', ')} (SO-2026-0004 is in transit: confirm "shipped"; SO-2026-0005 was paid partly
in USD); and ${generatedBooks.orders} generated orders in every
status (${api}/v1/orders?status=allocated). Cancel one:

  curl -s -X POST ${api}/v1/cancellations -H 'content-type: application/json' \\
    -H 'authorization: Bearer ${demoCredentials.apiKey}' -H 'idempotency-key: demo-${Date.now()}' \\
    -d '{"orderNumber":"${demoOrders[0]}","reasonCode":"customer_changed_mind","confirm":["awaiting_shipment"]}'

The API's reference: ${api}/docs (OpenAPI at ${api}/openapi.json).
`);
}

main().catch(async (error: unknown) => {
  console.error(`\ncancelflow could not start: ${error instanceof Error ? error.message : String(error)}`);
  await stopAll();
  process.exit(1);
});
