// Outbound webhooks over HTTP, for admins: subscriptions (an outside system's URL, the event types it wants of
// cancellations and bulk jobs, its signing secret, shown once), their deliveries with every attempt, and
// redelivering one by hand, through the service the console uses too (webhook-subscriptions.service.ts). Not to
// be confused with api/webhooks.routes.ts, where providers call in. What is sent, and how: the README's
// "Outbound webhooks", activities/event-dispatcher.ts.
import type { FastifyBaseLogger } from 'fastify';
import type { OpenAPIV3, OpenAPIV3_1 } from 'openapi-types';
import { z } from 'zod';
import {
  apiErrorBody,
  bulkJobEventPayload,
  cancellationEventPayload,
  createdWebhookSubscription,
  createWebhookSubscriptionBody,
  eventDeliveryIdParams,
  eventDeliveryList,
  eventDeliveryListQuery,
  eventDeliveryView,
  updateWebhookSubscriptionBody,
  webhookSubscriptionIdParams,
  webhookSubscriptionList,
  webhookSubscriptionView,
} from '../client/contract';
import { BULK_JOB_EVENT_TYPES, CANCELLATION_EVENT_TYPES } from '../contracts/cancellation-events.contract';
import { callerOf, type ApiInstance } from './auth/access';
import { callerErrors } from './error-answers';
import { WEBHOOK_ADMINS, type WebhookSubscriptionService } from './webhook-subscriptions.service';

const errors = callerErrors;
const tags = ['webhook subscriptions'];
const admins = WEBHOOK_ADMINS;

/**
 * The requests subscribers receive, for the OpenAPI document's `webhooks` (the app adds it): one per event,
 * signed with the Standard Webhooks headers.
 */
/** openapi-types' 3.1 object schema also carries its 3.0 shape; a JSON Schema zod writes for an object is both. */
type ObjectSchema = OpenAPIV3.NonArraySchemaObject & OpenAPIV3_1.NonArraySchemaObject;

export function webhookEventWebhooks(): NonNullable<OpenAPIV3_1.Document['webhooks']> {
  const header = (name: string, description: string) => ({
    name,
    in: 'header' as const,
    required: true,
    description,
    schema: { type: 'string' as const },
  });
  const post = (summary: string, description: string, payload: z.ZodType) => ({
    post: {
      summary,
      description: `${description} Answer 2xx within the deadline, or it is retried with backoff and at last parked.`,
      parameters: [
        header('webhook-id', "The event's id, the same on every attempt: drop repeats by it"),
        header('webhook-timestamp', 'Seconds since the epoch when this attempt was signed'),
        header('webhook-signature', 'v1,<base64 HMAC-SHA256 of "id.timestamp.body" with the secret>'),
      ],
      requestBody: {
        required: true,
        content: {
          'application/json': { schema: z.toJSONSchema(payload) as unknown as ObjectSchema },
        },
      },
      responses: { '2XX': { description: 'Received' } },
    },
  });
  return {
    cancellationEvent: post(
      'A state change of a cancellation, posted to each subscription that wants its type',
      `Types: ${CANCELLATION_EVENT_TYPES.join(', ')}. At least once, in order per cancellation.`,
      cancellationEventPayload,
    ),
    bulkJobEvent: post(
      "A change of a bulk cancellation job's state, posted to each subscription that wants its type",
      `Types: ${BULK_JOB_EVENT_TYPES.join(', ')}. At least once, in order per job.`,
      bulkJobEventPayload,
    ),
  };
}

export function registerWebhookSubscriptionRoutes<Logger extends FastifyBaseLogger>(
  routes: ApiInstance<Logger>,
  deps: { webhookSubscriptions: WebhookSubscriptionService },
): void {
  const { webhookSubscriptions: subscriptions } = deps;

  routes.post(
    '/v1/webhook-subscriptions',
    {
      config: { access: admins },
      schema: {
        tags,
        summary:
          'Subscribe an outside system to the events of cancellations and bulk jobs; the answer holds its ' +
          'signing secret, this once',
        body: createWebhookSubscriptionBody,
        response: { 201: createdWebhookSubscription, ...errors },
      },
    },
    async (request, reply) => {
      const created = await subscriptions.create(request.body, callerOf(request).personId);
      return reply
        .status(201)
        .header('location', `/v1/webhook-subscriptions/${created.subscriptionId}`)
        .send(created);
    },
  );

  routes.get(
    '/v1/webhook-subscriptions',
    {
      config: { access: admins },
      schema: {
        tags,
        summary: 'Every webhook subscription, newest first (never their secrets)',
        response: { 200: webhookSubscriptionList, ...errors },
      },
    },
    async () => ({ items: await subscriptions.list() }),
  );

  routes.get(
    '/v1/webhook-subscriptions/:id',
    {
      config: { access: admins },
      schema: {
        tags,
        summary: 'One webhook subscription',
        params: webhookSubscriptionIdParams,
        response: { 200: webhookSubscriptionView, ...errors, 404: apiErrorBody },
      },
    },
    async (request) => subscriptions.get(request.params.id),
  );

  routes.patch(
    '/v1/webhook-subscriptions/:id',
    {
      config: { access: admins },
      schema: {
        tags,
        summary:
          'Change a subscription: its URL, its event types, or whether it is active (inactive, what is ' +
          'pending waits, and goes once it is active again)',
        params: webhookSubscriptionIdParams,
        body: updateWebhookSubscriptionBody,
        response: { 200: webhookSubscriptionView, ...errors, 404: apiErrorBody },
      },
    },
    async (request) => subscriptions.update(request.params.id, request.body),
  );

  routes.delete(
    '/v1/webhook-subscriptions/:id',
    {
      config: { access: admins },
      schema: {
        tags,
        summary: 'Remove a subscription and its deliveries: nothing more is sent to it',
        params: webhookSubscriptionIdParams,
        response: { 200: webhookSubscriptionView, ...errors, 404: apiErrorBody },
      },
    },
    async (request) => subscriptions.remove(request.params.id),
  );

  routes.get(
    '/v1/webhook-subscriptions/:id/deliveries',
    {
      config: { access: admins },
      schema: {
        tags,
        summary:
          "A subscription's event deliveries with their attempts, newest first (or one cancellation's or bulk " +
          "job's, in order): `status=failed` lists those parked after their retry window",
        params: webhookSubscriptionIdParams,
        querystring: eventDeliveryListQuery,
        response: { 200: eventDeliveryList, ...errors, 404: apiErrorBody },
      },
    },
    async (request) => ({ items: await subscriptions.deliveries(request.params.id, request.query) }),
  );

  routes.post(
    '/v1/webhook-deliveries/:id/redelivery',
    {
      config: { access: admins },
      schema: {
        tags,
        summary:
          'Send an event delivery again (a parked one, or one the receiver lost): due now, with a fresh retry ' +
          'window, as the same event (same id and body)',
        params: eventDeliveryIdParams,
        response: { 200: eventDeliveryView, ...errors, 404: apiErrorBody },
      },
    },
    async (request) => subscriptions.redeliver(request.params.id, callerOf(request).personId),
  );
}
