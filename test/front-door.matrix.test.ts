// The authorization matrix (issue #12), against the running API over real HTTP: every route × every role ×
// (for routes with ownership) the caller's own cancellation, another's and an unknown one × no credentials,
// each cell asserting its status. The table below is the reviewed statement of who may call what; it is written
// here, apart from the routes' own `config.access`, and the test fails when the two disagree, when the app
// registers a route the table has no row for (hidden and HEAD routes included), or when a row names a route
// the app no longer has.
//
// A cell the access check lets through is asserted to get the handler's own answer (200, 201, 204, or the
// 404/409 of an unknown id or an ended cancellation), never merely "not 401/403"; a refused cell is exactly 403
// (no qualifying role, or not the caller's own) or 401 (no credentials). Allowed writes are aimed where they
// change nothing: cancellations that already ended (the workflow is gone: 409), ids that do not exist (404).
//
// Matrix size: 97 rows + 57 HEAD twins = 154 routes; 1863 cells (MATRIX_CELLS, printed in the describe name).
import type { CreateCancellationRequest } from '../client/contract';
import type { PersonRole } from '../contracts/books.contract';
import { apiSettingsFrom, buildApp } from '../api/app';
import type { Access } from '../api/auth/access';
import { addPeople, placePaidOrder, seedDemoData } from '../generators/demo-data';
import { parseConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { loadPolicyFile } from '../lib/policy';
import { issueApiKey, setPassword } from '../models/credentials';
import { freePort } from '../scripts/servers';
import { ANALYTICS_ROWS } from './analytics.matrix-rows';
import { BULK_CONSOLE_ROWS, BULK_ROWS } from './bulk.matrix-rows';
import { CONSOLE_ROWS } from './console.matrix-rows';
import { eventually } from './support/eventually';
import { startTestStack, type TestStack } from './support/stack';

const PASSWORD = 'matrix test password, long enough';

/**
 * What a route's `:id` names, and whose each is: cancellations (asked for by clerk-1, by manager-1, and one that
 * does not exist) and delegations (made by manager-1, and one that does not exist).
 */
const RESOURCES = {
  cancellation: [
    { name: 'clerk-1’s', owner: 'clerk-1' },
    { name: 'manager-1’s', owner: 'manager-1' },
    { name: 'unknown', owner: undefined },
  ],
  delegation: [
    { name: 'manager-1’s', owner: 'manager-1' },
    { name: 'unknown', owner: undefined },
  ],
} as const;
type ResourceKind = keyof typeof RESOURCES;
type Resource = (typeof RESOURCES)[ResourceKind][number];
type ResourceName = Resource['name'];

/**
 * The callers, one per role (an API key scoped to exactly that role), plus a person holding two roles at once.
 * Scoped keys give admin without ops and approver without requester, which no demo person holds alone.
 */
const CALLERS = [
  { label: 'requester (clerk-1)', personId: 'clerk-1', roles: ['requester'] },
  { label: 'approver L1 (manager-1)', personId: 'manager-1', roles: ['approver'] },
  { label: 'approver L2 (director-1)', personId: 'director-1', roles: ['approver'] },
  { label: 'finance_clerk (finance-1)', personId: 'finance-1', roles: ['finance_clerk'] },
  { label: 'warehouse_clerk (warehouse-1)', personId: 'warehouse-1', roles: ['warehouse_clerk'] },
  { label: 'ops (ops-1)', personId: 'ops-1', roles: ['ops'] },
  { label: 'admin (ops-1)', personId: 'ops-1', roles: ['admin'] },
  { label: 'requester+approver (manager-1)', personId: 'manager-1', roles: ['requester', 'approver'] },
] as const satisfies readonly { label: string; personId: string; roles: readonly PersonRole[] }[];
type Caller = (typeof CALLERS)[number];
const ANONYMOUS = 'no credentials';

const EVERYONE = ['requester', 'approver', 'finance_clerk', 'warehouse_clerk', 'ops', 'admin'] as const;

/** What a row's request needs that only exists once the stack runs. */
interface Context {
  feedbackCode: string;
  orderNumber: string;
}

interface Row {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';
  /** As registered. */
  path: string;
  /** What `:id` names: the row is called on each resource of that kind (RESOURCES). */
  on?: ResourceKind;
  /**
   * Who may call it: `public` (why), or the roles one of which the caller must hold; `ownFor` + `own`: callers
   * whose only qualifying roles are these touch only their own (the cancellations they requested, the
   * delegations they gave).
   */
  access: { public: string } | { roles: readonly PersonRole[]; ownFor?: readonly PersonRole[]; own?: true };
  /** The URL to call when it is not the path itself (other params, a query), and a JSON or form body. */
  request?: (context: Context) => { url?: string; body?: unknown; form?: string };
  /** What the handler answers a caller the access check let through (for public routes: anyone). */
  answers: number | Partial<Record<ResourceName, number>>;
}

const endedOrUnknown = { 'clerk-1’s': 409, 'manager-1’s': 409, unknown: 404 } as const;
const found = { 'clerk-1’s': 200, 'manager-1’s': 200, unknown: 404 } as const;
const ownCancellation = { roles: EVERYONE, ownFor: ['requester'], own: true } as const;

// prettier-ignore
const TABLE: readonly Row[] = [
  // Documentation: the description and its reference page (swagger-ui's routes state no access: /docs is exempt).
  { method: 'GET', path: '/openapi.json', access: { public: 'the API description' }, answers: 200 },
  { method: 'GET', path: '/docs', access: { public: 'the reference page' }, answers: 200 },
  { method: 'HEAD', path: '/docs/', access: { public: 'the reference page' }, answers: 200 },
  { method: 'GET', path: '/docs/static/index.html', access: { public: 'the reference page (redirects to /docs/)' },
    answers: 302 },
  { method: 'GET', path: '/docs/static/swagger-initializer.js', access: { public: 'the reference page' }, answers: 200 },
  { method: 'GET', path: '/docs/static/*', access: { public: 'the reference page’s assets' },
    request: () => ({ url: '/docs/static/swagger-ui.css' }), answers: 200 },
  { method: 'GET', path: '/docs/json', access: { public: 'the description, for the reference page' }, answers: 200 },
  { method: 'GET', path: '/docs/yaml', access: { public: 'the description, for the reference page' }, answers: 200 },
  { method: 'GET', path: '/health', access: { public: 'load balancers probe it' }, answers: 200 },

  // Signing in and out; who the caller is; API keys.
  { method: 'POST', path: '/v1/auth/sign-in', access: { public: 'how a person gets credentials' },
    request: () => ({ body: { login: 'clerk-1', password: PASSWORD } }), answers: 200 },
  { method: 'POST', path: '/v1/auth/sign-out', access: { public: 'ends the session the cookie names, if any' },
    answers: 204 },
  // The identity provider is configured but unreachable here: the start answers 503 after the access check.
  { method: 'GET', path: '/v1/auth/oidc/start', access: { public: 'starts a sign-in at the identity provider' },
    answers: 503 },
  // Without the pending sign-in cookie the redirect back is refused by the handler (not by the access check).
  { method: 'GET', path: '/v1/auth/oidc/callback', access: { public: 'checked by state, nonce and PKCE' },
    request: () => ({ url: '/v1/auth/oidc/callback?state=matrix&code=matrix' }), answers: 401 },
  { method: 'GET', path: '/v1/auth/session', access: { roles: EVERYONE }, answers: 200 },
  { method: 'POST', path: '/v1/api-keys', access: { roles: ['ops', 'admin'] },
    request: () => ({ body: { name: 'matrix', personId: 'clerk-1', scopes: ['requester'] } }), answers: 201 },
  { method: 'GET', path: '/v1/api-keys', access: { roles: ['ops', 'admin'] }, answers: 200 },
  { method: 'DELETE', path: '/v1/api-keys/:keyId', access: { roles: ['ops', 'admin'] },
    request: () => ({ url: '/v1/api-keys/matrixnosuchkey' }), answers: 404 },

  // Cancellations. Asking for one of an order that does not exist: 404 once the requester is let through.
  { method: 'POST', path: '/v1/cancellations', access: { roles: ['requester'] },
    request: () => ({ body: { orderNumber: 'SO-MATRIX-NONE', reasonCode: 'other', confirm: ['awaiting_shipment'] } }),
    answers: 404 },
  // A requester lists only their own: a filter, not a refusal (checked on its own below).
  { method: 'GET', path: '/v1/cancellations', access: { roles: EVERYONE, ownFor: ['requester'] }, answers: 200 },
  { method: 'GET', path: '/v1/cancellations/:id', on: 'cancellation', access: ownCancellation, answers: found },
  { method: 'GET', path: '/v1/cancellations/:id/feedback', on: 'cancellation', access: ownCancellation, answers: found },
  // The outbox of an unknown id is an empty list.
  { method: 'GET', path: '/v1/cancellations/:id/notifications', on: 'cancellation',
    access: ownCancellation,
    answers: { 'clerk-1’s': 200, 'manager-1’s': 200, unknown: 200 } },
  // People's actions: the workflow of an ended cancellation takes nothing more (409); an unknown one is 404.
  { method: 'POST', on: 'cancellation', path: '/v1/cancellations/:id/decision', access: { roles: ['approver'] },
    request: () => ({ body: { approved: true } }), answers: endedOrUnknown },
  { method: 'POST', on: 'cancellation', path: '/v1/cancellations/:id/withdrawal', access: { roles: ['requester'], ownFor: ['requester'], own: true },
    request: () => ({ body: { reason: 'matrix' } }), answers: endedOrUnknown },
  { method: 'POST', on: 'cancellation', path: '/v1/cancellations/:id/settlement', access: { roles: ['finance_clerk'] },
    request: () => ({ body: { reference: 'MATRIX-REF' } }), answers: endedOrUnknown },
  { method: 'POST', on: 'cancellation', path: '/v1/cancellations/:id/resumption', access: { roles: ['ops'] },
    request: () => ({ body: { note: 'matrix' } }), answers: endedOrUnknown },
  { method: 'POST', on: 'cancellation', path: '/v1/cancellations/:id/returns', access: { roles: ['warehouse_clerk'] },
    request: () => ({ body: { shipmentId: 'SH-MATRIX' } }), answers: endedOrUnknown },
  { method: 'POST', on: 'cancellation', path: '/v1/cancellations/:id/choice',
    // A requester passes on the choice of their own cancellation's customer; ops, of any.
    access: { roles: ['requester', 'ops'], ownFor: ['requester'], own: true },
    request: () => ({ body: { option: 'return' } }), answers: endedOrUnknown },

  // Orders.
  { method: 'GET', path: '/v1/orders', access: { roles: EVERYONE },
    request: ({ orderNumber }) => ({ url: `/v1/orders?orderNumber=${orderNumber}` }), answers: 200 },
  { method: 'GET', path: '/v1/orders/:orderNumber', access: { roles: EVERYONE },
    request: ({ orderNumber }) => ({ url: `/v1/orders/${orderNumber}` }), answers: 200 },
  // The customer's signed link to their order's own page, for the shop's order mail (#14).
  { method: 'POST', path: '/v1/orders/:orderNumber/customer-link', access: { roles: ['requester'] },
    request: ({ orderNumber }) => ({ url: `/v1/orders/${orderNumber}/customer-link` }), answers: 200 },

  // The customer's feedback, by the code in their message.
  { method: 'GET', path: '/v1/feedback/:code', access: { public: 'the random code guards it' },
    request: ({ feedbackCode }) => ({ url: `/v1/feedback/${feedbackCode}` }), answers: 200 },
  { method: 'POST', path: '/v1/feedback/:code', access: { public: 'the random code guards it' },
    request: () => ({ url: '/v1/feedback/matrix-no-such-code', body: { rating: 5 } }), answers: 404 },

  // The caller's own message centre (always the caller's: no resource of another's to name).
  { method: 'GET', path: '/v1/messages', access: { roles: EVERYONE }, answers: 200 },
  { method: 'GET', path: '/v1/messages/unread-count', access: { roles: EVERYONE }, answers: 200 },
  { method: 'POST', path: '/v1/messages/:messageId/read', access: { roles: EVERYONE },
    request: () => ({ url: '/v1/messages/matrix-no-such-message/read' }), answers: 404 },
  { method: 'POST', path: '/v1/messages/read-all', access: { roles: EVERYONE }, answers: 200 },

  // R15: delegations. Naming a delegate who is not in the books is the rules' 409 (nothing is recorded); the
  // list is everyone's own (ops and admins see all); ending one is its delegator's or an admin's, which the
  // handler checks (403), and ending one already ended changes nothing (200 again).
  { method: 'POST', path: '/v1/delegations', access: { roles: ['approver'] },
    request: () => ({ body: { delegateId: 'nobody-matrix', until: '2099-01-01T00:00:00Z' } }), answers: 409 },
  { method: 'GET', path: '/v1/delegations', access: { roles: ['approver', 'ops', 'admin'] }, answers: 200 },
  { method: 'DELETE', path: '/v1/delegations/:id', on: 'delegation', access: { roles: ['approver', 'admin'], ownFor: ['approver'], own: true },
    answers: { 'manager-1’s': 200, unknown: 404 } },

  // Providers' webhooks: no credentials, a signature; an unsigned call is the handler's 401.
  { method: 'POST', path: '/v1/webhooks/twilio/status', access: { public: "Twilio's signature is checked" },
    request: () => ({ form: 'MessageSid=SMmatrix&MessageStatus=delivered' }), answers: 401 },
  { method: 'POST', path: '/v1/webhooks/carrier', access: { public: "the carrier's signature is checked" },
    request: () => ({ body: { eventId: 'matrix' } }), answers: 401 },

  // The codec endpoint for the Temporal UI and CLI (issue #15): decoding shows personal data, so ops only. The
  // browser's preflight is public and answers the Temporal UI's origin alone; these calls send none: 403.
  { method: 'POST', path: '/v1/codec/decode', access: { roles: ['ops'] },
    request: () => ({ body: { payloads: [] } }), answers: 200 },
  { method: 'POST', path: '/v1/codec/encode', access: { roles: ['ops'] },
    request: () => ({ body: { payloads: [] } }), answers: 200 },
  { method: 'OPTIONS', path: '/v1/codec/decode', access: { public: "a browser's CORS preflight" }, answers: 403 },
  { method: 'OPTIONS', path: '/v1/codec/encode', access: { public: "a browser's CORS preflight" }, answers: 403 },

  // Outbound webhooks: subscriptions, their deliveries and redelivering one, admins only. A subscription is
  // made (to an address nothing answers at); the others name ids that do not exist: 404.
  { method: 'POST', path: '/v1/webhook-subscriptions', access: { roles: ['admin'] },
    request: () => ({ body: { url: 'http://127.0.0.1:9/matrix' } }), answers: 201 },
  { method: 'GET', path: '/v1/webhook-subscriptions', access: { roles: ['admin'] }, answers: 200 },
  { method: 'GET', path: '/v1/webhook-subscriptions/:id', access: { roles: ['admin'] },
    request: () => ({ url: '/v1/webhook-subscriptions/whs_matrix_none' }), answers: 404 },
  { method: 'PATCH', path: '/v1/webhook-subscriptions/:id', access: { roles: ['admin'] },
    request: () => ({ url: '/v1/webhook-subscriptions/whs_matrix_none', body: { active: false } }), answers: 404 },
  { method: 'DELETE', path: '/v1/webhook-subscriptions/:id', access: { roles: ['admin'] },
    request: () => ({ url: '/v1/webhook-subscriptions/whs_matrix_none' }), answers: 404 },
  { method: 'GET', path: '/v1/webhook-subscriptions/:id/deliveries', access: { roles: ['admin'] },
    request: () => ({ url: '/v1/webhook-subscriptions/whs_matrix_none/deliveries' }), answers: 404 },
  { method: 'POST', path: '/v1/webhook-deliveries/:id/redelivery', access: { roles: ['admin'] },
    request: () => ({ url: '/v1/webhook-deliveries/dlv_matrix_none/redelivery' }), answers: 404 },

  // The web console (issue #14): its pages, its writes and its live stream (test/console.matrix-rows.ts).
  ...CONSOLE_ROWS,

  // The analytics (R22, R23, R29): the figures, the console's page and its script (test/analytics.matrix-rows.ts).
  ...ANALYTICS_ROWS,
  // Bulk cancellation (issue #16): jobs, their progress, report and steering (test/bulk.matrix-rows.ts).
  ...BULK_ROWS,
  ...BULK_CONSOLE_ROWS,
];

/** Fastify answers HEAD for every GET route with the GET route's own access and handler. */
const ROWS: readonly Row[] = TABLE.flatMap((row) =>
  row.method === 'GET' ? [row, { ...row, method: 'HEAD' as const }] : [row],
);
const keyOf = (row: Pick<Row, 'method' | 'path'>) => `${row.method} ${row.path}`;
const resourcesOf = (row: Row): readonly (Resource | undefined)[] =>
  row.on ? RESOURCES[row.on] : [undefined];

const MATRIX_CELLS = ROWS.reduce((cells, row) => cells + resourcesOf(row).length * (CALLERS.length + 1), 0);

/** The status a cell must get, from the row's statement alone. */
function expectedStatus(row: Row, caller: Caller | undefined, resource: Resource | undefined): number {
  const answer = typeof row.answers === 'number' ? row.answers : row.answers[resource?.name ?? 'unknown'];
  if (answer === undefined) throw new Error(`${keyOf(row)} states no answer for ${resource?.name}`);
  if ('public' in row.access) return answer;
  if (!caller) return 401;
  const { roles, ownFor, own } = row.access;
  const qualifying = caller.roles.filter((role) => roles.includes(role));
  if (qualifying.length === 0) return 403;
  // An unknown resource is the handler's 404 for everyone, not a 403 that would tell whether it exists.
  const anothers = resource?.owner !== undefined && resource.owner !== caller.personId;
  const onlyOwn = own && qualifying.every((role) => ownFor?.includes(role));
  if (onlyOwn && anothers) return 403;
  return answer;
}

const cellName = (row: Row, caller: Caller | undefined, resource: Resource | undefined) =>
  [caller?.label ?? ANONYMOUS, resource && `on ${resource.name} ${row.on}`].filter(Boolean).join(' ');

// The identity provider is configured (so its routes exist) but nothing listens at its address.
const oidcPort = freePort();
const settings = async (): Promise<Record<string, string>> => ({
  RATE_LIMIT_PER_MINUTE: '100000',
  OIDC_ISSUER_URL: `http://127.0.0.1:${await oidcPort}`,
  OIDC_CLIENT_ID: 'cancelflow-matrix',
  OIDC_CLIENT_SECRET: 'matrix-client-secret',
});

let stack: TestStack;
let context: Context;
const tokens = new Map<Caller, string>();
const ids: Record<ResourceKind, Partial<Record<ResourceName, string>>> = {
  cancellation: { unknown: 'matrix-no-such-cancellation' },
  delegation: { unknown: 'matrix-no-such-delegation' },
};
const cancellationIds = ids.cancellation;

async function cancel(
  personId: string,
  orderNumber: string,
  reasonCode: CreateCancellationRequest['reasonCode'] = 'customer_changed_mind',
) {
  const client = await stack.as(personId);
  const accepted = await client.createCancellation({
    orderNumber,
    reasonCode,
    confirm: ['awaiting_shipment'],
  });
  return accepted.cancellationId;
}

async function completed(cancellationId: string) {
  const ops = await stack.as('ops-1');
  await eventually(async () => {
    expect(await ops.getCancellation(cancellationId)).toMatchObject({ outcome: 'completed' });
  }, 60_000);
}

beforeAll(async () => {
  stack = await startTestStack('front-door-matrix', undefined, { settings: await settings() });
  await seedDemoData(stack.models);
  await setPassword(stack.models, 'clerk-1', PASSWORD);
  for (const caller of CALLERS) {
    const { token } = await issueApiKey(stack.models, {
      name: `matrix ${caller.label}`,
      personId: caller.personId,
      scopes: [...caller.roles],
      createdBy: 'test',
    });
    tokens.set(caller, token);
  }
  // Two low-risk cancellations that run to the end: one clerk-1 asked for, one manager-1 asked for.
  const asked = [await cancel('clerk-1', 'SO-2026-0001'), await cancel('manager-1', 'SO-2026-0002')];
  [cancellationIds['clerk-1’s'], cancellationIds['manager-1’s']] = asked;
  for (const cancellationId of asked) await completed(cancellationId);
  // Their "cancelled" messages carry the customers' feedback codes.
  const feedbackCode = await eventually(async () => {
    const codes = await stack.models.Feedback.find({
      cancellationId: { $in: asked },
    }).lean();
    expect(codes).toHaveLength(2);
    return codes[0]?.code ?? '';
  }, 30_000);
  context = { feedbackCode, orderNumber: 'SO-2026-0001' };
  // A delegation manager-1 made, through the API, for a period long after this test (never in force here).
  const delegation = await fetch(`${stack.apiUrl}/v1/delegations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.get(CALLERS[1])}` },
    body: JSON.stringify({
      delegateId: 'director-1',
      from: '2098-01-01T00:00:00Z',
      until: '2098-01-02T00:00:00Z',
    }),
  });
  expect(delegation.status).toBe(201);
  ids.delegation['manager-1’s'] = ((await delegation.json()) as { delegationId: string }).delegationId;
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

/** One cell's status, over real HTTP; credentials are an API key as a bearer token. */
async function statusOf(row: Row, caller: Caller | undefined, resource: Resource | undefined) {
  const request = row.request?.(context) ?? {};
  const id = row.on && resource ? ids[row.on][resource.name] : undefined;
  const url = (request.url ?? row.path).replace(':id', id ?? ':id');
  const headers: Record<string, string> = {};
  const token = caller && tokens.get(caller);
  if (token) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (request.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = request.form;
  } else if (request.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(request.body);
  }
  const response = await fetch(`${stack.apiUrl}${url}`, {
    method: row.method,
    headers,
    body,
    redirect: 'manual',
  });
  await response.arrayBuffer();
  return response.status;
}

describe(`the authorization matrix: ${ROWS.length} routes × ${CALLERS.length} callers + no credentials (× own, another's, unknown resource) = ${MATRIX_CELLS} cells`, () => {
  test.each(ROWS.map((row) => [keyOf(row), row] as const))('%s', async (_key, row) => {
    const expected: Record<string, number> = {};
    const actual: Record<string, number> = {};
    for (const resource of resourcesOf(row)) {
      for (const caller of [undefined, ...CALLERS]) {
        const name = cellName(row, caller, resource);
        expected[name] = expectedStatus(row, caller, resource);
        actual[name] = await statusOf(row, caller, resource);
      }
    }
    // Every cell at once, so a failure shows the whole row with the cells that differ.
    expect(actual).toEqual(expected);
  });
});

describe('the table covers every route', () => {
  /**
   * Every route the app registers, hidden ones and HEAD included, with its access: a twin of the stack's app,
   * built by the same buildApp with the same settings, listed by fastify's onRoute (no product code for it).
   */
  async function registeredRoutes(): Promise<Map<string, Access | undefined>> {
    const config = parseConfig({ LOG_LEVEL: 'warn', ...(await settings()) });
    const app = buildApp({
      models: stack.models,
      temporal: stack.temporal,
      taskQueue: stack.taskQueue,
      policy: await loadPolicyFile(config.CANCELLATION_POLICY_FILE),
      ...apiSettingsFrom(config),
      logger: createLogger({ LOG_LEVEL: 'silent' }, 'front-door-matrix-routes'),
    });
    const routes = new Map<string, Access | undefined>();
    // Added before the app is ready, so it sees the routes of every plugin the app registers.
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) {
        routes.set(`${method} ${route.url}`, route.config?.access);
      }
    });
    await app.ready();
    await app.close();
    return routes;
  }

  test('the routes the app registers are exactly the rows of the table', async () => {
    const registered = [...(await registeredRoutes()).keys()].sort();
    expect(registered.length).toBeGreaterThan(30);
    expect(registered).toEqual(ROWS.map(keyOf).sort());
  });

  test('each row states the access its route’s config.access states', async () => {
    const registered = await registeredRoutes();
    /** An access statement in one comparable form: public (why aside), or roles and ownership. */
    const normal = (access: Row['access'] | Access | undefined) =>
      !access
        ? 'states none'
        : 'public' in access
          ? 'public'
          : {
              roles: [...access.roles].sort(),
              ownFor: access.ownFor ? [...access.ownFor].sort() : [],
              own: Boolean(access.own),
            };
    const stated = Object.fromEntries(ROWS.map((row) => [keyOf(row), normal(registered.get(keyOf(row)))]));
    const inTable = Object.fromEntries(
      ROWS.map((row) => {
        // swagger-ui's own routes state nothing: the access hook lets them through, as documentation.
        const exempt = row.path.startsWith('/docs');
        return [keyOf(row), exempt ? 'states none' : normal(row.access)];
      }),
    );
    expect(stated).toEqual(inTable);
  });

  test('every operation /openapi.json of the running API documents has a row', async () => {
    const response = await fetch(`${stack.apiUrl}/openapi.json`);
    const document = (await response.json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    expect(documented.length).toBeGreaterThan(20);
    const rows = new Set(ROWS.map(keyOf));
    expect(documented.filter((key) => !rows.has(key))).toEqual([]);
  });
});

