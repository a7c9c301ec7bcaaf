// The results of `npm run chaos`: one table of the invariants, what was injected when, and the figures, as
// Markdown and JSON in bench/results/ named for the commit measured (as `npm run bench` names its own).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { CheckResult } from './chaos-checks';
import type { FaultEvent, FaultPlan, WorkerKill } from './chaos-faults';
import { CASE_KINDS, type caseSummary } from './chaos-workload';
import { commitMeasured, fixed } from './common';

export interface ChaosRun {
  command: string;
  startedAt: Date;
  ci: boolean;
  count: number;
  inFlight: number;
  plan: FaultPlan;
  /** Seconds each part took. */
  seconds: { stack: number; setup: number; workload: number; drain: number; checks: number; total: number };
  faults: {
    events: FaultEvent[];
    kills: WorkerKill[];
    unexpectedExits: string[];
    providerFailures: { gateway: number; carrier: number };
    /** When the kills and the failures stopped (s), if before the end (the plan's quietFrom). */
    quietSince?: number;
  };
  /** Cancellations the API had taken by the end, and when the last of them ended (s after the first request). */
  workload: { requested: number; ended: number; repeats: number; timedOut: boolean };
  checks: CheckResult[];
  incidents: string[];
  /** Each cancellation: its kind, how it ended, the states seen, what people did, how long it took. */
  cases: ReturnType<typeof caseSummary>[];
}

const escape = (text: string) => text.replace(/\|/g, '\\|');

/** The invariants' table: what the issue asks, whether it held, the figures. */
export function chaosTable(checks: CheckResult[]): string {
  return [
    '| invariant | holds | figures |',
    '| --- | :---: | --- |',
    ...checks.map(
      (check) => `| ${escape(check.name)} | ${check.holds ? 'yes' : '**NO**'} | ${escape(check.figures)} |`,
    ),
  ].join('\n');
}

function faultLines(run: ChaosRun): string[] {
  const { kills } = run.faults;
  const restarts = kills.flatMap((kill) => (kill.restartSeconds === undefined ? [] : [kill.restartSeconds]));
  const mean = restarts.reduce((sum, seconds) => sum + seconds, 0) / Math.max(1, restarts.length);
  const quiet = run.faults.quietSince === undefined ? 'end' : fixed(run.faults.quietSince, 1);
  return [
    '| fault | from (s) | to (s) | detail |',
    '| --- | ---: | ---: | --- |',
    ...run.faults.events.map(
      (event) =>
        `| ${escape(event.fault)} | ${fixed(event.from, 1)} | ${event.to === undefined ? '–' : fixed(event.to, 1)} | ${escape(event.detail ?? '')} |`,
    ),
    `| worker killed with SIGKILL | ${fixed(kills[0]?.at ?? NaN, 1)} | ${fixed(kills.at(-1)?.at ?? NaN, 1)} | ${kills.length} times, ${run.plan.workerKillAfterMs.map((ms) => ms / 1000).join('–')} s after each start; back polling after ${fixed(mean, 1)} s on average (${fixed(Math.max(0, ...restarts), 1)} s at most) |`,
    `| SMS simulator fails a share of requests | 0.0 | ${quiet} | ${Math.round(run.plan.smsFailShare * 100)} % (503) |`,
    `| payment gateway and carrier fail transiently | 0.0 | ${quiet} | one request in ${run.plan.providerFailEvery} (503): ${run.faults.providerFailures.gateway} refund and ${run.faults.providerFailures.carrier} recall requests |`,
    ...(run.faults.quietSince === undefined
      ? []
      : [
          '',
          `Kills and failures stopped at ${fixed(run.faults.quietSince, 1)} s, once ${Math.round(run.plan.quietFrom * 100)} % of the cancellations had ended (the outages came at their marks).`,
        ]),
  ];
}

export function chaosMarkdown(run: ChaosRun, commit: string, dirty: boolean): string {
  const holds = run.checks.every((check) => check.holds);
  const machine = `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}`;
  const { seconds } = run;
  return [
    `# Chaos: cancellations while the stack breaks (issue #15)`,
    '',
    `Commit ${commit}${dirty ? ' (with uncommitted changes in the tree)' : ''}, ${run.startedAt.toISOString()}; ${machine}. ` +
      `\`${run.command}\`: ${run.count} cancellations, at most ${run.inFlight} unfinished at once, on the stack \`npm start\` runs (embedded database on file storage, Temporal's dev server on SQLite, simulators and API in this process, the worker in its own).`,
    '',
    `**${holds ? 'Every invariant held.' : 'An invariant failed.'}** Took ${fixed(seconds.total, 0)} s: stack ${fixed(seconds.stack, 0)} s, orders ${fixed(seconds.setup, 0)} s, work under faults ${fixed(seconds.workload, 0)} s, notices draining ${fixed(seconds.drain, 0)} s, checks ${fixed(seconds.checks, 0)} s.`,
    '',
    chaosTable(run.checks),
    '',
    ...run.checks.flatMap((check) =>
      check.problems.length || check.notes?.length
        ? [
            `### ${check.name}`,
            '',
            ...check.problems.map((problem) => `- ${problem}`),
            ...(check.notes ?? []).map((note) => `- ${note}`),
            '',
          ]
        : [],
    ),
    '## The work',
    '',
    '| kind | what | ends |',
    '| --- | --- | --- |',
    ...Object.entries(CASE_KINDS).map(([kind, spec]) => `| ${kind} | ${spec.says} | ${spec.ends} |`),
    '',
    `${run.workload.requested} taken by the API, ${run.workload.ended} ended${run.workload.timedOut ? ' (the run stopped waiting: its time was up)' : ''}; requests repeated after a 503 or no answer: ${run.workload.repeats}.`,
    '',
    '## The faults',
    '',
    ...faultLines(run),
    '',
    ...(run.faults.unexpectedExits.length || run.incidents.length
      ? [
          '## Incidents',
          '',
          ...[...run.faults.unexpectedExits, ...run.incidents].map((line) => `- ${line}`),
          '',
        ]
      : []),
  ].join('\n');
}

/** Writes `<date>-<commit>[-dirty]-chaos[-ci].{md,json}`; returns the path without the extension. */
export function writeChaosResults(run: ChaosRun, out: string): string {
  const { commit, dirty } = commitMeasured();
  const date = run.startedAt
    .toISOString()
    .slice(0, 16)
    .replace(/[T:]/g, (mark) => (mark === 'T' ? '-' : ''));
  mkdirSync(out, { recursive: true });
  const base = join(out, `${date}-${commit}${dirty ? '-dirty' : ''}-chaos${run.ci ? '-ci' : ''}`);
  writeFileSync(
    `${base}.json`,
    `${JSON.stringify({ benchmark: 'chaos', issue: 15, commit, dirty, holds: run.checks.every((check) => check.holds), ...run }, null, 2)}\n`,
  );
  writeFileSync(`${base}.md`, chaosMarkdown(run, commit, dirty));
  return base;
}
