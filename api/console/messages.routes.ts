// The signed-in person's message centre (R19, R24): the operations of the API's message routes
// (models/message-centre.ts), always on the caller's own messages, drawn as a page; the navigation's badge is
// the unread count, and marking read brings the badge along.
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import { messageIdParams } from '../../client/contract';
import type { Models } from '../../models';
import {
  findMessage,
  listMessages,
  markAllMessagesRead,
  markMessageRead,
  unreadCount,
} from '../../models/message-centre';
import { ANY_ROLE, callerOf, type ApiInstance } from '../auth/access';
import { messageViewOf } from '../messages.routes';
import { decodeCursor, encodeCursor } from '../request-parts';
import { isHtmx, one, sendHtml, type ConsoleKit, type Form } from './kit';
import { markedRead, messagesPage } from './pages/messages';

/** Everyone signed in has a message centre, and only their own (as the API's routes). */
const ownMessages = { roles: ANY_ROLE } as const;
const PAGE = 30;

export function registerMessageCentreRoutes<Logger extends FastifyBaseLogger>(
  scope: ApiInstance<Logger>,
  kit: ConsoleKit,
  deps: { models: Models },
): void {
  const { models } = deps;

  scope.get(
    '/console/messages',
    {
      config: { access: ownMessages },
      schema: {
        hide: true,
        querystring: z.looseObject({ unread: z.string().optional(), cursor: z.string().max(512).optional() }),
      },
    },
    async (request, reply) => {
      const { personId } = callerOf(request);
      const unreadOnly = request.query.unread === 'true';
      const cursor = request.query.cursor;
      const after = cursor ? decodeCursor(cursor) : undefined;
      const found = await listMessages(models, personId, {
        unreadOnly,
        limit: PAGE + 1,
        after: after && { createdAt: after.createdAt, messageId: after.id },
      });
      const shown = found.slice(0, PAGE);
      const last = shown[shown.length - 1];
      const nextHref =
        found.length > PAGE && last
          ? `/console/messages?${new URLSearchParams({
              ...(unreadOnly ? { unread: 'true' } : {}),
              cursor: encodeCursor({ createdAt: last.createdAt, id: last.messageId }),
            }).toString()}`
          : undefined;
      return sendHtml(
        reply,
        messagesPage(await kit.pageContextOf(request, reply, 'messages'), shown.map(messageViewOf), {
          unreadOnly,
          nextHref,
        }),
      );
    },
  );

  // As POST /v1/messages/:messageId/read: the caller's own message only (another's is a 404).
  scope.post(
    '/console/messages/:messageId/read',
    { config: { access: ownMessages }, schema: { hide: true, params: messageIdParams } },
    async (request, reply) => {
      const { personId } = callerOf(request);
      const { messageId } = request.params;
      await markMessageRead(models, personId, messageId);
      if (!isHtmx(request)) return reply.redirect('/console/messages', 303);
      const form = (request.body ?? {}) as Form;
      const index = Number(one(form.index) ?? 0);
      const [message, unread] = await Promise.all([
        findMessage(models, personId, messageId),
        unreadCount(models, personId),
      ]);
      return sendHtml(
        reply,
        markedRead(
          kit.contextOf(request, reply).t,
          messageViewOf(message),
          Number.isInteger(index) ? index : 0,
          unread,
        ),
      );
    },
  );

  // As POST /v1/messages/read-all.
  scope.post(
    '/console/messages/read-all',
    { config: { access: ownMessages }, schema: { hide: true } },
    async (request, reply) => {
      await markAllMessagesRead(models, callerOf(request).personId);
      if (!isHtmx(request)) return reply.redirect('/console/messages', 303);
      void reply.header('hx-redirect', '/console/messages');
      return reply.status(204).send();
    },
  );
}
