// Starts and stops the real local servers cancelflow runs against: Temporal's dev server and the embedded
// MongoDB (mongo-java-server through tools/mongo-launcher), and the worker in a process of its own. Used by
// `npm start`, `npm run bench` and by Jest's global setup.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { type Readable } from 'node:stream';
import { type Connection } from '@temporalio/client';
import type { Config } from '../lib/config';
import { openTemporalConnection } from '../lib/temporal-connection';

export const projectRoot = resolve(__dirname, '..');
const toolsDir = join(projectRoot, '.tools');

export interface RunningServer {
  name: string;
  /** The watchdog the server runs under (scripts/child-watchdog.mjs). */
  process: ChildProcess;
  /** The server's own pid, once it is running; undefined if it could not be started. */
  pid: Promise<number | undefined>;
  stop(): Promise<void>;
}

/**
 * Ports are chosen below Linux's ephemeral range (32768-60999). A port the OS hands out for `listen(0)` comes
 * from that range, and so does the local end of every outgoing connection: between choosing a port and a
 * server listening on it, any of the run's many connections (database pools, gRPC) could take it. Below the
 * range only an explicit bind can; each port is handed out once per process, and checked free before.
 */
const PORT_RANGE = { from: 20_000, to: 32_767 } as const;
const portsHandedOut = new Set<number>();

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((answer) => {
    const server = createServer();
    server.unref();
    server.once('error', () => answer(false));
    server.listen(port, host, () => server.close(() => answer(true)));
  });
}

/** A port that was free a moment ago, not handed out before by this process. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const span = PORT_RANGE.to - PORT_RANGE.from + 1;
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * span);
    if (portsHandedOut.has(port)) continue;
    portsHandedOut.add(port);
    if (await canListen(port, host)) return port;
  }
  throw new Error(`no free port between ${PORT_RANGE.from} and ${PORT_RANGE.to} on ${host}`);
}

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, command);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The Temporal CLI: one already on the PATH wins, else the pinned one `scripts/install.sh` put in .tools. */
export function temporalCliPath(): string {
  const path = onPath('temporal') ?? join(toolsDir, 'venv', 'bin', 'temporal');
  if (!existsSync(path)) throw new Error('Temporal CLI not found: run `bash scripts/install.sh`');
  return path;
}

export function temporalTestServerPath(): string {
  const path = join(toolsDir, 'venv', 'bin', 'temporal-test-server');
  if (!existsSync(path)) throw new Error('Temporal test server not found: run `bash scripts/install.sh`');
  return path;
}

export function mongoLauncherJar(): string {
  const jar = join(toolsDir, 'mongo-launcher', 'mongo-launcher.jar');
  if (!existsSync(jar)) throw new Error('MongoDB launcher not built: run `bash scripts/install.sh`');
  return jar;
}

const watchdogScript = join(projectRoot, 'scripts', 'child-watchdog.mjs');

/**
 * Spawns a server whose output goes to a log file (or is dropped), and stops it with SIGTERM, then SIGKILL.
 *
 * The server runs under scripts/child-watchdog.mjs, which ends it when this process dies, even by SIGKILL
 * (issue #13): it watches the stdin pipe this process holds open. The watchdog leads a process group of its
 * own with the server in it, so Ctrl-C in a terminal reaches only the process that started it (which stops
 * its servers in order), and one kill of the group ends both if the watchdog itself stops answering.
 */
