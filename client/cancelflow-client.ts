// The typed client of cancelflow's HTTP API, for back-end systems that start and follow cancellations.
import type {
  ApiErrorBody,
  ApiKeyView,
  CreateApiKeyRequest,
  IssuedApiKey,
  SessionAnswer,
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
  /** A back-end system's key (`cfk_…`), sent as a bearer token. */
  apiKey?: string;
  /** A person's session from an earlier `signIn` (its cookies and CSRF token), e.g. kept by the CLI. */
  session?: ClientSession;
}

/** What a signed-in client holds: the cookies the API set, and the token its writes must carry. */
export interface ClientSession {
  cookies: Record<string, string>;
  csrfToken?: string;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export class CancelflowClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly apiKey?: string;
  private session: ClientSession;

  constructor(options: CancelflowClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.apiKey = options.apiKey;
    this.session = options.session ?? { cookies: {} };
  }

  /** The session as it stands (after `signIn`), to keep between runs (the CLI stores it). */
  currentSession(): ClientSession {
    return { cookies: { ...this.session.cookies }, csrfToken: this.session.csrfToken };
  }

  /** Signs a person in: the client keeps the session cookie and the CSRF token for what follows. */
  async signIn(login: string, password: string): Promise<SessionAnswer> {
    const answer = await this.request<SessionAnswer>('POST', '/v1/auth/sign-in', { login, password });
    this.session.csrfToken = answer.csrfToken;
    return answer;
  }

  /** Ends the session on the server and forgets it here. */
  async signOut(): Promise<void> {
    await this.request<null>('POST', '/v1/auth/sign-out', {});
    this.session = { cookies: {} };
  }

  /** Who the credentials name (and, for a session, a fresh CSRF token). */
  async whoAmI(): Promise<SessionAnswer> {
    const answer = await this.request<SessionAnswer>('GET', '/v1/auth/session');
    if (answer.csrfToken) this.session.csrfToken = answer.csrfToken;
    return answer;
  }

  /** Issues an API key (ops, admin); its token is in the answer, once. */
  createApiKey(request: CreateApiKeyRequest) {
    return this.request<IssuedApiKey>('POST', '/v1/api-keys', request);
  }

  async listApiKeys(): Promise<ApiKeyView[]> {
    return (await this.request<{ items: ApiKeyView[] }>('GET', '/v1/api-keys')).items;
  }

  revokeApiKey(keyId: string) {
    return this.request<ApiKeyView>('DELETE', `/v1/api-keys/${encodeURIComponent(keyId)}`);
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
    const sent: Record<string, string> = { ...headers };
    if (body !== undefined) sent['content-type'] = 'application/json';
    if (this.apiKey) sent.authorization = `Bearer ${this.apiKey}`;
    const cookies = Object.entries(this.session.cookies);
    if (cookies.length > 0) sent.cookie = cookies.map(([name, value]) => `${name}=${value}`).join('; ');
    if (this.session.csrfToken && !SAFE_METHODS.has(method)) sent['x-csrf-token'] = this.session.csrfToken;
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    this.keepCookies(response);
    const payload: unknown = response.status === 204 ? null : await response.json().catch(() => undefined);
    if (!response.ok) {
      const error = (payload ?? { error: 'http_error', message: response.statusText }) as ApiErrorBody;
      throw new CancelflowApiError(response.status, error);
    }
    return payload as T;
  }

  /** A cookie jar of one site: what the API sets is sent back; what it clears (empty, expired) is dropped. */
  private keepCookies(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = header.split(';');
      const separator = pair.indexOf('=');
      if (separator < 1) continue;
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      const expired = attributes.some((attribute) =>
        /^\s*(max-age=0|expires=thu, 01 jan 1970)/i.test(attribute),
      );
      if (value === '' || expired) delete this.session.cookies[name];
      else this.session.cookies[name] = value;
    }
  }
}
