// Finding orders: orders search, orders show.
import { Option, type Command } from 'commander';
import { ORDER_STATUSES, type OrderStatus } from '../../contracts/books.contract';
import { withApi, type CliContext } from '../context';
import { formatFields, formatMoney, formatTable, formatTime } from '../output';
import { positiveInteger } from './arguments';

interface SearchOptions {
  customer?: string;
  phone?: string;
  email?: string;
  sku?: string;
  status?: OrderStatus[];
  orderNumber?: string;
  limit?: number;
  cursor?: string;
}

export function registerOrderCommands(program: Command, context: CliContext): void {
  const { out } = context;
  const orders = program.command('orders').description('find orders and look at one');

  orders
    .command('search')
    .description('orders matching every criterion given, newest first')
    .option('--customer <name>', 'start of the customer name, its pinyin or initials (王, wangf, wf, emi)')
    .option('--phone <phone>', 'the phone number in any format, or its last 4 or more digits')
    .option('--email <email>', 'start of the e-mail address')
    .option('--sku <sku>', 'start of a SKU on one of the lines')
    .addOption(new Option('--status <status...>', 'any of these statuses').choices(ORDER_STATUSES))
    .option('--order-number <orderNumber>', 'the whole order number')
    .option('--limit <n>', 'page size, 1 to 100 (20 by default)', positiveInteger)
    .option('--cursor <cursor>', 'the next page, as the previous page said')
    .addHelpText(
      'after',
      '\nExample:\n  cancelflow orders search --customer wangf --status confirmed allocated',
    )
    .action((options: SearchOptions, command: Command) =>
      withApi(context, command, async ({ client }) => {
        const page = await client.searchOrders({
          customer: options.customer,
          phone: options.phone,
          email: options.email,
          sku: options.sku,
          status: options.status,
          orderNumber: options.orderNumber,
          limit: options.limit,
          cursor: options.cursor,
        });
        if (context.globals(command).json) return out.json(page);
        if (page.items.length === 0) out.line('no orders match');
        else {
          out.line(
            formatTable(
              ['order', 'customer', 'status', 'total', 'lines', 'created'],
              page.items.map((order) => [
                order.orderNumber,
                order.customerName ?? order.customerId,
                order.status,
                formatMoney(order.totalMinor, order.currency),
                order.lineCount,
                formatTime(order.createdAt),
              ]),
            ),
          );
        }
        if (page.nextCursor) out.note(`more: --cursor ${page.nextCursor}`);
      }),
    );

  orders
    .command('show')
    .description('one order with its lines')
    .argument('<orderNumber>')
    .action((orderNumber: string, _options: unknown, command: Command) =>
      withApi(context, command, async ({ client }) => {
        const order = await client.getOrder(orderNumber);
        if (context.globals(command).json) return out.json(order);
        out.line(
          formatFields([
            ['Order', order.orderNumber],
            [
              'Customer',
              order.customerName ? `${order.customerName} (${order.customerId})` : order.customerId,
            ],
            ['Status', order.status],
            ['Total', formatMoney(order.totalMinor, order.currency)],
          ]),
        );
        out.line();
        out.line(
          formatTable(
            ['line', 'sku', 'warehouse', 'quantity', 'cancelled', 'unit price', 'status'],
            order.lines.map((line) => [
              line.lineId,
              line.sku,
              line.warehouse,
              line.quantity,
              line.cancelledQuantity,
              formatMoney(line.unitPriceMinor, order.currency),
              line.status,
            ]),
          ),
        );
      }),
    );
}
