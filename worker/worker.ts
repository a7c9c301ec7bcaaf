import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { Worker, type NativeConnection, type TelemetryOptions, type WorkerOptions } from '@temporalio/worker';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { createHttpCarrier } from '../integrations/carrier';
import { createMailer } from '../integrations/mailer';
import { createHttpPaymentGateway } from '../integrations/payment-gateway';
import { createSmsClient } from '../integrations/sms';
import { mongoUri, type Config } from '../lib/config';
import { temporalDataConverter } from '../lib/payload-codec';
import type { Logger } from '../lib/logger';
import type { Tracing } from '../lib/tracing';
import { connectModels, type Models } from '../models';
import { openTemporalConnection } from '../lib/temporal-connection';

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
  /** Traces what the activities start (the notices' delivery workflows) in the trace of their cancellation. */
  tracing?: Tracing,
): Promise<ActivityDeps> {
  return {
    models:
      models ??
      (await connectModels(mongoUri(config), config.MONGODB_DATABASE, {
        timeoutMs: config.MONGODB_TIMEOUT_MS,
        onReopen: ({ stuckMs, error }) =>
          logger.warn(
            { stuckMs, error },
            "the database driver's server monitor was stuck; connection reopened",
          ),
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
        connection: await openTemporalConnection({ address: config.TEMPORAL_ADDRESS }),
        namespace: config.TEMPORAL_NAMESPACE,
        dataConverter: temporalDataConverter(config),
        interceptors: tracing?.clientInterceptors,
      }),
  };
}

/**
 * The SDK runtime's telemetry for `Runtime.install`: its own Prometheus metrics (task slots, polls, schedule-to-
 * start and execution latencies, sticky cache) at http://METRICS_HOST:WORKER_METRICS_PORT/metrics, when that port
 * is set. Off by default: the runtime binds it at start and fails if it is taken, and workers are what one runs
 * several of on a machine.
 */
export function runtimeTelemetryFrom(
  config: Pick<Config, 'METRICS_HOST' | 'WORKER_METRICS_PORT'>,
): TelemetryOptions | undefined {
  if (config.WORKER_METRICS_PORT === undefined) return undefined;
  return {
    metrics: { prometheus: { bindAddress: `${config.METRICS_HOST}:${config.WORKER_METRICS_PORT}` } },
  };
}

/** Where the worker finds workflow code: bundled at run time from source, or a prebuilt bundle (tests). */
export type WorkflowSource = Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle'>;

export const workflowsFromSource: WorkflowSource = { workflowsPath: require.resolve('../workflows') };

/**
 * Tracing (lib/tracing.ts) on the worker: the workflows' spans are made inside the sandbox by the package's own
 * interceptor module, bundled beside the workflow code only when tracing is on (our workflow code imports
 * nothing of it), and leave through the `exporter` sink, which the SDK does not call during replay; each
 * activity's span continues the workflow's trace from the headers.
 */
function tracingOptions(tracing: Tracing): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  const { tracer } = tracing;
  return {
    interceptors: {
      workflowModules: [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')],
      activity: [
        (context) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(context, { tracer }),
          outbound: new OpenTelemetryActivityOutboundInterceptor(context),
        }),
      ],
      client: tracing.clientInterceptors,
    },
    sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}

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
  /**
   * Traces workflows and activities. Its workflow interceptors are bundled only from source: a prebuilt
   * `workflowBundle` must have been bundled with them (`workflowInterceptorModules`).
   */
  tracing?: Tracing;
  /** config WORKER_MAX_CACHED_WORKFLOWS; the SDK's default (sized from the heap) when absent. */
  maxCachedWorkflows?: number;
}): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    dataConverter: options.dataConverter,
    activities: createActivities(options.deps),
    ...(options.workflows ?? workflowsFromSource),
    ...(options.tracing ? tracingOptions(options.tracing) : {}),
    ...(options.maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows: options.maxCachedWorkflows }),
  });
}
