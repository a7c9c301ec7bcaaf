// Bulk cancellation (issue #16): `bulk dry-run` says what a job would touch, `bulk start` starts one (each of
// its cancellations requested as you), `bulk watch` follows its progress until it ends or waits only for people,
// `bulk show`, `bulk list`, `bulk pause|resume|stop`, and `bulk report` writes its CSV.
import { writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import type { BulkJobView, CreateBulkJobRequest } from '../../client/cancelflow-client';
import { ORDER_STATUSES, type OrderStatus } from '../../contracts/books.contract';
import { BULK_FINAL_STATES } from '../../contracts/bulk-cancellation.contract';
import { CONFIRMABLE_STAGES, REASON_CODES, type ReasonCode } from '../../contracts/cancellation.contract';
import { UsageError, withApi, type CliContext } from '../context';
import { formatFields, formatMoney, formatTable, formatTime, type Output } from '../output';
import { nonEmpty, positiveSeconds } from './arguments';
import { WatchTimeoutError } from './cancellations';

interface SelectionOptions {
  order?: string[];
  sku?: string[];
  supplier?: string;
  customer?: string[];
  status?: OrderStatus[];
  from?: string;
  to?: string;
  reason: ReasonCode;
  note?: string;
  confirm?: (typeof CONFIRMABLE_STAGES)[number][];
}

/** The selection and request options `dry-run` and `start` share. */
function withSelection(command: Command): Command {
  return command
    .option('--order <orderNumber...>', 'these orders (or a filter below)')
    .option('--sku <sku...>', 'orders with a line of these SKUs')
    .option('--supplier <supplierId>', 'orders with a purchase line raised at this supplier')
    .option('--customer <customerId...>', "these customers' orders")
    .addOption(new Option('--status <status...>', 'orders in these statuses').choices(ORDER_STATUSES))
    .option('--from <date>', 'orders created on or after (ISO date or date-time)')
    .option('--to <date>', 'orders created on or before (a date includes the whole day)')
    .addOption(
      new Option('--reason <code>', 'why the orders are cancelled')
        .choices(REASON_CODES)
        .makeOptionMandatory(),
    )
    .option('--note <text>', 'a note on every cancellation')
    .addOption(
      new Option('--confirm <stage...>', 'confirm cancelling orders in these stages').choices(
        CONFIRMABLE_STAGES,
      ),
    );
}

function requestOf(options: SelectionOptions): CreateBulkJobRequest {
  const selection = {
    ...(options.order ? { orderNumbers: options.order } : {}),
    ...(options.sku ? { skus: options.sku } : {}),
    ...(options.supplier ? { supplierId: options.supplier } : {}),
    ...(options.customer ? { customerIds: options.customer } : {}),
    ...(options.status ? { status: options.status } : {}),
    ...(options.from ? { createdFrom: options.from } : {}),
    ...(options.to ? { createdTo: options.to } : {}),
  };
  if (Object.keys(selection).length === 0)
    throw new UsageError(
      'name the orders (--order) or filter them (--sku, --supplier, --customer, --status, --from, --to)',
    );
  return {
    selection,
    reasonCode: options.reason,
    ...(options.note ? { note: options.note } : {}),
    confirm: options.confirm ?? [],
  };
}

const money = (amounts: readonly { currency: string; amountMinor: number }[]) =>
  amounts.length === 0
    ? 'nothing'
    : amounts.map((amount) => formatMoney(amount.amountMinor, amount.currency)).join(', ');

const counts = (record: Record<string, number>) =>
  Object.entries(record)
    .filter(([, count]) => count > 0)
    .map(([name, count]) => `${name} ${count}`)
    .join(', ') || 'none';

function progressLine(job: BulkJobView): string {
  const { pending, active, waiting, done } = job.phases;
  return (
    `${new Date().toISOString().slice(11, 19)}  ${job.state}: ${done} done, ${active} running, ` +
    `${waiting} waiting for people, ${pending} not started; refunded ${money(job.refunded)}; ` +
    `${job.failureCount} not cancelled`
  );
}

function printJob(out: Output, job: BulkJobView): void {
  out.line(
    formatFields([
      ['Job', job.jobId],
      ['State', job.state],
      ['Failed because', job.failureReason],
      ['Started by', job.requestedBy],
      ['Reason', job.reasonCode],
      ['Note', job.note],
      ['Orders', job.total],
      ['Phases', counts(job.phases)],
      ['By state', counts(job.byState)],
      ['Refunded', money(job.refunded)],
      ['Created', formatTime(job.createdAt)],
      ['Ended', formatTime(job.endedAt)],
    ]),
  );
  if (job.control.length > 0) {
    out.line();
    out.line(
      formatTable(
        ['action', 'by', 'at', 'note'],
        job.control.map((entry) => [entry.action, entry.by, formatTime(entry.at), entry.note]),
      ),
    );
  }
  if (job.failures.length > 0) {
    out.line();
    out.line(`Not cancelled (${job.failureCount}):`);
    out.line(
      formatTable(
        ['order', 'standing', 'reason'],
        job.failures.map((failure) => [failure.orderNumber, failure.status, failure.reason]),
      ),
    );
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function registerBulkCommands(program: Command, context: CliContext): void {
  const { out } = context;
  const bulk = program
    .command('bulk')
    .description('cancel many orders at once: a filter or a list, each cancelled as by hand');

  withSelection(
    bulk
      .command('dry-run')
      .description('what a job would cancel (orders, lines, money) and leave alone; asks for nothing'),
  ).action((options: SelectionOptions, command: Command) =>
    withApi(context, command, async ({ client }) => {
      const figures = await client.dryRunBulkCancellation(requestOf(options));
      if (context.globals(command).json) return out.json(figures);
      out.line(
        formatFields([
          ['Orders found', figures.found],
          ['Would cancel', `${figures.toCancel.orders} orders, ${figures.toCancel.lines} lines`],
          ['Would refund', money(figures.toCancel.money)],
          ['Would leave alone', counts(figures.leftAlone)],
        ]),
      );
      if (figures.examples.length > 0) {
        out.line();
        out.line(
          formatTable(
            ['order', 'left alone', 'why'],
            figures.examples.map((example) => [example.orderNumber, example.status, example.reason]),
          ),
        );
      }
    }),
  );

  withSelection(
    bulk.command('start').description('start a job: one cancellation per order, each requested as you'),
  )
    .option(
      '--idempotency-key <key>',
      'the same key again answers with the same job (8 to 255 characters)',
      nonEmpty,
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  cancelflow bulk dry-run --sku KETTLE-01 --reason out_of_stock --confirm awaiting_shipment',
        '  cancelflow bulk start --sku KETTLE-01 --reason out_of_stock --confirm awaiting_shipment --note "discontinued"',
        '  cancelflow bulk watch <jobId>',
      ].join('\n'),
    )
    .action((options: SelectionOptions & { idempotencyKey?: string }, command: Command) =>
      withApi(context, command, async ({ client }) => {
        const accepted = await client.startBulkCancellation(requestOf(options), {
          ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
        });
        if (context.globals(command).json) return out.json(accepted);
        out.line(accepted.jobId);
        out.note(
          `${accepted.existing ? 'already started' : 'started'}: follow it with cancelflow bulk watch ${accepted.jobId}`,
        );
      }),
    );

  bulk
    .command('list')
    .description('bulk jobs, newest first (yours; every job for ops and admins)')
    .action((_options: unknown, command: Command) =>
      withApi(context, command, async ({ client }) => {
        const { items } = await client.listBulkCancellations();
        if (context.globals(command).json) return out.json({ items });
        if (items.length === 0) return out.line('no bulk jobs');
        out.line(
          formatTable(
            ['job', 'state', 'orders', 'reason', 'by', 'created'],
            items.map((job) => [
              job.jobId,
              job.state,
              job.total,
              job.reasonCode,
              job.requestedBy,
              formatTime(job.createdAt),
            ]),
          ),
        );
      }),
    );

  bulk
    .command('show')
    .description("a job's progress: counts by state, money refunded, the orders not cancelled and why")
    .argument('<jobId>', 'the job', nonEmpty)
    .action((jobId: string, _options: unknown, command: Command) =>
      withApi(context, command, async ({ client }) => {
        const job = await client.getBulkCancellation(jobId);
        if (context.globals(command).json) return out.json(job);
        printJob(out, job);
      }),
    );

  bulk
    .command('watch')
    .description('follow a job until it ends, or until only people can move it on')
    .argument('<jobId>', 'the job', nonEmpty)
    .option('--interval <seconds>', 'how often to look', positiveSeconds, 2)
    .option('--timeout <seconds>', 'give up after this long', positiveSeconds, 3600)
    .addHelpText('after', "\nOne progress line when it changes; with --json, the API's JSON, one line each.")
    .action((jobId: string, options: { interval: number; timeout: number }, command: Command) =>
      withApi(context, command, async ({ client }) => {
        const { json } = context.globals(command);
        const deadline = Date.now() + options.timeout * 1000;
        let last: string | undefined;
        for (;;) {
          const job = await client.getBulkCancellation(jobId);
          const line = progressLine(job);
          if (line.slice(10) !== last) {
            last = line.slice(10);
            if (json) out.json(job, { compact: true });
            else out.line(line);
          }
          if (BULK_FINAL_STATES.includes(job.state) || job.state === 'waiting') {
            if (!json) {
              if (job.state === 'waiting')
                out.line(`waits for people on ${job.phases.waiting} cancellations`);
              if (job.failureReason) out.line(`failed: ${job.failureReason}`);
              for (const failure of job.failures)
                out.line(`  ${failure.orderNumber}  ${failure.status}  ${failure.reason ?? ''}`.trimEnd());
            }
            return;
          }
          const wait = options.interval * 1000;
          if (Date.now() + wait > deadline)
            throw new WatchTimeoutError(
              `still ${job.state} after ${options.timeout} s: watch again, or raise --timeout`,
            );
          await sleep(wait);
        }
      }),
    );

  const steer = (action: 'pause' | 'resume' | 'stop', description: string) =>
    bulk
      .command(action)
      .description(description)
      .argument('<jobId>', 'the job', nonEmpty)
      .option('--note <text>', 'why, for the record')
      .action((jobId: string, options: { note?: string }, command: Command) =>
        withApi(context, command, async ({ client }) => {
          const request = options.note ? { note: options.note } : {};
          const job =
            action === 'pause'
              ? await client.pauseBulkCancellation(jobId, request)
              : action === 'resume'
                ? await client.resumeBulkCancellation(jobId, request)
                : await client.stopBulkCancellation(jobId, request);
          if (context.globals(command).json) return out.json(job);
          out.line(progressLine(job));
        }),
      );
  steer('pause', 'start no more of its cancellations until resumed (those started go on)');
  steer('resume', 'go on starting its cancellations');
  steer('stop', 'end the job: orders not asked for yet never will be (those started go on)');

  bulk
    .command('report')
    .description('every order of the job and what became of it, as CSV')
    .argument('<jobId>', 'the job', nonEmpty)
    .option('--output <file>', 'write it to this file (default: stdout)')
    .action((jobId: string, options: { output?: string }, command: Command) =>
      withApi(context, command, async ({ client }) => {
        const csv = await client.getBulkCancellationReport(jobId);
        if (!options.output) return out.line(csv.replace(/\r\n$/, ''));
        // fetch's text() drops the byte-order mark; the file keeps it, so a spreadsheet reads it as UTF-8.
        await writeFile(options.output, csv.startsWith('\uFEFF') ? csv : `\uFEFF${csv}`);
        out.note(`written to ${options.output}`);
      }),
    );
}
