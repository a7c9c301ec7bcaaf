// R15: delegations. `delegate <personId> --until <date>` names a delegate while you are away; `delegations`
// lists those you gave and received (ops and admins: all); `delegations end <id>` ends one now.
import { InvalidArgumentError, type Command } from 'commander';
import type { DelegationView } from '../../client/cancelflow-client';
import { withApi, type CliContext } from '../context';
import { formatFields, formatTable, formatTime } from '../output';
import { nonEmpty } from './arguments';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A moment as the API takes it: a date-time with offset as it is, or a date (UTC). A date as `--until` means
 * through that day (its end, the next midnight); as `--from`, its start.
 */
function moment(endOfDay: boolean) {
  return (value: string): string => {
    const text = value.trim();
    const at = new Date(DATE.test(text) ? `${text}T00:00:00Z` : text);
    if (Number.isNaN(at.getTime()) || !(DATE.test(text) || /T.*(Z|[+-]\d{2}:?\d{2})$/i.test(text))) {
      throw new InvalidArgumentError('expected a date (2026-03-31) or a date-time with offset');
    }
    if (DATE.test(text) && endOfDay) at.setUTCDate(at.getUTCDate() + 1);
    return at.toISOString();
  };
}

function fieldsOf(delegation: DelegationView) {
  return formatFields([
    ['Delegation', delegation.delegationId],
    ['Delegator', delegation.delegatorId],
    ['Delegate', delegation.delegateId],
    ['From', formatTime(delegation.from)],
    ['Until', formatTime(delegation.until)],
    ['Status', delegation.status],
    ['Ended', formatTime(delegation.revokedAt)],
  ]);
}

export function registerDelegationCommands(program: Command, context: CliContext): void {
  const { out } = context;

  program
    .command('delegate')
    .description(
      'while you are away, let an approver of your level or higher decide on your behalf (R15): approvals ' +
        'found in the period wait for them too',
    )
    .argument('<personId>', 'the delegate', nonEmpty)
    .requiredOption(
      '--until <date>',
      'when it ends: a date (through that day, UTC) or date-time',
      moment(true),
    )
    .option('--from <date>', 'when it starts (now by default)', moment(false))
    .option('--idempotency-key <key>', 'repeat safely: the same key answers the same delegation')
    .action(
      (
        personId: string,
        options: { until: string; from?: string; idempotencyKey?: string },
        command: Command,
      ) =>
        withApi(context, command, async ({ client }) => {
          const accepted = await client.createDelegation(
            { delegateId: personId, until: options.until, from: options.from },
            { idempotencyKey: options.idempotencyKey },
          );
          if (context.globals(command).json) return out.json(accepted);
          out.line(fieldsOf(accepted));
          if (accepted.existing) out.note('this key made it before: nothing new was recorded');
        }),
    );

  const delegations = program
    .command('delegations')
    .description('delegations you gave and received (ops and admins: all); `delegations end <id>` ends one');

  delegations
    .command('list', { isDefault: true })
    .description('delegations you gave and received, newest first')
    .action((_options: unknown, command: Command) =>
      withApi(context, command, async ({ client }) => {
        const items = await client.listDelegations();
        if (context.globals(command).json) return out.json({ items });
        if (items.length === 0) return out.line('no delegations');
        out.line(
          formatTable(
            ['delegation', 'delegator', 'delegate', 'from', 'until', 'status'],
            items.map((delegation) => [
              delegation.delegationId,
              delegation.delegatorId,
              delegation.delegateId,
              formatTime(delegation.from),
              formatTime(delegation.until),
              delegation.status,
            ]),
          ),
        );
      }),
    );

  delegations
    .command('end')
    .description('end a delegation now (its delegator, or an admin)')
    .argument('<delegationId>')
    .action((delegationId: string, _options: unknown, command: Command) =>
      withApi(context, command, async ({ client }) => {
        const ended = await client.endDelegation(delegationId);
        if (context.globals(command).json) return out.json(ended);
        out.line(`ended ${ended.delegationId} (${ended.delegatorId} → ${ended.delegateId})`);
      }),
    );
}