function spawnServer(
  name: string,
  command: string,
  args: string[],
  logFile?: string,
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): RunningServer {
  const child = spawn(process.execPath, [watchdogScript, '--pid-fd=3', command, ...args], {
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    detached: true,
    ...options,
  });
  if (logFile) {
    mkdirSync(dirname(logFile), { recursive: true });
    const log = createWriteStream(logFile, { flags: 'a' });
    // Two sources into one file: pipe() would end the file when the first of them ends, and the other's next
    // chunk then failed the stream ("write after end", unhandled) and ended this process; `npm run chaos` met
    // it on a killed worker. The file ends once the child's streams have all closed.
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.once('close', () => log.end());
  } else {
    child.stderr?.resume();
  }
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const pidPipe = child.stdio[3] as Readable | null;
  const pid = new Promise<number | undefined>((resolvePid) => {
    let text = '';
    pidPipe?.on('data', (chunk: Buffer) => (text += chunk.toString()));
    pidPipe?.once('close', () => resolvePid(Number(text.trim()) || undefined));
    void exited.then(() => resolvePid(undefined));
  });
  return {
    name,
    process: child,
    pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM'); // the watchdog passes it on, and kills the server itself after its grace period
      const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Signals the watchdog's whole group (it and its server), or the watchdog alone if that is gone. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

function failedToStart(server: RunningServer, what: string, logFile?: string): Promise<never> {
  return new Promise((_, reject) =>
    server.process.once('exit', (code, signal) =>
      reject(
        new Error(
          `${what} exited (${signal ?? `code ${code}`}) before it was ready${logFile ? `; see ${logFile}` : ''}`,
        ),
      ),
    ),
  );
}

async function withTimeout<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} was not ready within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface TemporalServerOptions {
  host?: string;
  port: number;
  /** Omit for a headless server. */
  uiPort?: number;
  /** The codec endpoint the UI decodes payloads through (`<url>/decode`); needs `uiPort`. */
  uiCodecEndpoint?: string;
  /** Omit to keep everything in memory. */
  dbFile?: string;
  searchAttributes?: Record<
    string,
    'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList'
  >;
  logFile?: string;
}

export interface TemporalServer extends RunningServer {
  address: string;
  uiUrl?: string;
}

export async function startTemporalDevServer(options: TemporalServerOptions): Promise<TemporalServer> {
  const host = options.host ?? '127.0.0.1';
  const args = ['server', 'start-dev', '--ip', host, '--port', String(options.port), '--log-level', 'warn'];
  args.push('--http-port', String(await freePort(host)), '--metrics-port', String(await freePort(host)));
  if (options.uiPort) args.push('--ui-ip', host, '--ui-port', String(options.uiPort));
  else args.push('--headless');
  if (options.uiPort && options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  if (options.dbFile) {
    mkdirSync(dirname(options.dbFile), { recursive: true });
    // Measured on these machines: WAL with normal sync is about 6x faster than SQLite's default journal.
    args.push(
      '--db-filename',
      options.dbFile,
      '--sqlite-pragma',
      'journal_mode=wal',
      '--sqlite-pragma',
      'synchronous=normal',
    );
  }
  for (const [name, type] of Object.entries(options.searchAttributes ?? {}))
    args.push('--search-attribute', `${name}=${type}`);

  const server = spawnServer('Temporal dev server', temporalCliPath(), args, options.logFile);
  const address = `${host}:${options.port}`;
  let gaveUp = false;
  const ready = (async () => {
    while (!gaveUp) {
      try {
        const connection = await openTemporalConnection({ address, connectTimeout: 1_000 });
        try {
          await connection.workflowService.getSystemInfo({});
          return;
        } finally {
          await connection.close();
        }
      } catch {
        await new Promise((wait) => setTimeout(wait, 200));
      }
    }
  })();
  try {
    await withTimeout(
      'Temporal dev server',
      60_000,
      Promise.race([ready, failedToStart(server, 'Temporal dev server', options.logFile)]),
    );
  } catch (error) {
    gaveUp = true; // stop polling, so nothing keeps the process alive
    await server.stop();
    throw error;
  }
  return { ...server, address, uiUrl: options.uiPort ? `http://${host}:${options.uiPort}` : undefined };
}

export interface MongoServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Omit to keep everything in memory. */
  h2File?: string;
  maxHeap?: string;
  logFile?: string;
}

export interface MongoServer extends RunningServer {
  uri: string;
  port: number;
}

export function javaAvailable(): boolean {
  return spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0;
}

export async function startMongoServer(options: MongoServerOptions): Promise<MongoServer> {
  const host = options.host ?? '127.0.0.1';
  const args = [
    `-Xmx${options.maxHeap ?? '512m'}`,
    '-jar',
    mongoLauncherJar(),
    '--host',
    host,
    '--port',
    String(options.port),
  ];
  if (options.h2File) {
    mkdirSync(dirname(options.h2File), { recursive: true });
    args.push('--backend', 'h2', '--h2-file', options.h2File);
  }
  const server = spawnServer('MongoDB', 'java', args, options.logFile);
  const stdout = server.process.stdout;
  if (!stdout) throw new Error('mongo launcher has no stdout');
  const lines = createInterface({ input: stdout });
  const port = new Promise<number>((resolvePort) => {
    lines.on('line', (line) => {
      const match = /^mongo-launcher listening on .+:(\d+)$/.exec(line);
      if (match) resolvePort(Number(match[1]));
    });
  });
  try {
    const bound = await withTimeout(
      'MongoDB launcher',
      60_000,
      Promise.race([port, failedToStart(server, 'MongoDB launcher', options.logFile)]),
    );
    return { ...server, port: bound, uri: `mongodb://${host}:${bound}/?directConnection=true` };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------
// The worker in a process of its own (issue #13): measured, it cut the share of a cancellation's time with no
// activity running from 40 % to 22 % against the worker sharing a process with the API and the simulators.
// `npm start` and `npm run bench` run worker/main.ts (what `npm run worker` runs) under the watchdog, like the
// servers above, so it is recorded in pids.json and ends with its parent however that goes; it gets its
// settings as the environment variables lib/config.ts reads, and counts as ready once Temporal lists it among
// the task queue's pollers.

/** The configuration as the environment variables lib/config.ts reads back: how a child process gets it. */
export function configEnvironment(config: Config): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(config) as [string, unknown][])
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      env[key] = String(value);
  return env;
}

// temporal.api.enums.v1: TaskQueueKind NORMAL, TaskQueueType WORKFLOW and ACTIVITY.
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE = { workflow: 1, activity: 2 } as const;

/** The identities (`<pid>@<host>` by default) Temporal lists as polling a task queue's workflow and activity tasks. */
export async function taskQueuePollers(
  connection: Connection,
  namespace: string,
  taskQueue: string,
): Promise<{ workflow: string[]; activity: string[] }> {
  const identities = async (taskQueueType: (typeof TASK_QUEUE_TYPE)[keyof typeof TASK_QUEUE_TYPE]) => {
    const { pollers } = await connection.withDeadline(Date.now() + 5_000, () =>
      connection.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
        taskQueueType,
      }),
    );
    return (pollers ?? []).flatMap((poller) => (poller.identity ? [poller.identity] : []));
  };
  const [workflow, activity] = await Promise.all([
    identities(TASK_QUEUE_TYPE.workflow),
    identities(TASK_QUEUE_TYPE.activity),
  ]);
  return { workflow, activity };
}

