// The stack `npm run bench` measures: started here as `npm start` runs it (the embedded MongoDB, Temporal's dev
// server with a SQLite file, the simulators and the API in this process, the worker in a process of its own
// through the same helper as `npm start`), on free ports and in a temporary data directory; or one already
// running, e.g. `npm start`'s (--api, --temporal), which the bench then only connects to.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { apiSettingsFrom, buildApp } from '../api/app';
import { CancelflowClient } from '../client/cancelflow-client';
import { CANCELFLOW_SEARCH_ATTRIBUTES } from '../contracts/search-attributes';
import { issueDemoCredentials, seedDemoData } from '../generators/demo-data';
import { loadConfig, parseConfig } from '../lib/config';
import { temporalDataConverter } from '../lib/payload-codec';
import { createLogger } from '../lib/logger';
import { loadPolicyFile } from '../lib/policy';
import { connectModels, type Models } from '../models';
import { issueApiKey, revokeApiKey } from '../models/credentials';
import { loadBooks } from '../scripts/load-books';
import {
  configEnvironment,
  freePort,
  startMongoServer,
  startTemporalDevServer,
  startWorkerProcess,
  taskQueuePollers,
  type MongoServer,
  type MongoServerOptions,
  type TemporalServer,
  type TemporalServerOptions,
  type WorkerProcess,
  type WorkerProcessOptions,
} from '../scripts/servers';
import {
  startCarrierSimulator,
  startMailCatcher,
  startPaymentGatewaySimulator,
  startSmsSimulator,
  type CarrierSimulator,
  type MailCatcher,
  type MailCatcherOptions,
  type PaymentGatewaySimulator,
  type SmsSimulator,
} from '../simulators';
import { elapsed, progress, withTimeout } from './common';
import type { ProcessRoles } from './cpu';
import { openTemporalConnection } from '../lib/temporal-connection';

export const STACKS = ['file', 'memory'] as const;
export type StackKind = (typeof STACKS)[number];
export const STACK_NAMES: Record<StackKind | 'running', string> = {
  file: '`npm start` as is (embedded database, file storage)',
  memory: 'same, embedded database in memory',
  running: 'a stack already running',
};

export interface Stack {
  kind: StackKind | 'running';
  name: string;
  models: Models;
  temporal: Client;
  apiUrl: string;
  /** A requester's API key (clerk-1): asks for cancellations, and lists its own. */
  api: CancelflowClient;
  /** An approver's API key (manager-1, level 1): decides approvals, lists all cancellations. */
  approver: CancelflowClient;
  /** The cancellation worker's task queue. */
  taskQueue: string;
  /** The baseline worker's task queue (bench/baseline-worker.ts), when one was started. */
  baselineQueue?: string;
  /**
   * Temporal as a hand-written application would speak to it, without cancelflow's payload encryption: the
   * baselines measure Temporal alone, so what the codec costs counts against cancelflow.
   */
  plainTemporal: Client;
  /** Orders in the books: the generated ones the bench loaded, or all a running stack holds. */
  ordersLoaded: number;
  /** The pids of the cancellation worker's processes on this machine (as Temporal lists them polling). */
  workerPids(): Promise<number[]>;
  /**
   * The stack's processes on this machine by role, for their CPU (bench/cpu.ts): all of them for a stack
   * this run started; for a running one, its worker and this run's baseline worker.
   */
  processes(): Promise<ProcessRoles>;
  /** What went wrong while it ran (a worker that died), for the results. */
  incidents: string[];
  /**
   * Waits until the workflows of its task queue that the bench started have ended (what one measurement left
   * running, its delivery workflows say, would weigh on the next): until no more run than when the bench
   * began, as Temporal's visibility counts them, or for `timeoutMs` at most.
   */
  settle(timeoutMs: number): Promise<void>;
  /** The servers this run started (startStack only), for `npm run chaos` to stop and start again. */
  servers?: StackServers;
  stop(): Promise<void>;
}

/**
 * The servers of a stack this run started, each with the options it was started with, so that `npm run chaos`
 * (bench/chaos-faults.ts) can stop one and start it again on the same port with the same files, and put the
 * new one here: the stack stops whichever runs at the end.
 */
