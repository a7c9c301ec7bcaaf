// The payment gateway as cancelflow sees it: refunds against an original payment, made safe to repeat by an
// idempotency key. `createHttpPaymentGateway` speaks to the gateway simulator's API (simulators/), which
// follows the shape most card gateways share.

export interface RefundRequest {
  idempotencyKey: string;
  paymentReference: string;
  amountMinor: number;
  currency: string;
  reason: string;
}

export type RefundOutcome =
  | { status: 'succeeded'; refundId: string }
  | { status: 'pending'; refundId: string }
  | { status: 'failed'; retryable: boolean; message: string };

export interface PaymentGateway {
  refund(request: RefundRequest): Promise<RefundOutcome>;
}

interface GatewayRefundBody {
  id?: string;
  status?: string;
  error?: { message?: string; retryable?: boolean };
}

export function createHttpPaymentGateway(baseUrl: string, timeoutMs = 10_000): PaymentGateway {
  const endpoint = new URL('/v1/refunds', baseUrl);
  return {
    async refund(request) {
      let response: Response;
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': request.idempotencyKey },
          body: JSON.stringify({
            payment: request.paymentReference,
            amount: request.amountMinor,
            currency: request.currency,
            reason: request.reason,
          }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        return { status: 'failed', retryable: true, message: `gateway unreachable: ${String(error)}` };
      }
      const body = (await response.json().catch(() => ({}))) as GatewayRefundBody;
      if (response.ok && body.id && (body.status === 'succeeded' || body.status === 'pending')) {
        return { status: body.status, refundId: body.id };
      }
      return {
        status: 'failed',
        // 5xx and 429 are worth another try; any other refusal is the gateway's final word.
        retryable: body.error?.retryable ?? (response.status >= 500 || response.status === 429),
        message: body.error?.message ?? `gateway answered HTTP ${response.status}`,
      };
    },
  };
}
