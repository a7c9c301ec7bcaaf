// The engine's baselines (issue #13): activities that do nothing, so a workflow made of them measures Temporal
// alone (the dev server, the SDK's worker and their round trips) on the machine and server the benchmark uses.

/** The no-op step: returns at once. */
export async function noopStep(step: number): Promise<number> {
  return Promise.resolve(step);
}

/** The hand-written cancellation's message delivery: what sending one notice costs the engine, minus the send. */
export async function noopDeliver(message: number): Promise<number> {
  return Promise.resolve(message);
}

export const baselineActivities = { noopStep, noopDeliver };
