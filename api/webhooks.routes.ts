// What providers post back: Twilio's delivery reports for the SMS the outbox sent, and the carrier's late
// answers on recalls (R9). Each is checked against its sender's signature over the exact bytes received, and
// refused with a 4xx and a logged reason when it does not hold or names something unknown: nothing is changed
// and nothing is passed on then.
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import { validateRequest } from 'twilio';
import { z } from 'zod';
import { apiErrorBody } from '../client/contract';
import {
  CARRIER_SIGNATURE_HEADER,
  carrierOutcomeEvent,
  verifyCarrierSignature,
} from '../integrations/carrier';
import type { Config } from '../lib/config';
import { CancelflowError } from '../lib/errors';
import type { Models } from '../models';
import { parseInput } from '../models/books-validation';
import { applyProviderStatusReport } from '../models/outbox';
import { reportCarrierOutcomeUpdate } from '../contracts/cancellation.contract';
import { withinDeadline, type Deadlines } from './deadlines';

export interface WebhookSettings {
  /** PUBLIC_BASE_URL: Twilio signs the URL it posted to, which is this address and the path. */
  publicBaseUrl: string;
  twilioAuthToken: string;
  carrierWebhookSecret: string;
}

export function webhookSettingsFrom(
  config: Pick<Config, 'PUBLIC_BASE_URL' | 'TWILIO_AUTH_TOKEN' | 'CARRIER_WEBHOOK_SECRET'>,
): WebhookSettings {
  return {
    publicBaseUrl: config.PUBLIC_BASE_URL,
    twilioAuthToken: config.TWILIO_AUTH_TOKEN,
    carrierWebhookSecret: config.CARRIER_WEBHOOK_SECRET,
  };
}

// Providers have no account: each request carries its sender's signature over the exact body, checked below.
const signedByTwilio = { access: { public: "Twilio's X-Twilio-Signature over the URL and form is checked" } };
const signedByCarrier = {
  access: { public: "the carrier's HMAC-SHA256 signature over the body is checked" },
};

// What the providers get back, declared so the OpenAPI document states every answer, refusals included: without
// these it promised a bare 200, while an unsigned or unknown callback is a 401 or 404 in the API's error body.
const tags = ['webhooks'];
const refusals = { 400: apiErrorBody, 401: apiErrorBody, 404: apiErrorBody, 429: apiErrorBody };
const twilioStatusSchema = {
  tags,
  summary: "Twilio's delivery report for an SMS the outbox sent (signed: X-Twilio-Signature)",
  response: {
    200: z.object({ messageSid: z.string(), outcome: z.enum(['updated', 'unchanged']) }),
    ...refusals,
  },
};
const carrierOutcomeSchema = {
  tags,
  summary: "The carrier's outcome of a parcel recall (signed: HMAC-SHA256 over the body)",
  response: {
    200: z.object({ cancellationId: z.string(), state: z.string() }),
    ...refusals,
    409: apiErrorBody,
    // Temporal did not take the Update within its deadline: the carrier sends the event again.
    503: apiErrorBody,
  },
};

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

