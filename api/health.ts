// What /health reports beside the database and Temporal: whether a worker is polling the task queue. Without
// one, the API still takes cancellations (each waits, durable, in Temporal until a worker polls), so the answer
// stays 200 and says "degraded": a load balancer keeps the API in, and ops see that nothing moves.
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { withinDeadline } from './deadlines';

/**
 * A worker counts as polling when Temporal saw it poll within this long: a poll is held open up to about a
 * minute before the worker polls again, and Temporal lists pollers it has not seen for minutes.
 */
export const POLLED_WITHIN_MS = 2 * 60_000;

/** 'ok', or why no worker is taken to be running. */
export async function workerPolling(
  client: Client,
  taskQueue: string,
  deadlineMs: number,
  now: Date = new Date(),
): Promise<string> {
  try {
    const { pollers } = await withinDeadline(client, deadlineMs, 'health', () =>
      client.workflowService.describeTaskQueue({
        namespace: client.options.namespace,
        taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      }),
    );
    const lastSeenMs = Math.max(
      0,
      ...(pollers ?? []).map((poller) => Number(poller.lastAccessTime?.seconds ?? 0) * 1000),
    );
    if (now.getTime() - lastSeenMs <= POLLED_WITHIN_MS) return 'ok';
    return lastSeenMs === 0
      ? `no worker has polled ${taskQueue}`
      : `no worker has polled ${taskQueue} since ${new Date(lastSeenMs).toISOString()}`;
  } catch (error) {
    return `unknown: ${error instanceof Error ? error.message : String(error)}`;
  }
}
