// The one configuration schema. Nothing else in cancelflow reads process.env: every setting a user can
// change is declared, defaulted and validated here, and a bad value stops start-up naming the variable.
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { TASK_QUEUE_DEFAULT } from '../contracts/cancellation.contract';
import { CancelflowError } from './errors';

const port = z.coerce.number().int().min(0).max(65535);
const optionalSecret = z.string().min(1).optional();

/** Secrets' defaults for the local simulators only. */
const LOCAL_SECRET_DEFAULTS = {
  TWILIO_AUTH_TOKEN: 'local-sms-simulator-token',
  CARRIER_WEBHOOK_SECRET: 'local-carrier-webhook-secret',
  SESSION_SECRET: 'local-session-secret-change-me-in-production',
  CUSTOMER_LINK_SECRET: 'local-customer-link-secret-change-me-in-production',
  // A fixed 32-byte key, so histories recorded locally (test/histories) decode on every machine.
  PAYLOAD_KEYS: 'local:bG9jYWwtcGF5bG9hZC1rZXktY2hhbmdlLW1lLTMyYnk=',
} as const;

export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

    TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default(TASK_QUEUE_DEFAULT),
    TEMPORAL_UI_PORT: port.default(8233),
    /**
     * Workflows the worker keeps in memory between their tasks (Temporal's sticky cache). Bounded, so that
     * thousands of cancellations waiting for approval hold bounded memory: one evicted is replayed from its
     * short history when it next moves (issue #13).
     */
    WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().positive().default(500),

    /** A real MongoDB (e.g. docker-compose's replica set). When absent, `npm start` runs the embedded one. */
    MONGODB_URI: z.string().startsWith('mongodb').optional(),
    MONGODB_PORT: port.default(27017),
    MONGODB_DATABASE: z.string().min(1).default('cancelflow'),
    /** How long a database call waits for a server to answer before it fails (the API then answers 503). */
    MONGODB_TIMEOUT_MS: z.coerce.number().int().positive().default(2_500),
    /** The API's deadline for a call to Temporal (start, describe, query): past it, 503 with the reason. */
    TEMPORAL_CALL_TIMEOUT_MS: z.coerce.number().int().positive().default(2_000),
    /** The API's deadline for a person's action (an Update), which waits for the worker to take it too. */
    TEMPORAL_UPDATE_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),

    API_HOST: z.string().min(1).default('127.0.0.1'),
    API_PORT: port.default(3000),

    SMTP_HOST: z.string().min(1).default('127.0.0.1'),
    SMTP_PORT: port.default(1025),
    SMTP_SECURE: z.stringbool().default(false),
    SMTP_USER: z.string().min(1).optional(),
    SMTP_PASSWORD: optionalSecret,
    MAIL_FROM: z.string().min(3).default('cancelflow <no-reply@cancelflow.local>'),
    MAIL_CATCHER_HTTP_PORT: port.default(8025),

    TWILIO_ACCOUNT_SID: z
      .string()
      .regex(/^AC[0-9a-fA-F]{32}$/, 'a Twilio account SID: AC followed by 32 hex digits')
      .default('AC00000000000000000000000000000000'),
    TWILIO_AUTH_TOKEN: optionalSecret.default(LOCAL_SECRET_DEFAULTS.TWILIO_AUTH_TOKEN),
    TWILIO_FROM_NUMBER: z
      .string()
      .regex(/^\+[1-9]\d{6,14}$/, 'an E.164 phone number')
      .default('+15005550006'),
    /** Where the twilio client sends API calls; unset means Twilio's cloud. `npm start` points it at the SMS simulator. */
    TWILIO_API_BASE_URL: z.url().optional(),

    PAYMENT_GATEWAY_URL: z.url().default('http://127.0.0.1:8027'),

    /**
     * The API's address as the outside world reaches it: Twilio's status callbacks and customers' feedback
     * links are built on it, and Twilio's signatures are checked against it.
     */
    PUBLIC_BASE_URL: z.url().default('http://127.0.0.1:3000'),

    /** The carrier's recall API (R9); `npm start` runs its simulator there. */
    CARRIER_URL: z.url().default('http://127.0.0.1:8028'),
    /** Sent as a bearer token when set; the local simulator needs none. */
    CARRIER_API_KEY: optionalSecret,
    /** Shared with the carrier: it signs what it posts to /v1/webhooks/carrier with it (HMAC-SHA256). */
    CARRIER_WEBHOOK_SECRET: optionalSecret.default(LOCAL_SECRET_DEFAULTS.CARRIER_WEBHOOK_SECRET),

    /** The versioned cancellation policy (R8): which orders may be cancelled, who approves, refund rules. */
    CANCELLATION_POLICY_FILE: z.string().min(1).default('policies/cancellation-policy.json'),

    /** Signs the session cookie people sign in with; at least 32 characters. */
    SESSION_SECRET: z.string().min(32).default(LOCAL_SECRET_DEFAULTS.SESSION_SECRET),
    /**
     * Keys that encrypt what Temporal stores (lib/payload-codec.ts): `id:base64,id:base64`, 32 bytes each; the
     * first encrypts, all decrypt (rotate by putting a new key first and keeping the old ones).
     */
    PAYLOAD_KEYS: z.string().min(1).default(LOCAL_SECRET_DEFAULTS.PAYLOAD_KEYS),
    /** How long a signed-in session lasts, in hours, however active. */
    SESSION_TTL_HOURS: z.coerce
      .number()
      .positive()
      .max(24 * 30)
      .default(12),
    /**
     * Signs the links customers follow to their cancellation's own page (lib/customer-link.ts); at least 32
     * characters. Changing it ends every link given out so far.
     */
    CUSTOMER_LINK_SECRET: z.string().min(32).default(LOCAL_SECRET_DEFAULTS.CUSTOMER_LINK_SECRET),
    /** How long a customer's link holds after it was written, in days. */
    CUSTOMER_LINK_DAYS: z.coerce.number().positive().max(365).default(30),
    /** Failed sign-ins in a row after which an account is locked for SIGN_IN_LOCK_MINUTES. */
    SIGN_IN_MAX_FAILURES: z.coerce.number().int().min(1).default(5),
    SIGN_IN_LOCK_MINUTES: z.coerce.number().positive().default(15),
    /** Requests per caller (person, key, or address when anonymous) per minute, before 429. */
    RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(600),

    /**
     * Sign-in through the company's OpenID Connect identity provider: its issuer URL (discovery is read from
     * `<issuer>/.well-known/openid-configuration`). Unset, sign-in is by password only.
     */
    OIDC_ISSUER_URL: z.url().optional(),
    /** The client cancelflow is registered as at that provider; required with OIDC_ISSUER_URL. */
    OIDC_CLIENT_ID: z.string().min(1).optional(),
    OIDC_CLIENT_SECRET: optionalSecret,
    /** Where the provider sends people back; registered with it. Default: PUBLIC_BASE_URL/v1/auth/oidc/callback. */
    OIDC_REDIRECT_URL: z.url().optional(),

    /** Outbound webhooks (the worker's event dispatcher): how long one request to a subscriber may take. */
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    /** How long an event is retried, from its first attempt, before it is parked as failed for a person. */
    WEBHOOK_RETRY_WINDOW_MS: z.coerce
      .number()
      .int()
      .positive()
      .default(24 * 3_600_000),
    /** The wait before the first retry; each later wait doubles, up to WEBHOOK_RETRY_MAX_INTERVAL_MS. */
    WEBHOOK_RETRY_INITIAL_MS: z.coerce.number().int().positive().default(5_000),
    WEBHOOK_RETRY_MAX_INTERVAL_MS: z.coerce.number().int().positive().default(3_600_000),
    /** How often the dispatcher looks for deliveries that are due, when it found none last time. */
    WEBHOOK_POLL_MS: z.coerce.number().int().positive().default(1_000),

    /**
     * Bulk cancellation (issue #16): how many of a job's cancellations may be processed at once (one waiting for a
     * person holds no slot), the most orders one job may select, and the history length past which a job's
     * workflow continues as new (Temporal's own suggestion also makes it).
     */
    BULK_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(20),
    BULK_MAX_ORDERS: z.coerce.number().int().min(1).default(10_000),
    BULK_HISTORY_LIMIT: z.coerce.number().int().min(50).default(2_000),
    /**
     * How often the worker's bulk job watcher asks Temporal how each open job's workflow stands, to record the
     * ones that ended without finishing (failed, terminated, cancelled, timed out) as `failed`.
     */
    BULK_WATCH_MS: z.coerce.number().int().positive().default(10_000),

    /**
     * The Temporal UI's origin (scheme, host, port), the one page allowed to call the codec endpoint from a browser
     * with a person's session (CORS, api/codec.routes.ts). Default: the dev server's UI that `npm start` runs.
     */
    TEMPORAL_UI_ORIGIN: z.url().optional(),

    /**
     * Prometheus metrics (issue #15). Each process serves them on a port of its own, bound to METRICS_HOST; unset
     * ports are off: the endpoints answer anyone who reaches them, so they are opened only where chosen, and two
     * workers on one machine must not fight over one fixed port. `npm start` turns both on.
     */
    METRICS_HOST: z.string().min(1).default('127.0.0.1'),
    /** The API's /metrics: requests by route and status, and the cancellations, outbox and approvals. */
    API_METRICS_PORT: port.optional(),
    /** The worker's /metrics: the Temporal SDK's own (task slots, polls, latencies, sticky cache). */
    WORKER_METRICS_PORT: port.optional(),
    /** How old the API's figures read from the database may be when scraped (at most one read per interval). */
    METRICS_REFRESH_SECONDS: z.coerce.number().min(0).default(30),

    /**
     * Tracing through Temporal's OpenTelemetry interceptors: the OTLP/HTTP collector's base URL (spans go to
     * `<url>/v1/traces`), e.g. http://127.0.0.1:4318. Unset, nothing is traced.
     */
    OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),

    /**
     * A workflow bundle made beforehand (`bundleWorkflowCode`, written to a file), which the worker loads instead
     * of bundling the workflow code as it starts: a restart then takes seconds less (`npm run chaos` restarts it
     * every few seconds). It must be made from the same code, and with tracing's interceptor modules if
     * OTEL_EXPORTER_OTLP_ENDPOINT is set. Unset, the worker bundles from source.
     */
    WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),

    SIMULATORS_HOST: z.string().min(1).default('127.0.0.1'),
    SMS_SIMULATOR_PORT: port.default(8026),
    PAYMENT_GATEWAY_PORT: port.default(8027),
    CARRIER_PORT: port.default(8028),
  })
  .superRefine((config, context) => {
    // The local defaults of secrets are public (they are in this file): production must set its own.
    if (config.NODE_ENV !== 'production') return;
    for (const [key, localDefault] of Object.entries(LOCAL_SECRET_DEFAULTS)) {
      if (config[key as keyof typeof LOCAL_SECRET_DEFAULTS] === localDefault) {
        context.addIssue({
          code: 'custom',
          path: [key],
          message: 'must be set in production (the default is public)',
        });
      }
    }
  })
  .superRefine((config, context) => {
    if (!config.OIDC_ISSUER_URL) return;
    for (const key of ['OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET'] as const) {
      if (!config[key]) {
        context.addIssue({ code: 'custom', path: [key], message: 'must be set when OIDC_ISSUER_URL is set' });
      }
    }
  })
  .transform((config) => ({
    ...config,
    OIDC_REDIRECT_URL:
      config.OIDC_REDIRECT_URL ?? `${config.PUBLIC_BASE_URL.replace(/\/+$/, '')}/v1/auth/oidc/callback`,
    TEMPORAL_UI_ORIGIN: new URL(config.TEMPORAL_UI_ORIGIN ?? `http://127.0.0.1:${config.TEMPORAL_UI_PORT}`)
      .origin,
  }));

