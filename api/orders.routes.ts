// Order lookup over HTTP (R1, R13): search, and one order with what a clerk reviews before cancelling it.
import type { FastifyBaseLogger } from 'fastify';
import { apiErrorBody, orderNumberParams, orderResource, orderSearchPage } from '../client/contract';
import type { Models } from '../models';
import { getOrder, orderSearchQuery, searchOrders } from '../models/order-search';
import { ANY_ROLE, type ApiInstance } from './auth/access';
import { callerErrors } from './error-answers';

const errors = callerErrors;
const tags = ['orders'];

export function registerOrderRoutes<Logger extends FastifyBaseLogger>(
  routes: ApiInstance<Logger>,
  deps: { models: Models },
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
}
