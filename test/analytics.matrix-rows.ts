// The analytics' rows of the authorization matrix (test/front-door.matrix.test.ts spreads them into its table):
// every figure of GET /v1/analytics/… and the console's page are for sales managers (approvers), finance, ops
// and admins; the page's chart script is public, like the console's other assets.
import { ANALYTICS_FIGURES } from '../contracts/analytics.contract';

const READERS = ['approver', 'finance_clerk', 'ops', 'admin'] as const;

// prettier-ignore
export const ANALYTICS_ROWS = [
  ...ANALYTICS_FIGURES.map((figure) => ({
    method: 'GET' as const, path: `/v1/analytics/${figure}`, access: { roles: READERS }, answers: 200,
  })),
  { method: 'GET', path: '/console/analytics', access: { roles: READERS }, answers: 200 },
  { method: 'GET', path: '/console/assets/analytics.js', access: { public: "the analytics page's chart script" },
    answers: 200 },
] as const;
