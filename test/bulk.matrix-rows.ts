// Bulk cancellation's rows of the authorization matrix (test/front-door.matrix.test.ts spreads them into its
// table). Requesters dry-run and start jobs (the matrix's start names no order that exists: the handler's 400, so
// the matrix starts no job); every signed-in role reaches a job's routes, whose service then lets through its
// starter, ops and admins: on the matrix's unknown job, everyone let through gets 404.
const EVERYONE = ['requester', 'approver', 'finance_clerk', 'warehouse_clerk', 'ops', 'admin'] as const;
const body = (orderNumber: string) => ({
  body: { selection: { orderNumbers: [orderNumber] }, reasonCode: 'other', confirm: ['awaiting_shipment'] },
});

// prettier-ignore
export const BULK_ROWS = [
  { method: 'POST', path: '/v1/bulk-cancellations/dry-run', access: { roles: ['requester'] },
    request: () => body('SO-2026-0003'), answers: 200 },
  { method: 'POST', path: '/v1/bulk-cancellations', access: { roles: ['requester'] },
    request: () => ({ body: { ...body('x').body, selection: { skus: ['MATRIX-NO-SUCH-SKU'] } } }), answers: 400 },
  { method: 'GET', path: '/v1/bulk-cancellations', access: { roles: EVERYONE }, answers: 200 },
  { method: 'GET', path: '/v1/bulk-cancellations/:id', access: { roles: EVERYONE }, answers: 404 },
  { method: 'GET', path: '/v1/bulk-cancellations/:id/report', access: { roles: EVERYONE }, answers: 404 },
  { method: 'POST', path: '/v1/bulk-cancellations/:id/pause', access: { roles: EVERYONE },
    request: () => ({ body: {} }), answers: 404 },
  { method: 'POST', path: '/v1/bulk-cancellations/:id/resume', access: { roles: EVERYONE },
    request: () => ({ body: {} }), answers: 404 },
  { method: 'POST', path: '/v1/bulk-cancellations/:id/stop', access: { roles: EVERYONE },
    request: () => ({ body: {} }), answers: 404 },
] as const;

/** The console's bulk pages (api/console/bulk.routes.ts): the same access as the API's routes. */
// prettier-ignore
export const BULK_CONSOLE_ROWS = [
  { method: 'GET', path: '/console/bulk', access: { roles: EVERYONE }, answers: 200 },
  { method: 'POST', path: '/console/bulk/dry-run', access: { roles: ['requester'] },
    request: () => ({ form: 'orderNumbers=SO-2026-0003&reasonCode=other&confirm=awaiting_shipment' }), answers: 200 },
  { method: 'POST', path: '/console/bulk', access: { roles: ['requester'] },
    request: () => ({ form: 'skus=MATRIX-NO-SUCH-SKU&reasonCode=other' }), answers: 400 },
  { method: 'GET', path: '/console/bulk/:id', access: { roles: EVERYONE }, answers: 404 },
  { method: 'GET', path: '/console/bulk/:id/progress', access: { roles: EVERYONE }, answers: 404 },
  { method: 'POST', path: '/console/bulk/:id/pause', access: { roles: EVERYONE }, answers: 404 },
  { method: 'POST', path: '/console/bulk/:id/resume', access: { roles: EVERYONE }, answers: 404 },
  { method: 'POST', path: '/console/bulk/:id/stop', access: { roles: EVERYONE }, answers: 404 },
] as const;
