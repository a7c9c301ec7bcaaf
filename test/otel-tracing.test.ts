// Tracing through Temporal's OpenTelemetry interceptors (issue #15), on: the API's client, the worker's workflows
// (bundled from source with the interceptors' module) and activities send their spans over OTLP/HTTP to a
// collector, here a real HTTP endpoint in this process that keeps what it is sent. One cancellation through the
// API makes one trace: the API's start, the workflow's run, the activities it scheduled and ran, and the notices'
// delivery workflows those activities started.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { addCustomer, addPeople, addProduct, placePaidOrder, receiveStock } from '../generators/demo-data';
import { startTracing, type Tracing } from '../lib/tracing';
import { workflowsFromSource } from '../worker/worker';
import { eventually } from './support/eventually';
import { startTestStack, type TestStack } from './support/stack';

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  service: string;
}

/** OTLP/HTTP JSON, as @opentelemetry/exporter-trace-otlp-http posts it to `<endpoint>/v1/traces`. */
interface TracesRequest {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { spans: Omit<ReceivedSpan, 'service'>[] }[];
  }[];
}

const received: ReceivedSpan[] = [];
const paths: string[] = [];
let collector: Server;
let tracing: Tracing;
let stack: TestStack;

function startCollector(): Promise<string> {
  collector = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      paths.push(request.url ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as TracesRequest;
      for (const { resource, scopeSpans } of body.resourceSpans) {
        const service =
          resource.attributes.find((attribute) => attribute.key === 'service.name')?.value.stringValue ?? '';
        for (const { spans } of scopeSpans) for (const span of spans) received.push({ ...span, service });
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) =>
    collector.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(collector.address() as AddressInfo).port}`),
    ),
  );
}

beforeAll(async () => {
  const endpoint = await startCollector();
  const started = startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }, 'cancelflow-test');
  if (!started) throw new Error('tracing did not start with an endpoint set');
  tracing = started;
  // Bundled here from source, with the tracing interceptors' workflow module beside the workflow code.
  stack = await startTestStack('otel-tracing', undefined, { tracing, workflows: workflowsFromSource });
  await addPeople(stack.models);
  await addCustomer(stack.models, {
    customerId: 'C-TRACE',
    name: 'Grace Hopper',
    email: 'grace@example.com',
    phone: '+14155550142',
    language: 'en',
  });
  await addProduct(stack.models, { sku: 'CUP-T', name: 'Tea cup', unitPriceMinor: 1200, currency: 'CNY' });
  await receiveStock(stack.models, 'CUP-T', 5);
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  await tracing?.shutdown();
  await new Promise((closed) => collector?.close(closed));
});

test('tracing is off unless an OTLP endpoint is configured', () => {
  expect(startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: undefined }, 'cancelflow-test')).toBeUndefined();
});

test('a cancellation through the API is one trace: its start, its workflow, and its activities', async () => {
  await placePaidOrder(stack.models, {
    orderNumber: 'SO-TRACE-1',
    customerId: 'C-TRACE',
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'CUP-T', quantity: 1, unitPriceMinor: 1200 }],
  });
  const accepted = await (
    await stack.as('clerk-1')
  ).createCancellation({
    orderNumber: 'SO-TRACE-1',
    reasonCode: 'customer_changed_mind',
    confirm: ['awaiting_shipment'],
  });
  await stack.temporal.workflow.getHandle(accepted.workflowId).result();
  const entries = await stack.models.Notification.find({ cancellationId: accepted.cancellationId }).lean();
  const deliveries = [...new Set(entries.flatMap((entry) => entry.deliveryWorkflowId ?? []))];
  expect(deliveries.length).toBeGreaterThan(0);
  for (const delivery of deliveries) await stack.temporal.workflow.getHandle(delivery).result();

  const trace = await eventually(async () => {
    await tracing.spanProcessor.forceFlush();
    const start = received.find((span) => span.name === 'StartWorkflow:cancellationWorkflow');
    expect(start).toBeDefined();
    const inTrace = received.filter((span) => span.traceId === start?.traceId);
    const names = new Set(inTrace.map((span) => span.name));
    expect(names).toContain('RunWorkflow:cancellationWorkflow');
    expect([...names].filter((name) => name.startsWith('StartActivity:')).length).toBeGreaterThan(3);
    expect([...names].filter((name) => name.startsWith('RunActivity:')).length).toBeGreaterThan(3);
    // The notices' delivery workflows, started by an activity, continue the same trace.
    expect(
      [...names].filter((name) => /^RunWorkflow:notification\w*DeliveryWorkflow$/.test(name)),
    ).not.toEqual([]);
    expect(names).toContain('RunActivity:deliverNotifications');
    const ids = new Set(inTrace.map((span) => span.spanId));
    expect(inTrace.filter((span) => span.parentSpanId && !ids.has(span.parentSpanId))).toEqual([]);
    return { start: start!, spans: inTrace };
  }, 30_000);

  expect(paths.every((path) => path === '/v1/traces')).toBe(true);
  // The workflow's run continues the API's start; each activity run, the workflow's scheduling of it.
  const run = trace.spans.find((span) => span.name === 'RunWorkflow:cancellationWorkflow');
  expect(run?.parentSpanId).toBe(trace.start.spanId);
  const byId = new Map(trace.spans.map((span) => [span.spanId, span]));
  for (const activity of trace.spans.filter((span) => span.name.startsWith('RunActivity:'))) {
    const parent = byId.get(activity.parentSpanId ?? '');
    expect([activity.name, parent?.name]).toEqual([activity.name, activity.name.replace('Run', 'Start')]);
  }
  expect(new Set(trace.spans.map((span) => span.service))).toEqual(new Set(['cancelflow-test']));
}, 120_000);