test('a requester lists only the cancellations they asked for; staff list everyone’s', async () => {
  const clerk = await stack.as('clerk-1');
  const ops = await stack.as('ops-1');
  const mine = (await clerk.listCancellations()).items.map((item) => item.cancellationId);
  const all = (await ops.listCancellations()).items.map((item) => item.cancellationId);
  expect(mine).toContain(cancellationIds['clerk-1’s']);
  expect(mine).not.toContain(cancellationIds['manager-1’s']);
  expect(all).toEqual(expect.arrayContaining([cancellationIds['clerk-1’s'], cancellationIds['manager-1’s']]));
});

describe('approvals: the access check lets approvers through; the workflow says which may decide', () => {
  const waiting = 'awaitingApproval.waitingForDecision';

  /** Keys in all the person's roles (as `stack.as` gives, whose token its client keeps to itself). */
  const fullKeys = new Map<string, string>();
  async function fullKey(personId: string): Promise<string> {
    let token = fullKeys.get(personId);
    if (!token) {
      const person = await stack.models.Person.findOne({ personId }).lean();
      ({ token } = await issueApiKey(stack.models, {
        name: `matrix full ${personId}`,
        personId,
        scopes: person?.roles ?? [],
        createdBy: 'test',
      }));
      fullKeys.set(personId, token);
    }
    return token;
  }

  /** Approves as the person, with a key in all their roles or in `roles` only; the status and body. */
  async function decide(personId: string, cancellationId: string, roles?: PersonRole[]) {
    const token = roles
      ? (await issueApiKey(stack.models, { name: 'decide', personId, scopes: roles, createdBy: 'test' }))
          .token
      : await fullKey(personId);
    const response = await fetch(`${stack.apiUrl}/v1/cancellations/${cancellationId}/decision`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ approved: true }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function waitingStep(cancellationId: string, step: number) {
    const ops = await stack.as('ops-1');
    return eventually(async () => {
      const view = await ops.getCancellation(cancellationId);
      expect(view).toMatchObject({ state: waiting, approval: { step } });
      return view;
    }, 60_000);
  }

  test('a requester who is also an approver never approves their own request: 409 from the workflow', async () => {
    // SO-2026-0003 is a VIP customer's: medium risk, one approval of level 1. manager-1 asks for it.
    const id = await cancel('manager-1', 'SO-2026-0003');
    const view = await waitingStep(id, 0);
    expect(view.approval).toMatchObject({ requiredLevel: 1, eligibleApprovers: ['director-1'] });

    // In both their roles, or with a key that acts only as an approver: the person is still the requester.
    for (const roles of [undefined, ['approver'] as PersonRole[]]) {
      const own = await decide('manager-1', id, roles);
      expect(own).toMatchObject({
        status: 409,
        body: { message: expect.stringContaining('the requester may not decide their own cancellation') },
      });
    }
    // A pure requester does not get that far.
    expect((await decide('clerk-1', id)).status).toBe(403);
    // The step was decidable all along, by someone else.
    expect(await decide('director-1', id)).toMatchObject({ status: 200 });
    await completed(id);
  });

  test('an approver below the step’s level cannot decide it: 409 from the workflow, not 403', async () => {
    // A second level-1 approver who decides nothing before, so only the level keeps them out.
    await addPeople(stack.models, [
      {
        personId: 'manager-2',
        name: 'Level One',
        email: 'level.one@cancelflow.local',
        language: 'en',
        department: 'sales',
        roles: ['approver'],
        approvalLevel: 1,
      },
    ]);
    await placePaidOrder(stack.models, {
      orderNumber: 'SO-MATRIX-HIGH',
      customerId: 'C-1001',
      currency: 'CNY',
      lines: [{ lineId: 'L1', sku: 'TEA-LJ-250', quantity: 1, unitPriceMinor: 16800 }],
    });
    // Suspected fraud is high risk: level 1, then level 2.
    const id = await cancel('clerk-1', 'SO-MATRIX-HIGH', 'suspected_fraud');
    const first = await waitingStep(id, 0);
    expect(first.approval).toMatchObject({ requiredLevel: 1 });
    expect(first.approval?.eligibleApprovers).toEqual(expect.arrayContaining(['manager-1', 'manager-2']));
    expect(await decide('manager-1', id)).toMatchObject({ status: 200 });

    const second = await waitingStep(id, 1);
    expect(second.approval).toMatchObject({ requiredLevel: 2, eligibleApprovers: ['director-1'] });
    expect(await decide('manager-2', id)).toMatchObject({
      status: 409,
      body: { message: expect.stringContaining('manager-2 is not an approver of level 2 or higher') },
    });
    expect(await decide('director-1', id)).toMatchObject({ status: 200 });
    await completed(id);
  });
});

describe('credentials that no longer hold', () => {
  test('a revoked API key gets 401, on every kind of route it could call before', async () => {
    const { key, token } = await issueApiKey(stack.models, {
      name: 'to be revoked',
      personId: 'ops-1',
      scopes: ['ops', 'admin'],
      createdBy: 'test',
    });
    const call = (method: string, path: string) =>
      fetch(`${stack.apiUrl}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
    expect((await call('GET', '/v1/api-keys')).status).toBe(200);
    const admin = await stack.as('ops-1');
    expect((await admin.revokeApiKey(key.keyId)).revokedAt).toEqual(expect.any(String));
    for (const path of ['/v1/auth/session', '/v1/api-keys', '/v1/cancellations', '/v1/messages']) {
      const refused = await call('GET', path);
      expect([path, refused.status]).toEqual([path, 401]);
    }
  });

  test('an expired session gets 401', async () => {
    const signIn = await fetch(`${stack.apiUrl}/v1/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'clerk-1', password: PASSWORD }),
    });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers
      .getSetCookie()
      .map((value) => value.split(';')[0])
      .join('; ');
    const whoAmI = () => fetch(`${stack.apiUrl}/v1/auth/session`, { headers: { cookie } });
    expect((await whoAmI()).status).toBe(200);
    await stack.models.Session.updateMany(
      { personId: 'clerk-1' },
      { $set: { expiresAt: new Date(Date.now() - 1000) } },
    );
    expect((await whoAmI()).status).toBe(401);
  });
});
