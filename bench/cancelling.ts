// Asking for cancellations as a client should (repeating with the same key what the API could not take now),
// and the orders the hot-SKU and many-waiting scenarios cancel, placed with the demo data's own helpers.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { WorkflowHandle } from '@temporalio/client';
import {
  CancelflowApiError,
  type CancelflowClient,
  type CancellationAccepted,
} from '../client/cancelflow-client';
import type { CancellationView } from '../contracts/cancellation.contract';
import { addCustomer, addProduct, placePaidOrder, receiveStock } from '../generators/demo-data';
import type { Models } from '../models';
import { runSlots, sleep, withTimeout } from './common';
import type { Stack } from './stack';

/** Answers the API gives when it cannot take a request now, to be repeated (issue #13). */
function worthRepeating(error: unknown): boolean {
  if (error instanceof CancelflowApiError) return error.status === 503 || error.status === 429;
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/** Requests counted across the run: repeats of a request the API refused for now (503, 429) or did not answer. */
export const repeats = { count: 0 };

/** Sends a request until the API takes it (the same request: an idempotency key, or an Update's own checks). */
export async function untilTaken<T>(what: string, timeoutMs: number, send: () => Promise<T>): Promise<T> {
  const started = performance.now();
  for (;;) {
    try {
      return await withTimeout(what, timeoutMs, send());
    } catch (error) {
      // As a client should: the same request, after a pause, until the deadline.
      if (!worthRepeating(error) || performance.now() - started > timeoutMs - 2_000) throw error;
      repeats.count += 1;
      await sleep(1_000);
    }
  }
}

/** Asks for the cancellation of a whole paid, unshipped order, as the requester's API key. */
export function requestCancellation(
  api: CancelflowClient,
  orderNumber: string,
  timeoutMs: number,
): Promise<CancellationAccepted> {
  const idempotencyKey = `bench-${orderNumber}-${randomUUID()}`;
  return untilTaken(`POST /v1/cancellations ${orderNumber}`, timeoutMs, () =>
    api.createCancellation(
      { orderNumber, reasonCode: 'customer_changed_mind', confirm: ['awaiting_shipment'] },
      { idempotencyKey },
    ),
  );
}

export interface Cancelled {
  cancellationId: string;
  workflowId: string;
  seconds: number;
  view: CancellationView;
}

/** One auto-approved cancellation through the API, waited for to the end of its workflow. */
export async function cancelOne(stack: Stack, orderNumber: string, timeoutMs: number): Promise<Cancelled> {
  const started = performance.now();
  const accepted = await requestCancellation(stack.api, orderNumber, timeoutMs);
  const remaining = Math.max(1_000, timeoutMs - (performance.now() - started));
  const handle: WorkflowHandle = stack.temporal.workflow.getHandle(accepted.workflowId);
  const view = (await stack.temporal
    .withAbortSignal(AbortSignal.timeout(Math.ceil(remaining)), () => handle.result())
    .catch((error: unknown) => {
      throw new Error(
        `${orderNumber}: cancellation did not finish within ${timeoutMs / 1000} s (${String(error)})`,
      );
    })) as CancellationView;
  if (view.outcome !== 'completed' || view.risk?.level !== 'low')
    throw new Error(
      `${orderNumber}: ended ${view.outcome ?? view.state} at ${view.risk?.level ?? '?'} risk${view.refusal ? ` (${view.refusal})` : ''}`,
    );
  return {
    cancellationId: accepted.cancellationId,
    workflowId: accepted.workflowId,
    seconds: (performance.now() - started) / 1000,
    view,
  };
}

export const BENCH_WAREHOUSE = 'WH-SH-01'; // the demo data's, with its return address

export interface BenchOrders {
  orderNumbers: string[];
  /** The SKU of each order's one line. */
  skus: string[];
  quantity: number;
  unitPriceMinor: number;
  seconds: number;
}

/**
 * `count` paid, allocated orders of one line each (`quantity` units of `skuOf(index)` at `unitPriceMinor`),
 * each for a customer of its own (so none becomes a frequent canceller), with the stock they reserve received
 * first: written with the demo data's helpers, through the stock ledger. Orders on one SKU are placed one after
 * another (their reservations are the ledger's to serialise, not this setup's); SKUs in parallel.
 */
export async function placeBenchOrders(
  models: Models,
  spec: {
    prefix: string;
    count: number;
    quantity: number;
    unitPriceMinor: number;
    skuOf: (index: number) => string;
  },
): Promise<BenchOrders> {
  const started = performance.now();
  const { prefix, count, quantity, unitPriceMinor } = spec;
  const orderNumbers = Array.from(
    { length: count },
    (_, index) => `${prefix}-${String(index + 1).padStart(6, '0')}`,
  );
  const skus = orderNumbers.map((_, index) => spec.skuOf(index));
  const bySku = new Map<string, number[]>();
  for (const [index, sku] of skus.entries()) bySku.set(sku, [...(bySku.get(sku) ?? []), index]);

  const setup = async (label: string, tasks: number, task: (index: number) => Promise<void>) => {
    const run = await runSlots(label, tasks, 8, Number.POSITIVE_INFINITY, task);
    if (run.failures.length) throw new Error(`${label}: ${run.failures.length} failed: ${run.failures[0]}`);
  };
  await setup(`customers for ${prefix}`, count, (index) =>
    addCustomer(models, {
      customerId: `${prefix}-C${String(index + 1).padStart(6, '0')}`,
      name: `压测客户 ${index + 1}`,
      email: `${prefix.toLowerCase()}.${index + 1}@example.cn`,
      phone: `+86139${String(index).padStart(8, '0')}`,
      country: 'CN',
      language: 'zh-CN',
    }),
  );
  const groups = [...bySku.entries()];
  await setup(`products and stock for ${prefix}`, groups.length, async (group) => {
    const [sku, indexes] = groups[group] as [string, number[]];
    await addProduct(models, { sku, name: `Bench ${sku}`, unitPriceMinor, currency: 'CNY' });
    await receiveStock(models, sku, indexes.length * quantity, BENCH_WAREHOUSE);
  });
  await setup(`orders for ${prefix}`, groups.length, async (group) => {
    const [sku, indexes] = groups[group] as [string, number[]];
    for (const index of indexes)
      await placePaidOrder(
        models,
        {
          orderNumber: orderNumbers[index] as string,
          customerId: `${prefix}-C${String(index + 1).padStart(6, '0')}`,
          currency: 'CNY',
          lines: [{ lineId: 'L1', sku, quantity, unitPriceMinor }],
        },
        BENCH_WAREHOUSE,
      );
  });
  return { orderNumbers, skus, quantity, unitPriceMinor, seconds: (performance.now() - started) / 1000 };
}
