// The database copy of a cancellation when a workflow task is lost after its local activities ran (issue #15).
// Found by `npm run chaos`: with Temporal stopped, a worker ran a new cancellation's first task to awaiting
// approval (each step recorded here by the recordCancellationState local activity), but the task timed out before
// its history was written. The requester, seeing awaiting approval in the list, withdrew; the retried task saw the
// Update at once and went loadingPolicy → withdrawn, recording that as step 1. Step 1 was on the timeline already
// (the lost attempt's "reviewing"), so the write was taken for a repeat and the copy stayed awaiting approval,
// though the workflow had ended. On the run's database, through the activity itself.
import { randomUUID } from 'node:crypto';
import type { ActivityDeps } from '../activities';
import { createRecordActivities, type CancellationProgress } from '../activities/record.activities';
import type { CancellationView } from '../contracts/cancellation.contract';
import { connectModels, type Models } from '../models';
import { testEnvironment } from './support/environment';

let models: Models;
let activities: ReturnType<typeof createRecordActivities>;
const record = (step: CancellationProgress) => activities.recordCancellationState(step);

beforeAll(async () => {
  models = await connectModels(testEnvironment().mongoUri, `record_lost_${randomUUID().slice(0, 8)}`);
  await models.Cancellation.init();
  activities = createRecordActivities({ models } as unknown as ActivityDeps);
});

afterAll(async () => {
  await models.db.dropDatabase();
  await models.db.close();
});

async function requested(orderNumber: string): Promise<string> {
  const cancellationId = randomUUID();
  await models.Cancellation.create({
    cancellationId,
    workflowId: `cancellation-${cancellationId}`,
    orderNumber,
    customerId: 'C-1',
    activeForOrder: orderNumber,
    reasonCode: 'other',
    requestedBy: 'clerk-1',
    state: 'requested',
  });
  return cancellationId;
}

/** A step as the workflow reports it, `seconds` after a fixed moment (the workflow's clock). */
function progress(
  cancellationId: string,
  step: number,
  state: string,
  seconds: number,
): CancellationProgress {
  const final = state === 'withdrawn';
  const view = {
    cancellationId,
    orderNumber: 'SO-LOST',
    state,
    ...(final ? { outcome: 'withdrawn' } : {}),
    notifications: [],
  } as unknown as CancellationView;
  return { view, step, at: new Date(Date.UTC(2026, 11, 7, 19, 7, seconds)).toISOString(), final };
}

const copyOf = async (cancellationId: string) =>
  models.Cancellation.findOne({ cancellationId }).lean().orFail();

test("a retried task's steps replace those of the lost attempt from where they part, and end the cancellation", async () => {
  const id = await requested('SO-LOST-1');
  // The lost attempt (its task started at :06).
  const lostPath = [
    'loadingPolicy',
    'reviewing',
    'assessingRisk',
    'awaitingApproval.findingApprovers',
    'awaitingApproval.waitingForDecision',
  ];
  for (const [step, state] of lostPath.entries()) await record(progress(id, step, state, 6));
  expect((await copyOf(id)).state).toBe('awaitingApproval.waitingForDecision');

  // The retried task (started at :23) saw the withdrawal before reviewing.
  await record(progress(id, 0, 'loadingPolicy', 23));
  await record(progress(id, 1, 'withdrawn', 25));
  const copy = await copyOf(id);
  expect(copy.state).toBe('withdrawn');
  expect(copy.outcome).toBe('withdrawn');
  expect(copy.timeline.map((entry) => [entry.step, entry.state])).toEqual([
    [0, 'loadingPolicy'],
    [1, 'withdrawn'],
  ]);
  // Ended: the order may be cancelled again.
  expect(copy.activeForOrder).toBeUndefined();

  // The activity retried (same step, same state) changes nothing; a write of the lost attempt arriving late
  // (older than the step it would replace) neither.
  await record(progress(id, 1, 'withdrawn', 25));
  await record(progress(id, 1, 'reviewing', 6));
  const after = await copyOf(id);
  expect(after.state).toBe('withdrawn');
  expect(after.timeline.map((entry) => entry.state)).toEqual(['loadingPolicy', 'withdrawn']);
});

test('a step recorded twice in the same state is written once, as before', async () => {
  const id = await requested('SO-LOST-2');
  await record(progress(id, 0, 'loadingPolicy', 1));
  await record(progress(id, 1, 'reviewing', 2));
  await record(progress(id, 1, 'reviewing', 3));
  const copy = await copyOf(id);
  expect(copy.state).toBe('reviewing');
  expect(copy.timeline).toHaveLength(2);
});

test('the same when the retried task records its steps together (PATCHES.recordStepsTogether)', async () => {
  const id = await requested('SO-LOST-3');
  await activities.recordCancellationSteps(
    ['loadingPolicy', 'reviewing', 'assessingRisk', 'awaitingApproval.waitingForDecision'].map(
      (state, step) => progress(id, step, state, 6),
    ),
  );
  await activities.recordCancellationSteps([
    progress(id, 0, 'loadingPolicy', 23),
    progress(id, 1, 'withdrawn', 25),
  ]);
  const copy = await copyOf(id);
  expect([copy.state, copy.outcome, copy.activeForOrder]).toEqual(['withdrawn', 'withdrawn', undefined]);
  expect(copy.timeline.map((entry) => [entry.step, entry.state])).toEqual([
    [0, 'loadingPolicy'],
    [1, 'withdrawn'],
  ]);
  // The lost attempt's batch arriving late changes nothing.
  await activities.recordCancellationSteps([
    progress(id, 1, 'reviewing', 6),
    progress(id, 2, 'assessingRisk', 6),
  ]);
  expect((await copyOf(id)).timeline.map((entry) => entry.state)).toEqual(['loadingPolicy', 'withdrawn']);
});
