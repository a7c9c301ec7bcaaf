// Outbound webhooks, end to end against real parts: cancellations and bulk jobs run on the run's Temporal
// server, their state changes record events in the database, event dispatchers (two at once, as two worker processes would run
// them) post them to HTTP receivers this test starts (node's http server), and receivers check them with the
// verifier the typed client ships. Admins manage subscriptions through the API and the CLI.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventDispatcher, type EventDispatchSettings } from '../activities/event-dispatcher';
import { CancelflowApiError, type CancelflowClient } from '../client/cancelflow-client';
import {
  verifyWebhookEvent,
  type BulkJobEventPayload,
  type CancellationEventPayload,
  type WebhookEventPayload,
} from '../client/webhook-verifier';
import { run } from '../cli/main';
import type { Output } from '../cli/output';
import { CredentialsStore } from '../cli/credentials-store';
import { addCustomer, addPeople, addProduct, placePaidOrder, receiveStock } from '../generators/demo-data';
import { signedHeaders } from '../integrations/webhook-endpoint';
import { isCancelflowError } from '../lib/errors';
import { createLogger } from '../lib/logger';
import { issueApiKey } from '../models/credentials';
import {
  bulkJobEventId,
  cancellationEventId,
  findEvent,
  recordEventDeliveries,
} from '../models/event-deliveries';
import { recordBulkJobChange } from '../models/bulk-jobs';
import { recordBulkJobEvent } from '../activities/bulk-job-events';
import { createBulkJobWatcher } from '../activities/bulk-job-watcher';
import { createBulkActivities, type BulkActivities } from '../activities/bulk.activities';
import { MockActivityEnvironment } from '@temporalio/testing';
import { BULK_WORKFLOW_TYPE, bulkJobWorkflowId } from '../contracts/bulk-cancellation.contract';
import { freePort } from '../scripts/servers';
import { eventually } from './support/eventually';
import { startTestStack, type TestStack } from './support/stack';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** The status the receiver answered. */
  answered: number;
}

/** A subscriber's endpoint: answers 200, or 503 while `unavailable`; `down()` refuses connections until `up()`. */
interface Receiver {
  url: string;
  received: Received[];
  unavailable: boolean;
  down(): Promise<void>;
  up(): Promise<void>;
}

async function startReceiver(path = '/hooks'): Promise<Receiver> {
  const port = await freePort();
  let server: Server | undefined;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}${path}`,
    received: [],
    unavailable: false,
    async up() {
      server = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          const answered = receiver.unavailable ? 503 : 200;
          receiver.received.push({
            headers: request.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            answered,
          });
          response.writeHead(answered).end();
        });
      });
      await new Promise<void>((resolve, reject) => {
        server?.once('error', reject);
        server?.listen(port, '127.0.0.1', resolve);
      });
    },
    async down() {
      const stopping = server;
      if (!stopping) return;
      server = undefined;
      // Kept-alive connections too: a receiver that is down answers nothing at all.
      stopping.closeAllConnections();
      await new Promise((resolve) => stopping.close(resolve));
    },
  };
  await receiver.up();
  return receiver;
}

const SETTINGS: EventDispatchSettings = {
  timeoutMs: 2_000,
  retryWindowMs: 60_000,
  retryInitialMs: 100,
  retryMaxIntervalMs: 400,
  pollMs: 50,
};

let stack: TestStack;
let admin: CancelflowClient;
let clerk: CancelflowClient;
const receivers: Receiver[] = [];
const logger = createLogger({ LOG_LEVEL: 'silent' }, 'event-deliveries');

/** Dispatchers as worker processes run them: two at once, each claiming before it sends. */
function startDispatchers(settings: EventDispatchSettings = SETTINGS) {
  const dispatchers = ['dispatcher-a', 'dispatcher-b'].map((claimant) =>
    createEventDispatcher({ models: stack.models, logger }, settings, claimant),
  );
  for (const dispatcher of dispatchers) dispatcher.start();
  return { stop: () => Promise.all(dispatchers.map((dispatcher) => dispatcher.stop())) };
}
let dispatchers: ReturnType<typeof startDispatchers> | undefined;

async function receiver(): Promise<Receiver> {
  const started = await startReceiver();
  receivers.push(started);
  return started;
}

let orders = 0;
/**
 * Places a paid order and asks for its cancellation; answers the cancellation and its workflow's result. Each
 * order is another customer's: a customer who cancels again and again is a risk an approver must look at.
 */
async function cancelAnOrder() {
  orders += 1;
  const orderNumber = `SO-HOOK-${orders}`;
  const customerId = `C-${orders}`;
  await addCustomer(stack.models, {
    customerId,
    name: '王芳',
    email: 'wang.fang@example.cn',
    phone: '+8613800138000',
    language: 'zh-CN',
  });
  await placePaidOrder(stack.models, {
    orderNumber,
    customerId,
    currency: 'CNY',
    lines: [{ lineId: 'L1', sku: 'TEA-1', quantity: 1, unitPriceMinor: 16800 }],
  });
  const started = await clerk.createCancellation({
    orderNumber,
    reasonCode: 'customer_changed_mind',
    confirm: ['awaiting_shipment'],
  });
  const result = stack.temporal.workflow.getHandle(started.workflowId).result();
  return { cancellationId: started.cancellationId, result };
}

const ofCancellation = (event: WebhookEventPayload, cancellationId: string) =>
  'cancellationId' in event && event.cancellationId === cancellationId;
const ofBulkJob = (event: WebhookEventPayload, jobId: string): event is BulkJobEventPayload =>
  'bulkJobId' in event && event.bulkJobId === jobId;

/** A cancellation's event, verified (an assertion: the test fails on another subject's). */
function verifyCancellationEvent(
  secret: string,
  body: string,
  headers: IncomingHttpHeaders,
): CancellationEventPayload {
  const event = verifyWebhookEvent(secret, body, headers);
  if (!('cancellationId' in event)) throw new Error(`not a cancellation's event: ${event.type}`);
  return event;
}

