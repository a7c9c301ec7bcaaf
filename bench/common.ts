// What the scenarios of `npm run bench` share: progress lines, figures, slots of concurrent work, deadlines.
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { CancelflowError } from '../lib/errors';
import { projectRoot } from '../scripts/servers';

export const elapsed = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
export const progress = (message: string) => process.stderr.write(`${message}\n`);
export const sleep = (ms: number) => new Promise<void>((wait) => setTimeout(wait, ms));

/** A bad flag: its message, then the usage text (bench/cancellations.ts). */
export class UsageError extends CancelflowError {
  constructor(message: string) {
    super('validation_failed', message);
  }
}

export function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value <= 0)
    throw new UsageError(`--${name} must be a positive whole number, not "${text}"`);
  return value;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50, 'interpolated');
}

/**
 * The p-th percentile: by nearest rank (a value that was measured; p99 of 20 is the largest), or interpolated
 * between the two middle values (the median of an even count).
 */
export function percentile(
  values: readonly number[],
  p: number,
  method: 'nearest-rank' | 'interpolated' = 'nearest-rank',
): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  if (method === 'nearest-rank')
    return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1] ?? NaN;
  const position = (p / 100) * (sorted.length - 1);
  const below = sorted[Math.floor(position)] ?? Number.NaN;
  const above = sorted[Math.ceil(position)] ?? below;
  return below + (above - below) * (position - Math.floor(position));
}

export const fixed = (value: number, digits: number) =>
  Number.isFinite(value) ? value.toFixed(digits) : '–';

/** Rejects after `ms` with a message naming what was waited for; the work itself is abandoned, not stopped. */
export async function withTimeout<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${(ms / 1000).toFixed(0)} s`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface SlotRun<T> {
  results: T[];
  failures: string[];
  seconds: number;
}

/** Runs up to `count` tasks, `concurrency` at a time, each slot taking the next when its task ends. */
export async function runSlots<T>(
  label: string,
  count: number,
  concurrency: number,
  durationMs: number,
  task: (index: number) => Promise<T>,
): Promise<SlotRun<T>> {
  const results: T[] = [];
  const failures: string[] = [];
  let next = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const ticker = setInterval(
    () =>
      progress(
        `    ${label}: ${results.length} done, ${failures.length} failed, ${next - results.length - failures.length} in flight (${elapsed(started)})`,
      ),
    15_000,
  );
  try {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, count) }, async () => {
        while (next < count && performance.now() < deadline) {
          const index = next;
          next += 1;
          try {
            results.push(await task(index));
          } catch (error) {
            failures.push(error instanceof Error ? error.message : String(error));
          }
        }
      }),
    );
  } finally {
    clearInterval(ticker);
  }
  return { results, failures, seconds: (performance.now() - started) / 1000 };
}

/** The commit a run measured, and whether the tree had changes besides (results are named for it). */
export function commitMeasured(): { commit: string; dirty: boolean } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: projectRoot, encoding: 'utf8' }).trim();
  try {
    // Changes to tracked files only: a worktree's node_modules and .tools are untracked links, not changes.
    return {
      commit: git('rev-parse', '--short=12', 'HEAD'),
      dirty: git('status', '--porcelain', '--untracked-files=no').length > 0,
    };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}
