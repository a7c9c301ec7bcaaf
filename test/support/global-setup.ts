// Starts the servers the suite talks to (a Temporal dev server, the embedded MongoDB), bundles the workflow
// code once for the whole run (the product's, and the same with the test workflows), and hands their
// addresses and the bundles' paths to the test files through environment variables.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  startMongoServer,
  startTemporalDevServer,
  type MongoServer,
  type RunningServer,
  type TemporalServer,
} from '../../scripts/servers';
import { CANCELFLOW_SEARCH_ATTRIBUTES } from '../../contracts/search-attributes';
import { bundleQuietly } from './bundle';
import { testEnvironmentKeys as keys } from './environment';

declare global {
  var cancelflowTestServers: RunningServer[] | undefined;
}

export default async function globalSetup(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'cancelflow-test-'));
  const started = await Promise.allSettled([
    freePort().then((port) =>
      startTemporalDevServer({
        port,
        searchAttributes: CANCELFLOW_SEARCH_ATTRIBUTES,
        logFile: join(workDir, 'temporal.log'),
      }),
    ),
    // An external MongoDB given by MONGODB_URI (e.g. docker-compose's replica set) replaces the embedded one.
    process.env.MONGODB_URI
      ? undefined
      : startMongoServer({ port: 0, logFile: join(workDir, 'mongodb.log') }),
    bundleQuietly(require.resolve('../../workflows')),
    bundleQuietly(require.resolve('./test-workflows')),
  ]);
  const failure = started.find((result) => result.status === 'rejected');
  if (failure) {
    // Stop whichever server did start, so a failed setup leaves nothing running.
    const servers = started.flatMap((result) =>
      result.status === 'fulfilled' && result.value && 'stop' in result.value ? [result.value] : [],
    );
    await Promise.all(servers.map((server) => server.stop()));
    throw failure.reason;
  }
  type Bundle = Awaited<ReturnType<typeof bundleQuietly>>;
  const [temporal, mongo, bundle, testBundle] = started.map(
    (result) => (result as PromiseFulfilledResult<unknown>).value,
  ) as [TemporalServer, MongoServer | undefined, Bundle, Bundle];
  const bundlePath = join(workDir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  const testBundlePath = join(workDir, 'test-workflow-bundle.js');
  writeFileSync(testBundlePath, testBundle.code);

  globalThis.cancelflowTestServers = [temporal, ...(mongo ? [mongo] : [])];
  process.env[keys.temporalAddress] = temporal.address;
  process.env[keys.mongoUri] = process.env.MONGODB_URI ?? mongo?.uri;
  process.env[keys.workflowBundle] = bundlePath;
  process.env[keys.testWorkflowBundle] = testBundlePath;
  process.env[keys.workDir] = workDir;
}