export interface StackServers {
  dataDir: string;
  mongo: MongoServer;
  mongoOptions: MongoServerOptions;
  temporal: TemporalServer;
  temporalOptions: TemporalServerOptions;
  worker: WorkerProcess;
  workerOptions: WorkerProcessOptions;
  mail: MailCatcher;
  mailOptions: MailCatcherOptions;
  sms: SmsSimulator;
  gateway: PaymentGatewaySimulator;
  carrier: CarrierSimulator;
}

/** Workflows running on a task queue, as Temporal's visibility counts them (a moment late). */
async function runningOn(temporal: Client, taskQueue: string): Promise<number> {
  const { count } = await temporal.workflow.count(
    `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`,
  );
  return count;
}

function settler(temporal: Client, taskQueue: string, floor: number) {
  return async (timeoutMs: number) => {
    const started = performance.now();
    let running = await runningOn(temporal, taskQueue);
    if (running <= floor) return;
    progress(`  (waiting for ${running - floor} workflows of earlier measurements to end…)`);
    while (running > floor && performance.now() - started < timeoutMs) {
      await new Promise((wait) => setTimeout(wait, 1_000));
      running = await runningOn(temporal, taskQueue);
    }
    progress(
      running > floor
        ? `  (${running - floor} still running after ${elapsed(started)}: measuring anyway)`
        : `  (settled in ${elapsed(started)})`,
    );
  };
}

type Stopper = { name: string; stop: () => Promise<unknown> };

function stopperList(): { stoppers: Stopper[]; stop: () => Promise<void> } {
  const stoppers: Stopper[] = [];
  return {
    stoppers,
    async stop() {
      for (const { name, stop } of stoppers.splice(0).reverse()) {
        await withTimeout(`stopping ${name}`, 60_000, stop()).catch((error: unknown) =>
          progress(`  could not stop ${name}: ${String(error)}`),
        );
      }
    },
  };
}

/** A worker that dies during a run is said loudly and kept for the results. */
function reportDeath(name: string, incidents: string[]) {
  return (exit: { pid: number; code: number | null; signal: string | null; lastLines: string[] }) => {
    const incident = `the ${name} (pid ${exit.pid}) died (${exit.signal ?? `code ${exit.code}`}) during the run`;
    incidents.push(incident);
    progress(`\n!!! ${incident}; its last lines:\n${exit.lastLines.slice(-10).join('\n')}\n`);
  };
}

/** An API key for a demo person the stack's books hold (seeded by `npm start` and by the bench). */
async function demoKey(models: Models, personId: string, scope: 'requester' | 'approver') {
  const { key, token } = await issueApiKey(models, {
    name: `npm run bench (${scope})`,
    personId,
    scopes: [scope],
    createdBy: 'npm run bench',
  });
  return { keyId: key.keyId, token };
}

async function startBaselineWorker(
  address: string,
  namespace: string,
  dataDir: string,
  incidents: string[],
): Promise<{ queue: string; worker: WorkerProcess }> {
  const queue = `bench-baseline-${randomUUID().slice(0, 8)}`;
  const worker = await startWorkerProcess({
    name: 'baseline worker',
    script: join('bench', 'baseline-worker.ts'),
    env: configEnvironment(
      parseConfig({
        TEMPORAL_ADDRESS: address,
        TEMPORAL_NAMESPACE: namespace,
        TEMPORAL_TASK_QUEUE: queue,
        LOG_LEVEL: 'warn',
      }),
    ),
    temporalAddress: address,
    namespace,
    taskQueue: queue,
    logFile: join(dataDir, 'logs', 'baseline-worker.log'),
    onUnexpectedExit: reportDeath('baseline worker', incidents),
  });
  return { queue, worker };
}

export interface OwnStackOptions {
  orders: number;
  seed: number;
  heap?: string;
  /** Start the baseline worker (the throughput scenario needs it). */
  baseline: boolean;
  dataDir: string;
  /** Mails the mail catcher keeps (default 1000); `npm run chaos` counts every one. */
  mailKept?: number;
  /** Where the worker writes a V8 CPU profile of each of its threads when it stops (node --cpu-prof). */
  workerProfileDir?: string;
}

