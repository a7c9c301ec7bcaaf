// Outbound webhooks in the console, for admins (issue #16): the subscriptions' page, adding one (its secret
// shown this once), pausing, resuming, changing (URL, event types, description) and removing one, a
// subscription's deliveries, and redelivering one. Each
// goes through the same service as the API's routes (api/webhook-subscriptions.service.ts), with the API's own
// body schemas, as the signed-in person; the access is the API's (admins), so anyone else gets the 403 page.
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  createWebhookSubscriptionBody,
  eventDeliveryIdParams,
  updateWebhookSubscriptionBody,
  webhookSubscriptionIdParams,
} from '../../client/contract';
import { EVENT_DELIVERY_STATUSES, WEBHOOK_EVENT_TYPES } from '../../contracts/cancellation-events.contract';
import { isCancelflowError } from '../../lib/errors';
import { callerOf, type ApiInstance } from '../auth/access';
import { WEBHOOK_ADMINS, type WebhookSubscriptionService } from '../webhook-subscriptions.service';
import { all, bodyOf, isHtmx, one, sendHtml, textField, type ConsoleKit, type Form } from './kit';
import {
  deliveryRow,
  subscriptionDetails,
  subscriptionPage,
  subscriptionsSection,
  type SubscriptionDraft,
  webhooksPage,
  type SubscriptionsNews,
} from './pages/webhooks';

/** The same as the API's subscription routes. */
const admins = WEBHOOK_ADMINS;
/** The deliveries a subscription's page shows, newest first. */
const DELIVERIES_SHOWN = 100;

const deliveriesQuery = z.looseObject({
  status: z.union([z.enum(EVENT_DELIVERY_STATUSES), z.literal('')]).optional(),
});

export function registerWebhookConsoleRoutes<Logger extends FastifyBaseLogger>(
  scope: ApiInstance<Logger>,
  kit: ConsoleKit,
  deps: { webhookSubscriptions: WebhookSubscriptionService },
): void {
  const { webhookSubscriptions: subscriptions } = deps;

  /** After a write: htmx gets the list in place (with what was done); a plain form post is redirected. */
  const answerWithList = async (request: FastifyRequest, reply: FastifyReply, news?: SubscriptionsNews) => {
    if (!isHtmx(request)) return reply.redirect('/console/webhooks', 303);
    return sendHtml(
      reply,
      subscriptionsSection(kit.contextOf(request, reply).t, await subscriptions.list(), news),
    );
  };

  scope.get(
    '/console/webhooks',
    { config: { access: admins }, schema: { hide: true } },
    async (request, reply) =>
      sendHtml(
        reply,
        webhooksPage(await kit.pageContextOf(request, reply, 'webhooks'), await subscriptions.list()),
      ),
  );

  scope.post(
    '/console/webhooks',
    { config: { access: admins }, schema: { hide: true } },
    async (request, reply) => {
      const form = (request.body ?? {}) as Form;
      const eventTypes = all(form.eventTypes);
      const body = bodyOf(createWebhookSubscriptionBody, {
        url: one(form.url)?.trim() ?? '',
        // None ticked: every type, as the API reads an absent list.
        ...(eventTypes.length > 0 ? { eventTypes } : {}),
        ...(textField(form, 'description') ? { description: textField(form, 'description') } : {}),
      });
      const created = await subscriptions.create(body, callerOf(request).personId);
      // The secret is shown this once, in the answer: a plain form post (no htmx) gets the page with it too.
      const news: SubscriptionsNews = {
        kind: 'created',
        subscriptionId: created.subscriptionId,
        secret: created.secret,
      };
      if (isHtmx(request))
        return sendHtml(
          reply,
          subscriptionsSection(kit.contextOf(request, reply).t, await subscriptions.list(), news),
        );
      return sendHtml(
        reply,
        webhooksPage(await kit.pageContextOf(request, reply, 'webhooks'), await subscriptions.list(), news),
        201,
      );
    },
  );

  scope.post(
    '/console/webhooks/:id/active',
    { config: { access: admins }, schema: { hide: true, params: webhookSubscriptionIdParams } },
    async (request, reply) => {
      const form = (request.body ?? {}) as Form;
      const change = bodyOf(updateWebhookSubscriptionBody, { active: one(form.active) === 'true' });
      await subscriptions.update(request.params.id, change);
      return answerWithList(request, reply);
    },
  );

  scope.post(
    '/console/webhooks/:id/edit',
    { config: { access: admins }, schema: { hide: true, params: webhookSubscriptionIdParams } },
    async (request, reply) => {
      const form = (request.body ?? {}) as Form;
      const ticked = all(form.eventTypes);
      const draft: SubscriptionDraft = {
        url: one(form.url)?.trim() ?? '',
        // None ticked: every type, as the form that adds one reads it.
        eventTypes: ticked.length > 0 ? ticked : WEBHOOK_EVENT_TYPES,
        // Empty clears it (the API's PATCH takes an empty description as "none").
        description: one(form.description)?.trim() ?? '',
      };
      const { id } = request.params;
      try {
        // The API's PATCH body schema: an http(s) URL, known event types, at most 200 characters of description.
        const saved = await subscriptions.update(id, bodyOf(updateWebhookSubscriptionBody, draft));
        if (!isHtmx(request)) return reply.redirect(`/console/webhooks/${encodeURIComponent(id)}`, 303);
        return sendHtml(
          reply,
          subscriptionDetails(kit.contextOf(request, reply).t, saved, { kind: 'saved' }),
        );
      } catch (error) {
        // Refused: the form comes back with what was typed and why, rather than an error in place of the page.
        if (!isHtmx(request) || !isCancelflowError(error) || error.code !== 'validation_failed') throw error;
        const current = await subscriptions.get(id);
        const news = { kind: 'refused', detail: error.message } as const;
        return sendHtml(
          reply,
          subscriptionDetails(kit.contextOf(request, reply).t, current, news, draft),
          400,
        );
      }
    },
  );

  scope.post(
    '/console/webhooks/:id/remove',
    { config: { access: admins }, schema: { hide: true, params: webhookSubscriptionIdParams } },
    async (request, reply) => {
      const removed = await subscriptions.remove(request.params.id);
      return answerWithList(request, reply, {
        kind: 'removed',
        subscriptionId: removed.subscriptionId,
        url: removed.url,
      });
    },
  );

  scope.get(
    '/console/webhooks/:id',
    {
      config: { access: admins },
      schema: { hide: true, params: webhookSubscriptionIdParams, querystring: deliveriesQuery },
    },
    async (request, reply) => {
      const status = request.query.status || undefined;
      const subscription = await subscriptions.get(request.params.id);
      const deliveries = await subscriptions.deliveries(request.params.id, {
        ...(status ? { status } : {}),
        limit: DELIVERIES_SHOWN,
      });
      return sendHtml(
        reply,
        subscriptionPage(
          await kit.pageContextOf(request, reply, 'webhooks'),
          subscription,
          deliveries,
          status,
        ),
      );
    },
  );

  scope.post(
    '/console/webhook-deliveries/:id/redelivery',
    { config: { access: admins }, schema: { hide: true, params: eventDeliveryIdParams } },
    async (request, reply) => {
      const delivery = await subscriptions.redeliver(request.params.id, callerOf(request).personId);
      if (!isHtmx(request))
        return reply.redirect(`/console/webhooks/${encodeURIComponent(delivery.subscriptionId)}`, 303);
      return sendHtml(reply, deliveryRow(kit.contextOf(request, reply).t, delivery));
    },
  );
}
