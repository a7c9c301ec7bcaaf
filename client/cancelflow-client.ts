// The typed client of cancelflow's HTTP API, for back-end systems that start and follow cancellations.
import type {
  ApiErrorBody,
  CancellationAccepted,
  CancellationResource,
  CreateCancellationRequest,
  OrderResource,
  OrderSearchPage,
  OrderSearchQuery,
} from './contract';

export type { CancellationAccepted, CancellationResource, CreateCancellationRequest } from './contract';
export type { OrderResource, OrderSearchPage, OrderSearchQuery, OrderSummary } from './contract';

/** An answer other than 2xx, with the API's error code and message. */
export class CancelflowApiError extends Error {
  override readonly name = 'CancelflowApiError';
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(`${status} ${body.error}: ${body.message}`);
  }
}

export interface CancelflowClientOptions {
  baseUrl: string;
  timeoutMs?: number;
}

export class CancelflowClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(options: CancelflowClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Asks for a cancellation; with the same idempotency key, a repeat returns the same cancellation. */
  createCancellation(request: CreateCancellationRequest, options: { idempotencyKey?: string } = {}) {
    const headers: Record<string, string> = {};
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    return this.request<CancellationAccepted>('POST', '/v1/cancellations', request, headers);
  }

  getCancellation(cancellationId: string) {
    return this.request<CancellationResource>(
      'GET',
      `/v1/cancellations/${encodeURIComponent(cancellationId)}`,
    );
  }

  /** Finds orders (R1): every criterion given must match; follow `nextCursor` for the next page. */
  searchOrders(query: OrderSearchQuery = {}) {
    const params = new URLSearchParams();
    type Value = OrderSearchQuery[keyof OrderSearchQuery];
    for (const [name, value] of Object.entries(query) as [string, Value][]) {
      for (const item of [value].flat()) if (item !== undefined) params.append(name, String(item));
    }
    const search = params.size > 0 ? `?${params.toString()}` : '';
    return this.request<OrderSearchPage>('GET', `/v1/orders${search}`);
  }

  /** One order with its lines, payments, refunds and cancellations; 404 when there is none. */
  getOrder(orderNumber: string) {
    return this.request<OrderResource>('GET', `/v1/orders/${encodeURIComponent(orderNumber)}`);
  }

  private async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const payload: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const error = (payload ?? { error: 'http_error', message: response.statusText }) as ApiErrorBody;
      throw new CancelflowApiError(response.status, error);
    }
    return payload as T;
  }
}
