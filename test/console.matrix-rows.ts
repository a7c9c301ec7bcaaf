// The web console's rows of the authorization matrix (test/front-door.matrix.test.ts spreads them into its
// table): who may open each page and make each write, and what the handler answers a caller let through. The
// matrix calls them with API keys and no browser: a stream asked for without `Accept: text/event-stream` is
// answered with the current view once; an anonymous caller of a page behind sign-in gets 401 (the sign-in page).
// The customer's pages are public, guarded by the signed link: the matrix's link is not one cancelflow signed, so
// every caller gets the page refusing it (403), whoever they are.
const EVERYONE = ['requester', 'approver', 'finance_clerk', 'warehouse_clerk', 'ops', 'admin'] as const;
const found = { 'clerk-1’s': 200, 'manager-1’s': 200, unknown: 404 } as const;
const endedOrUnknown = { 'clerk-1’s': 409, 'manager-1’s': 409, unknown: 404 } as const;
const ownCancellation = { roles: EVERYONE, ownFor: ['requester'], own: true } as const;
const refusedLink = { 'clerk-1’s': 403, 'manager-1’s': 403, unknown: 403 } as const;
const byLink = { public: 'the signed, expiring link guards it' } as const;
/** A link of the right shape that cancelflow did not sign. */
const FORGED = `order=SO-2026-0001&expires=4102444800&sig=${'A'.repeat(43)}`;
/** An order link (from the order mail) of the right shape that cancelflow did not sign. */
const FORGED_ORDER = `/customer/orders/SO-2026-0003`;
const FORGED_ORDER_LINK = `expires=4102444800&sig=${'A'.repeat(43)}`;

