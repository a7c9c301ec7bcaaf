// The API's Prometheus metrics (issue #15), served at /metrics on a port of their own (API_METRICS_PORT, off
// unless set), away from the API's port: the endpoint has no credentials, so it is reached only where it is bound.
//
//   cancelflow_http_request_duration_seconds{method,route,status_code}  requests and their latency (a histogram:
//                                                                       its _count is the request rate)
//   cancelflow_cancellations{state,outcome}       cancellations in each top-level state, by outcome
//   cancelflow_outbox_pending_messages            notifications recorded and not yet handed to a provider
//   cancelflow_oldest_waiting_approval_seconds    how long the longest-waiting approval has waited
//   cancelflow_metrics_database_read_seconds      what the last read of those three cost
//   + Node's process metrics (prom-client's defaults)
//
// Labels name routes by their pattern (`/v1/cancellations/:id`), states and outcomes: never an id, a name or
// anything else a person could be found by.
//
// The database figures are read on scrape, at most once per METRICS_REFRESH_SECONDS however many scrape, and
// by queries a real MongoDB answers by walking one index each, needing only the fields the index holds: one
// group over the cancellations' (state, outcome, createdAt) index (hinted), one count on the notifications'
// status index (not measured: these machines have no mongod). The
// embedded mongo-java-server keeps no such index and reads every document instead (measured: 1.4 s warm to
// 2.9 s cold at 100,000 cancellations with their 300,000 notifications), which the refresh interval bounds.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import type { Models } from '../models';
import type { ApiInstance } from './auth/access';

export interface MetricsSettings {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** At most one read of the database's figures per this many milliseconds. */
  refreshMs: number;
}

/** The settings of the API's metrics endpoint; undefined when it is off (API_METRICS_PORT unset). */
export function metricsSettingsFrom(
  config: Pick<Config, 'METRICS_HOST' | 'API_METRICS_PORT' | 'METRICS_REFRESH_SECONDS'>,
): MetricsSettings | undefined {
  if (config.API_METRICS_PORT === undefined) return undefined;
  return {
    host: config.METRICS_HOST,
    port: config.API_METRICS_PORT,
    refreshMs: config.METRICS_REFRESH_SECONDS * 1000,
  };
}

/** The state approvals wait in (its sub-states joined with a dot: "awaitingApproval.waitingForDecision"). */
const AWAITING_APPROVAL = 'awaitingApproval';
/** What the outbox counts as not yet handed to a provider. */
const PENDING_STATUS = 'queued';
/** The indexes the reads are answered from on a real MongoDB (declared in the models). */
const STATE_OUTCOME_INDEX = { state: 1, outcome: 1, createdAt: 1 } as const;

interface DatabaseFigures {
  cancellations: { state: string; outcome: string; count: number }[];
  pendingMessages: number;
  oldestWaitingApprovalSince?: Date;
  readSeconds: number;
}

async function readDatabaseFigures(models: Models): Promise<DatabaseFigures> {
  const started = performance.now();
  const [groups, pendingMessages] = await Promise.all([
    models.Cancellation.aggregate<{
      _id: { state?: string; outcome?: string | null };
      count: number;
      oldest: Date;
    }>([
      {
        $group: {
          _id: { state: '$state', outcome: '$outcome' },
          count: { $sum: 1 },
          oldest: { $min: '$createdAt' },
        },
      },
    ]).option({ hint: STATE_OUTCOME_INDEX }),
    models.Notification.countDocuments({ status: PENDING_STATUS }),
  ]);
  const byLabels = new Map<string, { state: string; outcome: string; count: number }>();
  let oldestWaitingApprovalSince: Date | undefined;
  for (const { _id, count, oldest } of groups) {
    // The top-level state: a few dozen values, where nested states would be many more.
    const state = (_id.state ?? 'unknown').split('.')[0] ?? 'unknown';
    const outcome = _id.outcome ?? 'none';
    const key = `${state}\u0000${outcome}`;
    const figure = byLabels.get(key) ?? { state, outcome, count: 0 };
    figure.count += count;
    byLabels.set(key, figure);
    // Approval is the first step a person takes, seconds after the request: from the request is close enough,
    // and it is what the requester has waited.
    if (state === AWAITING_APPROVAL && (!oldestWaitingApprovalSince || oldest < oldestWaitingApprovalSince))
      oldestWaitingApprovalSince = oldest;
  }
  return {
    cancellations: [...byLabels.values()],
    pendingMessages,
    oldestWaitingApprovalSince,
    readSeconds: (performance.now() - started) / 1000,
  };
}

/**
 * The figures, read again only once `refreshMs` has passed; the gauges of one scrape, and scrapes that come
 * during a read, share it. `failed` hears of each failed read once.
 */
