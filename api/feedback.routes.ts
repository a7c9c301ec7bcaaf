// Customers' feedback on the cancellation service (R16): the code their "cancelled" message carries lets them
// rate it once, 1 to 5, with an optional comment; staff read it with the cancellation.
import type { FastifyBaseLogger } from 'fastify';
import {
  apiErrorBody,
  cancellationIdParams,
  feedbackCodeParams,
  feedbackCodeView,
  feedbackView,
  type FeedbackView,
} from '../client/contract';
import type { Models } from '../models';
import {
  feedbackSubmission,
  findFeedback,
  submitFeedback,
  type FeedbackView as StoredFeedback,
} from '../models/feedback';
import { ANY_ROLE, type ApiInstance } from './auth/access';
import { publicErrors } from './error-answers';

/** The customer has no account: the random code in their message is what lets them in (R16). */
const byCode = { access: { public: 'the random code from the customer’s message guards it' } };
const errors = { ...publicErrors, 404: apiErrorBody };
const tags = ['feedback'];

function wireOf(feedback: StoredFeedback): FeedbackView {
  return { ...feedback, submittedAt: feedback.submittedAt?.toISOString() ?? null };
}

export function registerFeedbackRoutes<Logger extends FastifyBaseLogger>(
  routes: ApiInstance<Logger>,
  deps: { models: Models },
): void {
  routes.get(
    '/v1/feedback/:code',
    {
      config: byCode,
      schema: {
        tags,
        summary: 'What a feedback code is for, and whether it was used: what the page shows before rating',
        params: feedbackCodeParams,
        response: { 200: feedbackCodeView, ...errors },
      },
    },
    async (request) => {
      const { code, orderNumber, rating, submittedAt } = await findFeedback(deps.models, {
        code: request.params.code,
      });
      return { code, orderNumber, rated: rating !== null, submittedAt: submittedAt?.toISOString() ?? null };
    },
  );

  routes.post(
    '/v1/feedback/:code',
    {
      config: byCode,
      schema: {
        tags,
        summary: 'Rate the service 1 to 5, once per code, with an optional comment (409 for a used code)',
        params: feedbackCodeParams,
        body: feedbackSubmission,
        response: { 201: feedbackView, ...errors, 409: apiErrorBody },
      },
    },
    async (request, reply) => {
      const feedback = await submitFeedback(deps.models, request.params.code, request.body);
      request.log.info(
        { cancellationId: feedback.cancellationId, rating: feedback.rating },
        'feedback received',
      );
      return reply.status(201).send(wireOf(feedback));
    },
  );

  routes.get(
    '/v1/cancellations/:id/feedback',
    {
      config: { access: { roles: ANY_ROLE, ownFor: ['requester'], own: 'requesterOfCancellation' } },
      schema: {
        tags,
        summary: "The customer's feedback on a cancellation; 404 until a code was issued",
        params: cancellationIdParams,
        response: { 200: feedbackView, ...errors, 401: apiErrorBody, 403: apiErrorBody },
      },
    },
    async (request) => wireOf(await findFeedback(deps.models, { cancellationId: request.params.id })),
  );
}