export interface WorkerProcessOptions {
  /** Its settings, as lib/config.ts reads them (configEnvironment); over this process's environment. */
  env: Record<string, string>;
  /** Where it polls: Temporal is asked whether it does before the worker counts as ready. */
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  /** Its entry point in the project: worker/main.ts (what `npm run worker` runs) unless another worker's. */
  script?: string;
  /** Options for node itself before the script (`--cpu-prof`: NODE_OPTIONS may not carry it). */
  nodeOptions?: readonly string[];
  /** What messages and pids.json call it (default "worker"). */
  name?: string;
  logFile?: string;
  /** How long bundling the workflow code, connecting and the first poll may take (default 180 s). */
  readyWithinMs?: number;
  /** Each line it writes (stdout and stderr), as it comes. */
  onLine?: (line: string) => void;
  /** It exited, after it was ready, without being asked to (stop()). */
  onUnexpectedExit?: (exit: WorkerExit) => void;
}

export interface WorkerExit {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What it wrote last (stdout and stderr), oldest first. */
  lastLines: string[];
}

export interface WorkerProcess extends RunningServer {
  /** The worker's own pid (its watchdog's is `process.pid`): its memory is in /proc/<pid>/status. */
  workerPid: number;
  /** The identity it polls with, as Temporal lists it among the task queue's pollers. */
  identity: string;
}

const KEPT_LINES = 40;

/**
 * Starts a worker in a process of its own, under the watchdog, and resolves once Temporal lists it as polling
 * both the workflow and the activity tasks of its task queue. `stop()` sends it SIGTERM, on which it shuts
 * down (finishing what it holds) and closes its connections; the watchdog kills it if that takes too long.
 */
