// The HTTP API as a fastify app, built from its dependencies so tests can run it in-process on a real port.
// Every route validates with the zod schemas of client/contract.ts, which also make the OpenAPI document
// (/openapi.json, with a reference page at /docs), and states who may call it (api/auth/access.ts).
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { createHash } from 'node:crypto';
import type { ApiErrorBody } from '../client/contract';
import type { Config } from '../lib/config';
import { isCancelflowError } from '../lib/errors';
import type { Logger } from '../lib/logger';
import type { Models } from '../models';
import type { CancellationPolicy } from '../contracts/policy.contract';
import { enforceAccess, SESSION_COOKIE, sessionIdOf, type ApiInstance } from './auth/access';
import { registerAuthRoutes, type SessionSettings } from './auth/auth.routes';
import { oidcSettingsFrom, registerOidcRoutes, type OidcSettings } from './auth/oidc.routes';
import { createCancellationService } from './cancellation.service';
import { createBulkCancellationService, type BulkSettings } from './bulk-cancellation.service';
import { registerBulkCancellationRoutes } from './bulk-cancellations.routes';
import { codecSettingsFrom, registerCodecRoutes, type CodecSettings } from './codec.routes';
import { consoleSettingsFrom, registerConsole, type ConsoleSettings } from './console/console.plugin';
import {
  before,
  deadlinesFrom,
  isDatabaseUnreachable,
  RETRY_AFTER_SECONDS,
  withinDeadline,
  type Deadlines,
} from './deadlines';
import { registerCancellationRoutes } from './cancellations.routes';
import { workerPolling } from './health';
import { registerAnalyticsRoutes } from './analytics.routes';
import { registerDelegationRoutes } from './delegations.routes';
import { registerFeedbackRoutes } from './feedback.routes';
import { metricsSettingsFrom, registerMetrics, type MetricsSettings } from './metrics';
import { registerMessageRoutes } from './messages.routes';
import { registerNotificationRoutes } from './notifications.routes';
import { registerOrderRoutes } from './orders.routes';
import { registerWebhookRoutes, webhookSettingsFrom, type WebhookSettings } from './webhooks.routes';
import { webhookEventWebhooks, registerWebhookSubscriptionRoutes } from './webhook-subscriptions.routes';
import { createWebhookSubscriptionService } from './webhook-subscriptions.service';

export interface AppDeps {
  models: Models;
  temporal: Client;
  taskQueue: string;
  /** The API checks requests against it before starting; the console's preview also weighs risk and approvals. */
  policy: CancellationPolicy;
  logger: Logger;
  /** Secrets and public address the webhooks check signatures with (`webhookSettingsFrom(config)`). */
  webhooks: WebhookSettings;
  /** Signs the session cookie and binds CSRF tokens to sessions. */
  sessionSecret: string;
  session: SessionSettings;
  /** Requests a caller may make per minute. */
  rateLimitPerMinute: number;
  /** The company's identity provider people may sign in through; undefined: passwords only. */
  oidc?: OidcSettings;
  /** How long the API waits for Temporal and the database before answering 503. */
  deadlines: Deadlines;
  /** The web console's settings (api/console). */
  console: ConsoleSettings;
  /** The codec endpoint's cipher and the Temporal UI it answers (api/codec.routes.ts). */
  codec: CodecSettings;
  /** Where to serve Prometheus metrics; undefined: not at all (api/metrics.ts). */
  metrics?: MetricsSettings;
  /** Bulk cancellation jobs' concurrency and limits (config BULK_*); their defaults when absent. */
  bulk?: BulkSettings;
}

/** The settings of the API's own, from the configuration. */
export function apiSettingsFrom(
  config: Pick<
    Config,
    | 'PUBLIC_BASE_URL'
    | 'TWILIO_AUTH_TOKEN'
    | 'CARRIER_WEBHOOK_SECRET'
    | 'SESSION_SECRET'
    | 'SESSION_TTL_HOURS'
    | 'SIGN_IN_MAX_FAILURES'
    | 'SIGN_IN_LOCK_MINUTES'
    | 'RATE_LIMIT_PER_MINUTE'
    | 'OIDC_ISSUER_URL'
    | 'OIDC_CLIENT_ID'
    | 'OIDC_CLIENT_SECRET'
    | 'OIDC_REDIRECT_URL'
    | 'TEMPORAL_CALL_TIMEOUT_MS'
    | 'TEMPORAL_UPDATE_TIMEOUT_MS'
    | 'MONGODB_TIMEOUT_MS'
    | 'TEMPORAL_ADDRESS'
    | 'TEMPORAL_UI_PORT'
    | 'TEMPORAL_NAMESPACE'
    | 'CUSTOMER_LINK_SECRET'
    | 'CUSTOMER_LINK_DAYS'
    | 'PAYLOAD_KEYS'
    | 'TEMPORAL_UI_ORIGIN'
    | 'METRICS_HOST'
    | 'API_METRICS_PORT'
    | 'METRICS_REFRESH_SECONDS'
    | 'BULK_CONCURRENCY'
    | 'BULK_MAX_ORDERS'
    | 'BULK_HISTORY_LIMIT'
  >,
): Pick<
  AppDeps,
  | 'webhooks'
  | 'sessionSecret'
  | 'session'
  | 'rateLimitPerMinute'
  | 'oidc'
  | 'deadlines'
  | 'console'
  | 'codec'
  | 'metrics'
  | 'bulk'
