// Asking for cancellations and following them: cancel, status, list, watch, inbox.
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { CancelflowClient, CancellationResource } from '../../client/cancelflow-client';
import {
  CONFIRMABLE_STAGES,
  REASON_CODES,
  type ConfirmableStage,
  type ReasonCode,
} from '../../contracts/cancellation.contract';
import { withApi, type CliContext } from '../context';
import { formatFields, formatMoney, formatTable, formatTime, type Output } from '../output';
import { collect, nonEmpty, positiveInteger, positiveSeconds } from './arguments';

type CancellationPage = Awaited<ReturnType<CancelflowClient['listCancellations']>>;
type CancellationQuery = Parameters<CancelflowClient['listCancellations']>[0];

/** `L1:2`: two of line L1. */
function requestedLine(value: string): { lineId: string; quantity: number } {
  const match = /^([^:\s]+):(\d+)$/.exec(value.trim());
  const quantity = Number(match?.[2]);
  if (!match?.[1] || !Number.isSafeInteger(quantity) || quantity < 1) {
    throw new InvalidArgumentError('expected lineId:quantity, e.g. L1:2');
  }
  return { lineId: match[1], quantity };
}

/** When `watch` stops waiting: the states in which a person has to act before anything moves again. */
export const WAITING_STATES = [
  'awaitingApproval.waitingForDecision',
  'awaitingSettlement.waitingForFinance',
  'needsAttention.waitingForOps',
  'awaitingReturn.waitingForGoods',
  'agreeingWithCustomer',
] as const;

/** Who the cancellation waits for, and the command that moves it on; undefined while it moves by itself. */
export function waitingFor(view: CancellationResource): string | undefined {
  const id = view.cancellationId;
  const waiting = WAITING_STATES.find((state) => view.state === state || view.state.startsWith(`${state}.`));
  switch (waiting) {
    case undefined:
      return undefined;
    case 'awaitingApproval.waitingForDecision': {
      const approval = view.approval;
      const level = approval ? ` of level ${approval.requiredLevel}` : '';
      const who = approval?.eligibleApprovers.length ? ` (${approval.eligibleApprovers.join(', ')})` : '';
      return `an approver${level}${who}: cancelflow approve ${id} | cancelflow reject ${id} --comment …`;
    }
    case 'awaitingSettlement.waitingForFinance':
      return `finance to settle the refund by hand: cancelflow settle ${id} --reference …`;
    case 'needsAttention.waitingForOps':
      return `ops to repair what stopped it: cancelflow resume ${id}`;
    case 'awaitingReturn.waitingForGoods': {
      const back = new Set(view.goods?.returned.map((parcel) => parcel.shipmentId));
      const parcels = (view.goods?.recalls ?? [])
        .map((recall) => recall.shipmentId)
        .filter((shipmentId) => !back.has(shipmentId));
      const which = parcels.length > 0 ? ` (${parcels.join(', ')})` : '';
      return `the warehouse to confirm the goods are back${which}: cancelflow confirm-return ${id} --shipment …`;
    }
    case 'agreeingWithCustomer': {
      const offer = view.goods?.offer;
      const options = offer ? ` among ${offer.options.join(', ')} (default ${offer.defaultOption})` : '';
      return `the customer to choose${options}: cancelflow choose ${id} --option …`;
    }
  }
}

