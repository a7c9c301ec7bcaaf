// Issue #13: a crash of `npm start` must not leave its database and Temporal servers running, nor its worker
// process. They are started by test/support/crashable-start.ts exactly as scripts/start.ts starts them, but in
// a temporary data directory and on free ports, so nothing here touches a developer's own `npm start`.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandLineOf, freePort, projectRoot } from '../scripts/servers';
import { eventually } from './support/eventually';

const driver = join(projectRoot, 'test', 'support', 'crashable-start.ts');

/** Whether something accepts connections on the port. */
function answers(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

/** Live processes whose command line mentions the text (here: the temporary data directory). */
function processesMentioning(text: string): { pid: number; commandLine: string }[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .flatMap((entry) => {
      try {
        const commandLine = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
        return commandLine.includes(text) ? [{ pid: Number(entry), commandLine }] : [];
      } catch {
        return []; // gone meanwhile
      }
    });
}

/** The worker a run recorded in its pids.json, with its watchdog (their command lines do not name the data). */
function recordedWorker(dataDir: string): { pid: number; watchdog: number } {
  const recorded = JSON.parse(readFileSync(join(dataDir, 'pids.json'), 'utf8')) as {
    servers: { name: string; pid: number; watchdog?: { pid: number } }[];
  };
  const worker = recorded.servers.find((server) => server.name === 'worker');
  if (!worker?.watchdog) throw new Error(`no worker in ${dataDir}/pids.json`);
  const found = { pid: worker.pid, watchdog: worker.watchdog.pid };
  workerPids.push(found.pid, found.watchdog);
  return found;
}

const running = (pid: number) => commandLineOf(pid) !== undefined;

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startRun(dataDir: string, ports: number[], flags: '--worker'[] = []): Run {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', driver, dataDir, ...ports.map(String), ...flags],
    {
      cwd: projectRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, output: () => output, exited };
}

async function ready(run: Run): Promise<void> {
  await eventually(() => {
    if (run.child.exitCode !== null) throw new Error(`exited ${run.child.exitCode}:\n${run.output()}`);
    expect(run.output()).toMatch(/^ready$/m);
  }, 50_000).catch((error: unknown) => {
    if (run.child.exitCode !== null) throw new Error(`the run exited early:\n${run.output()}`);
    throw error;
  });
}

const dirs: string[] = [];
const workerPids: number[] = [];
afterEach(() => {
  // Whatever a failed test left running is ours: its command line names our temporary directory, or it is a
  // worker (or its watchdog) a run of ours recorded.
  for (const pid of workerPids.splice(0).filter(running)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of dirs.splice(0)) {
    for (const { pid } of processesMentioning(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

const linux = existsSync('/proc/self/cmdline');

async function freshRun(): Promise<{ dataDir: string; ports: [number, number, number] }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cancelflow-crash-'));
  dirs.push(dataDir);
  return { dataDir, ports: [await freePort(), await freePort(), await freePort()] };
}

async function exitedWith(run: Run): Promise<{ code: number | null; output: string }> {
  const code = await run.exited;
  return { code, output: run.output() };
}

(linux ? test : test.skip)(
  'SIGKILL of the start process takes its MongoDB, Temporal and worker down, and the next start on the same data succeeds',
  async () => {
    const { dataDir, ports } = await freshRun();
    const [mongoPort, temporalPort, uiPort] = ports;

    const first = startRun(dataDir, ports, ['--worker']);
    await ready(first);
    expect(processesMentioning(dataDir).length).toBeGreaterThanOrEqual(2); // java and temporal
    const worker = recordedWorker(dataDir);
    expect(commandLineOf(worker.pid)).toMatch(/--import tsx .*worker\/main\.ts$/); // a process of its own

    // While it runs, a second start on the same data is refused, naming the first.
    expect(await exitedWith(startRun(dataDir, ports))).toEqual({
      code: 1,
      output: expect.stringContaining(`cancelflow is already running on ${dataDir} (pid ${first.child.pid})`),
    });

    first.child.kill('SIGKILL');
    await first.exited;

    // The servers and the worker follow their parent: the ports are free again and no process of that run is left.
    await eventually(async () => {
      expect(await answers(mongoPort)).toBe(false);
      expect(await answers(temporalPort)).toBe(false);
      expect(await answers(uiPort)).toBe(false);
      expect(processesMentioning(dataDir)).toEqual([]);
      expect([worker.pid, worker.watchdog].filter(running)).toEqual([]);
    }, 20_000);

    // And a new start on the same data (the same H2 file and SQLite database) is not refused.
    const second = startRun(dataDir, ports);
    await ready(second);
    expect(second.output()).not.toMatch(/did not stop cleanly/); // nothing was left to clear
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    await eventually(() => expect(processesMentioning(dataDir)).toEqual([]), 20_000);
    expect(existsSync(join(dataDir, 'pids.json'))).toBe(false); // a clean stop leaves nothing to clear
  },
  90_000,
);

(linux ? test : test.skip)(
  'servers and a worker left running by a crashed run (watchdogs killed too) are stopped by the next start, which says so',
  async () => {
    const { dataDir, ports } = await freshRun();
    const first = startRun(dataDir, ports, ['--worker']);
    await ready(first);
    // The worst case: the watchdogs die with the start process, and the servers and the worker are orphaned.
    const watchdogs = processesMentioning(dataDir).filter(({ commandLine }) =>
      commandLine.includes('child-watchdog.mjs'),
    );
    expect(watchdogs).toHaveLength(2);
    const worker = recordedWorker(dataDir);
    for (const pid of [...watchdogs.map(({ pid }) => pid), worker.watchdog]) process.kill(pid, 'SIGKILL');
    first.child.kill('SIGKILL');
    await first.exited;
    const orphans = processesMentioning(dataDir);
    expect(orphans).toHaveLength(2);
    expect(running(worker.pid)).toBe(true);
    expect(await answers(ports[0])).toBe(true);

    const second = startRun(dataDir, ports);
    await ready(second);
    const [mongo, temporal] = [
      orphans.find(({ commandLine }) => commandLine.includes('mongo-launcher')),
      orphans.find(({ commandLine }) => commandLine.includes('start-dev')),
    ];
    expect(second.output()).toContain(
      `an earlier run of cancelflow did not stop cleanly: stopped its MongoDB (pid ${mongo?.pid}), its Temporal dev server (pid ${temporal?.pid}) and its worker (pid ${worker.pid})`,
    );
    expect(running(worker.pid)).toBe(false);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  },
  90_000,
);

(linux ? test : test.skip)(
  'a port held by another program stops start-up, naming the port and its setting',
  async () => {
    const { dataDir, ports } = await freshRun();
    const squatter = createServer();
    await new Promise<void>((listening) => squatter.listen(ports[0], '127.0.0.1', listening));
    try {
      expect(await exitedWith(startRun(dataDir, ports))).toEqual({
        code: 1,
        output: expect.stringContaining(
          `port ${ports[0]} on 127.0.0.1, for the embedded MongoDB, is in use by another program: stop it, or set MONGODB_PORT to a free port`,
        ),
      });
    } finally {
      await new Promise((closed) => squatter.close(closed));
    }
  },
);