> {
  return {
    webhooks: webhookSettingsFrom(config),
    sessionSecret: config.SESSION_SECRET,
    session: {
      ttlMs: config.SESSION_TTL_HOURS * 3_600_000,
      maxFailures: config.SIGN_IN_MAX_FAILURES,
      lockMs: config.SIGN_IN_LOCK_MINUTES * 60_000,
      secureCookies: config.PUBLIC_BASE_URL.startsWith('https:'),
    },
    rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
    oidc: oidcSettingsFrom(config),
    deadlines: deadlinesFrom(config),
    console: consoleSettingsFrom(config),
    codec: codecSettingsFrom(config),
    metrics: metricsSettingsFrom(config),
    bulk: {
      concurrency: config.BULK_CONCURRENCY,
      maxOrders: config.BULK_MAX_ORDERS,
      historyLimit: config.BULK_HISTORY_LIMIT,
    },
  };
}

/** A validation error's path as a caller writes it: `lines[0].quantity`; empty for the part as a whole. */
function pathOf(instancePath: string): string {
  return instancePath
    .split('/')
    .filter(Boolean)
    .reduce((name, key) => (/^\d+$/.test(key) ? `${name}[${key}]` : name ? `${name}.${key}` : key), '');
}

/**
 * The field a validation error names: its path (`lines[0].quantity`), or a key a strict object does not know
 * (`approver` in a decision's body, `colour` in an order search), or else the part (`body`, `querystring`).
 */
function fieldOf(
  issue: { instancePath?: string; keyword?: string; params?: Record<string, unknown> } | undefined,
  part: string | undefined,
): { field: string; unknown: boolean } {
  const path = pathOf(issue?.instancePath ?? '');
  const [key] = issue?.keyword === 'unrecognized_keys' ? ((issue.params?.keys as unknown[]) ?? []) : [];
  if (typeof key === 'string') return { field: path ? `${path}.${key}` : key, unknown: true };
  return { field: path || part || 'request', unknown: false };
}

/** One bucket per caller: the key or session when there is one (hashed: never a secret in memory), else the address. */
function rateLimitKey(request: FastifyRequest): string {
  const credential = request.headers.authorization ?? request.cookies[SESSION_COOKIE];
  return credential ? createHash('sha256').update(credential).digest('hex') : request.ip;
}

/** The longest path parameter the router passes on to a route (decoded, in UTF-16 units). */
const MAX_PATH_PARAMETER_LENGTH = 1024;

