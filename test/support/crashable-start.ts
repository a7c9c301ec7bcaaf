// The servers of `npm start` (the embedded MongoDB and Temporal's dev server, data on disk), and with `--worker`
// its worker process, started the way scripts/start.ts starts them (clear what a crashed run left, check the
// ports, start, record the pids) but in the data directory and on the ports given as arguments, so a test can
// kill this process and see what it leaves behind. Prints `ready` when all answer (the worker: once Temporal
// lists it polling), then waits; SIGTERM stops it cleanly.
// Usage: node --import tsx test/support/crashable-start.ts <dataDir> <mongoPort> <temporalPort> <uiPort> [--worker]
import { join } from 'node:path';
import { parseConfig } from '../../lib/config';
import {
  assertPortsFree,
  clearLeftovers,
  configEnvironment,
  forgetServers,
  recordServer,
  startMongoServer,
  startTemporalDevServer,
  startWorkerProcess,
  type RunningServer,
} from '../../scripts/servers';

const servers: RunningServer[] = [];

/** Last started, first stopped (the worker before the servers it uses), as scripts/start.ts stops them. */
async function stopServers(): Promise<void> {
  for (const server of servers.splice(0).reverse()) await server.stop();
}

async function main(): Promise<void> {
  const [dataDir, mongoPort, temporalPort, uiPort, ...flags] = process.argv.slice(2);
  if (!dataDir || !mongoPort || !temporalPort || !uiPort) throw new Error('usage: <dataDir> <ports…>');
  process.on('SIGTERM', () => {
    void stopServers().then(() => {
      forgetServers(dataDir);
      process.exit(0);
    });
  });
  const leftovers = await clearLeftovers(dataDir);
  if (leftovers) console.log(leftovers);
  const host = '127.0.0.1';
  await assertPortsFree([
    { host, port: Number(mongoPort), what: 'the embedded MongoDB', setting: 'MONGODB_PORT' },
    { host, port: Number(temporalPort), what: 'Temporal', setting: 'TEMPORAL_ADDRESS' },
    { host, port: Number(uiPort), what: "Temporal's UI", setting: 'TEMPORAL_UI_PORT' },
  ]);
  const mongo = await startMongoServer({
    port: Number(mongoPort),
    h2File: join(dataDir, 'mongodb', 'cancelflow.mv'),
    logFile: join(dataDir, 'logs', 'mongodb.log'),
  });
  servers.push(mongo);
  await recordServer(dataDir, mongo);
  const temporal = await startTemporalDevServer({
    port: Number(temporalPort),
    uiPort: Number(uiPort),
    dbFile: join(dataDir, 'temporal.db'),
    logFile: join(dataDir, 'logs', 'temporal.log'),
  });
  servers.push(temporal);
  await recordServer(dataDir, temporal);
  if (flags.includes('--worker')) {
    const config = parseConfig({
      TEMPORAL_ADDRESS: temporal.address,
      MONGODB_URI: mongo.uri,
      TEMPORAL_TASK_QUEUE: 'crash-test',
      LOG_LEVEL: 'warn',
    });
    const worker = await startWorkerProcess({
      env: configEnvironment(config),
      temporalAddress: config.TEMPORAL_ADDRESS,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      logFile: join(dataDir, 'logs', 'worker.log'),
    });
    servers.push(worker);
    await recordServer(dataDir, worker);
  }
  console.log('ready');
}

main().catch(async (error: unknown) => {
  console.error(`could not start: ${error instanceof Error ? error.message : String(error)}`);
  await stopServers();
  process.exit(1);
});
