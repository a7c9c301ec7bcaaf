// Starts and stops the real local servers cancelflow runs against: Temporal's dev server and the embedded
// MongoDB (mongo-java-server through tools/mongo-launcher). Used by `npm start` and by Jest's global setup.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Connection } from '@temporalio/client';

export const projectRoot = resolve(__dirname, '..');
const toolsDir = join(projectRoot, '.tools');

export interface RunningServer {
  name: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** A port that was free a moment ago: ask the OS for one, then release it. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });
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

/** Spawns a server whose output goes to a log file (or is dropped), and stops it with SIGTERM, then SIGKILL. */
function spawnServer(name: string, command: string, args: string[], logFile?: string): RunningServer {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (logFile) {
    mkdirSync(dirname(logFile), { recursive: true });
    const log = createWriteStream(logFile, { flags: 'a' });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
  } else {
    child.stderr?.resume();
  }
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return {
    name,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
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

  const server = spawnServer('temporal', temporalCliPath(), args, options.logFile);
  const address = `${host}:${options.port}`;
  let gaveUp = false;
  const ready = (async () => {
    while (!gaveUp) {
      try {
        const connection = await Connection.connect({ address, connectTimeout: 1_000 });
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
  const server = spawnServer('mongodb', 'java', args, options.logFile);
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
