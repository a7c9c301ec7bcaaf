// Runs one server (the embedded MongoDB's java, Temporal's dev server) as its child, and ends it when the
// process that started this watchdog goes away, however it goes: SIGKILL and crashes included (issue #13).
// Node has no PR_SET_PDEATHSIG and neither java nor the temporal binary watches its stdin, so this does: the
// parent holds our stdin open for as long as it lives and never writes to it; when it dies the kernel closes
// it, we read end-of-file, and stop the server (SIGTERM, then SIGKILL after a grace period).
//
// Besides: SIGTERM, SIGINT and SIGHUP sent to the watchdog are passed on to the server the same way; the
// watchdog exits as the server exited (its code, or its signal); with --pid-fd=N it writes the server's pid
// and a newline to file descriptor N (a pipe the parent opened), so the parent can record it.
//
// Usage: node scripts/child-watchdog.mjs [--pid-fd=N] <command> [args…]   (stdin: a pipe from the parent)
import { spawn } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';
import { setTimeout } from 'node:timers';

const GRACE_MS = 10_000;

const argv = process.argv.slice(2);
const pidFdOption = argv[0]?.startsWith('--pid-fd=') ? argv.shift() : undefined;
const [command, ...args] = argv;
if (!command) {
  console.error('usage: child-watchdog.mjs [--pid-fd=N] <command> [args…]');
  process.exit(2);
}

// The server's stdout and stderr are ours, so they reach the parent directly, without a copy through here.
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });

child.once('error', (error) => {
  console.error(`child-watchdog: could not run ${command}: ${error.message}`);
  process.exit(127);
});

child.once('spawn', () => {
  if (!pidFdOption) return;
  const fd = Number(pidFdOption.slice('--pid-fd='.length));
  try {
    writeSync(fd, `${child.pid}\n`);
    closeSync(fd);
  } catch {
    // The parent did not open that descriptor: it only loses the pid, the watchdog still works.
  }
});

let stopping = false;
function stop(signal) {
  if (stopping || child.exitCode !== null || child.signalCode !== null) return;
  stopping = true;
  child.kill(signal);
  setTimeout(() => child.kill('SIGKILL'), GRACE_MS);
}

// The lifeline. Nothing is ever written to it; its end means the parent is gone.
process.stdin.on('data', () => {});
process.stdin.once('end', () => stop('SIGTERM'));
process.stdin.once('error', () => stop('SIGTERM'));

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => stop(signal));

child.once('exit', (code, signal) => {
  if (signal) {
    // Die of the same signal, so the parent sees what the server saw.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else {
    process.exit(code ?? 1);
  }
});
