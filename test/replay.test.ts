// Every stored history (test/histories/) replays through the current workflow code without
// non-determinism: a change that would break running cancellations fails here first. Fixtures show the test
// has teeth (an incompatible change is caught, the same change behind `patched()` is not) and how a patch is
// retired (`deprecatePatch`, once no run from before the patch is open). docs/versioning.md tells the rules.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleQuietly } from './support/bundle';
import { addCustomer, addPeople, addProduct, placePaidOrder, receiveStock } from '../generators/demo-data';
import { PATCHES } from '../workflows/patches';
import { historiesDir, patchMarkers } from './support/histories';
import { TEST_DATA_CONVERTER } from './support/data-converter';
import { testEnvironment } from './support/environment';
import { startTestStack } from './support/stack';

const files = readdirSync(historiesDir).filter((file) => file.endsWith('.json'));
const load = (file: string) =>
  JSON.parse(readFileSync(join(historiesDir, file), 'utf8')) as Parameters<typeof Worker.runReplayHistory>[1];
// Other versions of the workflow code, which this file is about: bundled here, the only bundles a test makes.
const bundle = (fixture: string): Promise<WorkflowBundleWithSourceMap> =>
  bundleQuietly(require.resolve(`./fixtures/${fixture}`));

test('there are stored histories of every path to replay', () => {
  expect(files.length).toBeGreaterThanOrEqual(9);
});

test.each(files)('%s replays without non-determinism', async (file) => {
  await Worker.runReplayHistory(
    // Histories recorded since payloads are encrypted read through the codec; older ones pass through it.
    {
      workflowBundle: { codePath: testEnvironment().workflowBundlePath },
      dataConverter: TEST_DATA_CONVERTER,
    },
    load(file),
    file.replace(/\.json$/, ''),
  );
});

test.each(Object.values(PATCHES))(
  'patch %s: the stored histories hold runs that recorded it and runs without it',
  (patch) => {
    const withMarker = files.filter((file) => patchMarkers(load(file)).has(patch));
    // Without the marker: recorded before the patch (replayed the old way), or a path that never reaches it.
    const without = files.filter((file) => !patchMarkers(load(file)).has(patch));
    expect(withMarker.length).toBeGreaterThan(0);
    expect(without.length).toBeGreaterThan(0);
  },
);

describe('a local activity resolved on a heartbeat workflow task (PATCHES.decidedAtStart)', () => {
  // Found by `npm run chaos`: the worker recorded the local activity's marker in one workflow task and the
  // commands made on its result, the provider-heartbeats marker first, in the next (test/fixtures/README.md).
  const fixture = (file: string) =>
    JSON.parse(readFileSync(join(__dirname, 'fixtures', file), 'utf8')) as Parameters<
      typeof Worker.runReplayHistory
    >[1];
  const replay = (file: string) =>
    Worker.runReplayHistory(
      {
        workflowBundle: { codePath: testEnvironment().workflowBundlePath },
        dataConverter: TEST_DATA_CONVERTER,
      },
      fixture(file),
      file,
    );

  test('a run that asked for provider-heartbeats there, as runs did before, cannot be replayed', async () => {
    await expect(replay('heartbeat-split.before-patches-decided-at-start.json')).rejects.toThrow(
      /Non-deprecated patch marker encountered for change provider-heartbeats/,
    );
  });

  test('the same run, its patches decided in its first workflow task, replays', async () => {
    await replay('heartbeat-split.json');
  });
});

test('a deliberately incompatible change is caught', async () => {
  const incompatible = await bundle('incompatible.workflows');
  await expect(
    Worker.runReplayHistory(
      { workflowBundle: incompatible, dataConverter: TEST_DATA_CONVERTER },
      load('completed-low-risk.json'),
      'incompatible',
    ),
  ).rejects.toBeInstanceOf(DeterminismViolationError);
});

test('the same change behind a patch replays old histories cleanly', async () => {
  const patchedBundle = await bundle('patched.workflows');
  await Worker.runReplayHistory(
    { workflowBundle: patchedBundle, dataConverter: TEST_DATA_CONVERTER },
    load('completed-low-risk.json'),
    'patched',
  );
});

test('a patch is retired with deprecatePatch: runs started under the patch replay, runs from before it do not', async () => {
  const [patchedBundle, deprecatedBundle] = await Promise.all([
    bundle('patched.workflows'),
    bundle('deprecated-patch.workflows'),
  ]);
  // A cancellation runs to its end on a worker of the patched version, as one would in production.
  const stack = await startTestStack('patch-lifecycle', undefined, {
    workflows: { workflowBundle: patchedBundle },
  });
  let startedUnderPatch;
  try {
    await addPeople(stack.models);
    await addCustomer(stack.models, {
      customerId: 'C-1',
      name: 'Li Lei',
      email: 'li.lei@example.cn',
      language: 'en',
    });
    await addProduct(stack.models, {
      sku: 'TEA-1',
      name: 'Longjing',
      unitPriceMinor: 16800,
      currency: 'CNY',
    });
    await receiveStock(stack.models, 'TEA-1', 5);
    await placePaidOrder(stack.models, {
      orderNumber: 'SO-PATCH-1',
      customerId: 'C-1',
      currency: 'CNY',
      lines: [{ lineId: 'L1', sku: 'TEA-1', quantity: 1, unitPriceMinor: 16800 }],
    });
    const accepted = await (
      await stack.as('clerk-1')
    ).createCancellation({
      orderNumber: 'SO-PATCH-1',
      reasonCode: 'customer_changed_mind',
      confirm: ['awaiting_shipment'],
    });
    const handle = stack.temporal.workflow.getHandle(accepted.workflowId);
    await handle.result();
    startedUnderPatch = await handle.fetchHistory();
  } finally {
    await stack.stop();
  }
  // The run recorded the patch's marker before its first command (the timer).
  const marker = startedUnderPatch.events?.find((event) => event.markerRecordedEventAttributes);
  expect(marker?.markerRecordedEventAttributes?.markerName).toBe('core_patch');

  await Worker.runReplayHistory(
    { workflowBundle: deprecatedBundle, dataConverter: TEST_DATA_CONVERTER },
    startedUnderPatch,
    'started-under-patch',
  );
  await expect(
    Worker.runReplayHistory(
      { workflowBundle: deprecatedBundle, dataConverter: TEST_DATA_CONVERTER },
      load('completed-low-risk.json'),
      'started-before-patch',
    ),
  ).rejects.toBeInstanceOf(DeterminismViolationError);
});