/** The events a receiver accepted (answered 2xx) of one cancellation, verified, in the order they came. */
function acceptedEvents(at: Receiver, secret: string, cancellationId: string) {
  return at.received
    .filter((request) => request.answered === 200)
    .map((request) => verifyWebhookEvent(secret, request.body, request.headers))
    .filter((event): event is CancellationEventPayload => ofCancellation(event, cancellationId));
}

/** The events a receiver accepted of one bulk job, verified, in the order they came. */
function acceptedJobEvents(at: Receiver, secret: string, jobId: string) {
  return at.received
    .filter((request) => request.answered === 200)
    .map((request) => verifyWebhookEvent(secret, request.body, request.headers))
    .filter((event) => ofBulkJob(event, jobId));
}

beforeAll(async () => {
  // One cancellation of a bulk job at a time: its jobs run long enough to be paused and stopped while running.
  stack = await startTestStack('event-deliveries', undefined, { settings: { BULK_CONCURRENCY: '1' } });
  await addPeople(stack.models);
  await addProduct(stack.models, { sku: 'TEA-1', name: '龙井茶', unitPriceMinor: 16800, currency: 'CNY' });
  await receiveStock(stack.models, 'TEA-1', 100);
  admin = await stack.as('ops-1'); // ops and admin
  clerk = await stack.as('clerk-1');
});

afterAll(async () => {
  await dispatchers?.stop();
  await stack?.stop();
  for (const started of receivers) await started.down();
});

