// Tracing (issue #15), off unless OTEL_EXPORTER_OTLP_ENDPOINT names an OTLP/HTTP collector. Temporal's own
// OpenTelemetry interceptors do the work: a client's start, Update, query or signal opens a span and passes its
// context to the workflow in the call's headers; the worker continues that trace in the workflow (spans made in
// the sandbox, handed out through a sink, never during replay) and in each activity it schedules
// (worker/worker.ts). So one trace follows a cancellation from the API's call through its activities.
//
// One tracer provider per process, registered globally: the interceptors propagate through the active context,
// which needs Node's AsyncLocalStorage context manager and W3C trace-context headers.
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import type { ClientInterceptors } from '@temporalio/client';
// The client part alone: the package's index also loads the worker's and the workflow's.
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';
import type { Config } from './config';

export interface Tracing {
  tracer: Tracer;
  /** Names the process in the spans (service.name). */
  resource: Resource;
  /** Where every span goes, the workflow's (through the worker's sink) included. */
  spanProcessor: SpanProcessor;
  /** For a Temporal Client's `interceptors`: its calls open spans and carry their context to the workflow. */
  clientInterceptors: ClientInterceptors;
  /** Sends what is still buffered, and stops (the global registration too). */
  shutdown(): Promise<void>;
}

/** Starts tracing for this process (`serviceName`: cancelflow-api, cancelflow-worker); undefined when it is off. */
export function startTracing(
  config: Pick<Config, 'OTEL_EXPORTER_OTLP_ENDPOINT'>,
  serviceName: string,
): Tracing | undefined {
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  const resource = Resource.default().merge(new Resource({ 'service.name': serviceName }));
  const spanProcessor = new BatchSpanProcessor(
    new OTLPTraceExporter({ url: `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` }),
  );
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable() });
  const tracer = provider.getTracer('cancelflow');
  return {
    tracer,
    resource,
    spanProcessor,
    clientInterceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer })] },
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}
