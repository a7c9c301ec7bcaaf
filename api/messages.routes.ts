// The signed-in person's message centre (R19, R24): their messages, newest first, how many are unread, and
// marking them read. The person is always the caller: nobody reads or marks another's messages.
import type { FastifyBaseLogger } from 'fastify';
import {
  apiErrorBody,
  type MESSAGE_CATEGORIES as WIRE_CATEGORIES,
  messageIdParams,
  messageListQuery,
  messagePage,
  messageView,
  readAllAnswer,
  unreadCountAnswer,
  type MessageView,
} from '../client/contract';
import type { Models } from '../models';
import {
  findMessage,
  listMessages,
  markAllMessagesRead,
  markMessageRead,
  unreadCount,
  type MessagePosition,
} from '../models/message-centre';
import type { MessageCategory } from '../models/message-centre.model';
import { ANY_ROLE, callerOf, type ApiInstance } from './auth/access';
import { callerErrors } from './error-answers';
import { decodeCursor, encodeCursor, type NewestFirstPosition } from './request-parts';

// The wire names the categories the books keep; if one list changes alone, this stops compiling.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _categoriesMatch: Same<(typeof WIRE_CATEGORIES)[number], MessageCategory> = true;

const errors = callerErrors;
const tags = ['messages'];
/** Everyone signed in has a message centre, and only their own. */
const ownInbox = { access: { roles: ANY_ROLE } };

type StoredMessage = Awaited<ReturnType<typeof findMessage>>;

/** A stored message as the message routes (and the console's message centre) show it. */
export function messageViewOf(message: StoredMessage): MessageView {
  return {
    messageId: message.messageId,
    cancellationId: message.cancellationId,
    orderNumber: message.orderNumber,
    category: message.category,
    department: message.department ?? undefined,
    language: message.language,
    title: message.title,
    body: message.body,
    read: message.readAt !== null && message.readAt !== undefined,
    readAt: message.readAt?.toISOString(),
    createdAt: message.createdAt.toISOString(),
  };
}

const messagePositionOf = ({ createdAt, id }: NewestFirstPosition): MessagePosition => ({
  createdAt,
  messageId: id,
});

export function registerMessageRoutes<Logger extends FastifyBaseLogger>(
  routes: ApiInstance<Logger>,
  deps: { models: Models },
): void {
  const { models } = deps;

  routes.get(
    '/v1/messages',
    {
      config: ownInbox,
      schema: {
        tags,
        summary: "The caller's messages, newest first; `unread=true` for those not read yet",
        querystring: messageListQuery,
        response: { 200: messagePage, ...errors },
      },
    },
    async (request) => {
      const { personId } = callerOf(request);
      const { unread, limit, cursor } = request.query;
      const found = await listMessages(models, personId, {
        unreadOnly: unread === true,
        limit: limit + 1,
        after: cursor ? messagePositionOf(decodeCursor(cursor)) : undefined,
      });
      const page = found.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map(messageViewOf),
        ...(found.length > limit && last
          ? { nextCursor: encodeCursor({ createdAt: last.createdAt, id: last.messageId }) }
          : {}),
      };
    },
  );

  routes.get(
    '/v1/messages/unread-count',
    {
      config: ownInbox,
      schema: {
        tags,
        summary: "How many of the caller's messages are unread",
        response: { 200: unreadCountAnswer, ...errors },
      },
    },
    async (request) => ({ unread: await unreadCount(models, callerOf(request).personId) }),
  );

  routes.post(
    '/v1/messages/:messageId/read',
    {
      config: ownInbox,
      schema: {
        tags,
        summary: 'Mark one of the caller’s messages read (again: no change); 404 for another’s or none',
        params: messageIdParams,
        response: { 200: messageView, ...errors, 404: apiErrorBody },
      },
    },
    async (request) => {
      const { personId } = callerOf(request);
      await markMessageRead(models, personId, request.params.messageId);
      return messageViewOf(await findMessage(models, personId, request.params.messageId));
    },
  );

  routes.post(
    '/v1/messages/read-all',
    {
      config: ownInbox,
      schema: {
        tags,
        summary: "Mark every unread message of the caller's read",
        response: { 200: readAllAnswer, ...errors },
      },
    },
    async (request) => ({ marked: await markAllMessagesRead(models, callerOf(request).personId) }),
  );
}
