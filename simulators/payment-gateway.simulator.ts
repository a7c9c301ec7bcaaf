// A local stand-in for a card gateway's refund API, speaking exactly what integrations/payment-gateway.ts
// sends and expects. It keeps the idempotency rules real gateways have, because those are what cancelflow's
// retries depend on: a replayed key returns the first result and never refunds twice, a reused key with
// other parameters is refused, and a transient failure stores nothing so the retry can succeed.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { frameworkLogger, httpUrl, listeningPort } from './server-support';

export type GatewayMode = 'succeed' | 'pending' | 'fail_transient' | 'fail_final';

export interface GatewayBehaviour {
  mode: GatewayMode;
  /** How many new refund requests get this mode before the gateway goes back to succeeding; unlimited if absent. */
  times?: number;
  /** How long each of those requests takes to answer. */
  delayMs?: number;
}

export interface SimulatedRefund {
  id: string;
  status: 'succeeded' | 'pending';
  payment: string;
  amount: number;
  currency: string;
  reason: string | null;
  idempotencyKey: string;
  createdAt: Date;
  settledAt: Date | null;
}

export interface PaymentGatewaySimulatorOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  logger?: Logger | false;
}

export interface PaymentGatewaySimulator {
  readonly url: string;
  readonly port: number;
  /** Every refund created, oldest first (replays create none). */
  readonly refunds: readonly SimulatedRefund[];
  /** POST /v1/refunds requests received, replays and refusals included. */
  readonly requests: number;
  setBehaviour(behaviour: GatewayBehaviour): void;
  /**
   * New refund requests against this payment reference get this behaviour, ahead of the general one (`times`
   * counts them, then the payment goes back to the general behaviour): one order's refund can fail for good
   * while the others' succeed.
   */
  setBehaviourFor(payment: string, behaviour: GatewayBehaviour): void;
  /** Turns a pending refund into a succeeded one; replays of its key then answer succeeded. */
  settlePending(refundId: string): SimulatedRefund;
  /** Forgets refunds, idempotency keys and the request count, and goes back to succeeding. */
  clear(): void;
  close(): Promise<void>;
}

interface GatewayErrorBody {
  error: { message: string; retryable: boolean };
}

type StoredOutcome =
  | { kind: 'in_flight'; fingerprint: string }
  | { kind: 'refund'; fingerprint: string; refundId: string }
  | { kind: 'failure'; fingerprint: string; status: number; message: string };

const behaviourSchema = z.object({
  mode: z.enum(['succeed', 'pending', 'fail_transient', 'fail_final']),
  times: z.int().min(1).optional(),
  delayMs: z.int().min(0).max(600_000).optional(),
});

const refundRequestSchema = z.object({
  payment: z.string().trim().min(1, 'payment must be a non-empty reference'),
  amount: z.int('amount must be an integer in minor units').positive('amount must be positive'),
  currency: z.string().regex(/^[A-Za-z]{3}$/, 'currency must be a three-letter ISO 4217 code'),
  reason: z.string().max(1000).optional(),
});

const declinedMessage = 'card issuer declined the refund';

function refuse(reply: FastifyReply, status: number, message: string, retryable: boolean): FastifyReply {
  return reply.status(status).send({ error: { message, retryable } } satisfies GatewayErrorBody);
}

function refundResource(refund: SimulatedRefund) {
  const { id, status, payment, amount, currency } = refund;
  return { id, status, payment, amount, currency };
}

