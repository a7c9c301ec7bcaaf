// Order lookup over HTTP (R1, R13): search, and one order with what a clerk reviews before cancelling it.
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { OrderSearchQuery } from '../client/contract';
import type { Models } from '../models';
import { ANY_ROLE } from './auth/access';
import { getOrder, searchOrders } from '../models/order-search';

export function registerOrderRoutes<Logger extends FastifyBaseLogger>(
  app: FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, Logger>,
  deps: { models: Models },
): void {
  // The query string is validated by `searchOrders` itself (400 naming the field).
  app.get('/v1/orders', { config: { access: { roles: ANY_ROLE } } }, async (request) =>
    searchOrders(deps.models, request.query as OrderSearchQuery),
  );

  app.get<{ Params: { orderNumber: string } }>(
    '/v1/orders/:orderNumber',
    { config: { access: { roles: ANY_ROLE } } },
    async (request) => getOrder(deps.models, request.params.orderNumber),
  );
}
