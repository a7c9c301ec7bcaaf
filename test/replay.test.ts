// Every stored history (test/histories/) replays through the current workflow code without
// non-determinism: a change that would break running cancellations fails here first. Two fixtures show the
// test has teeth: an incompatible change is caught, and the same change behind `patched()` is not.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleQuietly } from './support/bundle';
import { historiesDir } from './support/histories';
import { testEnvironment } from './support/environment';

const files = readdirSync(historiesDir).filter((file) => file.endsWith('.json'));
const load = (file: string) =>
  JSON.parse(readFileSync(join(historiesDir, file), 'utf8')) as Parameters<typeof Worker.runReplayHistory>[1];
const bundle = (fixture: string): Promise<WorkflowBundleWithSourceMap> =>
  bundleQuietly(require.resolve(`./fixtures/${fixture}`));

test('there are stored histories of every path to replay', () => {
  expect(files.length).toBeGreaterThanOrEqual(9);
});

test.each(files)('%s replays without non-determinism', async (file) => {
  await Worker.runReplayHistory(
    { workflowBundle: { codePath: testEnvironment().workflowBundlePath } },
    load(file),
    file.replace(/\.json$/, ''),
  );
});

test('a deliberately incompatible change is caught', async () => {
  const incompatible = await bundle('incompatible.workflows');
  await expect(
    Worker.runReplayHistory(
      { workflowBundle: incompatible },
      load('completed-low-risk.json'),
      'incompatible',
    ),
  ).rejects.toBeInstanceOf(DeterminismViolationError);
});

test('the same change behind a patch replays old histories cleanly', async () => {
  const patchedBundle = await bundle('patched.workflows');
  await Worker.runReplayHistory(
    { workflowBundle: patchedBundle },
    load('completed-low-risk.json'),
    'patched',
  );
});
