// Reopens a mongoose connection whose MongoDB driver has stopped watching its server (found by npm run chaos; #15).
//
// The driver (mongodb 7.8) checks its server from a monitor that runs one check at a time and ignores every
// request for another while one is under way. A check's `hello` can wait forever: when the server goes away,
// an operation failing on a pooled connection asks the monitor for a check at once, and if the monitor's own
// socket is already destroyed but has not yet emitted 'close', `Connection.writeCommand` gets `false` from
// `socket.write` and awaits a 'drain' that a destroyed socket never emits (nor 'error', nor a timeout, and the
// connection's later 'close' finds no read to fail). No socket, connect or server-selection timeout reaches
// that await. From then on the server stays Unknown with the error it had when the database went away, every
// call fails server selection, and only a new client recovers. Measured: 2 of 4 database outages in chaos
// runs left the worker's client so for the rest of the run; bench/zz-mongo-restart.ts-style load (40 loops
// of reads and writes, database stopped and started) wedged it within 2 to 5 restarts, the stuck monitor
// holding a closed, destroyed socket with one 'drain' listener.
//
// The guard uses the driver's public heartbeat events: a heartbeat that neither succeeds nor fails within
// the longest a healthy one can take is a wedged monitor, and the connection is closed and opened again (a
// new MongoClient; the models stay bound to the same mongoose connection).
import type { ConnectOptions, Connection } from 'mongoose';

export interface WedgedMonitorGuard {
  /** How often the guard reopened the connection. */
  readonly reopened: number;
  stop(): void;
}

export function reopenWhenMonitorWedged(
  db: Connection,
  uri: string,
  options: ConnectOptions,
  guard: {
    /** A heartbeat still under way after this long is wedged. */
    wedgedAfterMs: number;
    /** How often to look (default a second). */
    checkEveryMs?: number;
    onReopen?: (event: { stuckMs: number; error?: unknown }) => void;
  },
): WedgedMonitorGuard {
  let heartbeatSince: number | undefined;
  let reopening = false;
  let reopened = 0;
  let stopped = false;

  const watch = (client: ReturnType<Connection['getClient']>) => {
    client.on('serverHeartbeatStarted', () => (heartbeatSince ??= Date.now()));
    client.on('serverHeartbeatSucceeded', () => (heartbeatSince = undefined));
    client.on('serverHeartbeatFailed', () => (heartbeatSince = undefined));
  };
  watch(db.getClient());

  const reopen = async (stuckMs: number) => {
    reopening = true;
    heartbeatSince = undefined;
    try {
      await db.close();
      if (stopped) return;
      await db.openUri(uri, options);
      watch(db.getClient());
      reopened += 1;
      guard.onReopen?.({ stuckMs });
    } catch (error) {
      // Opening fails while the database is still away: the next look tries again.
      heartbeatSince ??= Date.now() - guard.wedgedAfterMs;
      guard.onReopen?.({ stuckMs, error });
    } finally {
      reopening = false;
    }
  };

  const timer = setInterval(() => {
    if (stopped || reopening || heartbeatSince === undefined) return;
    const stuckMs = Date.now() - heartbeatSince;
    if (stuckMs >= guard.wedgedAfterMs) void reopen(stuckMs);
  }, guard.checkEveryMs ?? 1_000);
  timer.unref();

  const stop = () => {
    stopped = true;
    clearInterval(timer);
  };
  // Closed by its owner (not by a reopen): nothing more to watch.
  db.on('close', () => {
    if (!reopening) stop();
  });

  return {
    get reopened() {
      return reopened;
    },
    stop,
  };
}
