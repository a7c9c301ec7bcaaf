// Starts the servers the suite talks to (a Temporal dev server, the embedded MongoDB), bundles the workflow
// code once, and hands their addresses to the test files through environment variables.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import {
  freePort,
  startMongoServer,
  startTemporalDevServer,
  type RunningServer,
} from '../../scripts/servers';
import { CANCELFLOW_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { testEnvironmentKeys as keys } from './environment';

declare global {
  var cancelflowTestServers: RunningServer[] | undefined;
}

export default async function globalSetup(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'cancelflow-test-'));
  const [temporal, mongo, bundle] = await Promise.all([
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
    bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietBundlerLogger }),
  ]);
  const bundlePath = join(workDir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);

  globalThis.cancelflowTestServers = [temporal, ...(mongo ? [mongo] : [])];
  process.env[keys.temporalAddress] = temporal.address;
  process.env[keys.mongoUri] = process.env.MONGODB_URI ?? mongo?.uri;
  process.env[keys.workflowBundle] = bundlePath;
  process.env[keys.workDir] = workDir;
}

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
