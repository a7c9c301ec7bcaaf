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
 * Writes a message to a person, or to every active member of a department, once per key. Returns the ids of
 * the people it is now in front of (a repeat returns the same people, plus any who joined in between).
 */
export async function postMessage(models: Models, input: PostMessageInput): Promise<string[]> {
  const message = parseInput(postMessageInput, input);
  const { Person, MessageCentreEntry } = models;
  const recipients =
    'personId' in message.to
      ? await Person.find({ personId: message.to.personId }, { personId: 1, language: 1 }).lean()
      : await Person.find(
          { department: message.to.department, active: true },
          { personId: 1, language: 1 },
        ).lean();
  if ('personId' in message.to && recipients.length === 0) {
    throw new CancelflowError('not_found', `no person ${message.to.personId}`, { field: 'to.personId' });
  }
  const department = 'department' in message.to ? message.to.department : undefined;

  if (recipients.length === 0) return [];
  // One bulk write for the department's members rather than one write each (issue #13).
  await MessageCentreEntry.bulkWrite(
    recipients.map((person) => {
      const language: Language = person.language;
      return {
        updateOne: {
          filter: { messageId: `${message.idempotencyKey}:${person.personId}` },
          update: {
            $setOnInsert: {
              idempotencyKey: message.idempotencyKey,
              recipientId: person.personId,
              department,
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
    { ordered: false },
  ).catch((error: unknown) => {
    // A concurrent delivery of the same message wrote some of them: fine, each is there once.
    if (!onlyDuplicateKeys(error)) throw error;
  });
  return recipients.map((person) => person.personId);
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
