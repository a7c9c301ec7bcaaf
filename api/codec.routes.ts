// The codec endpoint (issue #15): the Temporal UI, and the Temporal CLI's `--codec-endpoint`, send it the
// encrypted payloads of a history and show what it answers. It speaks Temporal's remote codec protocol: POST
// `<endpoint>/decode` or `/encode` with `{payloads: [{metadata: {key: base64}, data: base64}]}` (a Payloads
// message as proto3 JSON), answered in the same shape; the UI adds an X-Namespace header. The cipher is
// lib/payload-codec.ts, with the keys the worker and the API use.
//
// Decoding shows customers' personal data, so only ops may call it, like any other route (api/auth/access.ts):
// a person signed in (the session cookie) or a key in the ops role. The UI is a page of another origin that
// calls it from the person's browser with `credentials: 'include'`: CORS lets exactly TEMPORAL_UI_ORIGIN read the
// answers and send the cookie, and that origin alone may write with a session but without our CSRF token,
// which the UI cannot send. Both routes change nothing anywhere (they compute an answer from the body), and a
// page of any other origin can neither send the cookie with a JSON body nor read the answer.
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Config } from '../lib/config';
import { CancelflowError } from '../lib/errors';
import { EncryptionCodec, parseEncryptionKeys } from '../lib/payload-codec';
import { callerOf, type ApiInstance } from './auth/access';
import { callerErrors } from './error-answers';

export interface CodecSettings {
  codec: PayloadCodec;
  /** The one browser origin allowed to call with a person's session (the Temporal UI). */
  temporalUiOrigin: string;
}

export function codecSettingsFrom(
  config: Pick<Config, 'PAYLOAD_KEYS' | 'TEMPORAL_UI_ORIGIN'>,
): CodecSettings {
  return {
    codec: new EncryptionCodec(parseEncryptionKeys(config.PAYLOAD_KEYS)),
    temporalUiOrigin: config.TEMPORAL_UI_ORIGIN,
  };
}

/** What to give the Temporal UI (`--ui-codec-endpoint`) or CLI (`--codec-endpoint`): they add /decode, /encode. */
export function codecEndpointOf(publicBaseUrl: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/v1/codec`;
}

/** Proto3 JSON writes bytes as base64, standard or URL-safe, padded or not. */
const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64');

// Not strict: the protocol is Temporal's, and a newer UI may send fields of a Payload this version does not know.
const payloadJson = z.object({
  metadata: z.record(z.string(), base64).optional(),
  data: base64.optional(),
});
const payloadsJson = z.object({ payloads: z.array(payloadJson) });
type PayloadJson = z.infer<typeof payloadJson>;

const fromJson = (payload: PayloadJson): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
  ),
  data: Buffer.from(payload.data ?? '', 'base64'),
});

const asBase64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64');

const toJson = (payload: Payload): PayloadJson => ({
  metadata: Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, asBase64(value)]),
  ),
  data: asBase64(payload.data),
});

/** The headers the UI sends with its POST (fetch with a JSON body and X-Namespace; Authorization when configured). */
const ALLOWED_HEADERS = 'content-type, x-namespace, authorization';
/** How long a browser may keep a preflight's answer. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;
/**
 * The UI asks once per group of payloads: 34 requests to show one small cancellation's page. So a person
 * reading histories may call this many times the requests per minute the rest of the API allows them.
 */
const UI_REQUESTS_PER_PAGE = 20;
/** A payload may be up to 2 MB (Temporal's limit); as base64 in JSON, with a few beside it. */
const CODEC_BODY_LIMIT = 8 * 1024 * 1024;

const OPERATIONS = {
  decode: 'Decrypt payloads of a Temporal history, for the Temporal UI and CLI (ops only)',
  encode: 'Encrypt payloads, as the worker and the API do, for the Temporal UI and CLI (ops only)',
} as const;
type Operation = keyof typeof OPERATIONS;

export function registerCodecRoutes<Logger extends FastifyBaseLogger>(
  routes: ApiInstance<Logger>,
  deps: { codec: CodecSettings; rateLimitPerMinute: number },
): void {
  const { codec, temporalUiOrigin } = deps.codec;
  const rateLimit = { max: deps.rateLimitPerMinute * UI_REQUESTS_PER_PAGE, timeWindow: '1 minute' };

  /** Lets the Temporal UI's page read the answer, refusals included (it shows why it could not decode). */
  const allowTemporalUi = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    void reply.header('vary', 'Origin');
    if (request.headers.origin === temporalUiOrigin) {
      void reply.header('access-control-allow-origin', temporalUiOrigin);
      void reply.header('access-control-allow-credentials', 'true');
    }
    return payload;
  };

  for (const operation of Object.keys(OPERATIONS) as Operation[]) {
    const path = `/v1/codec/${operation}`;

    routes.options(
      path,
      {
        config: {
          access: {
            public:
              "a browser's CORS preflight: it carries no credentials, and is answered with headers only",
          },
        },
        schema: { hide: true },
        onSend: allowTemporalUi,
      },
      async (request, reply) => {
        if (request.headers.origin !== temporalUiOrigin) {
          throw new CancelflowError(
            'forbidden',
            `only the Temporal UI at ${temporalUiOrigin} may call this from a browser (TEMPORAL_UI_ORIGIN)`,
          );
        }
        return reply
          .status(204)
          .header('access-control-allow-methods', 'POST')
          .header('access-control-allow-headers', ALLOWED_HEADERS)
          .header('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS))
          .send();
      },
    );

    routes.post(
      path,
      {
        config: {
          access: { roles: ['ops'] },
          csrfTokenNotNeededFrom: {
            origin: temporalUiOrigin,
            why: 'the Temporal UI cannot send our token; the route changes nothing, and only that origin reads it',
          },
          rateLimit,
        },
        bodyLimit: CODEC_BODY_LIMIT,
        onSend: allowTemporalUi,
        schema: {
          tags: ['codec'],
          summary: OPERATIONS[operation],
          description:
            "Temporal's remote codec protocol: a Payloads message as proto3 JSON (bytes as base64) in, the " +
            'same shape out. The Temporal UI calls it with a signed-in ops person’s session (TEMPORAL_UI_ORIGIN); ' +
            'the CLI with an ops API key: `--codec-endpoint <API>/v1/codec --codec-auth "Bearer <key>"`.',
          headers: z.looseObject({
            'x-namespace': z.string().optional().meta({ description: 'The namespace the UI shows' }),
          }),
          body: payloadsJson,
          response: { 200: payloadsJson, ...callerErrors },
        },
      },
      async (request) => {
        const payloads = await Promise.all(
          request.body.payloads.map(async (payload, index) => {
            try {
              const [converted] = await codec[operation]([fromJson(payload)]);
              return toJson(converted ?? {});
            } catch (error) {
              throw new CancelflowError(
                'validation_failed',
                `payloads[${index}]: cannot ${operation} it: ${error instanceof Error ? error.message : String(error)}`,
                { field: `payloads[${index}]` },
              );
            }
          }),
        );
        // Who read personal data, and how much: never what it said.
        const caller = callerOf(request);
        request.log.info(
          {
            personId: caller.personId,
            via: caller.via,
            namespace: request.headers['x-namespace'],
            payloads: payloads.length,
          },
          `payloads ${operation}d through the codec endpoint`,
        );
        return { payloads };
      },
    );
  }
}
