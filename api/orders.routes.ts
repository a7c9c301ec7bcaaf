// Order lookup over HTTP (R1, R13): search, and one order with what a clerk reviews before cancelling it; and the
// customer's signed link to their order's own page (#14), which the shop puts in its order mail.
import type { FastifyBaseLogger } from 'fastify';
import {
  apiErrorBody,
  orderCustomerLink,
  orderNumberParams,
  orderResource,
  orderSearchPage,
} from '../client/contract';
import { orderLinkUrl, type CustomerLinkSettings } from '../lib/customer-link';
import { CancelflowError } from '../lib/errors';
import type { Models } from '../models';
import { getOrder, orderSearchQuery, searchOrders } from '../models/order-search';
import { ANY_ROLE, type ApiInstance } from './auth/access';
import { callerErrors } from './error-answers';

const errors = callerErrors;
const tags = ['orders'];

export function registerOrderRoutes<Logger extends FastifyBaseLogger>(
  routes: ApiInstance<Logger>,
  deps: {
    models: Models;
    /** The API as the world reaches it, and the customers' links' key and lifetime (lib/customer-link.ts). */
    publicBaseUrl: string;
    customerLinks: CustomerLinkSettings;
  },
): void {
  routes.get(
    '/v1/orders',
    {
      config: { access: { roles: ANY_ROLE } },
      schema: {
        tags,
        summary:
          'Find orders: every criterion given must match. `status` repeats or is comma-separated ' +
          '(status=shipped,cancelled); follow `nextCursor` for the next page',
        // The books' own criteria: a 400 names the field (status[1], createdTo, an unknown one).
        querystring: orderSearchQuery,
        response: { 200: orderSearchPage, ...errors },
      },
    },
    async (request) => searchOrders(deps.models, request.query),
  );

  routes.get(
    '/v1/orders/:orderNumber',
    {
      config: { access: { roles: ANY_ROLE } },
      schema: {
        tags,
        summary: 'One order with its lines, payments, refunds and cancellations (case-insensitive number)',
        params: orderNumberParams,
        response: { 200: orderResource, ...errors, 404: apiErrorBody },
      },
    },
    async (request) => getOrder(deps.models, request.params.orderNumber),
  );

  // The shop sends the order mail, so it asks cancelflow for the link: signed now, stored nowhere. Requesters
  // (the shop front's or the ERP's key, a clerk) may hand it out, as they may ask for a cancellation themselves.
  routes.post(
    '/v1/orders/:orderNumber/customer-link',
    {
      config: { access: { roles: ['requester'] } },
      schema: {
        tags,
        summary:
          "A signed, expiring link to the customer's own page of this order (exact number), where they may ask " +
          'to cancel it themselves; for the order mail. It holds CUSTOMER_LINK_DAYS',
        params: orderNumberParams,
        response: { 200: orderCustomerLink, ...errors, 404: apiErrorBody },
      },
    },
    async (request) => {
      const { orderNumber } = request.params;
      const order = await deps.models.SalesOrder.findOne({ orderNumber }, { orderNumber: 1 }).lean();
      if (!order) throw new CancelflowError('not_found', `order ${orderNumber} does not exist`);
      const link = orderLinkUrl(deps.customerLinks, deps.publicBaseUrl, order.orderNumber);
      return { orderNumber: order.orderNumber, url: link.url, expiresAt: link.expiresAt.toISOString() };
    },
  );
}