function printCancellation(out: Output, view: CancellationResource): void {
  const approval = view.approval;
  out.line(
    formatFields([
      ['Cancellation', view.cancellationId],
      ['Order', view.orderNumber],
      ['State', view.state],
      ['Outcome', view.outcome],
      ['Refusal', view.refusal],
      ['Waiting for', view.outcome ? undefined : waitingFor(view)],
      ['Reason', view.note ? `${view.reasonCode}: ${view.note}` : view.reasonCode],
      ['Requested by', view.requestedBy],
      [
        'Risk',
        view.risk ? `${view.risk.level} (${view.risk.reasons.join(', ') || 'no reasons'})` : undefined,
      ],
      [
        'Approval',
        approval
          ? `step ${approval.step + 1} of ${approval.steps}, level ${approval.requiredLevel}` +
            (approval.escalations > 0 ? `, escalated ${approval.escalations}×` : '')
          : undefined,
      ],
      ['Refunded', formatMoney(view.refundedMinor, view.currency)],
      ['Policy', view.policyVersion],
      ['Created', formatTime(view.createdAt)],
      ['Updated', formatTime(view.updatedAt)],
    ]),
  );
  if (approval && approval.decisions.length > 0) {
    out.line();
    out.line(
      formatTable(
        ['approver', 'level', 'decision', 'comment'],
        approval.decisions.map((decision) => [
          decision.approver,
          decision.level,
          decision.approved ? 'approved' : 'rejected',
          decision.reason,
        ]),
      ),
    );
  }
  if (view.lines.length > 0) {
    out.line();
    out.line(
      formatTable(
        ['line', 'sku', 'warehouse', 'quantity', 'amount'],
        view.lines.map((line) => [
          line.lineId,
          line.sku,
          line.warehouse,
          line.quantity,
          formatMoney(line.amountMinor, view.currency),
        ]),
      ),
    );
  }
  if (view.refunds.length > 0) {
    out.line();
    out.line(
      formatTable(
        ['payment', 'refund', 'status', 'reference'],
        view.refunds.map((refund) => [
          refund.paymentId,
          formatMoney(refund.amountMinor, refund.currency),
          refund.status,
          refund.reference,
        ]),
      ),
    );
  }
}

