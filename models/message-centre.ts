// The message centre's operations (R19, R24): posting a message to a person or a department, once per key,
// and each person's inbox, unread count and marking read. The schema and why it is shaped so are in
// message-centre.model.ts.
import { z } from 'zod';
import type { Language } from '../contracts/books.contract';
import { CancelflowError } from '../lib/errors';
import { idempotencyKey, parseInput, requiredText } from './books-validation';
import type { Models } from './index';
import { MESSAGE_CATEGORIES } from './message-centre.model';
import { onlyDuplicateKeys } from './mongo-errors';
import { DEPARTMENTS } from '../contracts/cancellation.contract';

const localisedText = z.object({ title: requiredText, body: requiredText });
const postMessageInput = z.object({
  idempotencyKey,
  to: z.union([
    z.object({ personId: requiredText }).strict(),
    z.object({ department: z.enum(DEPARTMENTS) }).strict(),
  ]),
  cancellationId: requiredText,
  orderNumber: requiredText,
  category: z.enum(MESSAGE_CATEGORIES),
  /** Both languages: a department's members read different ones. */
  content: z.object({ 'zh-CN': localisedText, en: localisedText }),
});
export type PostMessageInput = z.input<typeof postMessageInput>;

/**
 * Writes messages, each to a person or to every active member of a department, once per key: the recipients
 * of all of them read in one query per kind and the entries written in one bulk write (a moment's notices go
 * to up to four departments, and one message at a time cost two round trips each: issue #13). Returns, by
 * message key, the people each is now in front of (a repeat returns the same people, plus any who joined in
 * between). A message to a person who does not exist fails them all, before anything is written.
 */
export async function postMessages(
  models: Models,
  inputs: readonly PostMessageInput[],
): Promise<Map<string, string[]>> {
  const messages = inputs.map((input) => parseInput(postMessageInput, input));
  const { Person, MessageCentreEntry } = models;
  const personIds = [...new Set(messages.flatMap(({ to }) => ('personId' in to ? [to.personId] : [])))];
  const departments = [...new Set(messages.flatMap(({ to }) => ('department' in to ? [to.department] : [])))];
  const [people, members] = await Promise.all([
    personIds.length === 0
      ? []
      : Person.find({ personId: { $in: personIds } }, { personId: 1, language: 1 }).lean(),
    departments.length === 0
      ? []
      : Person.find(
          { department: { $in: departments }, active: true },
          { personId: 1, language: 1, department: 1 },
        ).lean(),
  ]);
  const recipientsOf = ({ to }: (typeof messages)[number]) =>
    'personId' in to
      ? people.filter((person) => person.personId === to.personId)
      : members.filter((person) => person.department === to.department);
  const unknown = personIds.find((personId) => !people.some((person) => person.personId === personId));
  if (unknown !== undefined) {
    throw new CancelflowError('not_found', `no person ${unknown}`, { field: 'to.personId' });
  }

  const writes = messages.flatMap((message) =>
    recipientsOf(message).map((person) => {
      const language: Language = person.language;
      return {
        updateOne: {
          filter: { messageId: `${message.idempotencyKey}:${person.personId}` },
          update: {
            $setOnInsert: {
              idempotencyKey: message.idempotencyKey,
              recipientId: person.personId,
              department: 'department' in message.to ? message.to.department : undefined,
              cancellationId: message.cancellationId,
              orderNumber: message.orderNumber,
              category: message.category,
              language,
              title: message.content[language].title,
              body: message.content[language].body,
              readAt: null,
            },
          },
          upsert: true,
        },
      };
    }),
  );
  if (writes.length > 0) {
    await MessageCentreEntry.bulkWrite(writes, { ordered: false }).catch((error: unknown) => {
      // A concurrent delivery of the same messages wrote some of them: fine, each is there once.
      if (!onlyDuplicateKeys(error)) throw error;
    });
  }
  return new Map(
    messages.map((message) => [
      message.idempotencyKey,
      recipientsOf(message).map((person) => person.personId),
    ]),
  );
}

/** Writes one message (postMessages); returns the people it is now in front of. */
export async function postMessage(models: Models, input: PostMessageInput): Promise<string[]> {
  const posted = await postMessages(models, [input]);
  return [...posted.values()][0] ?? [];
}

export async function unreadCount(models: Models, personId: string): Promise<number> {
  return models.MessageCentreEntry.countDocuments({ recipientId: personId, readAt: null });
}

/** Where a page of a person's messages ended: the next page starts after this message. */
export interface MessagePosition {
  createdAt: Date;
  messageId: string;
}

/**
 * A person's messages, newest first (ties in the order of their ids, so pages neither repeat nor skip one);
 * `after`: only those after that message, for the next page.
 */
export async function listMessages(
  models: Models,
  personId: string,
  options: { unreadOnly?: boolean; limit?: number; after?: MessagePosition } = {},
) {
  const { after } = options;
  return models.MessageCentreEntry.find({
    recipientId: personId,
    ...(options.unreadOnly ? { readAt: null } : {}),
    ...(after
      ? {
          $or: [
            { createdAt: { $lt: after.createdAt } },
            { createdAt: after.createdAt, messageId: { $lt: after.messageId } },
          ],
        }
      : {}),
  })
    .sort({ createdAt: -1, messageId: -1 })
    .limit(options.limit ?? 50)
    .lean();
}

/** One of the person's messages; not_found when they have no message of that id. */
export async function findMessage(models: Models, personId: string, messageId: string) {
  const message = await models.MessageCentreEntry.findOne({ messageId, recipientId: personId }).lean();
  if (!message) {
    throw new CancelflowError('not_found', `person ${personId} has no message ${messageId}`, {
      field: 'messageId',
    });
  }
  return message;
}

/**
 * Marks one of the person's messages read. True when this call marked it, false when it was read before;
 * the first reading time is kept either way.
 */
export async function markMessageRead(models: Models, personId: string, messageId: string): Promise<boolean> {
  const marked = await models.MessageCentreEntry.updateOne(
    { messageId, recipientId: personId, readAt: null },
    { $set: { readAt: new Date() } },
  );
  if (marked.modifiedCount === 1) return true;
  if (!(await models.MessageCentreEntry.exists({ messageId, recipientId: personId }))) {
    throw new CancelflowError('not_found', `person ${personId} has no message ${messageId}`, {
      field: 'messageId',
    });
  }
  return false;
}

/** Marks every unread message of the person read; returns how many this call marked. */
export async function markAllMessagesRead(models: Models, personId: string): Promise<number> {
  const marked = await models.MessageCentreEntry.updateMany(
    { recipientId: personId, readAt: null },
    { $set: { readAt: new Date() } },
  );
  return marked.modifiedCount;
}
