// A local stand-in for a carrier's recall API (R9), speaking what integrations/carrier.ts sends and expects.
// It can be told to accept a recall, refuse it (too late: the parcel is out for delivery), answer late
// (pending now, the outcome posted to the webhook later, signed with the shared secret), fail
// (unavailable), or answer with a status cancelflow does not know. Like a real carrier it honours idempotency keys: a repeated request returns the first
// recall, never a second one.
import { createHmac, randomBytes } from 'node:crypto';
import Fastify, { type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { frameworkLogger, httpUrl, listeningPort } from './server-support';

/**
 * `unknown` answers with a status cancelflow does not know (`held_for_inspection`), as a carrier that changed its
 * API would; the recall stays open until an outcome is reported for it.
 */
export type CarrierMode = 'accept' | 'refuse' | 'late' | 'fail' | 'unknown';
export type CarrierFinalOutcome = 'accepted' | 'failed' | 'too_late';

export interface CarrierBehaviour {
  mode: CarrierMode;
  /** How many new recall requests get this mode before the carrier accepts again; unlimited if absent. */
  times?: number;
  /** In `late` mode, what the webhook reports later. Default `accepted`. */
  lateOutcome?: CarrierFinalOutcome;
  /** In `late` mode, when the webhook reports it; absent, only when told (`reportOutcome`). */
  answerAfterMs?: number;
}

export interface SimulatedRecall {
  id: string;
  shipmentId: string;
  trackingNumber: string | null;
  reason: string | null;
  idempotencyKey: string;
  status: 'pending' | 'held_for_inspection' | CarrierFinalOutcome;
  /** Why it was refused or failed. */
  message: string | null;
  createdAt: Date;
  decidedAt: Date | null;
}

/** One webhook post, and what the receiver answered. */
export interface CarrierWebhookDelivery {
  eventId: string;
  recallId: string;
  url: string;
  body: string;
  attempts: number;
  /** The receiver's last HTTP status; null when it could not be reached. */
  responseStatus: number | null;
  responseBody: string | null;
  at: Date;
}

export interface CarrierSimulatorOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Where outcomes decided later are posted (cancelflow's /v1/webhooks/carrier). */
  webhookUrl?: string;
  /** The secret webhooks are signed with (CARRIER_WEBHOOK_SECRET). */
  webhookSecret?: string;
  /** When given, requests must carry it as a bearer token (CARRIER_API_KEY). */
  apiKey?: string;
  logger?: Logger | false;
}

export interface CarrierSimulator {
  readonly url: string;
  readonly port: number;
  /** Every recall created, oldest first (replays create none). */
  readonly recalls: readonly SimulatedRecall[];
  /** Every webhook posted, oldest first. */
  readonly webhooks: readonly CarrierWebhookDelivery[];
  setBehaviour(behaviour: CarrierBehaviour): void;
  /**
   * New recall requests for this shipment get this behaviour, ahead of the general one (`times` counts them,
   * then the shipment goes back to the general behaviour): one parcel can be too late while others stop.
   */
  setBehaviourFor(shipmentId: string, behaviour: CarrierBehaviour): void;
  /** Decides a pending recall and posts the outcome to the webhook; resolves with the delivery. */
  reportOutcome(
    recallId: string,
    outcome: CarrierFinalOutcome,
    reason?: string,
  ): Promise<CarrierWebhookDelivery>;
  /** Posts an event as given, signed with `secret` (default: the configured one). */
  postWebhook(event: Record<string, unknown>, secret?: string): Promise<CarrierWebhookDelivery>;
  clear(): void;
  close(): Promise<void>;
}

const behaviourSchema = z.object({
  mode: z.enum(['accept', 'refuse', 'late', 'fail', 'unknown']),
  times: z.int().min(1).optional(),
  lateOutcome: z.enum(['accepted', 'failed', 'too_late']).optional(),
  answerAfterMs: z.int().min(0).max(600_000).optional(),
});

const recallRequestSchema = z.object({
  shipmentId: z.string().trim().min(1, 'shipmentId is required'),
  trackingNumber: z.string().trim().min(1).optional(),
  reason: z.string().max(1000).optional(),
});

const outcomeRequestSchema = z.object({
  outcome: z.enum(['accepted', 'failed', 'too_late']),
  reason: z.string().max(1000).optional(),
});

const tooLateMessage = 'the parcel is already out for delivery';
const webhookAttempts = 3;

function refuse(reply: FastifyReply, status: number, message: string, retryable: boolean): FastifyReply {
  return reply.status(status).send({ error: { message, retryable } });
}

function recallResource(recall: SimulatedRecall) {
  const { id, status, shipmentId, message } = recall;
  return { id, status, shipmentId, ...(message ? { message } : {}) };
}

/** The carrier's signature, as integrations/carrier.ts documents it: HMAC-SHA256 of `<t>.<body>`, hex. */
function signature(secret: string, body: string): string {
  const timestamp = Math.floor(Date.now() / 1000);
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export async function startCarrierSimulator(
  options: CarrierSimulatorOptions = {},
): Promise<CarrierSimulator> {
  const host = options.host ?? '127.0.0.1';
  const log = options.logger || undefined;
  const recalls: SimulatedRecall[] = [];
  const webhooks: CarrierWebhookDelivery[] = [];
  const recallsByKey = new Map<string, SimulatedRecall>();
  const timers = new Set<NodeJS.Timeout>();
  let behaviour: CarrierBehaviour = { mode: 'accept' };
  const behaviourByShipment = new Map<string, CarrierBehaviour>();

  const setBehaviour = (next: CarrierBehaviour) => {
    behaviour = behaviourSchema.parse(next);
  };
  const setBehaviourFor = (shipmentId: string, next: CarrierBehaviour) => {
    behaviourByShipment.set(shipmentId, behaviourSchema.parse(next));
  };
  /** The behaviour for one new request, the shipment's own first, counting it against `times`. */
  const takeBehaviour = (shipmentId: string): CarrierBehaviour => {
    const own = behaviourByShipment.get(shipmentId);
    if (own) {
      if (own.times === 1) behaviourByShipment.delete(shipmentId);
      else if (own.times !== undefined) behaviourByShipment.set(shipmentId, { ...own, times: own.times - 1 });
      return own;
    }
    const current = behaviour;
    if (current.times !== undefined) {
      behaviour = current.times > 1 ? { ...current, times: current.times - 1 } : { mode: 'accept' };
    }
    return current;
  };

  /** Posts one signed event, retrying what a receiver could not take (unreachable or 5xx), as carriers do. */
  const postWebhook = async (
    event: Record<string, unknown>,
    secret = options.webhookSecret,
  ): Promise<CarrierWebhookDelivery> => {
    if (!options.webhookUrl || secret === undefined) {
      throw new Error('the carrier simulator needs a webhookUrl and a webhookSecret to post outcomes');
    }
    const body = JSON.stringify(event);
    const delivery: CarrierWebhookDelivery = {
      eventId: String(event.eventId),
      recallId: String(event.recallId),
      url: options.webhookUrl,
      body,
      attempts: 0,
      responseStatus: null,
      responseBody: null,
      at: new Date(),
    };
    webhooks.push(delivery);
    while (delivery.attempts < webhookAttempts) {
      delivery.attempts += 1;
      try {
        const response = await fetch(options.webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-carrier-signature': signature(secret, body) },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        delivery.responseStatus = response.status;
        delivery.responseBody = await response.text();
        if (response.status < 500) break;
      } catch (error) {
        delivery.responseBody = error instanceof Error ? error.message : String(error);
      }
      await new Promise((resolve) => setTimeout(resolve, 100 * delivery.attempts));
    }
    log?.info(
      { eventId: delivery.eventId, recallId: delivery.recallId, status: delivery.responseStatus },
      'carrier webhook posted',
    );
    return delivery;
  };

  const reportOutcome = async (recallId: string, outcome: CarrierFinalOutcome, reason?: string) => {
    const recall = recalls.find((candidate) => candidate.id === recallId);
    if (!recall) throw new Error(`no recall ${recallId}`);
    recall.status = outcome;
    recall.message = reason ?? (outcome === 'too_late' ? tooLateMessage : null);
    recall.decidedAt = new Date();
    return postWebhook({
      eventId: `evt_${randomBytes(8).toString('hex')}`,
      shipmentId: recall.shipmentId,
      recallId: recall.id,
      outcome,
      ...(recall.message ? { reason: recall.message } : {}),
      occurredAt: recall.decidedAt.toISOString(),
    });
  };

  const app = Fastify({ loggerInstance: frameworkLogger(options.logger), forceCloseConnections: true });
  app.setNotFoundHandler((request, reply) =>
    refuse(reply, 404, `no route ${request.method} ${request.url}`, false),
  );
  app.setErrorHandler((error, request, reply) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error }, 'carrier simulator failed');
    return refuse(reply, status, error instanceof Error ? error.message : String(error), status >= 500);
  });

  app.post('/v1/recalls', async (request, reply) => {
    if (options.apiKey !== undefined && request.headers.authorization !== `Bearer ${options.apiKey}`) {
      return refuse(reply, 401, 'a valid API key is required', false);
    }
    const key = request.headers['idempotency-key'];
    if (typeof key !== 'string' || key.trim() === '') {
      return refuse(reply, 400, 'the idempotency-key header is required', false);
    }
    const parsed = recallRequestSchema.safeParse(request.body);
    if (!parsed.success) {
      return refuse(reply, 400, parsed.error.issues.map((issue) => issue.message).join('; '), false);
    }
    const earlier = recallsByKey.get(key);
    if (earlier) {
      if (earlier.shipmentId !== parsed.data.shipmentId) {
        return refuse(reply, 422, 'idempotency key reused for another shipment', false);
      }
      reply.header('idempotent-replayed', 'true');
      return reply.send(recallResource(earlier));
    }

    const { mode, lateOutcome, answerAfterMs } = takeBehaviour(parsed.data.shipmentId);
    if (mode === 'fail') {
      log?.info({ idempotencyKey: key, shipmentId: parsed.data.shipmentId }, 'recall failed transiently');
      return refuse(reply, 503, 'carrier temporarily unavailable, try again', true);
    }
    const recall: SimulatedRecall = {
      id: `rc_${randomBytes(10).toString('hex')}`,
      shipmentId: parsed.data.shipmentId,
      trackingNumber: parsed.data.trackingNumber ?? null,
      reason: parsed.data.reason ?? null,
      idempotencyKey: key,
      status:
        mode === 'accept'
          ? 'accepted'
          : mode === 'refuse'
            ? 'too_late'
            : mode === 'unknown'
              ? 'held_for_inspection'
              : 'pending',
      message: mode === 'refuse' ? tooLateMessage : null,
      createdAt: new Date(),
      decidedAt: mode === 'late' || mode === 'unknown' ? null : new Date(),
    };
    recalls.push(recall);
    recallsByKey.set(key, recall);
    log?.info(
      { recallId: recall.id, shipmentId: recall.shipmentId, status: recall.status },
      'recall requested',
    );
    if (mode === 'late' && answerAfterMs !== undefined) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        reportOutcome(recall.id, lateOutcome ?? 'accepted').catch((error: unknown) =>
          log?.warn({ err: error, recallId: recall.id }, 'late outcome could not be posted'),
        );
      }, answerAfterMs);
      timers.add(timer);
    }
    return reply.send(recallResource(recall));
  });

  app.get<{ Params: { id: string } }>('/v1/recalls/:id', async (request, reply) => {
    const recall = recalls.find((candidate) => candidate.id === request.params.id);
    return recall
      ? reply.send(recallResource(recall))
      : refuse(reply, 404, `no recall ${request.params.id}`, false);
  });

  app.get('/_sim/recalls', () => recalls);
  app.get('/_sim/webhooks', () => webhooks);
  app.delete('/_sim/recalls', async (_request, reply) => {
    simulator.clear();
    return reply.status(204).send();
  });
  app.get('/_sim/behaviour', () => behaviour);
  app.post('/_sim/behaviour', async (request, reply) => {
    const parsed = behaviourSchema.safeParse(request.body);
    if (!parsed.success) return refuse(reply, 400, z.prettifyError(parsed.error), false);
    behaviour = parsed.data;
    return reply.send(behaviour);
  });
  app.post<{ Params: { id: string } }>('/_sim/recalls/:id/outcome', async (request, reply) => {
    const parsed = outcomeRequestSchema.safeParse(request.body);
    if (!parsed.success) return refuse(reply, 400, z.prettifyError(parsed.error), false);
    if (!recalls.some((recall) => recall.id === request.params.id)) {
      return refuse(reply, 404, `no recall ${request.params.id}`, false);
    }
    return reply.send(await reportOutcome(request.params.id, parsed.data.outcome, parsed.data.reason));
  });

  await app.listen({ host, port: options.port ?? 0 });
  const port = listeningPort(app.server);
  const simulator: CarrierSimulator = {
    url: httpUrl(host, port),
    port,
    recalls,
    webhooks,
    setBehaviour,
    setBehaviourFor,
    reportOutcome,
    postWebhook,
    clear() {
      recalls.length = 0;
      webhooks.length = 0;
      recallsByKey.clear();
      behaviour = { mode: 'accept' };
      behaviourByShipment.clear();
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await app.close();
    },
  };
  return simulator;
}