describe('subscriptions', () => {
  test('admins only: another role gets 403, no credentials 401', async () => {
    const body = { url: 'https://erp.example.com/hooks' };
    await expect(clerk.createWebhookSubscription(body)).rejects.toMatchObject({ status: 403 });
    await expect(clerk.listWebhookSubscriptions()).rejects.toMatchObject({ status: 403 });
    await expect(clerk.redeliverEvent('dlv_none')).rejects.toMatchObject({ status: 403 });
    await expect(stack.api.createWebhookSubscription(body)).rejects.toMatchObject({ status: 401 });
  });

  test.each([['ftp://erp.example.com/hooks'], ['not a url'], ['javascript:alert(1)'], ['http://']])(
    'a URL that is not http(s) is refused with 400: %s',
    async (url) => {
      const refused = await admin.createWebhookSubscription({ url }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(CancelflowApiError);
      expect(refused).toMatchObject({
        status: 400,
        body: { error: 'validation_failed', details: { field: 'url' } },
      });
    },
  );

  test('the secret is shown once; lists and reads never show it; a change and a removal', async () => {
    const created = await admin.createWebhookSubscription({
      url: 'https://erp.example.com/hooks',
      eventTypes: ['cancellation.completed'],
      description: 'ERP',
    });
    expect(created).toMatchObject({
      url: 'https://erp.example.com/hooks',
      eventTypes: ['cancellation.completed'],
      active: true,
      createdBy: 'ops-1',
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const listed = await admin.listWebhookSubscriptions();
    expect(listed.find((item) => item.subscriptionId === created.subscriptionId)).toBeDefined();
    expect(JSON.stringify(listed)).not.toContain(created.secret);
    expect(JSON.stringify(await admin.getWebhookSubscription(created.subscriptionId))).not.toContain(
      'whsec_',
    );

    const changed = await admin.updateWebhookSubscription(created.subscriptionId, { active: false });
    expect(changed).toMatchObject({ active: false, url: 'https://erp.example.com/hooks' });
    await expect(
      admin.updateWebhookSubscription(created.subscriptionId, { url: 'ftp://elsewhere' }),
    ).rejects.toMatchObject({ status: 400 });
    const retyped = await admin.updateWebhookSubscription(created.subscriptionId, {
      url: 'https://erp.example.com/v2/hooks',
      eventTypes: ['bulk_job.failed'],
    });
    expect(retyped).toMatchObject({
      url: 'https://erp.example.com/v2/hooks',
      eventTypes: ['bulk_job.failed'],
    });
    await expect(
      admin.updateWebhookSubscription(created.subscriptionId, {
        eventTypes: ['bulk_job.exploded' as 'bulk_job.failed'],
      }),
    ).rejects.toMatchObject({ status: 400, body: { details: { field: 'eventTypes[0]' } } });

    await admin.removeWebhookSubscription(created.subscriptionId);
    await expect(admin.getWebhookSubscription(created.subscriptionId)).rejects.toMatchObject({ status: 404 });
    await expect(admin.removeWebhookSubscription(created.subscriptionId)).rejects.toMatchObject({
      status: 404,
    });
  });

  test('the OpenAPI document describes what subscribers receive', async () => {
    const document = (await (await fetch(`${stack.apiUrl}/openapi.json`)).json()) as {
      webhooks?: Record<string, { post?: { requestBody?: unknown } }>;
    };
    expect(document.webhooks?.cancellationEvent?.post?.requestBody).toBeDefined();
    expect(JSON.stringify(document.webhooks?.bulkJobEvent?.post?.requestBody)).toContain(
      'bulk_job.completed',
    );
  });
});

describe('deliveries', () => {
  let up: Receiver;
  let flaky: Receiver;
  let upSecret: string;
  let flakySecret: string;
  let first: { cancellationId: string };

  beforeAll(async () => {
    up = await receiver();
    flaky = await receiver();
    upSecret = (await admin.createWebhookSubscription({ url: up.url })).secret;
    flakySecret = (await admin.createWebhookSubscription({ url: flaky.url })).secret;
    dispatchers = startDispatchers();
  });

  test('every state change reaches the receiver once, in order, signed, with what GET shows', async () => {
    const cancellation = await cancelAnOrder();
    first = cancellation;
    await cancellation.result;
    const shown = await admin.getCancellation(cancellation.cancellationId);
    const steps = shown.timeline.map((entry) => entry.step);
    expect(steps.length).toBeGreaterThan(2);

    const events = await eventually(() => {
      const accepted = acceptedEvents(up, upSecret, cancellation.cancellationId);
      expect(accepted.map((event) => event.sequence)).toEqual(steps);
      return accepted;
    }, 30_000);
    // One id per step, derived from the cancellation and the step: the webhook-id of every attempt.
    expect(events.map((event) => event.id)).toEqual(
      steps.map((step) => cancellationEventId(cancellation.cancellationId, step)),
    );
    expect(events.map((event) => event.type)).toEqual([
      ...steps.slice(0, -1).map(() => 'cancellation.state_changed'),
      'cancellation.completed',
    ]);
    // What the API shows of the cancellation, no more: the last event is the cancellation as GET answers it.
    const last = events.at(-1);
    expect(last?.data).toEqual({ ...shown, updatedAt: last?.data.updatedAt });
    for (const event of events) {
      expect(Object.keys(shown)).toEqual(expect.arrayContaining(Object.keys(event.data)));
    }
    for (const request of up.received) {
      expect(request.body).not.toMatch(/wang\.fang|8613800138000|王芳/);
    }
    // Each state the timeline went through, as the event of that step saw it.
    expect(events.map((event) => event.data.state)).toEqual(shown.timeline.map((entry) => entry.state));
  }, 60_000);

  test('a tampered body, another secret or an old timestamp is refused by the verifier', () => {
    const request = up.received.find((received) => received.answered === 200);
    if (!request) throw new Error('nothing received');
    const refusal = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return isCancelflowError(error)
          ? { code: error.code, status: error.httpStatus, message: error.message }
          : error;
      }
      return 'accepted';
    };
    expect(refusal(() => verifyWebhookEvent(upSecret, request.body, request.headers))).toBe('accepted');
    const tampered = request.body.replace('"state":"', '"state":"x');
    expect(refusal(() => verifyWebhookEvent(upSecret, tampered, request.headers))).toMatchObject({
      code: 'unauthorized',
      status: 401,
    });
    expect(refusal(() => verifyWebhookEvent(flakySecret, request.body, request.headers))).toMatchObject({
      code: 'unauthorized',
    });
    // Signed with the right secret, but ten minutes ago: a replay.
    const id = String(request.headers['webhook-id']);
    const old = signedHeaders(upSecret, { id, body: request.body }, new Date(Date.now() - 10 * 60_000));
    expect(refusal(() => verifyWebhookEvent(upSecret, request.body, old))).toMatchObject({
      code: 'unauthorized',
      message: expect.stringContaining('too old'),
    });
    const fresh = signedHeaders(upSecret, { id, body: request.body }, new Date());
    expect(refusal(() => verifyWebhookEvent(upSecret, request.body, fresh))).toBe('accepted');
    expect(refusal(() => verifyWebhookEvent(upSecret, request.body, {}))).toMatchObject({
      code: 'unauthorized',
    });
  });

  test('a receiver down for a while gets every event afterwards, in order, each under one id; the cancellation never waits', async () => {
    flaky.unavailable = true; // 503 first
    const cancellation = await cancelAnOrder();
    await eventually(
      () => expect(flaky.received.some((request) => request.answered === 503)).toBe(true),
      20_000,
    );
    await flaky.down(); // then refusing connections
    // The cancellation ends meanwhile: delivering is not on its path.
    await cancellation.result;
    const shown = await admin.getCancellation(cancellation.cancellationId);
    const steps = shown.timeline.map((entry) => entry.step);
    const pending = await admin.listEventDeliveries(
      (await admin.listWebhookSubscriptions()).find((item) => item.url === flaky.url)?.subscriptionId ?? '',
      { cancellationId: cancellation.cancellationId },
    );
    expect(pending.map((delivery) => delivery.status)).toEqual(steps.map(() => 'pending'));
    expect(pending[0]?.attempts.length).toBeGreaterThanOrEqual(1);

    flaky.unavailable = false;
    await flaky.up();
    const events = await eventually(() => {
      const accepted = acceptedEvents(flaky, flakySecret, cancellation.cancellationId);
      expect(accepted.map((event) => event.sequence)).toEqual(steps);
      return accepted;
    }, 30_000);
    expect(new Set(events.map((event) => event.id)).size).toBe(steps.length);

    // Every request, refused or not, for a step carried that step's one id; none went before the earlier
    // steps were delivered.
    const delivered = new Set<number>();
    for (const request of flaky.received) {
      const event = verifyWebhookEvent(flakySecret, request.body, request.headers);
      if (!ofCancellation(event, cancellation.cancellationId)) continue;
      expect(request.headers['webhook-id']).toBe(
        cancellationEventId(cancellation.cancellationId, event.sequence),
      );
      expect(steps.filter((step) => step < event.sequence).every((step) => delivered.has(step))).toBe(true);
      if (request.answered === 200) {
        expect(delivered.has(event.sequence)).toBe(false); // not delivered twice
        delivered.add(event.sequence);
      }
    }
  }, 90_000);

  test('an admin redelivers a delivered event: the same id and body again', async () => {
    const subscription = (await admin.listWebhookSubscriptions()).find((item) => item.url === up.url);
    const [delivery] = await admin.listEventDeliveries(subscription?.subscriptionId ?? '', {
      cancellationId: first.cancellationId,
    });
    if (!delivery) throw new Error('no delivery');
    expect(delivery).toMatchObject({ status: 'delivered', attemptCount: 1, sequence: 0 });
    const before = up.received.filter((request) => request.headers['webhook-id'] === delivery.eventId);
    expect(before).toHaveLength(1);

    const redelivered = await admin.redeliverEvent(delivery.deliveryId);
    expect(redelivered).toMatchObject({ status: 'pending', redeliveredBy: 'ops-1' });
    const again = await eventually(() => {
      const received = up.received.filter((request) => request.headers['webhook-id'] === delivery.eventId);
      expect(received).toHaveLength(2);
      return received;
    });
    expect(again[1]?.body).toBe(again[0]?.body);
    await eventually(async () =>
      expect(
        (
          await admin.listEventDeliveries(subscription?.subscriptionId ?? '', {
            cancellationId: first.cancellationId,
          })
        )[0],
      ).toMatchObject({ status: 'delivered', attemptCount: 2 }),
    );
    await expect(admin.redeliverEvent('dlv_no_such_delivery')).rejects.toMatchObject({ status: 404 });
  });

  test('an inactive subscription gets no new events; what it had pending goes once it is active again', async () => {
    const paused = await receiver();
    await paused.down();
    const { subscriptionId, secret } = await admin.createWebhookSubscription({ url: paused.url });
    const before = await cancelAnOrder();
    await before.result;
    const steps = (await admin.getCancellation(before.cancellationId)).timeline.map((entry) => entry.step);
    await eventually(async () => {
      const [head] = await admin.listEventDeliveries(subscriptionId, {
        cancellationId: before.cancellationId,
      });
      expect(head?.attemptCount).toBeGreaterThanOrEqual(1);
    });

    await admin.updateWebhookSubscription(subscriptionId, { active: false });
    await paused.up();
    const during = await cancelAnOrder();
    await during.result;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(paused.received.filter((request) => request.answered === 200)).toEqual([]);
    expect(
      await admin.listEventDeliveries(subscriptionId, { cancellationId: during.cancellationId }),
    ).toEqual([]);

    await admin.updateWebhookSubscription(subscriptionId, { active: true });
    await eventually(
      () =>
        expect(acceptedEvents(paused, secret, before.cancellationId).map((event) => event.sequence)).toEqual(
          steps,
        ),
      20_000,
    );
  }, 90_000);

  test('past the retry window a delivery is parked with its attempts; the next ones follow; redelivery sends it', async () => {
    await dispatchers?.stop();
    dispatchers = startDispatchers({ ...SETTINGS, retryWindowMs: 600 });
    const nowhere = await startReceiver('/parked');
    await nowhere.down(); // nothing listens there
    const { subscriptionId, secret } = await admin.createWebhookSubscription({
      url: nowhere.url,
      eventTypes: ['cancellation.completed', 'cancellation.state_changed'],
    });
    const cancellation = await cancelAnOrder();
    await cancellation.result;
    const steps = (await admin.getCancellation(cancellation.cancellationId)).timeline.map(
      (entry) => entry.step,
    );

    const parked = await eventually(async () => {
      const deliveries = await admin.listEventDeliveries(subscriptionId, {
        cancellationId: cancellation.cancellationId,
      });
      expect(deliveries.map((delivery) => delivery.status)).toEqual(steps.map(() => 'failed'));
      return deliveries;
    }, 30_000);
    for (const delivery of parked) {
      expect(delivery.attempts.length).toBeGreaterThanOrEqual(1);
      expect(delivery.attempts.length).toBe(Math.min(delivery.attemptCount, 20));
      expect(delivery.lastError).toBe('unreachable (ECONNREFUSED)');
      expect(delivery.failedAt).toBeDefined();
    }
    const listedFailed = await admin.listEventDeliveries(subscriptionId, { status: 'failed' });
    expect(listedFailed.map((delivery) => delivery.deliveryId).sort()).toEqual(
      parked.map((delivery) => delivery.deliveryId).sort(),
    );

    await nowhere.up();
    receivers.push(nowhere);
    const last = parked.at(-1);
    if (!last) throw new Error('no delivery');
    await admin.redeliverEvent(last.deliveryId);
    const received = await eventually(() => {
      const accepted = nowhere.received.filter((request) => request.answered === 200);
      expect(accepted).toHaveLength(1);
      return accepted;
    }, 20_000);
    expect(
      verifyCancellationEvent(secret, received[0]?.body ?? '', received[0]?.headers ?? {}),
    ).toMatchObject({
      id: last.eventId,
      type: 'cancellation.completed',
    });
  }, 90_000);
});

describe('bulk jobs', () => {
  let all: Receiver;
  let allSecret: string;
  let completedOnly: Receiver;
  let completedOnlySecret: string;
  let jobs = 0;

  beforeAll(async () => {
    await dispatchers?.stop();
    dispatchers = startDispatchers();
    all = await receiver();
    allSecret = (await admin.createWebhookSubscription({ url: all.url })).secret;
    completedOnly = await receiver();
    completedOnlySecret = (
      await admin.createWebhookSubscription({ url: completedOnly.url, eventTypes: ['bulk_job.completed'] })
    ).secret;
  });

  /** Places `count` paid orders, each another customer's, and starts a bulk job over them as the clerk. */
  async function startJob(count: number) {
    jobs += 1;
    const orderNumbers: string[] = [];
    for (let index = 0; index < count; index += 1) {
      const orderNumber = `SO-HOOK-BULK-${jobs}-${index}`;
      const customerId = `C-BULK-${jobs}-${index}`;
      await addCustomer(stack.models, { customerId, name: `Customer ${customerId}`, language: 'en' });
      await placePaidOrder(stack.models, {
        orderNumber,
        customerId,
        currency: 'CNY',
        lines: [{ lineId: 'L1', sku: 'TEA-1', quantity: 1, unitPriceMinor: 16800 }],
      });
      orderNumbers.push(orderNumber);
    }
    const { jobId } = await clerk.startBulkCancellation({
      selection: { orderNumbers },
      reasonCode: 'out_of_stock',
      confirm: ['awaiting_shipment'],
    });
    return jobId;
  }

  const jobIn = (jobId: string, states: string[], timeoutMs = 60_000) =>
    eventually(async () => {
      const job = await clerk.getBulkCancellation(jobId);
      expect(states).toContain(job.state);
      return job;
    }, timeoutMs);

  test('each change of a job reaches the receiver once, in order, signed, with the job as GET shows it', async () => {
    const jobId = await startJob(4);
    await jobIn(jobId, ['running']);
    await admin.pauseBulkCancellation(jobId, { note: 'checking the supplier' });
    await jobIn(jobId, ['paused']);
    await admin.resumeBulkCancellation(jobId);
    const shown = await jobIn(jobId, ['completed'], 120_000);
    const changes =
      (await stack.models.BulkJob.findOne({ jobId }, { stateChanges: 1 }).lean())?.stateChanges ?? [];

    const events = await eventually(() => {
      const accepted = acceptedJobEvents(all, allSecret, jobId);
      expect(accepted.map((event) => event.sequence)).toEqual(changes.map((_, sequence) => sequence));
      return accepted;
    }, 30_000);
    // One id per change, derived from the job and its place: the webhook-id of every attempt.
    expect(events.map((event) => event.id)).toEqual(
      changes.map((_, sequence) => bulkJobEventId(jobId, sequence)),
    );
    const types = events.map((event) => event.type);
    expect(types[0]).toBe('bulk_job.started');
    expect(types.at(-1)).toBe('bulk_job.completed');
    expect(types.filter((type) => type === 'bulk_job.paused')).toHaveLength(1);
    expect(types.indexOf('bulk_job.resumed')).toBe(types.indexOf('bulk_job.paused') + 1);
    // Each event shows the state it tells of; the last is the job as GET answers it.
    expect(events.map((event) => event.data.state)).toEqual(changes.map((change) => change.to));
    expect(events.find((event) => event.type === 'bulk_job.paused')?.data.control).toEqual([
      expect.objectContaining({ action: 'pause', by: 'ops-1', note: 'checking the supplier' }),
    ]);
    expect(events.at(-1)?.data).toEqual({ ...shown, updatedAt: events.at(-1)?.data.updatedAt });
    expect(events.at(-1)?.data.phases).toEqual({ pending: 0, active: 0, waiting: 0, done: 4 });

    // A subscription that asked for completions only got the job's completion, and no cancellation's event.
    const received = await eventually(() => {
      const accepted = completedOnly.received
        .filter((request) => request.answered === 200)
        .map((request) => verifyWebhookEvent(completedOnlySecret, request.body, request.headers));
      expect(accepted.map((event) => event.type)).toEqual(['bulk_job.completed']);
      return accepted;
    });
    expect(received[0]?.id).toBe(events.at(-1)?.id);
    // The receiver's list of deliveries names the job, in the order of its changes.
    const subscription = (await admin.listWebhookSubscriptions()).find((item) => item.url === all.url);
    const deliveries = await admin.listEventDeliveries(subscription?.subscriptionId ?? '', {
      bulkJobId: jobId,
    });
    expect(deliveries.map((delivery) => [delivery.bulkJobId, delivery.sequence, delivery.status])).toEqual(
      changes.map((_, sequence) => [jobId, sequence, 'delivered']),
    );
  }, 180_000);

  test('a stopped job says so', async () => {
    const jobId = await startJob(4);
    await jobIn(jobId, ['running']);
    await admin.stopBulkCancellation(jobId, { note: 'supplier found stock' });
    await jobIn(jobId, ['stopped']);
    const events = await eventually(() => {
      const accepted = acceptedJobEvents(all, allSecret, jobId);
      expect(accepted.at(-1)?.type).toBe('bulk_job.stopped');
      return accepted;
    }, 30_000);
    expect(events.map((event) => event.sequence)).toEqual(events.map((_, sequence) => sequence));
    expect(events[0]?.type).toBe('bulk_job.started');
    expect(events.at(-1)?.data).toMatchObject({
      state: 'stopped',
      control: [expect.objectContaining({ action: 'stop', by: 'ops-1' })],
    });
    expect(completedOnly.received.map((request) => request.headers['webhook-id'])).not.toContain(
      events.at(-1)?.id,
    );
  }, 120_000);

  test('a job whose workflow was terminated is failed, with why, once however many watchers look', async () => {
    const jobId = await startJob(4);
    const { workflowId } = await jobIn(jobId, ['running']);
    await stack.temporal.workflow.getHandle(workflowId).terminate('the supplier list was wrong');
    // Two watchers at once, as two worker processes run them: one change, one event.
    const watchers = [1, 2].map(() => createBulkJobWatcher({ ...stack.deps, logger }, { pollMs: 60_000 }));
    await Promise.all(watchers.map((watcher) => watcher.lookOnce()));
    const reason = 'workflow terminated: the supplier list was wrong';
    const shown = await clerk.getBulkCancellation(jobId);
    expect(shown).toMatchObject({ state: 'failed', failureReason: reason });
    expect(shown.endedAt).toBeDefined();
    const job = await stack.models.BulkJob.findOne({ jobId }).lean();
    expect(job?.stateChanges.filter((change) => change.to === 'failed')).toHaveLength(1);
    // A failed job is no longer open: the next look does not ask about it.
    expect(await watchers[0]?.lookOnce()).toBe(0);

    const events = await eventually(() => {
      const accepted = acceptedJobEvents(all, allSecret, jobId);
      expect(accepted.at(-1)?.type).toBe('bulk_job.failed');
      return accepted;
    }, 30_000);
    expect(events.map((event) => event.sequence)).toEqual(events.map((_, sequence) => sequence));
    expect(events.filter((event) => event.type === 'bulk_job.failed')).toHaveLength(1);
    // The job as it was at that change (its progress may have moved since: the step the termination cut short
    // runs on until its next heartbeat finds the workflow gone).
    expect(events.at(-1)?.data).toMatchObject({
      jobId,
      state: 'failed',
      failureReason: reason,
      endedAt: shown.endedAt,
    });
  }, 120_000);

  test('a job whose selection grew past the limit fails with the reason, not retried for ever', async () => {
    // Recorded as the API would, and started with a limit its selection is over (orders added since the check).
    jobs += 1;
    const jobId = `hook-failing-${jobs}`;
    const workflowId = bulkJobWorkflowId(jobId);
    await stack.models.BulkJob.create({
      jobId,
      workflowId,
      requestedBy: 'clerk-1',
      selection: { orderNumbers: ['SO-GROWN-1', 'SO-GROWN-2'] },
      reasonCode: 'out_of_stock',
      confirm: ['awaiting_shipment'],
      concurrency: 1,
      state: 'selecting',
    });
    const handle = await stack.temporal.workflow.start(BULK_WORKFLOW_TYPE, {
      taskQueue: stack.taskQueue,
      workflowId,
      args: [{ jobId, concurrency: 1, maxOrders: 1 }],
    });
    await expect(handle.result()).rejects.toThrow();
    const watcher = createBulkJobWatcher({ ...stack.deps, logger }, { pollMs: 60_000 });
    expect(await watcher.lookOnce()).toBe(1);
    const shown = await admin.getBulkCancellation(jobId);
    expect(shown.state).toBe('failed');
    expect(shown.failureReason).toMatch(/^workflow failed: selection: it finds more than 1 orders/);
    const event = await eventually(() => {
      const accepted = acceptedJobEvents(all, allSecret, jobId);
      expect(accepted.map((received) => received.type)).toEqual(['bulk_job.failed']);
      return accepted[0];
    }, 30_000);
    expect(event?.data).toMatchObject({ state: 'failed', failureReason: shown.failureReason });
  }, 90_000);

  test('a state the workflow decided earlier, written last, does not replace a later one (pause vs running)', async () => {
    // Two recording activities in flight at once, run by Temporal in the other order: the step's `running`
    // (activity 7) and a person's pause (activity 8) decided just after it; a retry or another worker lands the
    // pause first. Each activity runs here with the info Temporal would give it.
    jobs += 1;
    const jobId = `hook-race-${jobs}`;
    const workflowId = bulkJobWorkflowId(jobId);
    await stack.models.BulkJob.create({
      jobId,
      workflowId,
      requestedBy: 'clerk-1',
      selection: { orderNumbers: ['SO-RACE-1'] },
      reasonCode: 'out_of_stock',
      confirm: ['awaiting_shipment'],
      concurrency: 1,
      state: 'selecting',
    });
    const activities = createBulkActivities(stack.deps);
    const t0 = Date.now();
    const record = (
      runId: string,
      activityId: number,
      input: Parameters<BulkActivities['recordBulkJobState']>[0],
    ) =>
      new MockActivityEnvironment({
        workflowExecution: { workflowId, runId },
        activityId: String(activityId),
        scheduledTimestampMs: t0 + (runId === 'run-2' ? 60_000 : 0) + activityId,
      }).run(() => activities.recordBulkJobState(input));
    const entry = (action: 'pause' | 'resume', activityId: number) => ({
      action,
      by: 'ops-1',
      at: new Date(t0 + activityId).toISOString(),
    });
    const stateNow = async () => (await admin.getBulkCancellation(jobId)).state;

    await record('run-1', 8, { jobId, state: 'paused', control: entry('pause', 8) });
    await record('run-1', 7, { jobId, state: 'running' });
    await record('run-1', 7, { jobId, state: 'running' }); // its retry
    expect(await stateNow()).toBe('paused');

    // A resume after it is written; a pause and a resume in flight at once, the resume landing first: running,
    // and the overtaken pause is still in the job's record, once, in the order the people acted.
    await record('run-1', 9, { jobId, state: 'running', control: entry('resume', 9) });
    await record('run-1', 11, { jobId, state: 'running', control: entry('resume', 11) });
    await record('run-1', 10, { jobId, state: 'paused', control: entry('pause', 10) });
    await record('run-1', 10, { jobId, state: 'paused', control: entry('pause', 10) }); // its retry
    expect(await stateNow()).toBe('running');
    expect((await admin.getBulkCancellation(jobId)).control.map((item) => item.action)).toEqual([
      'pause',
      'resume',
      'pause',
      'resume',
    ]);

    // The run after continue-as-new starts its activities at 1 again: later all the same. Once final, a stray
    // write of the run before (a zombie attempt) changes nothing.
    await record('run-2', 1, { jobId, state: 'waiting' });
    await record('run-2', 2, { jobId, state: 'completed' });
    await record('run-1', 12, { jobId, state: 'running' });
    expect(await stateNow()).toBe('completed');

    const changes = (await stack.models.BulkJob.findOne({ jobId }).lean())?.stateChanges ?? [];
    expect(changes.map((change) => [change.from, change.to])).toEqual([
      ['selecting', 'paused'],
      ['paused', 'running'],
      ['running', 'running'],
      ['running', 'waiting'],
      ['waiting', 'completed'],
    ]);
    // Subscribers are told of each state the job held, in order, and never of the overtaken ones.
    const events = await eventually(() => {
      const accepted = acceptedJobEvents(all, allSecret, jobId);
      expect(accepted).toHaveLength(changes.length);
      return accepted;
    }, 30_000);
    expect(events.map((event) => [event.type, event.data.state])).toEqual([
      ['bulk_job.paused', 'paused'],
      ['bulk_job.resumed', 'running'],
      ['bulk_job.resumed', 'running'],
      ['bulk_job.state_changed', 'waiting'],
      ['bulk_job.completed', 'completed'],
    ]);
  }, 90_000);

  test('a change recorded again (an activity retried) keeps its place and makes no second event', async () => {
    const jobId = await startJob(1);
    await jobIn(jobId, ['completed'], 60_000);
    const control = { action: 'pause' as const, by: 'ops-1', at: new Date().toISOString() };
    const change = { jobId, state: 'paused' as const, control, key: 'run-x:activity-9' };
    const first = await recordBulkJobChange(stack.models, change);
    // Another change in between, then the first one's retry: it finds its own place, and writes nothing.
    const other = await recordBulkJobChange(stack.models, {
      jobId,
      state: 'completed',
      key: 'run-x:activity-10',
    });
    const again = await recordBulkJobChange(stack.models, change);
    expect(first).toMatchObject({ from: 'completed', to: 'paused' });
    expect(other?.sequence).toBe((first?.sequence ?? -1) + 1);
    expect(again).toEqual(first);
    const job = await stack.models.BulkJob.findOne({ jobId }).lean();
    expect(job?.state).toBe('completed'); // not set back by the retry
    expect(job?.control.filter((entry) => entry.action === 'pause')).toHaveLength(1);

    if (!first) throw new Error('not recorded');
    await recordBulkJobEvent(stack, jobId, first, 'pause');
    const eventId = bulkJobEventId(jobId, first.sequence);
    const body = (await findEvent(stack.models, eventId))?.body;
    await recordBulkJobEvent(stack, jobId, first, 'pause');
    expect((await findEvent(stack.models, eventId))?.body).toBe(body);
    expect(JSON.parse(body ?? '{}')).toMatchObject({ type: 'bulk_job.paused', bulkJobId: jobId });
    expect(await stack.models.EventDelivery.countDocuments({ eventId })).toBe(
      (await admin.listWebhookSubscriptions()).filter(
        (subscription) => subscription.active && subscription.eventTypes.includes('bulk_job.paused'),
      ).length,
    );
    // recordEventDeliveries is what both kinds of events go through: the same key twice is one event.
    await recordEventDeliveries(
      stack.models,
      {
        eventId,
        bulkJobId: jobId,
        sequence: first.sequence,
        type: 'bulk_job.paused',
        occurredAt: first.at,
        body: '{}',
      },
      [],
    );
    expect((await findEvent(stack.models, eventId))?.body).toBe(body);
  }, 90_000);
});

describe('the CLI', () => {
  let folder: string;

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'cancelflow-webhooks-'));
  });
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  /** `cancelflow …` in-process with an admin's API key, printing into strings. */
  async function cancelflow(...args: string[]) {
    const { token } = await issueApiKey(stack.models, {
      name: 'cli test',
      personId: 'ops-1',
      scopes: ['admin'],
      createdBy: 'test',
    });
    const printed = { stdout: '', stderr: '' };
    const out: Output = {
      line: (text = '') => void (printed.stdout += `${text}\n`),
      json: (value) => void (printed.stdout += `${JSON.stringify(value)}\n`),
      note: (text) => void (printed.stderr += `${text}\n`),
    };
    const code = await run(['node', 'cancelflow', '--api', stack.apiUrl, '--api-key', token, ...args], {
      out,
      store: new CredentialsStore(join(folder, 'credentials.json')),
    });
    return { code, ...printed };
  }

  test('webhooks add, list, edit, deliveries, redeliver, remove', async () => {
    const added = await cancelflow(
      'webhooks',
      'add',
      'https://wms.example.com/hooks',
      '--event',
      'cancellation.completed',
      'bulk_job.completed',
    );
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/^whsec_/m);
    expect(added.stderr).toContain('only time');
    const subscriptionId = /Subscription:\s+(whs_\w+)/.exec(added.stdout)?.[1] ?? '';
    expect(subscriptionId).not.toBe('');

    expect(added.stdout).toContain('bulk_job.completed');
    const unknownType = await cancelflow(
      'webhooks',
      'add',
      'https://wms.example.com',
      '--event',
      'bulk_job.exploded',
    );
    expect(unknownType.code).not.toBe(0);
    // Refused by the CLI before the API was asked: nothing subscribed there.
    expect(
      (await admin.listWebhookSubscriptions()).filter((item) =>
        item.url.startsWith('https://wms.example.com'),
      ),
    ).toHaveLength(1);

    const listed = await cancelflow('webhooks', 'list');
    expect(listed.stdout).toContain(subscriptionId);
    expect(listed.stdout).not.toContain('whsec_');

    const badUrl = await cancelflow('webhooks', 'add', 'ftp://wms.example.com');
    expect(badUrl).toMatchObject({ code: 1 });
    expect(badUrl.stderr).toContain('400');

    const deliveries = await cancelflow('webhooks', 'deliveries', subscriptionId, '--status', 'failed');
    expect(deliveries).toMatchObject({ code: 0, stdout: 'no deliveries\n' });
    const ofJob = await cancelflow('webhooks', 'deliveries', subscriptionId, '--bulk-job', 'no-such-job');
    expect(ofJob).toMatchObject({ code: 0, stdout: 'no deliveries\n' });
    const unknown = await cancelflow('webhooks', 'redeliver', 'dlv_none');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('404');

    // Changed: its URL and types, the description cleared; a bad URL or nothing named changes nothing.
    const edited = await cancelflow(
      'webhooks',
      'edit',
      subscriptionId,
      '--url',
      'https://wms.example.com/v2/hooks',
      '--event',
      'bulk_job.failed',
      'bulk_job.completed',
    );
    expect(edited.code).toBe(0);
    expect(edited.stdout).toContain('https://wms.example.com/v2/hooks');
    expect(await admin.getWebhookSubscription(subscriptionId)).toMatchObject({
      url: 'https://wms.example.com/v2/hooks',
      eventTypes: ['bulk_job.failed', 'bulk_job.completed'],
    });
    const editedBadUrl = await cancelflow(
      'webhooks',
      'edit',
      subscriptionId,
      '--url',
      'ftp://wms.example.com',
    );
    expect(editedBadUrl).toMatchObject({ code: 1 });
    expect(editedBadUrl.stderr).toContain('400');
    const editedUnknownType = await cancelflow(
      'webhooks',
      'edit',
      subscriptionId,
      '--event',
      'bulk_job.exploded',
    );
    expect(editedUnknownType.code).not.toBe(0);
    const editedNothing = await cancelflow('webhooks', 'edit', subscriptionId);
    expect(editedNothing.code).not.toBe(0);
    expect(editedNothing.stderr).toContain('name what to change');
    expect((await admin.getWebhookSubscription(subscriptionId)).url).toBe('https://wms.example.com/v2/hooks');
    await cancelflow('webhooks', 'edit', subscriptionId, '--description', '');
    expect((await admin.getWebhookSubscription(subscriptionId)).description).toBeUndefined();

    const removed = await cancelflow('webhooks', 'remove', subscriptionId);
    expect(removed).toMatchObject({ code: 0 });
    expect(removed.stdout).toContain(`removed ${subscriptionId}`);
  });
});