function printPage(out: Output, page: CancellationPage, empty: string): void {
  if (page.items.length === 0) {
    out.line(empty);
  } else {
    out.line(
      formatTable(
        ['cancellation', 'order', 'state', 'outcome', 'requested by', 'updated'],
        page.items.map((item) => [
          item.cancellationId,
          item.orderNumber,
          item.state,
          item.outcome,
          item.requestedBy,
          formatTime(item.updatedAt),
        ]),
      ),
    );
  }
  const more = page.nextCursor ? `; next page: --cursor ${page.nextCursor}` : '';
  out.note(`${page.items.length} shown of ${page.total}${more}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `watch` gave up before the cancellation ended or waited for someone (exit 3). */
export class WatchTimeoutError extends Error {
  override readonly name = 'WatchTimeoutError';
}

export function registerCancellationCommands(program: Command, context: CliContext): void {
  const { out } = context;

  program
    .command('cancel')
    .description('ask for the cancellation of an order (all of it, or some lines)')
    .argument('<orderNumber>', 'the order to cancel, e.g. SO-2026-000123')
    .addOption(
      new Option('--reason <code>', 'why the order is cancelled').choices(REASON_CODES).makeOptionMandatory(),
    )
    .option(
      '--line <lineId:quantity>',
      'cancel only this many of this line (repeat for several lines); all lines when none',
      collect(requestedLine),
    )
    .option('--note <text>', 'a note for the people who handle it')
    .addOption(
      new Option(
        '--confirm <stage...>',
        'confirm cancelling an order in these stages (the API refuses without it)',
      ).choices(CONFIRMABLE_STAGES),
    )
    .option(
      '--idempotency-key <key>',
      'the same key again answers with the same cancellation (8 to 255 characters)',
      nonEmpty,
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  cancelflow cancel SO-1001 --reason customer_changed_mind --confirm awaiting_shipment',
        '  cancelflow cancel SO-1002 --reason out_of_stock --line L1:2 --line L3:1 --note "supplier late"',
      ].join('\n'),
    )
    .action(
      (
        orderNumber: string,
        options: {
          reason: ReasonCode;
          line?: { lineId: string; quantity: number }[];
          note?: string;
          confirm?: ConfirmableStage[];
          idempotencyKey?: string;
        },
        command: Command,
      ) =>
        withApi(context, command, async ({ client }) => {
          const accepted = await client.createCancellation(
            {
              orderNumber,
              reasonCode: options.reason,
              lines: options.line,
              note: options.note,
              confirm: options.confirm ?? [],
            },
            { idempotencyKey: options.idempotencyKey },
          );
          if (context.globals(command).json) return out.json(accepted);
          out.line(
            accepted.existing
              ? `already asked: cancellation ${accepted.cancellationId} of order ${accepted.orderNumber}`
              : `cancellation ${accepted.cancellationId} of order ${accepted.orderNumber} requested`,
          );
          out.note(`follow it: cancelflow watch ${accepted.cancellationId}`);
        }),
    );

  program
    .command('status')
    .description('where a cancellation stands: state, outcome, approvals, lines and refunds')
    .argument('<cancellationId>')
    .action((cancellationId: string, _options: unknown, command: Command) =>
      withApi(context, command, async ({ client }) => {
        const view = await client.getCancellation(cancellationId);
        if (context.globals(command).json) return out.json(view);
        printCancellation(out, view);
      }),
    );

  program
    .command('list')
    .description('cancellations, newest first: all you may see, yours, or those waiting for you')
    .option('--state <state>', 'only in this state (e.g. awaitingApproval.waitingForDecision, completed)')
    .addOption(new Option('--mine', 'only those you asked for').conflicts('waitingForMe'))
    .option('--waiting-for-me', 'only those waiting for you to act')
    .option('--limit <n>', 'at most this many (the API caps it)', positiveInteger)
    .option('--cursor <cursor>', 'the next page, as the previous page said')
    .action(
      (
        options: { state?: string; mine?: boolean; waitingForMe?: boolean; limit?: number; cursor?: string },
        command: Command,
      ) =>
        withApi(context, command, async ({ client }) => {
          // The API filters by a person's id: --mine is whoever the credentials name.
          const requestedBy = options.mine ? (await client.whoAmI()).person.personId : undefined;
          const query: CancellationQuery = {
            state: options.state,
            requestedBy,
            waitingFor: options.waitingForMe ? 'me' : undefined,
            limit: options.limit,
            cursor: options.cursor,
          };
          const page = await client.listCancellations(query);
          if (context.globals(command).json) return out.json(page);
          printPage(out, page, 'no cancellations');
        }),
    );

  program
    .command('watch')
    .description(
      'follow a cancellation: one line per new state, until it ends or waits for a person (exit 0), ' +
        'or --timeout passes (exit 3)',
    )
    .argument('<cancellationId>')
    .option('--interval <seconds>', 'how often to look', positiveSeconds, 2)
    .option('--timeout <seconds>', 'give up after this long', positiveSeconds, 600)
    .addHelpText(
      'after',
      [
        '',
        `It stops at an outcome, or at a state waiting for a person: ${WAITING_STATES.join(', ')}.`,
        "With --json, each new state is one line of the API's JSON.",
      ].join('\n'),
    )
    .action((cancellationId: string, options: { interval: number; timeout: number }, command: Command) =>
      withApi(context, command, async ({ client }) => {
        const { json } = context.globals(command);
        const deadline = Date.now() + options.timeout * 1000;
        let last: string | undefined;
        for (;;) {
          const view = await client.getCancellation(cancellationId);
          if (view.state !== last) {
            last = view.state;
            if (json) out.json(view, { compact: true });
            else out.line(`${new Date().toISOString().slice(11, 19)}  ${view.state}`);
          }
          if (view.outcome) {
            if (!json) {
              const why = view.refusal ? `: ${view.refusal}` : '';
              const refunded =
                view.refundedMinor > 0 ? `, refunded ${formatMoney(view.refundedMinor, view.currency)}` : '';
              out.line(`ended ${view.outcome}${why}${refunded}`);
            }
            return;
          }
          const waiting = waitingFor(view);
          if (waiting) {
            if (!json) out.line(`waits for ${waiting}`);
            return;
          }
          const wait = options.interval * 1000;
          if (Date.now() + wait > deadline) {
            throw new WatchTimeoutError(
              `still ${view.state} after ${options.timeout} s: watch again, or raise --timeout`,
            );
          }
          await sleep(wait);
        }
      }),
    );

  program
    .command('inbox')
    .description('what waits for you: cancellations waiting for you to act, and your unread messages')
    .option('--limit <n>', 'at most this many cancellations', positiveInteger)
    .action((options: { limit?: number }, command: Command) =>
      withApi(context, command, async ({ client }) => {
        const [page, unread] = await Promise.all([
          client.listCancellations({ waitingFor: 'me', limit: options.limit }),
          client.unreadCount(),
        ]);
        if (context.globals(command).json) return out.json({ waiting: page, unread });
        printPage(out, page, 'nothing waits for you');
        out.line();
        out.line(`${unread.unread} unread message${unread.unread === 1 ? '' : 's'}`);
        if (unread.unread > 0) out.note('read them: cancelflow messages list --unread');
      }),
    );
}
