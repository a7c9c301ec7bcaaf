// The engine's baselines (issue #13), bundled for a worker and task queue of their own on the benchmark's dev
// server (bench/cancellations.ts):
// - `noopActivitiesWorkflow`: 8 sequential no-op activities, the engine's own limit that cancellations per
//   second are divided by (throughputRatio);
// - `handWrittenCancellationWorkflow`: what a cancellation would cost in history if written by hand against
//   Temporal directly: its steps as sequential activities (one per run of a business activity in the measured
//   cancellations, bookkeeping ones left out: recordCancellationState and recordCancellationSteps, startDeliveryWorkflows), then one
//   delivery activity per message they sent, all at once in the same workflow (non-blocking for the steps,
//   each retried on its own). historyRatio divides by its event count.
import { proxyActivities } from '@temporalio/workflow';
import type { baselineActivities } from './baseline.activities';

const { noopStep, noopDeliver } = proxyActivities<typeof baselineActivities>({
  startToCloseTimeout: '1 minute',
});

/** `steps`: 8 for the baseline the issue names. */
export async function noopActivitiesWorkflow(steps: number): Promise<number> {
  let done = 0;
  for (let step = 0; step < steps; step += 1) done += (await noopStep(step)) >= 0 ? 1 : 0;
  return done;
}

export async function handWrittenCancellationWorkflow(steps: number, messages: number): Promise<number> {
  for (let step = 0; step < steps; step += 1) await noopStep(step);
  const sent = await Promise.all(Array.from({ length: messages }, (_, message) => noopDeliver(message)));
  return steps + sent.length;
}
