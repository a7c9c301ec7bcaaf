// The servers of `npm start` (the embedded MongoDB and Temporal's dev server, data on disk), started the way
// scripts/start.ts starts them (clear what a crashed run left, check the ports, start, record the pids) but in
// the data directory and on the ports given as arguments, so a test can kill this process and see what it
// leaves behind. Prints `ready` when both answer, then waits; SIGTERM stops it cleanly.
// Usage: node --import tsx test/support/crashable-start.ts <dataDir> <mongoPort> <temporalPort> <uiPort>
import { join } from 'node:path';
import {
  assertPortsFree,
  clearLeftovers,
  forgetServers,
  recordServer,
  startMongoServer,
  startTemporalDevServer,
  type RunningServer,
} from '../../scripts/servers';

const servers: RunningServer[] = [];

async function main(): Promise<void> {
  const [dataDir, mongoPort, temporalPort, uiPort] = process.argv.slice(2);
  if (!dataDir || !mongoPort || !temporalPort || !uiPort) throw new Error('usage: <dataDir> <ports…>');
  process.on('SIGTERM', () => {
    void Promise.all(servers.map((server) => server.stop())).then(() => {
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
  console.log('ready');
}

main().catch(async (error: unknown) => {
  console.error(`could not start: ${error instanceof Error ? error.message : String(error)}`);
  await Promise.all(servers.map((server) => server.stop()));
  process.exit(1);
});
