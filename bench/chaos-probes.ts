// The API's answers while Temporal or the database is down (issue #15): it must answer 503 with a reason and a
// Retry-After, never hang and never answer 500. Probes ask what a client asks (health, a running cancellation,
// the list, a repeated request) throughout the run, each answer filed under the phase it was asked in
// (bench/chaos-faults.ts): often during and just after an outage, now and then otherwise.
import { performance } from 'node:perf_hooks';
import type { Phase } from './chaos-faults';
import { sleep } from './common';

export interface ProbeTarget {
  name: string;
  method: 'GET' | 'POST';
  /** The path to ask now, or undefined when there is nothing to ask yet (no cancellation requested). */
  path: () => string | undefined;
  body?: () => unknown;
  headers?: () => Record<string, string>;
}

export interface ProbeAnswer {
  target: string;
  phase: Phase;
  /** The HTTP status, `hang` when none came within the probes' patience, `unreachable` when the call failed. */
  answer: string;
  ms: number;
  retryAfter?: string;
  /** The error's message, for answers other than 2xx. */
  reason?: string;
}

/** What a probe waits for before it calls the API hung: the API's longest deadline is 10 s (an Update). */
export const HANG_MS = 20_000;
const OUTAGE_EVERY_MS = 1_000;
const QUIET_EVERY_MS = 5_000;

/** An answer the rule forbids: a 5xx other than 503, a hang, no answer, or a 503 without its reason or Retry-After. */
export function isBadAnswer(answer: ProbeAnswer): boolean {
  if (answer.answer === 'hang' || answer.answer === 'unreachable') return true;
  const status = Number(answer.answer);
  if (status === 503) return !answer.retryAfter || !answer.reason;
  return status >= 500;
}

export class ApiProbes {
  readonly answers: ProbeAnswer[] = [];
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly apiUrl: string,
    private readonly token: string,
    private readonly phase: () => Phase,
  ) {}

  private async ask(target: ProbeTarget, path: string): Promise<void> {
    const phase = this.phase();
    const started = performance.now();
    const answer: ProbeAnswer = { target: target.name, phase, answer: 'unreachable', ms: 0 };
    try {
      const body = target.body?.();
      const response = await fetch(`${this.apiUrl}${path}`, {
        method: target.method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...target.headers?.(),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(HANG_MS),
      });
      answer.answer = String(response.status);
      const retryAfter = response.headers.get('retry-after');
      if (retryAfter) answer.retryAfter = retryAfter;
      const text = await response.text();
      if (!response.ok) {
        const parsed = JSON.parse(text || '{}') as {
          message?: unknown;
          temporal?: unknown;
          database?: unknown;
        };
        // /health says which server is down in its own fields; every other route in `message`.
        const reason = [parsed.message, parsed.temporal, parsed.database].filter(
          (part): part is string => typeof part === 'string' && part !== 'ok',
        );
        if (reason.length) answer.reason = reason.join('; ');
      }
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      if (name === 'TimeoutError' || name === 'AbortError') answer.answer = 'hang';
      else answer.reason = error instanceof Error ? error.message : String(error);
    }
    answer.ms = Math.round(performance.now() - started);
    this.answers.push(answer);
  }

  /** Each target asked on its own (one call at a time), every second near an outage, every five otherwise. */
  start(targets: ProbeTarget[]): void {
    this.running = true;
    this.loops = targets.map(async (target) => {
      while (this.running) {
        const asked = performance.now();
        const path = target.path();
        if (path) await this.ask(target, path);
        // Looked at again as it waits: an outage that begins meanwhile is probed at once.
        const every = () => (this.phase() === 'no outage' ? QUIET_EVERY_MS : OUTAGE_EVERY_MS);
        while (this.running && performance.now() - asked < every()) await sleep(250);
      }
    });
  }

  async stop(): Promise<ProbeAnswer[]> {
    this.running = false;
    await Promise.all(this.loops);
    return this.answers;
  }
}