export function registerWebhookRoutes<Logger extends FastifyBaseLogger>(
  app: FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, Logger>,
  deps: { models: Models; temporal: Client; webhooks: WebhookSettings; deadlines: Deadlines },
): void {
  const settings = deps.webhooks;
  const publicBaseUrl = settings.publicBaseUrl.replace(/\/$/, '');

  void app.register((webhooks, _options, done) => {
    // Signatures cover the bytes as sent: these routes take their bodies raw and parse them after checking.
    webhooks.removeContentTypeParser(['application/json', 'application/x-www-form-urlencoded']);
    webhooks.addContentTypeParser(
      ['application/json', 'application/x-www-form-urlencoded'],
      { parseAs: 'string' },
      (_request, body, done) => done(null, body),
    );

    /** Twilio's status callback for an SMS the outbox sent: delivered, undelivered, failed… */
    webhooks.post(
      '/v1/webhooks/twilio/status',
      { config: signedByTwilio, schema: twilioStatusSchema },
      async (request, reply) => {
        const raw = typeof request.body === 'string' ? request.body : '';
        const params = Object.fromEntries(new URLSearchParams(raw));
        const signature = header(request, 'x-twilio-signature') ?? '';
        if (!validateRequest(settings.twilioAuthToken, signature, `${publicBaseUrl}${request.url}`, params)) {
          request.log.warn(
            { messageSid: params.MessageSid },
            'twilio status callback refused: bad signature',
          );
          throw new CancelflowError('unauthorized', 'the X-Twilio-Signature does not match this request', {
            field: 'X-Twilio-Signature',
          });
        }
        for (const field of ['MessageSid', 'MessageStatus'] as const) {
          if (!params[field]) {
            throw new CancelflowError('validation_failed', `${field} is required`, { field });
          }
        }
        const report = {
          providerMessageId: params.MessageSid ?? '',
          status: params.MessageStatus ?? '',
          errorCode: params.ErrorCode || undefined,
        };
        const outcome = await applyProviderStatusReport(deps.models, report);
        if (outcome === 'unknown') {
          request.log.warn(
            { messageSid: report.providerMessageId, status: report.status },
            'twilio status callback refused: unknown message',
          );
          throw new CancelflowError('not_found', `no message ${report.providerMessageId} in the outbox`, {
            field: 'MessageSid',
          });
        }
        request.log.info(
          { messageSid: report.providerMessageId, status: report.status, outcome },
          'sms status',
        );
        return reply.send({ messageSid: report.providerMessageId, outcome });
      },
    );

    /** The carrier's outcome of a recall, passed on to the cancellation waiting for it. */
    webhooks.post(
      '/v1/webhooks/carrier',
      { config: signedByCarrier, schema: carrierOutcomeSchema },
      async (request, reply) => {
        const raw = typeof request.body === 'string' ? request.body : '';
        const check = verifyCarrierSignature(
          settings.carrierWebhookSecret,
          header(request, CARRIER_SIGNATURE_HEADER),
          raw,
        );
        if (!check.valid) {
          request.log.warn({ reason: check.reason }, 'carrier webhook refused: bad signature');
          throw new CancelflowError('unauthorized', check.reason, { field: CARRIER_SIGNATURE_HEADER });
        }
        let json: unknown;
        try {
          json = JSON.parse(raw);
        } catch {
          throw new CancelflowError('validation_failed', 'the body is not JSON', { field: 'body' });
        }
        const event = parseInput(carrierOutcomeEvent, json);

        /** Logs why the event is refused; the central handler answers with the error's 4xx. */
        const refused = (error: CancelflowError): CancelflowError => {
          request.log.warn(
            { eventId: event.eventId, shipmentId: event.shipmentId },
            `carrier webhook refused: ${error.message}`,
          );
          return error;
        };
        const shipment = await deps.models.Shipment.findOne({ shipmentId: event.shipmentId }).lean();
        if (!shipment) {
          throw refused(
            new CancelflowError('not_found', `no shipment ${event.shipmentId}`, { field: 'shipmentId' }),
          );
        }
        const cancellation = await deps.models.Cancellation.findOne({
          activeForOrder: shipment.orderNumber,
        }).lean();
        if (!cancellation) {
          throw refused(
            new CancelflowError(
              'conflict',
              `no running cancellation of order ${shipment.orderNumber} waits for shipment ${event.shipmentId}`,
              { field: 'shipmentId' },
            ),
          );
        }
        try {
          // The carrier's event id as the Update id: a redelivered event is the same Update, taken once; so a
          // carrier that retries after our 503 changes nothing twice.
          const view = await withinDeadline(
            deps.temporal,
            deps.deadlines.temporalUpdateMs,
            `cancellation ${cancellation.cancellationId} may not have taken the outcome (send the event again)`,
            () =>
              deps.temporal.workflow
                .getHandle(cancellation.workflowId)
                .executeUpdate(reportCarrierOutcomeUpdate, {
                  args: [event],
                  updateId: `carrier-${event.eventId}`,
                }),
          );
          request.log.info(
            { eventId: event.eventId, shipmentId: event.shipmentId, state: view.state },
            'carrier outcome',
          );
          return await reply.send({ cancellationId: view.cancellationId, state: view.state });
        } catch (error) {
          if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError) {
            const why =
              error instanceof WorkflowUpdateFailedError && error.cause ? error.cause.message : error.message;
            throw refused(
              new CancelflowError(
                'conflict',
                `cancellation ${cancellation.cancellationId} did not take the outcome: ${why}`,
                { field: 'outcome' },
              ),
            );
          }
          throw error;
        }
      },
    );
    done();
  });
}