export async function startStack(kind: StackKind, options: OwnStackOptions): Promise<Stack> {
  const { dataDir } = options;
  const { stoppers, stop } = stopperList();
  const incidents: string[] = [];
  let servers: StackServers | undefined;
  try {
    const heap = options.heap ?? (kind === 'file' ? '512m' : '6g');
    let started = performance.now();
    progress(`• starting the embedded MongoDB (${kind} storage, ${heap} heap)…`);
    const mongoOptions: MongoServerOptions = {
      port: await freePort(),
      maxHeap: heap,
      ...(kind === 'file' ? { h2File: join(dataDir, 'mongodb', 'cancelflow.mv') } : {}),
      logFile: join(dataDir, 'logs', 'mongodb.log'),
    };
    const mongo = await startMongoServer(mongoOptions);
    // Through `servers` once it exists: the one running at the end may be another (npm run chaos).
    stoppers.push({ name: mongo.name, stop: () => (servers?.mongo ?? mongo).stop() });
    progress(`  ready on ${mongo.uri} (${elapsed(started)})`);

    started = performance.now();
    progress('• starting the Temporal dev server (SQLite file, as npm start)…');
    const temporalOptions: TemporalServerOptions = {
      port: await freePort(),
      dbFile: join(dataDir, 'temporal.db'),
      searchAttributes: CANCELFLOW_SEARCH_ATTRIBUTES,
      logFile: join(dataDir, 'logs', 'temporal.log'),
    };
    const temporalServer = await startTemporalDevServer(temporalOptions);
    stoppers.push({
      name: temporalServer.name,
      stop: () => (servers?.temporal ?? temporalServer).stop(),
    });
    progress(`  ready on ${temporalServer.address} (${elapsed(started)})`);

    const apiPort = await freePort();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    // As npm start runs, but with a rate limit no run of this bench reaches: it measures cancellations, not
    // the limiter (600 a minute by default, which 10 cancellations a second would reach).
    const baseConfig = parseConfig({
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '1000000',
      PUBLIC_BASE_URL: apiUrl,
    });
    const mailOptions: MailCatcherOptions = {
      smtpPort: 0,
      httpPort: 0,
      logger: false,
      ...(options.mailKept ? { maxMessages: options.mailKept } : {}),
    };
    const [mail, sms, gateway, carrier] = await Promise.all([
      startMailCatcher(mailOptions),
      startSmsSimulator({
        port: 0,
        accountSid: baseConfig.TWILIO_ACCOUNT_SID,
        authToken: baseConfig.TWILIO_AUTH_TOKEN,
        deliverAfterMs: 2000, // as npm start: delivery reports come back to the API
        logger: false,
      }),
      startPaymentGatewaySimulator({ port: 0, logger: false }),
      startCarrierSimulator({
        port: 0,
        webhookUrl: `${apiUrl}/v1/webhooks/carrier`,
        webhookSecret: baseConfig.CARRIER_WEBHOOK_SECRET,
        apiKey: baseConfig.CARRIER_API_KEY,
        logger: false,
      }),
    ]);
    stoppers.push(
      { name: 'mail catcher', stop: () => (servers?.mail ?? mail).close() },
      { name: 'SMS simulator', stop: () => sms.close() },
      { name: 'payment gateway', stop: () => gateway.close() },
      { name: 'carrier simulator', stop: () => carrier.close() },
    );
    const taskQueue = `bench-${randomUUID().slice(0, 8)}`;
    const config = {
      ...baseConfig,
      TEMPORAL_ADDRESS: temporalServer.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      MONGODB_URI: mongo.uri,
      SMTP_PORT: mail.smtpPort,
      TWILIO_API_BASE_URL: sms.url,
      PAYMENT_GATEWAY_URL: gateway.url,
      CARRIER_URL: carrier.url,
    };

    const models = await connectModels(mongo.uri, config.MONGODB_DATABASE, { timeoutMs: 30_000 });
    stoppers.push({ name: 'database connection', stop: () => models.db.close() });
    started = performance.now();
    progress('• seeding demo data and people…');
    await seedDemoData(models);
    await issueDemoCredentials(models);
    progress(`• loading ${options.orders.toLocaleString('en')} generated orders (seed ${options.seed})…`);
    await loadBooks(models, {
      seed: options.seed,
      orders: options.orders,
      onProgress: (written) =>
        process.stderr.write(
          `\r  ${written.toLocaleString('en')} of ${options.orders.toLocaleString('en')} orders (${elapsed(started)})`,
        ),
    });
    process.stderr.write('\n');
    const requester = await demoKey(models, 'clerk-1', 'requester');
    const approver = await demoKey(models, 'manager-1', 'approver');

    started = performance.now();
    progress(
      `• starting the worker${options.baseline ? ' and the baseline worker, each' : ''} in a process of its own (as npm start), and the API…`,
    );
    const clientConnection = await openTemporalConnection({ address: temporalServer.address });
    const temporal = new Client({
      connection: clientConnection,
      namespace: config.TEMPORAL_NAMESPACE,
      dataConverter: temporalDataConverter(config),
    });
    stoppers.push({ name: 'Temporal client', stop: () => clientConnection.close() });
    const workerOptions: WorkerProcessOptions = {
      env: configEnvironment(config),
      temporalAddress: config.TEMPORAL_ADDRESS,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue,
      logFile: join(dataDir, 'logs', 'worker.log'),
      onUnexpectedExit: reportDeath('worker', incidents),
      ...(options.workerProfileDir
        ? { nodeOptions: ['--cpu-prof', `--cpu-prof-dir=${options.workerProfileDir}`] }
        : {}),
    };
    const [worker, baseline] = await Promise.all([
      startWorkerProcess(workerOptions),
      options.baseline
        ? startBaselineWorker(temporalServer.address, config.TEMPORAL_NAMESPACE, dataDir, incidents)
        : undefined,
    ]);
    stoppers.push({ name: worker.name, stop: () => (servers?.worker ?? worker).stop() });
    if (baseline) stoppers.push(baseline.worker);
    const logger = createLogger({ LOG_LEVEL: 'error' }, 'bench');
    // The API waits for the database as npm start's does (MONGODB_TIMEOUT_MS), on a connection of its own: the
    // models above wait 30 s, for loading many orders, and through a database outage the API answered on
    // them after up to 30 s, where npm start's answers 503 at once (npm run chaos counted it a hang).
    const apiModels = await connectModels(mongo.uri, config.MONGODB_DATABASE, {
      timeoutMs: config.MONGODB_TIMEOUT_MS,
    });
    stoppers.push({ name: "the API's database connection", stop: () => apiModels.db.close() });
    const app = buildApp({
      models: apiModels,
      temporal,
      taskQueue,
      policy: await loadPolicyFile(config.CANCELLATION_POLICY_FILE),
      logger,
      ...apiSettingsFrom(config),
    });
    await app.listen({ host: '127.0.0.1', port: apiPort });
    stoppers.push({ name: 'API', stop: () => app.close() });
    progress(`  ready: worker pid ${worker.workerPid} (${elapsed(started)})`);
    servers = {
      dataDir,
      mongo,
      mongoOptions,
      temporal: temporalServer,
      temporalOptions,
      worker,
      workerOptions,
      mail,
      mailOptions,
      sms,
      gateway,
      carrier,
    };

    return {
      kind,
      name: STACK_NAMES[kind],
      models,
      temporal,
      plainTemporal: new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE }),
      apiUrl,
      api: new CancelflowClient({ baseUrl: apiUrl, apiKey: requester.token }),
      approver: new CancelflowClient({ baseUrl: apiUrl, apiKey: approver.token }),
      taskQueue,
      baselineQueue: baseline?.queue,
      ordersLoaded: options.orders,
      workerPids: () => Promise.resolve([(servers?.worker ?? worker).workerPid]),
      processes: async () => ({
        database: await (servers?.mongo ?? mongo).pid,
        Temporal: await (servers?.temporal ?? temporalServer).pid,
        worker: (servers?.worker ?? worker).workerPid,
        'baseline worker': baseline?.worker.workerPid,
      }),
      incidents,
      settle: settler(temporal, taskQueue, 0),
      servers,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface RunningStackOptions {
  apiUrl: string;
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  mongodbUri: string;
  database: string;
  baseline: boolean;
  /** Where the baseline worker's log goes. */
  dataDir: string;
}

/**
 * A stack already running (`npm start`'s, say): the bench connects to its API, Temporal and database, issues
 * itself a requester's and an approver's API key in its books (revoked at the end), and starts only the
 * baseline worker, on a task queue of its own. The stack's own settings hold: its rate limit among them.
 */
export async function attachStack(options: RunningStackOptions): Promise<Stack> {
  const { stoppers, stop } = stopperList();
  const incidents: string[] = [];
  try {
    const health = await fetch(`${options.apiUrl.replace(/\/$/, '')}/health`, {
      signal: AbortSignal.timeout(10_000),
    }).catch((error: unknown) => {
      throw new Error(`the API at ${options.apiUrl} does not answer: ${String(error)}`);
    });
    if (!health.ok)
      throw new Error(`the API at ${options.apiUrl} is not healthy: ${health.status} ${await health.text()}`);
    progress(`• the API at ${options.apiUrl} answers: ${await health.text()}`);

    const models = await connectModels(options.mongodbUri, options.database, { timeoutMs: 30_000 });
    stoppers.push({ name: 'database connection', stop: () => models.db.close() });
    const requester = await demoKey(models, 'clerk-1', 'requester');
    const approver = await demoKey(models, 'manager-1', 'approver');
    stoppers.push({
      name: 'the API keys of the bench',
      stop: async () => {
        for (const key of [requester, approver]) await revokeApiKey(models, key.keyId, 'npm run bench');
      },
    });

    const connection = await openTemporalConnection({ address: options.temporalAddress });
    stoppers.push({ name: 'Temporal client', stop: () => connection.close() });
    // The running stack's keys: PAYLOAD_KEYS from this environment (the local default, as npm start's).
    const temporal = new Client({
      connection,
      namespace: options.namespace,
      dataConverter: temporalDataConverter(loadConfig()),
    });
    const workerPids = async () => {
      const { workflow } = await taskQueuePollers(connection, options.namespace, options.taskQueue);
      const here = hostname();
      return [
        ...new Set(
          workflow.flatMap((identity) => {
            const match = /^(\d+)@(.+)$/.exec(identity);
            return match && match[2] === here ? [Number(match[1])] : [];
          }),
        ),
      ];
    };
    const pids = await workerPids();
    progress(
      `• Temporal at ${options.temporalAddress}: ${pids.length ? `worker pid ${pids.join(', ')} polling ${options.taskQueue} on this machine` : `no worker on this machine polls ${options.taskQueue} (its memory cannot be read)`}`,
    );

    let baseline: { queue: string; worker: WorkerProcess } | undefined;
    if (options.baseline) {
      progress('• starting the baseline worker in a process of its own…');
      baseline = await startBaselineWorker(
        options.temporalAddress,
        options.namespace,
        options.dataDir,
        incidents,
      );
      stoppers.push(baseline.worker);
    }
    const apiUrl = options.apiUrl.replace(/\/$/, '');
    return {
      kind: 'running',
      name: `${STACK_NAMES.running} (API ${apiUrl}, Temporal ${options.temporalAddress})`,
      models,
      temporal,
      plainTemporal: new Client({ connection, namespace: options.namespace }),
      apiUrl,
      api: new CancelflowClient({ baseUrl: apiUrl, apiKey: requester.token }),
      approver: new CancelflowClient({ baseUrl: apiUrl, apiKey: approver.token }),
      taskQueue: options.taskQueue,
      baselineQueue: baseline?.queue,
      ordersLoaded: await models.SalesOrder.countDocuments(),
      workerPids,
      processes: async () => ({
        worker: (await workerPids())[0],
        'baseline worker': baseline?.worker.workerPid,
      }),
      incidents,
      settle: settler(temporal, options.taskQueue, await runningOn(temporal, options.taskQueue)),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A process's resident memory now and its peak so far, in MB, from /proc; undefined when it cannot be read. */
export function processMemory(pid: number): { rssMb: number; peakMb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    const rss = kb('VmRSS');
    const peak = kb('VmHWM');
    return Number.isFinite(rss)
      ? { rssMb: rss / 1024, peakMb: Number.isFinite(peak) ? peak / 1024 : rss / 1024 }
      : undefined;
  } catch {
    return undefined;
  }
}
