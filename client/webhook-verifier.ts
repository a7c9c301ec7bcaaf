// For receivers of cancelflow's outbound webhooks: checks that a request comes from cancelflow, unchanged and
// recent, before anything in it is believed. The Standard Webhooks scheme (https://www.standardwebhooks.com),
// through its own library: the webhook-signature header must hold `v1,<base64 HMAC-SHA256>` of
// "webhook-id.webhook-timestamp.body" under the subscription's `whsec_` secret, and webhook-timestamp must be
// within five minutes of the receiver's clock (an old request replayed is refused).
//
//   const event = verifyWebhookEvent(secret, rawBody, request.headers); // throws when it does not hold
//   if (await alreadyHandled(event.id)) return; // at least once: the same id may come again
//
// Verify the body exactly as it arrived (the raw bytes or string), never a re-serialized parse of it.
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { CancelflowError } from '../lib/errors';
import type { WebhookEventPayload } from './contract';

export type { BulkJobEventPayload, CancellationEventPayload, WebhookEventPayload } from './contract';

/** Headers as Node's http module (or fetch's Headers, spread into an object) gives them. */
export type IncomingHeaders = Record<string, string | string[] | undefined>;

function header(headers: IncomingHeaders, name: string): string | undefined {
  const found = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(found) ? found[0] : found;
}

/**
 * The event (a cancellation's or a bulk job's: tell them apart by `type`), once its signature and timestamp
 * hold; otherwise a CancelflowError `unauthorized` (answer 401, and do not act on it). The event's `id` is the
 * webhook-id header's: drop repeats by it; order a cancellation's (or a job's) events by `sequence`.
 */
export function verifyWebhookEvent(
  secret: string,
  body: string | Uint8Array,
  headers: IncomingHeaders,
): WebhookEventPayload {
  const signed = {
    'webhook-id': header(headers, 'webhook-id') ?? '',
    'webhook-timestamp': header(headers, 'webhook-timestamp') ?? '',
    'webhook-signature': header(headers, 'webhook-signature') ?? '',
  };
  let event: WebhookEventPayload;
  try {
    // Signed by cancelflow, so of its shape: the signature is the check, not a schema.
    event = new Webhook(secret).verify(body, signed) as WebhookEventPayload;
  } catch (error) {
    const why = error instanceof WebhookVerificationError ? error.message : 'the body is not JSON';
    throw new CancelflowError('unauthorized', `webhook refused: ${why}`, undefined, { cause: error });
  }
  if (typeof event !== 'object' || event === null || event.id !== signed['webhook-id']) {
    throw new CancelflowError(
      'unauthorized',
      'webhook refused: the body names another event than webhook-id',
    );
  }
  return event;
}
