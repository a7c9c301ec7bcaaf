// Customers' feedback on the cancellation service (R16): the code their "cancelled" message carries lets them
// rate it once, 1 to 5, with an optional comment; staff read it with the cancellation.
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { Models } from '../models';
import { ANY_ROLE } from './auth/access';

/** The customer has no account: the random code in their message is what lets them in (R16). */
const byCode = { access: { public: 'the random code from the customer’s message guards it' } };
import { findFeedback, submitFeedback } from '../models/feedback';

export function registerFeedbackRoutes<Logger extends FastifyBaseLogger>(
  app: FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, Logger>,
  deps: { models: Models },
): void {
  /** What the code is for, and whether it was used: what a feedback page shows before the customer rates. */
  app.get<{ Params: { code: string } }>('/v1/feedback/:code', { config: byCode }, async (request) => {
    const { code, orderNumber, rating, submittedAt } = await findFeedback(deps.models, {
      code: request.params.code,
    });
    return { code, orderNumber, rated: rating !== null, submittedAt };
  });

  /** `{ "rating": 1..5, "comment"?: string }`: 201 once; 409 for a used code, 404 for an unknown one. */
  app.post<{ Params: { code: string } }>('/v1/feedback/:code', { config: byCode }, async (request, reply) => {
    const feedback = await submitFeedback(deps.models, request.params.code, request.body);
    request.log.info(
      { cancellationId: feedback.cancellationId, rating: feedback.rating },
      'feedback received',
    );
    return reply.status(201).send(feedback);
  });

  app.get<{ Params: { id: string } }>(
    '/v1/cancellations/:id/feedback',
    { config: { access: { roles: ANY_ROLE, ownFor: ['requester'], own: 'requesterOfCancellation' } } },
    async (request) => findFeedback(deps.models, { cancellationId: request.params.id }),
  );
}
