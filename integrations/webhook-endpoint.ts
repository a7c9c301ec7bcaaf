// A subscriber's endpoint as cancelflow posts to it: one event per request, signed the Standard Webhooks way
// (https://www.standardwebhooks.com: webhook-id, webhook-timestamp and webhook-signature `v1,<base64 of
// HMAC-SHA256 over "id.timestamp.body">` with the `whsec_` secret), within a deadline. The signing is the
// `standardwebhooks` library's, the very one receivers verify with (client/webhook-verifier.ts).
import { Webhook } from 'standardwebhooks';

export interface SignedEvent {
  /** The event's id: webhook-id, the same on every attempt, by which receivers drop a copy. */
  id: string;
  /** The JSON body, exactly as the signature covers it. */
  body: string;
}

/** The three Standard Webhooks headers for one attempt, signed at `at` (each attempt signs anew). */
export function signedHeaders(secret: string, event: SignedEvent, at: Date): Record<string, string> {
  return {
    'webhook-id': event.id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(event.id, at, event.body),
  };
}

export interface EndpointAnswer {
  /** A 2xx answer: the receiver has it. */
  delivered: boolean;
  statusCode?: number;
  /** Why it did not count: the status, a timeout, a refused connection. */
  error?: string;
  durationMs: number;
}

function whyUnreachable(error: unknown, timeoutMs: number): string {
  // Read by their fields, not `instanceof`: fetch's errors may come from another realm (undici's own).
  const { name, message, cause } = (error ?? {}) as {
    name?: unknown;
    message?: unknown;
    cause?: { code?: unknown; message?: unknown };
  };
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  if (typeof cause?.code === 'string') return `unreachable (${cause.code})`;
  const why = typeof cause?.message === 'string' ? cause.message : message;
  return `unreachable: ${typeof why === 'string' ? why : String(error)}`;
}

/**
 * Posts the event to the endpoint, signed now. Redirects are not followed (a 3xx is not delivered): the
 * signature is for this URL. The deadline covers the whole exchange, the answer's body included.
 */
export async function postSignedEvent(
  endpoint: { url: string; secret: string },
  event: SignedEvent,
  timeoutMs: number,
): Promise<EndpointAnswer> {
  const started = new Date();
  const elapsed = () => Math.max(0, Date.now() - started.getTime());
  try {
    const response = await fetch(endpoint.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'cancelflow-webhooks/1',
        ...signedHeaders(endpoint.secret, event, started),
      },
      body: event.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.arrayBuffer();
    const delivered = response.status >= 200 && response.status < 300;
    return {
      delivered,
      statusCode: response.status,
      ...(delivered ? {} : { error: `HTTP ${response.status}` }),
      durationMs: elapsed(),
    };
  } catch (error) {
    return { delivered: false, error: whyUnreachable(error, timeoutMs), durationMs: elapsed() };
  }
}
