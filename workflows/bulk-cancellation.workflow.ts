// One workflow per bulk cancellation job (issue #16). It decides the pace and owns the job's state; its
// activities (activities/bulk.activities.ts) do every read and write: they list the job's orders, ask for
// each order's cancellation through the same path a person's request takes, and start that ordinary
// cancellation workflow by its own id, so each stays findable and one order is never cancelled twice. At most
// `concurrency` of the job's cancellations are being processed at a time; one waiting for a person (an
// approver, finance, ops) holds no slot. Pause, resume and stop are Updates, sent by the API as the
// authenticated person. The history stays short: the job continues as new, carrying its state.
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { BulkActivities } from '../activities/bulk.activities';
import {
  BULK_FINAL_STATES,
  getBulkJobQuery,
  pauseBulkJobUpdate,
  resumeBulkJobUpdate,
  stopBulkJobUpdate,
  type BulkControl,
  type BulkControlEntry,
  type BulkJobInput,
  type BulkJobState,
  type BulkJobStatus,
  type BulkPhaseCounts,
} from '../contracts/bulk-cancellation.contract';

// The job's step: starting cancellations and waiting for them to move. Long (it waits), so it heartbeats.
const steps = proxyActivities<BulkActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});
// Short writes of the job's own database copy.
const books = proxyActivities<BulkActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** While cancellations are being processed: the longest one step waits for one of them to move. */
const STEP_WAIT_MS = 5_000;
/** While paused, or waiting only for people: how often the job looks at its cancellations again. */
const IDLE_LOOK = '30 seconds';

function refuseWithout(control: BulkControl): void {
  if (typeof control.by !== 'string' || control.by.trim() === '')
    throw new Error('who sends it must be named (the API names the signed-in person)');
}

export async function bulkCancellationWorkflow(input: BulkJobInput): Promise<BulkJobStatus> {
  const { jobId, concurrency, historyLimit, maxOrders } = input;
  let state: BulkJobState = input.continued?.state ?? 'selecting';
  const control: BulkControlEntry[] = [...(input.continued?.control ?? [])];
  let pauseRequested = state === 'paused';
  let stopRequested = input.continued?.stopRequested ?? false;
  let recorded: BulkJobState = state;
  const status = (): BulkJobStatus => ({ jobId, state, control: [...control] });

  const record = async (entry?: BulkControlEntry) => {
    if (state === recorded && !entry) return;
    recorded = state;
    await books.recordBulkJobState({ jobId, state, ...(entry ? { control: entry } : {}) });
  };
  const entryOf = (action: BulkControlEntry['action'], { by, note }: BulkControl): BulkControlEntry => ({
    action,
    by,
    ...(note ? { note } : {}),
    at: new Date().toISOString(),
  });

  // Who may steer the job, as the books said when this run began (read again after each continue-as-new).
  let stewards: string[] | undefined = undefined;
  /** The person the API named must be one of them: checked once they are known (a message may come first). */
  const refuseUnlessSteward = async ({ by }: BulkControl) => {
    await condition(() => stewards !== undefined);
    if (!stewards?.includes(by))
      throw ApplicationFailure.nonRetryable(
        `${by} may not steer this job: only the person who started it, ops and admins may`,
        'BulkControlRefused',
      );
  };

  setHandler(getBulkJobQuery, status);
  setHandler(
    pauseBulkJobUpdate,
    async (message) => {
      await refuseUnlessSteward(message);
      pauseRequested = true;
      state = 'paused';
      const entry = entryOf('pause', message);
      control.push(entry);
      await record(entry);
      return status();
    },
    {
      validator: (message: BulkControl) => {
        refuseWithout(message);
        if (stopRequested || (state !== 'running' && state !== 'selecting'))
          throw new Error(
            `the job is ${stopRequested ? 'stopping' : state}: only a running job can be paused`,
          );
      },
    },
  );
  setHandler(
    resumeBulkJobUpdate,
    async (message) => {
      await refuseUnlessSteward(message);
      pauseRequested = false;
      state = 'running';
      const entry = entryOf('resume', message);
      control.push(entry);
      await record(entry);
      return status();
    },
    {
      validator: (message: BulkControl) => {
        refuseWithout(message);
        if (stopRequested || state !== 'paused')
          throw new Error(
            `the job is ${stopRequested ? 'stopping' : state}: only a paused job can be resumed`,
          );
      },
    },
  );
  let stopEntry: BulkControlEntry | undefined;
  /** The stop is done and in the books: its Update answers then, so the caller reads it there too. */
  let stopRecorded = false;
  setHandler(
    stopBulkJobUpdate,
    async (message) => {
      await refuseUnlessSteward(message);
      stopRequested = true;
      stopEntry = entryOf('stop', message);
      control.push(stopEntry);
      await condition(() => stopRecorded);
      return status();
    },
    {
      validator: (message: BulkControl) => {
        refuseWithout(message);
        if (stopRequested || BULK_FINAL_STATES.includes(state))
          throw new Error(`the job is ${stopRequested ? 'stopping' : state} already`);
      },
    },
  );

  const timeToContinueAsNew = () => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || (historyLimit !== undefined && info.historyLength >= historyLimit);
  };

  stewards = await books.bulkJobStewards({ jobId });

  if (state === 'selecting') {
    await steps.selectBulkOrders({ jobId, maxOrders });
    if (state === 'selecting') state = 'running';
    await record();
  }

  let counts: BulkPhaseCounts | undefined;
  for (;;) {
    if (stopRequested) {
      await books.stopPendingBulkItems({ jobId });
      state = 'stopped';
      await record(stopEntry);
      stopRecorded = true;
      break;
    }
    if (pauseRequested) {
      // Nothing new starts; what started goes on by its own rules. Its progress is still kept up to date.
      await condition(() => !pauseRequested || stopRequested, IDLE_LOOK);
      if (pauseRequested && !stopRequested)
        await steps.advanceBulkJob({ jobId, concurrency, fill: false, waitMs: 0 });
    } else {
      counts = await steps.advanceBulkJob({ jobId, concurrency, fill: true, waitMs: STEP_WAIT_MS });
      const nothingToDo = counts.pending === 0 && counts.active === 0;
      if (nothingToDo && counts.waiting === 0) {
        if (stopRequested || pauseRequested) continue; // a message came during the step: take it first
        state = 'completed';
        await record();
        break;
      }
      if (!pauseRequested && !stopRequested) state = nothingToDo ? 'waiting' : 'running';
      await record();
      // Every order was asked for, and the rest is up to people: look again now and then, or when stopped.
      if (nothingToDo) await condition(() => stopRequested, IDLE_LOOK);
    }
    if (timeToContinueAsNew()) {
      await condition(allHandlersFinished);
      if (stopRequested) continue; // stop first; a stop's Update waits for it
      return await continueAsNew<typeof bulkCancellationWorkflow>({
        ...input,
        continued: { state, control, stopRequested },
      });
    }
  }
  await condition(allHandlersFinished);
  return status();
}