function cachedFigures(models: Models, refreshMs: number, failed: (error: unknown) => void) {
  let last: { at: number; figures: DatabaseFigures } | undefined;
  let reading: Promise<DatabaseFigures> | undefined;
  return async (): Promise<DatabaseFigures> => {
    if (last && Date.now() - last.at < refreshMs) return last.figures;
    reading ??= readDatabaseFigures(models)
      .then(
        (figures) => {
          last = { at: Date.now(), figures };
          return figures;
        },
        (error: unknown) => {
          failed(error);
          throw error;
        },
      )
      .finally(() => (reading = undefined));
    return reading;
  };
}

function createRegistry(models: Models, settings: MetricsSettings, logger: Logger) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Histogram({
    name: 'cancelflow_http_request_duration_seconds',
    help: 'HTTP requests the API answered, by method, route pattern and status, and how long each took',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry],
  });
  const figures = cachedFigures(models, settings.refreshMs, (error) => {
    readErrors.inc();
    logger.warn({ err: error }, 'metrics: could not read the database figures');
  });
  const readErrors = new Counter({
    name: 'cancelflow_metrics_database_read_errors_total',
    help: 'Reads of the database figures that failed (the figures keep their last values)',
    registers: [registry],
    // After this scrape's read, so that a scrape shows its own failure.
    async collect() {
      await figures().catch(() => undefined);
    },
  });
  /** Each gauge's collect reads through here; a failed read (counted once) leaves them as they were. */
  const withFigures = async (use: (current: DatabaseFigures) => void) => {
    const current = await figures().catch(() => undefined);
    if (current) use(current);
  };

  const seen = new Set<string>();
  new Gauge({
    name: 'cancelflow_cancellations',
    help: 'Cancellations in each top-level state of the statechart, by outcome ("none" while undecided)',
    labelNames: ['state', 'outcome'] as const,
    registers: [registry],
    async collect() {
      await withFigures((current) => {
        // A state emptied since the last read shows 0 rather than vanishing.
        for (const key of seen) {
          const [state = '', outcome = ''] = key.split('\u0000');
          this.set({ state, outcome }, 0);
        }
        for (const { state, outcome, count } of current.cancellations) {
          seen.add(`${state}\u0000${outcome}`);
          this.set({ state, outcome }, count);
        }
      });
    },
  });
  new Gauge({
    name: 'cancelflow_outbox_pending_messages',
    help: 'Notifications recorded in the outbox and not yet handed to a provider (status queued)',
    registers: [registry],
    async collect() {
      await withFigures((current) => this.set(current.pendingMessages));
    },
  });
  new Gauge({
    name: 'cancelflow_oldest_waiting_approval_seconds',
    help: 'How long the longest-waiting cancellation in awaitingApproval has waited since it was requested (0: none)',
    registers: [registry],
    async collect() {
      await withFigures(({ oldestWaitingApprovalSince: since }) =>
        this.set(since ? Math.max(0, (Date.now() - since.getTime()) / 1000) : 0),
      );
    },
  });
  new Gauge({
    name: 'cancelflow_metrics_database_read_seconds',
    help: 'How long the last read of the database figures took',
    registers: [registry],
    async collect() {
      await withFigures((current) => this.set(current.readSeconds));
    },
  });
  return { registry, requests };
}

/**
 * Counts the app's requests, and serves the metrics on their own port from when the app is ready until it
 * closes (a port already taken stops the app from starting, naming it).
 */
export function registerMetrics(
  app: ApiInstance<Logger>,
  deps: { models: Models; settings: MetricsSettings; logger: Logger },
): void {
  const { registry, requests } = createRegistry(deps.models, deps.settings, deps.logger);

  app.addHook('onResponse', async (request, reply) => {
    requests.observe(
      {
        method: request.method,
        // The pattern, never the path: a path holds ids. Requests no route matched share one label.
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  let server: Server | undefined;
  app.addHook('onReady', async () => {
    server = createServer((request, response) => {
      if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are at /metrics\n');
        return;
      }
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: unknown) => {
          deps.logger.error({ err: error }, 'metrics: could not render');
          response.writeHead(500, { 'content-type': 'text/plain' }).end('could not render the metrics\n');
        },
      );
    });
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', (error) =>
        reject(
          new Error(
            `metrics: cannot listen on ${deps.settings.host}:${deps.settings.port} (API_METRICS_PORT): ${error.message}`,
          ),
        ),
      );
      listening.listen(deps.settings.port, deps.settings.host, () => resolve());
    });
    const { port } = listening.address() as AddressInfo;
    deps.logger.info({ url: `http://${deps.settings.host}:${port}/metrics` }, 'metrics served');
  });
  app.addHook('onClose', async () => {
    const running = server;
    if (!running?.listening) return;
    const closed = new Promise<void>((resolve) => running.close(() => resolve()));
    running.closeAllConnections(); // a scraper keeps its connection open between scrapes
    await closed;
  });
}
