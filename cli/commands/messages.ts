// The signed-in person's message centre: messages list, messages read.
import type { Command } from 'commander';
import { withApi, type CliContext } from '../context';
import { formatTable, formatTime } from '../output';
import { positiveInteger } from './arguments';

export function registerMessageCommands(program: Command, context: CliContext): void {
  const { out } = context;
  const messages = program.command('messages').description('your message centre: what happened, what to do');

  messages
    .command('list')
    .description('your messages, newest first')
    .option('--unread', 'only those not read yet')
    .option('--limit <n>', 'page size, 1 to 100 (20 by default)', positiveInteger)
    .option('--cursor <cursor>', 'the next page, as the previous page said')
    .action((options: { unread?: boolean; limit?: number; cursor?: string }, command: Command) =>
      withApi(context, command, async ({ client }) => {
        const page = await client.listMessages({
          unread: options.unread,
          limit: options.limit,
          cursor: options.cursor,
        });
        if (context.globals(command).json) return out.json(page);
        if (page.items.length === 0) out.line(options.unread ? 'no unread messages' : 'no messages');
        else {
          out.line(
            formatTable(
              ['message', 'read', 'category', 'cancellation', 'order', 'received', 'title'],
              page.items.map((message) => [
                message.messageId,
                message.read ? 'yes' : 'no',
                message.category,
                message.cancellationId,
                message.orderNumber,
                formatTime(message.createdAt),
                message.title,
              ]),
            ),
          );
        }
        if (page.nextCursor) out.note(`more: --cursor ${page.nextCursor}`);
      }),
    );

  messages
    .command('read')
    .description('mark a message read')
    .argument('<messageId>')
    .action((messageId: string, _options: unknown, command: Command) =>
      withApi(context, command, async ({ client }) => {
        const answer: unknown = await client.markMessageRead(messageId);
        if (context.globals(command).json) return out.json(answer ?? { messageId, read: true });
        out.line(`marked ${messageId} read`);
      }),
    );
}
