// The one error type of cancelflow. It carries a stable machine-readable code, the HTTP status an API
// caller should see, optional details naming the offending field, and the underlying cause.

export type ErrorCode =
  | 'validation_failed'
  | 'unauthorized'
  | 'not_found'
  | 'confirmation_required'
  | 'not_cancellable'
  | 'conflict'
  | 'insufficient_stock'
  | 'refund_exceeds_capture'
  | 'provider_failed'
  | 'unavailable'
  | 'config_invalid'
  | 'internal';

const httpStatusByCode: Record<ErrorCode, number> = {
  validation_failed: 400,
  unauthorized: 401,
  not_found: 404,
  confirmation_required: 409,
  not_cancellable: 409,
  conflict: 409,
  insufficient_stock: 409,
  refund_exceeds_capture: 409,
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