// prettier-ignore
export const CONSOLE_ROWS = [
  { method: 'GET', path: '/console', access: { public: 'the way into the console' }, answers: 302 },
  { method: 'GET', path: '/console/assets/:name', access: { public: "the console's scripts and stylesheet" },
    request: () => ({ url: '/console/assets/htmx.min.js' }), answers: 200 },
  { method: 'GET', path: '/console/language', access: { public: 'choosing the pages’ language' },
    request: () => ({ url: '/console/language?lang=en&next=/console/orders' }), answers: 303 },
  { method: 'GET', path: '/console/sign-in', access: { public: 'the sign-in form' }, answers: 200 },
  // A login nobody has (so the matrix locks no account out): the handler's 401, as a page.
  { method: 'POST', path: '/console/sign-in', access: { public: 'how a person gets credentials' },
    request: () => ({ form: 'login=nobody-matrix&password=not-a-password' }), answers: 401 },
  { method: 'POST', path: '/console/sign-out', access: { public: 'ends the session the cookie names, if any' },
    answers: 303 },
  { method: 'GET', path: '/console/orders', access: { roles: EVERYONE }, answers: 200 },
  { method: 'GET', path: '/console/orders/:orderNumber', access: { roles: EVERYONE },
    request: ({ orderNumber }: { orderNumber: string }) => ({ url: `/console/orders/${orderNumber}` }), answers: 200 },
  { method: 'GET', path: '/console/orders/:orderNumber/preview', access: { roles: ['requester'] },
    request: ({ orderNumber }: { orderNumber: string }) => ({
      url: `/console/orders/${orderNumber}/preview?scope=whole&reasonCode=other`,
    }),
    answers: 200 },
  { method: 'POST', path: '/console/orders/:orderNumber/cancellations', access: { roles: ['requester'] },
    request: () => ({
      url: '/console/orders/SO-MATRIX-NONE/cancellations',
      form: 'scope=whole&reasonCode=other&confirm=awaiting_shipment',
    }),
    answers: 404 },
  { method: 'GET', path: '/console/cancellations/:id', on: 'cancellation', access: ownCancellation, answers: found },
  { method: 'GET', path: '/console/cancellations/:id/events', on: 'cancellation', access: ownCancellation,
    answers: found },
  { method: 'GET', path: '/console/inbox', access: { roles: EVERYONE, ownFor: ['requester'] }, answers: 200 },
  { method: 'POST', path: '/console/cancellations/:id/decision', on: 'cancellation', access: { roles: ['approver'] },
    request: () => ({ form: 'approved=true&comment=matrix' }), answers: endedOrUnknown },

  // The queues of the people who act, and their actions (the API's action routes' access).
  { method: 'GET', path: '/console/queues/settlements', access: { roles: ['finance_clerk'] }, answers: 200 },
  { method: 'GET', path: '/console/queues/returns', access: { roles: ['warehouse_clerk'] }, answers: 200 },
  { method: 'GET', path: '/console/queues/attention', access: { roles: ['ops'] }, answers: 200 },
  { method: 'POST', path: '/console/cancellations/:id/settlement', on: 'cancellation', access: { roles: ['finance_clerk'] },
    request: () => ({ form: 'reference=MATRIX-REF' }), answers: endedOrUnknown },
  { method: 'POST', path: '/console/cancellations/:id/resumption', on: 'cancellation', access: { roles: ['ops'] },
    request: () => ({ form: 'note=matrix' }), answers: endedOrUnknown },
  { method: 'POST', path: '/console/cancellations/:id/returns', on: 'cancellation', access: { roles: ['warehouse_clerk'] },
    request: () => ({ form: 'shipmentId=SH-MATRIX' }), answers: endedOrUnknown },

  // The signed-in person's message centre (always their own).
  { method: 'GET', path: '/console/messages', access: { roles: EVERYONE }, answers: 200 },
  { method: 'POST', path: '/console/messages/:messageId/read', access: { roles: EVERYONE },
    request: () => ({ url: '/console/messages/matrix-no-such-message/read' }), answers: 404 },
  { method: 'POST', path: '/console/messages/read-all', access: { roles: EVERYONE }, answers: 303 },

  // Outbound webhooks, admins only (api/console/webhooks.routes.ts), as the API's subscription routes: a URL that
  // is not http(s) is the API's 400 (nothing is subscribed); an unknown subscription or delivery is 404.
  { method: 'GET', path: '/console/webhooks', access: { roles: ['admin'] }, answers: 200 },
  { method: 'POST', path: '/console/webhooks', access: { roles: ['admin'] },
    request: () => ({ form: 'url=ftp%3A%2F%2Fmatrix.example.com&eventTypes=bulk_job.completed' }), answers: 400 },
  { method: 'GET', path: '/console/webhooks/:id', access: { roles: ['admin'] },
    request: () => ({ url: '/console/webhooks/whs_matrix_none?status=failed' }), answers: 404 },
  { method: 'POST', path: '/console/webhooks/:id/active', access: { roles: ['admin'] },
    request: () => ({ url: '/console/webhooks/whs_matrix_none/active', form: 'active=false' }), answers: 404 },
  { method: 'POST', path: '/console/webhooks/:id/edit', access: { roles: ['admin'] },
    request: () => ({ url: '/console/webhooks/whs_matrix_none/edit', form: 'url=https%3A%2F%2Fmatrix.example.com&eventTypes=bulk_job.failed' }), answers: 404 },
  { method: 'POST', path: '/console/webhooks/:id/remove', access: { roles: ['admin'] },
    request: () => ({ url: '/console/webhooks/whs_matrix_none/remove' }), answers: 404 },
  { method: 'POST', path: '/console/webhook-deliveries/:id/redelivery', access: { roles: ['admin'] },
    request: () => ({ url: '/console/webhook-deliveries/dlv_matrix_none/redelivery' }), answers: 404 },

  // The customer's own pages: no account, the signed link.
  { method: 'GET', path: '/customer/cancellations/:id', on: 'cancellation', access: byLink,
    request: () => ({ url: `/customer/cancellations/:id?${FORGED}` }), answers: refusedLink },
  { method: 'GET', path: '/customer/cancellations/:id/events', on: 'cancellation', access: byLink,
    request: () => ({ url: `/customer/cancellations/:id/events?${FORGED}` }), answers: refusedLink },
  { method: 'POST', path: '/customer/cancellations/:id/choice', on: 'cancellation', access: byLink,
    request: () => ({ url: `/customer/cancellations/:id/choice?${FORGED}`, form: 'option=redelivery' }),
    answers: refusedLink },
  { method: 'POST', path: '/customer/cancellations/:id/feedback', on: 'cancellation', access: byLink,
    request: () => ({ url: `/customer/cancellations/:id/feedback?${FORGED}`, form: 'rating=5' }),
    answers: refusedLink },
  // The customer's own order, from the order mail's link: the same refusal, whoever calls.
  { method: 'GET', path: '/customer/orders/:orderNumber', access: byLink,
    request: () => ({ url: `${FORGED_ORDER}?${FORGED_ORDER_LINK}` }), answers: 403 },
  { method: 'GET', path: '/customer/orders/:orderNumber/preview', access: byLink,
    request: () => ({ url: `${FORGED_ORDER}/preview?${FORGED_ORDER_LINK}&scope=whole` }), answers: 403 },
  { method: 'POST', path: '/customer/orders/:orderNumber/cancellations', access: byLink,
    request: () => ({
      url: `${FORGED_ORDER}/cancellations?${FORGED_ORDER_LINK}`,
      form: 'scope=whole&reasonCode=other&confirm=awaiting_shipment',
    }),
    answers: 403 },
] as const;