export type Config = z.infer<typeof configSchema>;

/** Parses an environment into a Config; throws a config_invalid error naming every bad variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new CancelflowError('config_invalid', `invalid configuration:\n${problems.join('\n')}`);
  }
  return result.data;
}

/** Reads the process environment (after a `.env` file in the working directory, if there is one). */
export function loadConfig(): Config {
  if (existsSync('.env')) process.loadEnvFile('.env');
  return parseConfig(process.env);
}

/** The settings with secrets masked, for logs and start-up banners. */
export function redactConfig(config: Config): Record<string, unknown> {
  const secret = /PASSWORD|TOKEN|SECRET|API_KEY|PAYLOAD_KEYS/;
  return Object.fromEntries(
    Object.entries(config).map(([key, value]) => [
      key,
      secret.test(key) && value
        ? '***'
        : typeof value === 'string'
          ? value.replace(/(\/\/[^:/@]+:)[^@]+@/, '$1***@') // a password inside a URI (MONGODB_URI)
          : value,
    ]),
  );
}

/** The MongoDB to use: MONGODB_URI when given, otherwise the embedded server `npm start` runs. */
export function mongoUri(config: Pick<Config, 'MONGODB_URI' | 'MONGODB_PORT'>): string {
  return config.MONGODB_URI ?? `mongodb://127.0.0.1:${config.MONGODB_PORT}/?directConnection=true`;
}
