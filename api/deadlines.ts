// Every call the API makes to another server has a deadline, so that a server that is down or overloaded
// costs the caller a second or two and a 503 with its reason, never a hang. Without one, the Temporal client
// retries an unreachable server for about twenty seconds, and mongoose waits for a database for thirty.
import {
  isGrpcServiceError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import { mongo } from 'mongoose';
import type { Config } from '../lib/config';
import { CancelflowError } from '../lib/errors';

export interface Deadlines {
  /** A call to Temporal that the server answers by itself: start, describe, query, health. */
  temporalMs: number;
  /** An Update: the server answers once the workflow has taken it, so the worker's pace counts too. */
  temporalUpdateMs: number;
  /** A database round trip (health's ping; queries get the connection's server-selection timeout). */
  databaseMs: number;
}

/** How long a caller is told to wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 5;

export function deadlinesFrom(
  config: Pick<Config, 'TEMPORAL_CALL_TIMEOUT_MS' | 'TEMPORAL_UPDATE_TIMEOUT_MS' | 'MONGODB_TIMEOUT_MS'>,
): Deadlines {
  return {
    temporalMs: config.TEMPORAL_CALL_TIMEOUT_MS,
    temporalUpdateMs: config.TEMPORAL_UPDATE_TIMEOUT_MS,
    databaseMs: config.MONGODB_TIMEOUT_MS,
  };
}

// gRPC status codes (grpc/status.proto) meaning the server was not reached or did not answer in time.
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;
const GRPC_FAILED_PRECONDITION = 9;

/** The gRPC error under the client's wrappers (ServiceError: "Failed to start Workflow"), if any. */
function grpcErrorOf(error: unknown): { code: number; details: string } | undefined {
  for (let current = error, depth = 0; current && depth < 4; depth += 1) {
    if (isGrpcServiceError(current)) return { code: current.code, details: current.details };
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether `error` says Temporal was not reached, or did not answer before the deadline. */
export function isTemporalUnreachable(error: unknown): boolean {
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
  const code = grpcErrorOf(error)?.code;
  return code === GRPC_DEADLINE_EXCEEDED || code === GRPC_UNAVAILABLE;
}

/**
 * Whether Temporal refused an Update because the workflow's last task failed or timed out and is being tried
 * again (a worker died holding it, or took longer than the task's timeout): the workflow takes Updates again
 * once a task completes, so the caller should retry, as after an outage. Found by `npm run chaos`, where it
 * answered 500.
 */
export function isWorkflowTaskRetrying(error: unknown): boolean {
  const grpc = grpcErrorOf(error);
  return grpc?.code === GRPC_FAILED_PRECONDITION && /workflow task in failed state/i.test(grpc.details);
}

/**
 * Runs `call` (any number of Temporal calls) under one deadline `ms` from now; when Temporal is unreachable or
 * slower than that, or the workflow takes no Update while it retries a failed task, throws `unavailable` saying
 * what could not be done. Other errors pass through as they are.
 */
export async function withinDeadline<T>(
  temporal: Client,
  ms: number,
  what: string,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await temporal.withDeadline(Date.now() + ms, call);
  } catch (error) {
    if (isWorkflowTaskRetrying(error))
      throw new CancelflowError(
        'unavailable',
        `${what}: the workflow is retrying a task that failed (a worker stopped, say) and takes no request until it completes; retry in a moment`,
        undefined,
        { cause: error },
      );
    if (!isTemporalUnreachable(error)) throw error;
    throw new CancelflowError(
      'unavailable',
      `${what}: the workflow service did not answer within ${ms / 1000} s; retry in a moment`,
      undefined,
      { cause: error },
    );
  }
}

/** Whether `error` is the database driver's way of saying the database was not reached in time. */
export function isDatabaseUnreachable(error: unknown): boolean {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  return (
    // Every network failure of the driver, its subclasses included: PoolClearedOnNetworkError (its pool cleared
    // when the server monitor timed out) answered 500 in `npm run bench` with 100,000 orders on loaded cores.
    error instanceof mongo.MongoNetworkError ||
    // The connection being replaced (models/wedged-monitor.ts reopens it when its monitor wedged after an
    // outage): calls in flight as it closes end so. A moment later the new one serves; `npm run chaos` saw 500s.
    error instanceof mongo.MongoTopologyClosedError ||
    (typeof name === 'string' &&
      [
        'MongoServerSelectionError',
        'MongooseServerSelectionError',
        'MongoNetworkError',
        'MongoNetworkTimeoutError',
      ].includes(name)) ||
    // The database closing a connection as a command is written to it: the driver lets Node's own socket error
    // through ("This socket has been ended by the other party", EPIPE) rather than its MongoNetworkError. Found
    // by `npm run chaos`, where it answered 500. Nothing else the API calls fails this way (Temporal's errors
    // come as gRPC statuses).
    code === 'EPIPE' ||
    code === 'ECONNRESET'
  );
}

/** Settles with `work`, or rejects when it takes longer than `ms` (for calls that take no deadline of their own). */
export async function before<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
