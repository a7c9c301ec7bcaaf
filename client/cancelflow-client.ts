// The typed client of cancelflow's HTTP API, for back-end systems that start and follow cancellations, the
// people's actions on them, and the caller's message centre.
import type {
  AnalyticsAnswer,
  AnalyticsFigure,
  AnalyticsQuery,
  ApiErrorBody,
  ApiKeyView,
  CancellationAccepted,
  CancellationListQuery,
  CancellationNotifications,
  CancellationPage,
  CancellationResource,
  CancellationView,
  ChoiceRequest,
  CreateApiKeyRequest,
  CreateCancellationRequest,
  CreateDelegationRequest,
  DecisionRequest,
  DelegationAccepted,
  DelegationList,
  DelegationView,
  FeedbackView,
  IssuedApiKey,
  MessageListQuery,
  MessagePage,
  MessageView,
  OrderCustomerLink,
  OrderResource,
  OrderSearchPage,
  OrderSearchQuery,
  ResumptionRequest,
  ReturnConfirmationRequest,
  SessionAnswer,
  SettlementRequest,
  WithdrawalRequest,
} from './contract';

export type {
  AnalyticsAnswer,
  AnalyticsFigure,
  AnalyticsQuery,
  CancellationAccepted,
  CancellationListQuery,
  CancellationNotifications,
  CancellationPage,
  CancellationResource,
  CancellationSummary,
  CancellationView,
  ChoiceRequest,
  CreateCancellationRequest,
  CreateDelegationRequest,
  DecisionRequest,
  DelegationAccepted,
  DelegationView,
  FeedbackView,
  MessageListQuery,
  MessagePage,
  MessageView,
  ResumptionRequest,
  ReturnConfirmationRequest,
  SettlementRequest,
  WithdrawalRequest,
} from './contract';
export type {
  OrderCustomerLink,
  OrderResource,
  OrderSearchPage,
  OrderSearchQuery,
  OrderSummary,
} from './contract';
import type {
  CreatedWebhookSubscription,
  CreateWebhookSubscriptionRequest,
  EventDeliveryListQuery,
  EventDeliveryView,
  UpdateWebhookSubscriptionRequest,
  WebhookSubscriptionView,
} from './contract';
export type {
  BulkJobEventPayload,
  CancellationEventPayload,
  CreatedWebhookSubscription,
  CreateWebhookSubscriptionRequest,
  EventDeliveryListQuery,
  EventDeliveryView,
  UpdateWebhookSubscriptionRequest,
  WebhookEventPayload,
  WebhookSubscriptionView,
} from './contract';

import type {
  BulkControlRequest,
  BulkDryRun,
  BulkJobAccepted,
  BulkJobList,
  BulkJobView,
  CreateBulkJobRequest,
} from './bulk.contract';
export type {
  BulkControlRequest,
  BulkDryRun,
  BulkJobAccepted,
  BulkJobList,
  BulkJobSummary,
  BulkJobView,
  CreateBulkJobRequest,
} from './bulk.contract';

const bulkJobPath = (jobId: string, action = '') =>
  `/v1/bulk-cancellations/${encodeURIComponent(jobId)}${action ? `/${action}` : ''}`;

/** A query string of the criteria given: arrays repeat their key, undefined ones are left out. */
function queryString(query: object): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query) as [string, unknown][]) {
    const items: unknown[] = Array.isArray(value) ? value : [value];
    for (const item of items) {
      if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') {
        params.append(name, String(item));
      }
    }
  }
  return params.size > 0 ? `?${params.toString()}` : '';
}

const webhookSubscriptionPath = (subscriptionId: string) =>
  `/v1/webhook-subscriptions/${encodeURIComponent(subscriptionId)}`;

const cancellationPath = (cancellationId: string, action = '') =>
  `/v1/cancellations/${encodeURIComponent(cancellationId)}${action ? `/${action}` : ''}`;

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

/**
 * A person's action on a cancellation. Send the same `idempotencyKey` when repeating it after a lost answer or
 * a 503: the API answers with the first one's result instead of acting again.
 */