export async function startWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  const name = options.name ?? 'worker';
  const script = join(projectRoot, options.script ?? join('worker', 'main.ts'));
  // TypeScript through `--import tsx`, as the tests' child processes run it: in this one process (the `tsx`
  // command would run another node under it), so the pid recorded is the one polling and using the memory.
  const nodeArguments = [...(options.nodeOptions ?? []), '--import', 'tsx', script];
  const server = spawnServer(name, process.execPath, nodeArguments, options.logFile, {
    cwd: projectRoot, // where `tsx` resolves
    env: { ...process.env, ...options.env },
  });
  const lastLines: string[] = [];
  for (const stream of [server.process.stdout, server.process.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      lastLines.push(line);
      if (lastLines.length > KEPT_LINES) lastLines.shift();
      options.onLine?.(line);
    });
  }
  let stopping = false;
  let ready = false;
  const stop = async () => {
    stopping = true;
    await server.stop();
  };
  server.process.once('exit', (code, signal) => {
    // The lines it wrote last may still be on their way through the pipes.
    setTimeout(() => {
      if (ready && !stopping)
        void server.pid.then((pid) =>
          options.onUnexpectedExit?.({ pid: pid ?? 0, code, signal, lastLines: [...lastLines] }),
        );
    }, 100);
  });

  let gaveUp = false;
  try {
    const pid = await server.pid;
    if (!pid) throw new Error(`the ${name} could not be started`);
    const identity = `${pid}@${hostname()}`;
    const polling = (async () => {
      const connection = await openTemporalConnection({
        address: options.temporalAddress,
        connectTimeout: 5_000,
      });
      try {
        while (!gaveUp) {
          const pollers = await taskQueuePollers(connection, options.namespace, options.taskQueue).catch(
            () => undefined,
          );
          if (pollers?.workflow.includes(identity) && pollers.activity.includes(identity)) return;
          await new Promise((wait) => setTimeout(wait, 250));
        }
      } finally {
        await connection.close();
      }
    })();
    await withTimeout(
      `the ${name} (polling ${options.taskQueue})`,
      options.readyWithinMs ?? 180_000,
      Promise.race([polling, failedToStart(server, `the ${name}`, options.logFile)]),
    );
    ready = true;
    return { ...server, stop, workerPid: pid, identity };
  } catch (error) {
    gaveUp = true; // stop asking Temporal, so nothing keeps this process alive
    await stop();
    await new Promise((wait) => setTimeout(wait, 100)); // its last lines
    const said = lastLines.slice(-15).map((line) => `  | ${line}`);
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}${said.length ? `\n  its last lines:\n${said.join('\n')}` : ''}`,
      { cause: error },
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// What an earlier run left behind (issue #13). `npm start` records the servers it starts in
// <data dir>/pids.json, with their command lines; the next start reads it, and stops those that are still
// running and still ours (same pid, same command line: a reused pid belongs to someone else) before it binds
// their ports and opens their files. The watchdog makes leftovers rare; this covers the rest (a watchdog
// killed with its parent, a server still shutting down). Servers a run left without a pid file (a run from
// before it) are caught by assertPortsFree, which names the port.

interface RecordedProcess {
  pid: number;
  commandLine: string;
}

interface PidFile {
  /** The process that started the servers (scripts/start.ts). */
  owner: RecordedProcess;
  servers: (RecordedProcess & { name: string; watchdog?: RecordedProcess })[];
}

function pidFilePath(dataDir: string): string {
  return join(dataDir, 'pids.json');
}

/** A live process's command line, its arguments joined by spaces; undefined when there is no such process. */
export function commandLineOf(pid: number): string | undefined {
  if (existsSync('/proc/self/cmdline')) {
    try {
      // A zombie's is empty: it holds nothing any more, so it counts as gone.
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim() || undefined;
    } catch {
      return undefined;
    }
  }
  const ps = spawnSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
  return ps.status === 0 ? ps.stdout.trim() || undefined : undefined;
}

function recordOf(pid: number | undefined): RecordedProcess | undefined {
  const commandLine = pid ? commandLineOf(pid) : undefined;
  return pid && commandLine ? { pid, commandLine } : undefined;
}

function stillRunning(process: RecordedProcess): boolean {
  return commandLineOf(process.pid) === process.commandLine;
}

function readPidFile(dataDir: string): PidFile | undefined {
  try {
    return JSON.parse(readFileSync(pidFilePath(dataDir), 'utf8')) as PidFile;
  } catch {
    return undefined; // none, or torn by the crash: nothing to go on
  }
}

/** Adds a server this process started to <dataDir>/pids.json, for the next start to find if this one crashes. */
export async function recordServer(dataDir: string, server: RunningServer): Promise<void> {
  const pid = await server.pid;
  const record = recordOf(pid);
  if (!record) return; // it is gone already
  const owner = recordOf(process.pid);
  if (!owner) return;
  const previous = readPidFile(dataDir);
  const servers = previous?.owner.pid === process.pid ? previous.servers : [];
  servers.push({ name: server.name, ...record, watchdog: recordOf(server.process.pid) });
  mkdirSync(dataDir, { recursive: true });
  const file = pidFilePath(dataDir);
  writeFileSync(`${file}.tmp`, `${JSON.stringify({ owner, servers } satisfies PidFile, null, 2)}\n`);
  renameSync(`${file}.tmp`, file); // whole or not at all, even if we die mid-write
}

/** After a clean stop: nothing of this run is left to clear. */
export function forgetServers(dataDir: string): void {
  rmSync(pidFilePath(dataDir), { force: true });
}

async function waitUntilGone(processes: RecordedProcess[], ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (processes.some(stillRunning)) {
    if (Date.now() > deadline) return false;
    await new Promise((wait) => setTimeout(wait, 100));
  }
  return true;
}

function signal(processes: RecordedProcess[], name: NodeJS.Signals): void {
  for (const { pid } of processes.filter(stillRunning)) {
    try {
      process.kill(pid, name);
    } catch {
      // gone meanwhile
    }
  }
}

/**
 * Clears what an earlier run on this data directory left running: stops its servers (SIGTERM, then SIGKILL)
 * and returns a sentence saying so, or undefined when nothing was left. Throws when that run is in fact still
 * running: two runs cannot share the database files.
 */
export async function clearLeftovers(dataDir: string): Promise<string | undefined> {
  const recorded = readPidFile(dataDir);
  if (!recorded) return undefined;
  const { owner } = recorded;
  if (owner.pid !== process.pid && stillRunning(owner)) {
    throw new Error(
      `cancelflow is already running on ${dataDir} (pid ${owner.pid}): stop it first (Ctrl-C in its terminal, or kill ${owner.pid})`,
    );
  }
  const left = recorded.servers.filter(
    (server) => stillRunning(server) || (server.watchdog && stillRunning(server.watchdog)),
  );
  const processes = left.flatMap((server) => [server, ...(server.watchdog ? [server.watchdog] : [])]);
  signal(processes, 'SIGTERM');
  if (!(await waitUntilGone(processes, 10_000))) {
    signal(processes, 'SIGKILL');
    if (!(await waitUntilGone(processes, 5_000))) {
      const pids = processes.filter(stillRunning).map((process) => process.pid);
      throw new Error(`an earlier run of cancelflow left processes that do not stop: ${pids.join(', ')}`);
    }
  }
  forgetServers(dataDir);
  if (left.length === 0) return undefined;
  const names = left.map((server) => `its ${server.name} (pid ${server.pid})`);
  const listed = names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : names[0];
  return `an earlier run of cancelflow did not stop cleanly: stopped ${listed}`;
}

export interface PortInUse {
  host: string;
  port: number;
  /** What needs it, e.g. "the embedded MongoDB". */
  what: string;
  /** The setting that moves it, e.g. MONGODB_PORT. */
  setting: string;
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolveFree(false));
    server.listen(port, host, () => server.close(() => resolveFree(true)));
  });
}

/**
 * Fails, naming the port and the setting that moves it, when a port is held by another program. Call it after
 * clearLeftovers, so that what remains is not ours.
 */
export async function assertPortsFree(ports: PortInUse[]): Promise<void> {
  const taken: PortInUse[] = [];
  for (const wanted of ports)
    if (wanted.port && !(await portFree(wanted.host, wanted.port))) taken.push(wanted);
  if (taken.length === 0) return;
  throw new Error(
    taken
      .map(
        ({ host, port, what, setting }) =>
          `port ${port} on ${host}, for ${what}, is in use by another program: stop it, or set ${setting} to a free port`,
      )
      .join('\n'),
  );
}