export async function startPaymentGatewaySimulator(
  options: PaymentGatewaySimulatorOptions = {},
): Promise<PaymentGatewaySimulator> {
  const host = options.host ?? '127.0.0.1';
  const log = options.logger || undefined;
  const refunds: SimulatedRefund[] = [];
  const outcomesByKey = new Map<string, StoredOutcome>();
  let requests = 0;
  let behaviour: GatewayBehaviour = { mode: 'succeed' };
  const behaviourByPayment = new Map<string, GatewayBehaviour>();
  // Aborted by close(), so a delayed answer does not keep the process alive.
  const closing = new AbortController();

  const setBehaviour = (next: GatewayBehaviour) => {
    behaviour = behaviourSchema.parse(next);
  };

  const setBehaviourFor = (payment: string, next: GatewayBehaviour) => {
    behaviourByPayment.set(payment, behaviourSchema.parse(next));
  };

  /** The behaviour for one new request, the payment's own first, counting it against `times`. */
  const takeBehaviour = (payment: string): GatewayBehaviour => {
    const own = behaviourByPayment.get(payment);
    if (own) {
      if (own.times === 1) behaviourByPayment.delete(payment);
      else if (own.times !== undefined) behaviourByPayment.set(payment, { ...own, times: own.times - 1 });
      return own;
    }
    const current = behaviour;
    if (current.times !== undefined) {
      behaviour = current.times > 1 ? { ...current, times: current.times - 1 } : { mode: 'succeed' };
    }
    return current;
  };

  const settlePending = (refundId: string): SimulatedRefund => {
    const refund = refunds.find((candidate) => candidate.id === refundId);
    if (!refund) throw new Error(`no refund ${refundId}`);
    if (refund.status === 'pending') {
      refund.status = 'succeeded';
      refund.settledAt = new Date();
    }
    return refund;
  };

  // Not one log line per request: one per refund outcome. close() drops keep-alive sockets at once.
  const app = Fastify({
    loggerInstance: frameworkLogger(options.logger),
    forceCloseConnections: true,
  });

  app.setNotFoundHandler((request, reply) =>
    refuse(reply, 404, `no route ${request.method} ${request.url}`, false),
  );
  app.setErrorHandler((error, request, reply) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error }, 'payment gateway simulator failed');
    return refuse(reply, status, error instanceof Error ? error.message : String(error), status >= 500);
  });

  app.post('/v1/refunds', async (request, reply) => {
    requests += 1;
    const key = request.headers['idempotency-key'];
    if (typeof key !== 'string' || key.trim() === '') {
      return refuse(reply, 400, 'the idempotency-key header is required', false);
    }
    const parsed = refundRequestSchema.safeParse(request.body);
    if (!parsed.success) {
      const message = parsed.error.issues.map((issue) => issue.message).join('; ');
      return refuse(reply, 400, `invalid refund request: ${message}`, false);
    }
    const { payment, amount, currency, reason } = parsed.data;
    const fingerprint = JSON.stringify([payment, amount, currency, reason ?? null]);

    const stored = outcomesByKey.get(key);
    if (stored) {
      if (stored.fingerprint !== fingerprint) {
        return refuse(reply, 422, 'idempotency key reused with different parameters', false);
      }
      if (stored.kind === 'in_flight') {
        return refuse(reply, 409, 'a request with this idempotency key is still being processed', true);
      }
      reply.header('idempotent-replayed', 'true');
      if (stored.kind === 'failure') return refuse(reply, stored.status, stored.message, false);
      const refund = refunds.find((candidate) => candidate.id === stored.refundId);
      // The current state, not a snapshot: a settled pending refund replays as succeeded.
      if (refund) return reply.send(refundResource(refund));
    }

    const { mode, delayMs } = takeBehaviour(payment);
    outcomesByKey.set(key, { kind: 'in_flight', fingerprint });
    try {
      if (delayMs) await sleep(delayMs, undefined, { signal: closing.signal });
    } catch {
      outcomesByKey.delete(key);
      return refuse(reply, 503, 'gateway shutting down', true);
    }

    if (mode === 'fail_transient') {
      outcomesByKey.delete(key);
      log?.info({ idempotencyKey: key, payment }, 'refund failed transiently');
      return refuse(reply, 503, 'gateway temporarily unavailable, try again', true);
    }
    if (mode === 'fail_final') {
      outcomesByKey.set(key, { kind: 'failure', fingerprint, status: 402, message: declinedMessage });
      log?.info({ idempotencyKey: key, payment }, 'refund declined');
      return refuse(reply, 402, declinedMessage, false);
    }
    const refund: SimulatedRefund = {
      id: `re_${randomBytes(12).toString('hex')}`,
      status: mode === 'pending' ? 'pending' : 'succeeded',
      payment,
      amount,
      currency,
      reason: reason ?? null,
      idempotencyKey: key,
      createdAt: new Date(),
      settledAt: null,
    };
    refunds.push(refund);
    outcomesByKey.set(key, { kind: 'refund', fingerprint, refundId: refund.id });
    log?.info({ refundId: refund.id, status: refund.status, payment, amount, currency }, 'refund created');
    return reply.send(refundResource(refund));
  });

  app.get<{ Params: { id: string } }>('/v1/refunds/:id', async (request, reply) => {
    const refund = refunds.find((candidate) => candidate.id === request.params.id);
    return refund
      ? reply.send(refundResource(refund))
      : refuse(reply, 404, `no refund ${request.params.id}`, false);
  });

  app.get('/_sim/refunds', () => refunds);
  app.delete('/_sim/refunds', async (_request, reply) => {
    simulator.clear();
    return reply.status(204).send();
  });
  app.post<{ Params: { id: string } }>('/_sim/refunds/:id/settle', async (request, reply) => {
    const refund = refunds.find((candidate) => candidate.id === request.params.id);
    if (!refund) return refuse(reply, 404, `no refund ${request.params.id}`, false);
    return reply.send(settlePending(refund.id));
  });
  app.get('/_sim/behaviour', () => behaviour);
  app.post('/_sim/behaviour', async (request, reply) => {
    const parsed = behaviourSchema.safeParse(request.body);
    if (!parsed.success) return refuse(reply, 400, z.prettifyError(parsed.error), false);
    behaviour = parsed.data;
    return reply.send(behaviour);
  });

  await app.listen({ host, port: options.port ?? 0 });
  const port = listeningPort(app.server);
  const simulator: PaymentGatewaySimulator = {
    url: httpUrl(host, port),
    port,
    refunds,
    get requests() {
      return requests;
    },
    setBehaviour,
    setBehaviourFor,
    settlePending,
    clear() {
      refunds.length = 0;
      outcomesByKey.clear();
      requests = 0;
      behaviour = { mode: 'succeed' };
      behaviourByPayment.clear();
    },
    async close() {
      closing.abort();
      await app.close();
    },
  };
  return simulator;
}
