// Found by `npm run chaos` (issue #15): after a worker is killed, or while it is too slow, a workflow's task times
// out and is tried again, and meanwhile Temporal refuses Updates with FAILED_PRECONDITION "Workflow Task in failed
// state". The API answered a person's action with 500; it is a moment's unavailability, so 503 and Retry-After.
import type { Client } from '@temporalio/client';
import { isWorkflowTaskRetrying, withinDeadline } from '../api/deadlines';

/** A gRPC error as the Temporal client throws it (a ServiceError wraps it as its cause). */
function grpcError(code: number, details: string): Error {
  const grpc = Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
  return new Error('Workflow Update failed', { cause: grpc });
}

const retrying = grpcError(
  9,
  'Unable to perform workflow execution update due to Workflow Task in failed state.',
);
const passThrough = { withDeadline: (_deadline: number, call: () => Promise<unknown>) => call() };

test('an Update refused while the workflow retries a failed task is unavailable for now (503)', async () => {
  expect(isWorkflowTaskRetrying(retrying)).toBe(true);
  await expect(
    withinDeadline(passThrough as unknown as Client, 1_000, 'cancellation c-1', () =>
      Promise.reject(retrying),
    ),
  ).rejects.toMatchObject({ code: 'unavailable', httpStatus: 503 });
});

test('another failed precondition passes through as it is', async () => {
  const other = grpcError(9, 'Workflow Update is not allowed in this state.');
  expect(isWorkflowTaskRetrying(other)).toBe(false);
  await expect(
    withinDeadline(passThrough as unknown as Client, 1_000, 'cancellation c-1', () => Promise.reject(other)),
  ).rejects.toBe(other);
});
