// Where the CPU goes (issue #13): the processor time each process of the stack spent while something ran, read
// from /proc. On two shared cores throughput is bounded by CPU, so a cancellation's CPU beside a no-op
// workflow's, split by process (database, Temporal, worker, this process with the API and the simulators), says
// which part the throughput ratio is lost in, where the rates alone say only that it is.
import { readFileSync } from 'node:fs';

/** The processes to account for, by what they are: "database", "Temporal", "worker"... */
export type ProcessRoles = Record<string, number | undefined>;

/** The name this process goes by in the accounts: the bench itself, the API and the simulators run in it. */
export const THIS_PROCESS = 'bench process (API, simulators, clients)';

/**
 * The CPU seconds a process has spent so far (user and system), or undefined when it is gone or not on this
 * machine. /proc/<pid>/stat counts in USER_HZ, which Linux fixes at 100 for user space on every architecture.
 */
function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: the fields are counted after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line, 12th and 13th after the name.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function thisProcessSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

export type CpuReading = Map<string, { pid?: number; seconds: number }>;

export function readCpu(roles: ProcessRoles): CpuReading {
  const reading: CpuReading = new Map([[THIS_PROCESS, { seconds: thisProcessSeconds() }]]);
  for (const [role, pid] of Object.entries(roles)) {
    const seconds = pid === undefined ? undefined : cpuSecondsOf(pid);
    if (seconds !== undefined) reading.set(role, { pid, seconds });
  }
  return reading;
}

/**
 * CPU seconds spent between two readings, by role. A role whose process changed (a worker started again) or
 * went away in between is left out rather than counted wrong.
 */
export function cpuSpent(before: CpuReading, after: CpuReading): Record<string, number> {
  const spent: Record<string, number> = {};
  for (const [role, end] of after) {
    const start = before.get(role);
    if (start && start.pid === end.pid) spent[role] = end.seconds - start.seconds;
  }
  return spent;
}

/** Each role's seconds divided by `count` (per cancellation, per workflow), in milliseconds. */
export function perItemMs(spent: Record<string, number>, count: number): Record<string, number> {
  if (count === 0) return {};
  return Object.fromEntries(
    Object.entries(spent).map(([role, seconds]) => [role, Math.round((seconds * 1000) / count)]),
  );
}
