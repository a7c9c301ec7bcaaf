// The one error type of cancelflow. It carries a stable machine-readable code, the HTTP status an API
// caller should see, optional details naming the offending field, and the underlying cause.

export type ErrorCode =
  | 'validation_failed'
  | 'unauthorized'
  /** Signed in, but not allowed this action or this resource. */
  | 'forbidden'
  /** Too many requests, or too many failed sign-ins: try again later. */
  | 'too_many_requests'
  | 'not_found'
  | 'confirmation_required'
  | 'not_cancellable'
  | 'conflict'
  | 'requester_not_allowed'
  | 'insufficient_stock'
  | 'refund_exceeds_capture'
  /** A share of a payment was planned on counts that have moved since: plan it again. */
  | 'refund_plan_stale'
  | 'provider_failed'
  | 'unavailable'
  | 'config_invalid'
  | 'internal';

const httpStatusByCode: Record<ErrorCode, number> = {
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  too_many_requests: 429,
  not_found: 404,
  confirmation_required: 409,
  not_cancellable: 409,
  conflict: 409,
  // 422, not 403: no one signs in yet, so nothing is known about the caller; it is the request's own data
  // that names a person who may not request, and the caller fixes it by naming one who may.
  requester_not_allowed: 422,
  insufficient_stock: 409,
  refund_exceeds_capture: 409,
  refund_plan_stale: 409,
  provider_failed: 502,
  unavailable: 503,
  config_invalid: 500,
  internal: 500,
};

export class CancelflowError extends Error {
  override readonly name = 'CancelflowError';
  readonly httpStatus: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.httpStatus = httpStatusByCode[code];
  }
}

export function isCancelflowError(error: unknown): error is CancelflowError {
  return error instanceof CancelflowError;
}
