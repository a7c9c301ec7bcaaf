// What people decide on a running cancellation: approve, reject, withdraw, settle, resume, confirm-return,
// choose (the customer's choice, passed on).
// The API checks who may (the approver's level, the requester, finance, ops, the warehouse) and whether now.
import { Option, type Command } from 'commander';
import type { CancelflowClient } from '../../client/cancelflow-client';
import { RESOLUTION_OPTIONS, type ResolutionOption } from '../../contracts/cancellation.contract';
import { withApi, type CliContext } from '../context';
import { nonEmpty } from './arguments';

/** What a decision answers: the cancellation after it (its id and state, at least). */
interface Decided {
  state?: string;
  outcome?: string;
}

function register<Options extends object>(
  program: Command,
  context: CliContext,
  spec: {
    name: string;
    description: string;
    options: (command: Command) => Command;
    done: string;
    send: (client: CancelflowClient, cancellationId: string, options: Options) => Promise<Decided>;
  },
): void {
  const command = program
    .command(spec.name)
    .description(spec.description)
    .argument('<cancellationId>', 'the cancellation, as `cancel` or `list` showed it');
  spec.options(command).action((cancellationId: string, options: Options, self: Command) =>
    withApi(context, self, async ({ client }) => {
      const answer = await spec.send(client, cancellationId, options);
      if (context.globals(self).json) return context.out.json(answer);
      const now = answer.outcome ?? answer.state;
      context.out.line(`${spec.done}: cancellation ${cancellationId}${now ? ` is now ${now}` : ''}`);
    }),
  );
}

export function registerDecisionCommands(program: Command, context: CliContext): void {
  register<{ comment?: string }>(program, context, {
    name: 'approve',
    description: 'approve a cancellation waiting for your decision (approvers of the level it needs)',
    options: (command) => command.option('--comment <text>', 'why, for the record'),
    done: 'approved',
    send: (client, id, options) => client.decide(id, { approved: true, comment: options.comment }),
  });

  register<{ comment: string }>(program, context, {
    name: 'reject',
    description: 'reject a cancellation waiting for your decision; say why',
    options: (command) =>
      command.requiredOption('--comment <text>', 'why it is rejected (required)', nonEmpty),
    done: 'rejected',
    send: (client, id, options) => client.decide(id, { approved: false, comment: options.comment }),
  });

  register<{ reason?: string }>(program, context, {
    name: 'withdraw',
    description: 'withdraw a cancellation you asked for, before stock or money moved',
    options: (command) => command.option('--reason <text>', 'why it is withdrawn'),
    done: 'withdrawn',
    send: (client, id, options) => client.withdraw(id, { reason: options.reason }),
  });

  register<{ reference: string }>(program, context, {
    name: 'settle',
    description: 'record a refund the gateway refused as settled by hand (finance)',
    options: (command) =>
      command.requiredOption(
        '--reference <reference>',
        'the bank transfer or voucher reference of the refund made by hand',
        nonEmpty,
      ),
    done: 'settled',
    send: (client, id, options) => client.settle(id, { reference: options.reference }),
  });

  register<{ note?: string }>(program, context, {
    name: 'resume',
    description: 'resume a cancellation that needed attention, once what stopped it is repaired (ops)',
    options: (command) => command.option('--note <text>', 'what was repaired'),
    done: 'resumed',
    send: (client, id, options) => client.resume(id, { note: options.note }),
  });

  register<{ shipment: string; note?: string }>(program, context, {
    name: 'confirm-return',
    description: 'confirm the goods of a parcel are back in the warehouse (warehouse clerks)',
    options: (command) =>
      command
        .requiredOption('--shipment <shipmentId>', 'the parcel that came back', nonEmpty)
        .option('--note <text>', 'what came back, in what state'),
    done: 'return confirmed',
    send: (client, id, options) =>
      client.confirmReturn(id, { shipmentId: options.shipment, note: options.note }),
  });

  register<{ option: ResolutionOption; note?: string }>(program, context, {
    name: 'choose',
    description: "pass on the customer's choice among the options offered for goods that had left (R12)",
    options: (command) =>
      command
        .addOption(
          new Option('--option <option>', 'what the customer chose')
            .choices(RESOLUTION_OPTIONS)
            .makeOptionMandatory(),
        )
        .option('--note <text>', 'how the customer told it'),
    done: 'choice recorded',
    send: (client, id, options) => client.recordChoice(id, { option: options.option, note: options.note }),
  });
}
