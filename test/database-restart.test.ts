// The database goes away and comes back while calls are in flight: the models answer again (found by npm run
// chaos, #15). The driver's server monitor can wedge for good in that moment (models/wedged-monitor.ts), which
// only a new client cures; these tests hold the guard that finds it and the recovery it makes.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectModels, type Models } from '../models';
import { reopenWhenMonitorWedged } from '../models/wedged-monitor';
import { freePort, startMongoServer, type MongoServer } from '../scripts/servers';
import { eventually } from './support/eventually';

const timeoutMs = 2_500;
let mongo: MongoServer | undefined;
let models: Models | undefined;

afterEach(async () => {
  await models?.db.close();
  await mongo?.stop();
  models = undefined;
  mongo = undefined;
});

test('a heartbeat left unanswered reopens the connection, and the models work on the new one', async () => {
  mongo = await startMongoServer({ port: await freePort() });
  models = await connectModels(mongo.uri, 'wedged', { timeoutMs });
  await models.Warehouse.collection.insertOne({ code: 'W1' });
  const wedged = models.db.getClient();
  const guard = reopenWhenMonitorWedged(
    models.db,
    mongo.uri,
    { dbName: 'wedged', bufferCommands: false, serverSelectionTimeoutMS: timeoutMs },
    { wedgedAfterMs: 300, checkEveryMs: 50 },
  );
  try {
    // What the driver reports when its monitor starts a check that then never ends.
    wedged.emit('serverHeartbeatStarted', { connectionId: mongo.uri, awaited: false });
    await eventually(() => expect(guard.reopened).toBe(1), 5_000);

    expect(models.db.getClient()).not.toBe(wedged);
    expect(await models.Warehouse.collection.countDocuments({ code: 'W1' })).toBe(1);
    expect(await models.Warehouse.countDocuments({})).toBeGreaterThanOrEqual(1);
  } finally {
    guard.stop();
  }
});

test('heartbeats that end leave the connection alone', async () => {
  mongo = await startMongoServer({ port: await freePort() });
  models = await connectModels(mongo.uri, 'healthy', { timeoutMs });
  const client = models.db.getClient();
  const guard = reopenWhenMonitorWedged(
    models.db,
    mongo.uri,
    { dbName: 'healthy', bufferCommands: false, serverSelectionTimeoutMS: timeoutMs },
    { wedgedAfterMs: 300, checkEveryMs: 50 },
  );
  try {
    for (let i = 0; i < 5; i++) {
      client.emit('serverHeartbeatStarted', {} as never);
      await new Promise((wait) => setTimeout(wait, 100));
      client.emit('serverHeartbeatSucceeded', {} as never);
      await new Promise((wait) => setTimeout(wait, 100));
    }
    expect(guard.reopened).toBe(0);
    expect(models.db.getClient()).toBe(client);
  } finally {
    guard.stop();
  }
});

test('calls in flight while the database stops and starts again answer again within seconds, each time', async () => {
  const port = await freePort();
  const h2File = join(mkdtempSync(join(tmpdir(), 'cancelflow-restart-')), 'data.mv');
  mongo = await startMongoServer({ port, h2File });
  const connected = await connectModels(mongo.uri, 'restart', { timeoutMs });
  models = connected;
  const load = connected.db.collection('load');
  let answered = 0;
  let running = true;
  // Forty callers at once, as the worker's activities are: the driver wedged its monitor under this load.
  const callers = Array.from({ length: 40 }, async (_, i) => {
    while (running) {
      try {
        if (i % 2)
          await load
            .find({ k: i % 7 })
            .limit(20)
            .toArray();
        else await load.insertMany(Array.from({ length: 10 }, () => ({ k: i % 7, text: 'x'.repeat(2_000) })));
        answered += 1;
      } catch {
        await new Promise((wait) => setTimeout(wait, 50));
      }
    }
  });
  try {
    for (let restart = 1; restart <= 4; restart++) {
      await new Promise((wait) => setTimeout(wait, 1_500));
      await mongo.stop();
      await new Promise((wait) => setTimeout(wait, 2_000));
      mongo = await startMongoServer({ port, h2File });
      const before = answered;
      // A wedged monitor is found after heartbeatFrequencyMS + 2 connect timeouts (16 s here).
      await eventually(
        () => expect({ restart, answered }).not.toEqual({ restart, answered: before }),
        25_000,
      );
    }
  } finally {
    running = false;
    await Promise.race([Promise.all(callers), new Promise((wait) => setTimeout(wait, 5_000))]);
  }
}, 180_000);
