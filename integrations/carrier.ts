// The carrier as cancelflow sees it (R9): a shipment already handed over can be asked to stop (intercepted or
// recalled to the warehouse). The carrier answers at once (accepted, too late) or later (pending), and then
// posts the outcome to cancelflow's webhook, signed with a shared secret. `createHttpCarrier` speaks to the
// carrier simulator's API (simulators/carrier.simulator.ts), which follows the shape carriers' APIs share.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export interface RecallShipment {
  shipmentId: string;
  trackingNumber?: string | null;
  reason?: string;
}

export type RecallOutcome =
  | { status: 'accepted'; recallId: string }
  /** The carrier decides later and posts the outcome to the webhook. */
  | { status: 'pending'; recallId: string }
  | { status: 'too_late'; recallId: string; message: string }
  | { status: 'failed'; retryable: boolean; message: string }
  /** A status we do not know: only a person can find out what the carrier meant. */
  | { status: 'unrecognised'; recallId?: string; message: string };

export interface Carrier {
  /** Asks to stop the shipment; the same idempotency key always means the same request. */
  requestRecall(shipment: RecallShipment, idempotencyKey: string): Promise<RecallOutcome>;
}

interface RecallBody {
  id?: string;
  status?: string;
  message?: string;
  error?: { message?: string; retryable?: boolean };
}

export function createHttpCarrier(
  baseUrl: string,
  options: { apiKey?: string; timeoutMs?: number } = {},
): Carrier {
  const endpoint = new URL('/v1/recalls', baseUrl);
  return {
    async requestRecall(shipment, idempotencyKey) {
      let response: Response;
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': idempotencyKey,
            ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
          },
          body: JSON.stringify({
            shipmentId: shipment.shipmentId,
            trackingNumber: shipment.trackingNumber ?? undefined,
            reason: shipment.reason,
          }),
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
      } catch (error) {
        return { status: 'failed', retryable: true, message: `carrier unreachable: ${String(error)}` };
      }
      const body = (await response.json().catch(() => ({}))) as RecallBody;
      if (response.ok && !body.id) {
        // A success without a recall to follow: neither stopped nor refused, so not to be guessed either way.
        return {
          status: 'unrecognised',
          message: `the carrier answered HTTP ${response.status} without a recall id (status ${JSON.stringify(body.status ?? null)})`,
        };
      }
      if (response.ok && body.id) {
        if (body.status === 'accepted' || body.status === 'pending')
          return { status: body.status, recallId: body.id };
        if (body.status === 'too_late') {
          return {
            status: 'too_late',
            recallId: body.id,
            message: body.message ?? 'too late to stop the shipment',
          };
        }
        return {
          status: 'unrecognised',
          recallId: body.id,
          message: `the carrier answered recall ${body.id} with status ${JSON.stringify(body.status ?? null)}`,
        };
      }
      return {
        status: 'failed',
        // 5xx and 429 are worth another try; any other refusal is the carrier's final word.
        retryable: body.error?.retryable ?? (response.status >= 500 || response.status === 429),
        message: body.error?.message ?? `carrier answered HTTP ${response.status}`,
      };
    },
  };
}

// The outcome the carrier posts later, and how it is signed:
// `x-carrier-signature: t=<unix seconds>,v1=<hex>`, where v1 is HMAC-SHA256 of `<t>.<raw body>` with the
// shared secret. The timestamp bounds replays.

export const CARRIER_SIGNATURE_HEADER = 'x-carrier-signature';
export const CARRIER_SIGNATURE_TOLERANCE_MS = 5 * 60_000;

export const carrierOutcomeEvent = z.object({
  /** The carrier's id for this event: a redelivery carries the same one. */
  eventId: z.string().trim().min(1).max(200),
  shipmentId: z.string().trim().min(1).max(200),
  recallId: z.string().trim().min(1).max(200),
  outcome: z.enum(['accepted', 'failed', 'too_late']),
  reason: z.string().max(1000).optional(),
  occurredAt: z.iso.datetime({ offset: true }),
});
export type CarrierOutcomeEvent = z.infer<typeof carrierOutcomeEvent>;

export function signCarrierPayload(secret: string, body: string, timestampSeconds: number): string {
  const digest = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex');
  return `t=${timestampSeconds},v1=${digest}`;
}

/** Checks a webhook's signature; on refusal, says why (never what was expected). */
export function verifyCarrierSignature(
  secret: string,
  header: string | undefined,
  body: string,
  now: number = Date.now(),
): { valid: true } | { valid: false; reason: string } {
  if (!header) return { valid: false, reason: `the ${CARRIER_SIGNATURE_HEADER} header is missing` };
  const parts = new Map(
    header.split(',').map((part) => {
      const separator = part.indexOf('=');
      return [part.slice(0, separator).trim(), part.slice(separator + 1).trim()] as const;
    }),
  );
  const timestamp = Number(parts.get('t'));
  const signature = parts.get('v1') ?? '';
  if (!Number.isInteger(timestamp) || !/^[0-9a-f]{64}$/.test(signature)) {
    return { valid: false, reason: `the ${CARRIER_SIGNATURE_HEADER} header is malformed` };
  }
  if (Math.abs(now - timestamp * 1000) > CARRIER_SIGNATURE_TOLERANCE_MS) {
    return { valid: false, reason: 'the signature timestamp is outside the 5 minute tolerance' };
  }
  const expected = Buffer.from(signCarrierPayload(secret, body, timestamp).split('v1=')[1] ?? '', 'hex');
  const given = Buffer.from(signature, 'hex');
  if (!timingSafeEqual(expected, given)) return { valid: false, reason: 'the signature does not match' };
  return { valid: true };
}
