// The HTTP API as a fastify app, built from its dependencies so tests can run it in-process on a real port.
import type { Client } from '@temporalio/client';
import Fastify from 'fastify';
import { idempotencyKeyHeader, type ApiErrorBody } from '../client/contract';
import { CancelflowError, isCancelflowError } from '../lib/errors';
import type { Logger } from '../lib/logger';
import type { Models } from '../models';
import type { ReviewRules } from '../rules/review.rules';
import { createCancellationService } from './cancellation.service';
import { registerFeedbackRoutes } from './feedback.routes';
import { registerNotificationRoutes } from './notifications.routes';
import { registerOrderRoutes } from './orders.routes';
import { registerWebhookRoutes, type WebhookSettings } from './webhooks.routes';

export interface AppDeps {
  models: Models;
  temporal: Client;
  taskQueue: string;
  policy: ReviewRules;
  logger: Logger;
  /** Secrets and public address the webhooks check signatures with (`webhookSettingsFrom(config)`). */
  webhooks: WebhookSettings;
}

export function buildApp(deps: AppDeps) {
  const app = Fastify({ loggerInstance: deps.logger, bodyLimit: 256 * 1024 });
  const cancellations = createCancellationService(deps);

  app.setErrorHandler((error, request, reply) => {
    if (isCancelflowError(error)) {
      const body: ApiErrorBody = { error: error.code, message: error.message, details: error.details };
      return reply.status(error.httpStatus).send(body);
    }
    // Fastify's own 4xx (unparseable JSON, wrong content type, body too large) keep their status and reason.
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      return reply
        .status(status)
        .send({ error: 'bad_request', message: (error as Error).message } satisfies ApiErrorBody);
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ error: 'internal', message: 'internal error' } satisfies ApiErrorBody);
  });

  app.get('/health', async (_request, reply) => {
    const [database, temporal] = await Promise.all([
      deps.models.db.db
        ?.admin()
        .ping()
        .then(
          () => 'ok',
          (error: unknown) => `down: ${String(error)}`,
        ) ?? 'down: not connected',
      deps.temporal.workflowService.getSystemInfo({}).then(
        () => 'ok',
        (error: unknown) => `down: ${String(error)}`,
      ),
    ]);
    const healthy = database === 'ok' && temporal === 'ok';
    return reply
      .status(healthy ? 200 : 503)
      .send({ status: healthy ? 'ok' : 'unavailable', database, temporal });
  });

  app.post('/v1/cancellations', async (request, reply) => {
    const rawKey = request.headers['idempotency-key'];
    let idempotencyKey: string | undefined;
    if (rawKey !== undefined) {
      const parsed = idempotencyKeyHeader.safeParse(rawKey);
      if (!parsed.success) {
        throw new CancelflowError(
          'validation_failed',
          'Idempotency-Key must be one header of 8 to 255 characters',
          {
            field: 'Idempotency-Key',
          },
        );
      }
      idempotencyKey = parsed.data;
    }
    const accepted = await cancellations.create(request.body, idempotencyKey);
    return reply
      .status(202)
      .header('location', `/v1/cancellations/${accepted.cancellationId}`)
      .send(accepted);
  });

  app.get<{ Params: { id: string } }>('/v1/cancellations/:id', async (request) =>
    cancellations.get(request.params.id),
  );
  registerOrderRoutes(app, deps);
  registerWebhookRoutes(app, deps);
  registerFeedbackRoutes(app, deps);
  registerNotificationRoutes(app, deps);

  return app;
}