export function buildApp(deps: AppDeps) {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: 256 * 1024,
    // The router's limit on a path parameter (fastify's default: 100) must not undercut the schemas: a message
    // id may be 512 characters, up to 1,024 UTF-16 units decoded. Longer ones are for the routes to judge.
    routerOptions: { maxParamLength: MAX_PATH_PARAMETER_LENGTH },
    // The router refuses a path parameter it cannot decode, or one past that limit, before any route runs:
    // answered in fastify's own shape (and a 414 for the long one) no route declares. Every route declares 400
    // with the API's error body, and a bad path parameter is exactly that.
    frameworkErrors: (error, _request, reply) => {
      void (reply as FastifyReply).status(400).send({
        error: 'validation_failed',
        message:
          error.code === 'FST_ERR_MAX_PARAM_LENGTH'
            ? `params: a path parameter is longer than ${MAX_PATH_PARAMETER_LENGTH} characters`
            : 'params: a path parameter is not valid percent-encoding',
        details: { field: 'params' },
      } satisfies ApiErrorBody);
    },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  if (deps.metrics)
    registerMetrics(app, { models: deps.models, settings: deps.metrics, logger: deps.logger });
  const cancellations = createCancellationService(deps);
  const bulkCancellations = createBulkCancellationService({
    ...deps,
    bulk: deps.bulk ?? { concurrency: 20, maxOrders: 10_000, historyLimit: 2_000 },
  });
  const webhookSubscriptions = createWebhookSubscriptionService(deps);

  void app.register(helmet, {
    // The reference page at /docs loads its own script and styles; everything else is JSON.
    contentSecurityPolicy: {
      directives: { 'script-src': ["'self'"], 'style-src': ["'self'", 'https:', "'unsafe-inline'"] },
    },
  });
  void app.register(rateLimit, {
    max: deps.rateLimitPerMinute,
    timeWindow: '1 minute',
    keyGenerator: rateLimitKey,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      error: 'too_many_requests',
      message: `more than ${context.max} requests a minute: retry in ${Math.ceil(context.ttl / 1000)} s`,
    }),
  });
  void app.register(cookie, { secret: deps.sessionSecret });
  void app.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    cookieOpts: {
      signed: true,
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
      secure: deps.session.secureCookies,
    },
    // Bound to the session: a token taken from one session is worthless in another.
    getUserInfo: (request: FastifyRequest) => sessionIdOf(request) ?? '',
    csrfOpts: { hmacKey: deps.sessionSecret },
  });
  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'cancelflow',
        version: '1',
        description:
          'Durable order cancellation. People sign in (POST /v1/auth/sign-in: a session cookie, and a CSRF ' +
          'token to send as x-csrf-token with writes); systems send an API key as a bearer token.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'cfk_… API key' },
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
        },
      },
      security: [{ apiKey: [] }, { session: [] }],
      // What subscribers of outbound webhooks receive (api/webhook-subscriptions.routes.ts).
      webhooks: webhookEventWebhooks(),
    },
    transform: jsonSchemaTransform,
  });
  void app.register(swaggerUi, { routePrefix: '/docs' });

  app.setErrorHandler((error, request, reply) => {
    if (isCancelflowError(error)) {
      const body: ApiErrorBody = { error: error.code, message: error.message, details: error.details };
      if (error.httpStatus === 503) void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      return reply.status(error.httpStatus).send(body);
    }
    if (isDatabaseUnreachable(error)) {
      request.log.warn({ err: error }, 'the database did not answer');
      return reply
        .status(503)
        .header('retry-after', String(RETRY_AFTER_SECONDS))
        .send({
          error: 'unavailable',
          message: `the database did not answer within ${deps.deadlines.databaseMs / 1000} s; retry in a moment`,
        } satisfies ApiErrorBody);
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const [issue] = error.validation;
      const { field, unknown } = fieldOf(issue, error.validationContext);
      const why = unknown ? 'is not a field of this request' : (issue?.message ?? 'is invalid');
      return reply.status(400).send({
        error: 'validation_failed',
        message: `${field}: ${why}`,
        details: { field },
      } satisfies ApiErrorBody);
    }
    // Fastify's own 4xx (unparseable JSON, wrong content type, body too large, CSRF) keep their status and reason.
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      const code = status === 403 ? 'forbidden' : status === 429 ? 'too_many_requests' : 'bad_request';
      return reply
        .status(status)
        .send({ error: code, message: (error as Error).message } satisfies ApiErrorBody);
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ error: 'internal', message: 'internal error' } satisfies ApiErrorBody);
  });

  // Routes go in a plugin registered after the ones above, so that their onRoute hooks (the rate limit's)
  // see every route: a route added straight to the root before the plugins load would escape them.
  void app.register((api: ApiInstance<Logger>, _options, done) => {
    enforceAccess(api, {
      models: deps.models,
      checkCsrf: (request: FastifyRequest, reply: FastifyReply) =>
        new Promise<void>((resolve, reject) => {
          app.csrfProtection(request, reply, (error?: Error) => (error ? reject(error) : resolve()));
        }),
    });

    api.get(
      '/openapi.json',
      { config: { access: { public: 'the API description' } }, schema: { hide: true } },
      () => app.swagger(),
    );
    registerAuthRoutes(api, deps);
    registerOidcRoutes(api, deps);

    api.get(
      '/health',
      { config: { access: { public: 'load balancers and ops probe it' } } },
      async (_request, reply) => {
        const down = (error: unknown) => `down: ${error instanceof Error ? error.message : String(error)}`;
        const [database, temporal, worker] = await Promise.all([
          before(
            deps.deadlines.databaseMs,
            'the database',
            deps.models.db.db?.admin().ping() ?? Promise.reject(new Error('not connected')),
          ).then(() => 'ok', down),
          withinDeadline(deps.temporal, deps.deadlines.temporalMs, 'health', () =>
            deps.temporal.workflowService.getSystemInfo({}),
          ).then(() => 'ok', down),
          workerPolling(deps.temporal, deps.taskQueue, deps.deadlines.temporalMs),
        ]);
        const healthy = database === 'ok' && temporal === 'ok';
        if (!healthy) void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
        const status = !healthy ? 'unavailable' : worker === 'ok' ? 'ok' : 'degraded';
        return reply.status(healthy ? 200 : 503).send({ status, database, temporal, worker });
      },
    );

    registerCancellationRoutes(api, { cancellations });
    registerBulkCancellationRoutes(api, { bulkCancellations });
    registerOrderRoutes(api, {
      models: deps.models,
      publicBaseUrl: deps.console.publicBaseUrl,
      customerLinks: deps.console.customerLinks,
    });
    registerWebhookRoutes(api, deps);
    registerFeedbackRoutes(api, deps);
    registerNotificationRoutes(api, deps);
    registerMessageRoutes(api, deps);
    registerDelegationRoutes(api, deps);
    registerAnalyticsRoutes(api, deps);
    registerWebhookSubscriptionRoutes(api, { webhookSubscriptions });
    registerCodecRoutes(api, deps);
    registerConsole(api, { ...deps, cancellations, bulkCancellations, webhookSubscriptions });
    done();
  });

  return app;
}