export interface ActionOptions {
  idempotencyKey?: string;
}

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
    return this.request<CancellationResource>('GET', cancellationPath(cancellationId));
  }

  /**
   * Cancellations, newest first, filtered (`state` matches its start; `waitingFor: 'me'`: those waiting for the
   * caller; `requestedBy: 'me'`: the caller's own); follow `nextCursor` for the next page. `total` counts all.
   */
  listCancellations(query: CancellationListQuery = {}) {
    return this.request<CancellationPage>('GET', `/v1/cancellations${queryString(query)}`);
  }

  /** An approver approves or rejects the approval step under way (R3, R15). */
  decide(cancellationId: string, decision: DecisionRequest, options: ActionOptions = {}) {
    return this.act(cancellationId, 'decision', decision, options);
  }

  /** The requester withdraws their request, until stock or money has moved. */
  withdraw(cancellationId: string, withdrawal: WithdrawalRequest = {}, options: ActionOptions = {}) {
    return this.act(cancellationId, 'withdrawal', withdrawal, options);
  }

  /** A finance clerk records the refund they made by hand for one the gateway refused (R11, R28). */
  settle(cancellationId: string, settlement: SettlementRequest, options: ActionOptions = {}) {
    return this.act(cancellationId, 'settlement', settlement, options);
  }

  /** Ops resume a cancellation that needed attention, once its cause is repaired. */
  resume(cancellationId: string, resumption: ResumptionRequest = {}, options: ActionOptions = {}) {
    return this.act(cancellationId, 'resumption', resumption, options);
  }

  /** A warehouse clerk confirms a parcel of the cancellation is back (R9). */
  confirmReturn(
    cancellationId: string,
    confirmation: ReturnConfirmationRequest,
    options: ActionOptions = {},
  ) {
    return this.act(cancellationId, 'returns', confirmation, options);
  }

  /** Customer service passes on the customer's choice among the options offered (R12). */
  recordChoice(cancellationId: string, choice: ChoiceRequest, options: ActionOptions = {}) {
    return this.act(cancellationId, 'choice', choice, options);
  }

  /** The cancellation's notifications as the outbox holds them, with how each fared (R17). */
  getNotifications(cancellationId: string) {
    return this.request<CancellationNotifications>('GET', cancellationPath(cancellationId, 'notifications'));
  }

  /** The customer's feedback on the cancellation (R16); 404 until a code was issued. */
  getFeedback(cancellationId: string) {
    return this.request<FeedbackView>('GET', cancellationPath(cancellationId, 'feedback'));
  }

  /** The caller's messages, newest first (`unread: true` for the unread only); follow `nextCursor`. */
  listMessages(query: MessageListQuery = {}) {
    return this.request<MessagePage>('GET', `/v1/messages${queryString(query)}`);
  }

  /** How many of the caller's messages are unread. */
  unreadCount() {
    return this.request<{ unread: number }>('GET', '/v1/messages/unread-count');
  }

  /** Marks one of the caller's messages read; answers with it. */
  markMessageRead(messageId: string) {
    return this.request<MessageView>('POST', `/v1/messages/${encodeURIComponent(messageId)}/read`);
  }

  /** Marks every unread message of the caller's read; answers how many this marked. */
  markAllMessagesRead() {
    return this.request<{ marked: number }>('POST', '/v1/messages/read-all');
  }

  /**
   * R15: names a delegate (an active approver of the caller's level or higher) for a period; the caller is the
   * delegator. With the same idempotency key, a repeat answers the same delegation.
   */
  createDelegation(request: CreateDelegationRequest, options: { idempotencyKey?: string } = {}) {
    const headers: Record<string, string> = {};
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    return this.request<DelegationAccepted>('POST', '/v1/delegations', request, headers);
  }

  /** R15: the delegations the caller gave and received, newest first (ops and admins: all). */
  async listDelegations(): Promise<DelegationView[]> {
    return (await this.request<DelegationList>('GET', '/v1/delegations')).items;
  }

  /** R15: ends a delegation now (its delegator, or an admin); answers with it. */
  endDelegation(delegationId: string) {
    return this.request<DelegationView>('DELETE', `/v1/delegations/${encodeURIComponent(delegationId)}`);
  }

  /**
   * Subscribes an outside system to cancellations' events (admins); the answer holds the signing secret, this
   * once. Every event type when `eventTypes` is absent.
   */
  createWebhookSubscription(request: CreateWebhookSubscriptionRequest) {
    return this.request<CreatedWebhookSubscription>('POST', '/v1/webhook-subscriptions', request);
  }

  async listWebhookSubscriptions(): Promise<WebhookSubscriptionView[]> {
    return (await this.request<{ items: WebhookSubscriptionView[] }>('GET', '/v1/webhook-subscriptions'))
      .items;
  }

  getWebhookSubscription(subscriptionId: string) {
    return this.request<WebhookSubscriptionView>('GET', webhookSubscriptionPath(subscriptionId));
  }

  /** Changes its URL, its event types, or whether it is active. */
  updateWebhookSubscription(subscriptionId: string, change: UpdateWebhookSubscriptionRequest) {
    return this.request<WebhookSubscriptionView>('PATCH', webhookSubscriptionPath(subscriptionId), change);
  }

  /** Removes it and its deliveries; answers with it. */
  removeWebhookSubscription(subscriptionId: string) {
    return this.request<WebhookSubscriptionView>('DELETE', webhookSubscriptionPath(subscriptionId));
  }

  /** Its deliveries with their attempts, newest first (`status: 'failed'`: the parked ones). */
  async listEventDeliveries(
    subscriptionId: string,
    query: EventDeliveryListQuery = {},
  ): Promise<EventDeliveryView[]> {
    const path = `${webhookSubscriptionPath(subscriptionId)}/deliveries${queryString(query)}`;
    return (await this.request<{ items: EventDeliveryView[] }>('GET', path)).items;
  }

  /** Sends a delivery again, as the same event: due now, with a fresh retry window. */
  redeliverEvent(deliveryId: string) {
    return this.request<EventDeliveryView>(
      'POST',
      `/v1/webhook-deliveries/${encodeURIComponent(deliveryId)}/redelivery`,
    );
  }

  /**
   * A figure of the analytics (R22, R23, R29) over a window (`from`, `to`: dates or date-times; the last 90 days
   * by default), e.g. `getAnalytics('over-time', { from: '2026-01-01', granularity: 'month' })`.
   */
  getAnalytics<F extends AnalyticsFigure>(figure: F, query: AnalyticsQuery<F> = {} as AnalyticsQuery<F>) {
    return this.request<AnalyticsAnswer<F>>('GET', `/v1/analytics/${figure}${queryString(query)}`);
  }

  /** The same figure's rows as CSV (a header line, then one line per row). */
  getAnalyticsCsv<F extends AnalyticsFigure>(figure: F, query: AnalyticsQuery<F> = {} as AnalyticsQuery<F>) {
    const path = `/v1/analytics/${figure}${queryString(query)}`;
    return this.request<string>('GET', path, undefined, { accept: 'text/csv' }, 'text');
  }

  /** Finds orders (R1): every criterion given must match; follow `nextCursor` for the next page. */
  searchOrders(query: OrderSearchQuery = {}) {
    return this.request<OrderSearchPage>('GET', `/v1/orders${queryString(query)}`);
  }

  /** One order with its lines, payments, refunds and cancellations; 404 when there is none. */
  getOrder(orderNumber: string) {
    return this.request<OrderResource>('GET', `/v1/orders/${encodeURIComponent(orderNumber)}`);
  }

  /** Bulk cancellation: what a job would touch (orders, lines, money; those it would leave alone), asking nothing. */
  async dryRunBulkCancellation(request: CreateBulkJobRequest): Promise<BulkDryRun> {
    return this.request<BulkDryRun>('POST', '/v1/bulk-cancellations/dry-run', request);
  }

  /** Starts a bulk job: one cancellation per order, each requested as the caller. */
  async startBulkCancellation(
    request: CreateBulkJobRequest,
    options: { idempotencyKey?: string } = {},
  ): Promise<BulkJobAccepted> {
    const headers: Record<string, string> = {};
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    return this.request<BulkJobAccepted>('POST', '/v1/bulk-cancellations', request, headers);
  }

  async listBulkCancellations(): Promise<BulkJobList> {
    return this.request<BulkJobList>('GET', '/v1/bulk-cancellations');
  }

  /** A job's progress: state, orders by phase and standing, money refunded so far, failures with reasons. */
  async getBulkCancellation(jobId: string): Promise<BulkJobView> {
    return this.request<BulkJobView>('GET', bulkJobPath(jobId));
  }

  async pauseBulkCancellation(jobId: string, request: BulkControlRequest = {}): Promise<BulkJobView> {
    return this.request<BulkJobView>('POST', bulkJobPath(jobId, 'pause'), request);
  }

  async resumeBulkCancellation(jobId: string, request: BulkControlRequest = {}): Promise<BulkJobView> {
    return this.request<BulkJobView>('POST', bulkJobPath(jobId, 'resume'), request);
  }

  async stopBulkCancellation(jobId: string, request: BulkControlRequest = {}): Promise<BulkJobView> {
    return this.request<BulkJobView>('POST', bulkJobPath(jobId, 'stop'), request);
  }

  /** Every order of the job and what became of it, as CSV. */
  async getBulkCancellationReport(jobId: string): Promise<string> {
    return this.request<string>(
      'GET',
      bulkJobPath(jobId, 'report'),
      undefined,
      { accept: 'text/csv' },
      'text',
    );
  }

  /**
   * A signed, expiring link to the customer's own page of this order, where they may ask to cancel it themselves:
   * for the shop's order mail (#14). Requesters (a shop's or an ERP's key) may ask; 404 when there is no order.
   */
  getCustomerOrderLink(orderNumber: string) {
    return this.request<OrderCustomerLink>(
      'POST',
      `/v1/orders/${encodeURIComponent(orderNumber)}/customer-link`,
    );
  }

  /** One person's action on a cancellation; with an idempotency key, a repeat answers as the first did. */
  private act(cancellationId: string, action: string, body: unknown, options: ActionOptions) {
    const headers: Record<string, string> = {};
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    return this.request<CancellationView>('POST', cancellationPath(cancellationId, action), body, headers);
  }

  private async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    /** `text`: the answer's body as it came (CSV); errors are still the API's JSON. */
    read: 'json' | 'text' = 'json',
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
    if (read === 'text' && response.ok) return (await response.text()) as T;
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
