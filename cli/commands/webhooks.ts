// Outbound webhooks (admins): `webhooks add <url>` subscribes an outside system to the events of cancellations
// and bulk jobs and prints its signing secret, once; `webhooks list`, `webhooks edit <id>` (its URL, event types,
// description), `webhooks remove <id>`; `webhooks deliveries <id>` shows
// how each event went to it, attempts and all; `webhooks redeliver <deliveryId>` sends one again.
import { Option, type Command } from 'commander';
import type { EventDeliveryView } from '../../client/cancelflow-client';
import {
  EVENT_DELIVERY_STATUSES,
  WEBHOOK_EVENT_TYPES,
  type EventDeliveryStatus,
  type WebhookEventType,
} from '../../contracts/cancellation-events.contract';
import { UsageError, withApi, type CliContext } from '../context';
import { formatFields, formatTable, formatTime } from '../output';
import { nonEmpty, positiveInteger } from './arguments';

function deliveryFields(delivery: EventDeliveryView) {
  return formatFields([
    ['Delivery', delivery.deliveryId],
    ['Event', `${delivery.eventId} (${delivery.eventType})`],
    delivery.bulkJobId !== undefined
      ? ['Bulk job', `${delivery.bulkJobId} #${delivery.sequence}`]
      : ['Cancellation', `${delivery.cancellationId ?? ''} #${delivery.sequence}`],
    ['Status', delivery.status],
    ['Attempts', delivery.attemptCount],
    ['Next attempt', formatTime(delivery.nextAttemptAt)],
  ]);
}

export function registerWebhookCommands(program: Command, context: CliContext): void {
  const { out } = context;
  const webhooks = program
    .command('webhooks')
    .description('outside systems subscribed to the events of cancellations and bulk jobs (admin)');

  webhooks
    .command('add')
    .description('subscribe a URL to the events; its signing secret is shown this once')
    .argument('<url>', 'where events are posted (http or https)', nonEmpty)
    .addOption(
      new Option('--event <type...>', 'the event types to send (default: all)').choices(WEBHOOK_EVENT_TYPES),
    )
    .option('--description <text>', 'what the subscriber is, e.g. "ERP returns"')
    .action((url: string, options: { event?: WebhookEventType[]; description?: string }, command: Command) =>
      withApi(context, command, async ({ client }) => {
        const created = await client.createWebhookSubscription({
          url,
          eventTypes: options.event ? [...new Set(options.event)] : undefined,
          description: options.description,
        });
        if (context.globals(command).json) return out.json(created);
        out.line(
          formatFields([
            ['Subscription', created.subscriptionId],
            ['URL', created.url],
            ['Events', created.eventTypes],
            ['Description', created.description],
          ]),
        );
        out.line();
        out.line(created.secret);
        out.note('this is the only time the signing secret is shown: give it to the receiver now');
      }),
    );

  webhooks
    .command('list')
    .description('every subscription, newest first (never their secrets)')
    .action((_options: unknown, command: Command) =>
      withApi(context, command, async ({ client }) => {
        const items = await client.listWebhookSubscriptions();
        if (context.globals(command).json) return out.json({ items });
        if (items.length === 0) return out.line('no webhook subscriptions');
        out.line(
          formatTable(
            ['subscription', 'url', 'events', 'active', 'created by', 'created'],
            items.map((subscription) => [
              subscription.subscriptionId,
              subscription.url,
              subscription.eventTypes.length === WEBHOOK_EVENT_TYPES.length ? 'all' : subscription.eventTypes,
              subscription.active ? 'yes' : 'no',
              subscription.createdBy,
              formatTime(subscription.createdAt),
            ]),
          ),
        );
      }),
    );

  webhooks
    .command('edit')
    .description("change a subscription's URL, event types or description (the secret stays)")
    .argument('<subscriptionId>')
    .option('--url <url>', 'where events are posted from now on (http or https)', nonEmpty)
    .addOption(
      new Option('--event <type...>', 'the event types to send from now on').choices(WEBHOOK_EVENT_TYPES),
    )
    .option('--description <text>', 'what the subscriber is ("" clears it)')
    .action(
      (
        subscriptionId: string,
        options: { url?: string; event?: WebhookEventType[]; description?: string },
        command: Command,
      ) =>
        withApi(context, command, async ({ client }) => {
          if (options.url === undefined && options.event === undefined && options.description === undefined)
            throw new UsageError('name what to change: --url, --event or --description');
          const changed = await client.updateWebhookSubscription(subscriptionId, {
            ...(options.url !== undefined ? { url: options.url } : {}),
            ...(options.event ? { eventTypes: [...new Set(options.event)] } : {}),
            ...(options.description !== undefined ? { description: options.description } : {}),
          });
          if (context.globals(command).json) return out.json(changed);
          out.line(
            formatFields([
              ['Subscription', changed.subscriptionId],
              ['URL', changed.url],
              ['Events', changed.eventTypes],
              ['Description', changed.description],
            ]),
          );
        }),
    );

  webhooks
    .command('remove')
    .description('remove a subscription and its deliveries: nothing more is sent to it')
    .argument('<subscriptionId>')
    .action((subscriptionId: string, _options: unknown, command: Command) =>
      withApi(context, command, async ({ client }) => {
        const removed = await client.removeWebhookSubscription(subscriptionId);
        if (context.globals(command).json) return out.json(removed);
        out.line(`removed ${removed.subscriptionId} (${removed.url})`);
      }),
    );

  webhooks
    .command('deliveries')
    .description("a subscription's event deliveries, newest first, with their attempts")
    .argument('<subscriptionId>')
    .addOption(
      new Option('--status <status>', 'only these (failed: parked after the retry window)').choices(
        EVENT_DELIVERY_STATUSES,
      ),
    )
    .option('--cancellation <cancellationId>', "one cancellation's, in the order of its steps")
    .option('--bulk-job <jobId>', "one bulk job's, in the order of its changes")
    .option('--limit <n>', 'at most this many (default 50)', positiveInteger)
    .action(
      (
        subscriptionId: string,
        options: { status?: EventDeliveryStatus; cancellation?: string; bulkJob?: string; limit?: number },
        command: Command,
      ) =>
        withApi(context, command, async ({ client }) => {
          const items = await client.listEventDeliveries(subscriptionId, {
            status: options.status,
            cancellationId: options.cancellation,
            bulkJobId: options.bulkJob,
            limit: options.limit,
          });
          if (context.globals(command).json) return out.json({ items });
          if (items.length === 0) return out.line('no deliveries');
          out.line(
            formatTable(
              ['delivery', 'event', 'subject', 'seq', 'status', 'attempts', 'last error', 'next attempt'],
              items.map((delivery) => [
                delivery.deliveryId,
                delivery.eventType,
                delivery.bulkJobId !== undefined ? `bulk job ${delivery.bulkJobId}` : delivery.cancellationId,
                delivery.sequence,
                delivery.status,
                delivery.attemptCount,
                delivery.lastError,
                formatTime(delivery.nextAttemptAt),
              ]),
            ),
          );
        }),
    );

  webhooks
    .command('redeliver')
    .description('send a delivery again, as the same event (same id): due now, with a fresh retry window')
    .argument('<deliveryId>')
    .action((deliveryId: string, _options: unknown, command: Command) =>
      withApi(context, command, async ({ client }) => {
        const delivery = await client.redeliverEvent(deliveryId);
        if (context.globals(command).json) return out.json(delivery);
        out.line(deliveryFields(delivery));
      }),
    );
}
