// Cancellations while the stack breaks (issue #15): `npm run chaos [-- --count N | --ci]`.
//
// Against the stack `npm start` runs (bench/stack.ts: the embedded database on file storage, Temporal's dev
// server on SQLite, the simulators and the API in this process, the worker in its own), N cancellations of
// mixed kinds go through the API, the people acting on them through it too (bench/chaos-workload.ts), while
// the worker is killed every few seconds, Temporal is stopped and started twice, the database once, the SMTP
// server is down a while and the providers fail now and then (bench/chaos-faults.ts), and probes note how the
// API answers meanwhile (bench/chaos-probes.ts). Then the invariants (bench/chaos-checks.ts), written as
// Markdown and JSON in bench/results/ (bench/chaos-report.ts); the exit code is 1 when one fails.
//
// In bench/ rather than a folder of its own: it is this bench's stack, slot runner and results that it builds
// on, and the architecture already lets bench/ import everything it needs (a chaos/ folder would be one more
// layer to declare in architecture.cjs and draw).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { parseConfig } from '../lib/config';
import { isCancelflowError } from '../lib/errors';
import { loadPolicyFile } from '../lib/policy';
import { issueApiKey } from '../models/credentials';
import { javaAvailable, projectRoot } from '../scripts/servers';
import { workflowsFromSource } from '../worker/worker';
import { repeats } from './cancelling';
import {
  checkApi,
  checkEndings,
  checkNotices,
  checkOutcomes,
  checkRefunds,
  checkReplay,
  checkRunBooks,
  checkStock,
  workflowStatuses,
} from './chaos-checks';
import { Faults, type FaultPlan } from './chaos-faults';
import { ApiProbes, type ProbeTarget } from './chaos-probes';
import { chaosTable, writeChaosResults, type ChaosRun } from './chaos-report';
import {
  caseSummary,
  issuePeople,
  placeCases,
  planCases,
  refreshCases,
  requestCancellations,
  runPeople,
  type AnswerCounts,
  type ChaosCase,
} from './chaos-workload';
import { elapsed, positiveInteger, progress, sleep, UsageError } from './common';
import { startStack, type Stack } from './stack';

interface Profile {
  count: number;
  inFlight: number;
  /** Generated orders loaded beside the run's own, as `npm start` loads 200. */
  orders: number;
  plan: FaultPlan;
  /** How long the work may take, faults and all, before the run stops waiting for it. */
  workloadTimeoutMs: number;
  /** How long the notices may take to go out once the faults are over. */
  drainTimeoutMs: number;
  /** Delivery workflows replayed beside every cancellation. */
  replayDeliveries: number;
}

const FULL: Profile = {
  count: 1000,
  inFlight: 50,
  orders: 200,
  plan: {
    workerKillAfterMs: [3_000, 10_000],
    quietFrom: 1,
    temporalDownMs: 20_000,
    databaseDownMs: 30_000,
    smtpDownMs: 60_000,
    smsFailShare: 0.2,
    providerFailEvery: 5,
    marks: { smtp: 0.1, temporal: [0.2, 0.7], database: 0.45 },
  },
  workloadTimeoutMs: 90 * 60_000,
  drainTimeoutMs: 10 * 60_000,
  replayDeliveries: 300,
};

/** The same faults, shorter: what CI runs, in under five minutes on two busy cores. */
const CI: Profile = {
  count: 100,
  inFlight: 30,
  orders: 20,
  plan: {
    workerKillAfterMs: [10_000, 20_000],
    quietFrom: 0.4,
    temporalDownMs: 5_000,
    databaseDownMs: 10_000,
    smtpDownMs: 15_000,
    smsFailShare: 0.2,
    providerFailEvery: 5,
    marks: { smtp: 0.05, temporal: [0.15, 0.65], database: 0.4 },
  },
  workloadTimeoutMs: 230_000,
  drainTimeoutMs: 90_000,
  replayDeliveries: 50,
};

const usage = `usage: npm run chaos -- [--ci] [--count N] [options]

  --ci          the small run CI makes: ${CI.count} cancellations, the same faults with shorter outages
                (Temporal ${CI.plan.temporalDownMs / 1000} s twice, database ${CI.plan.databaseDownMs / 1000} s, SMTP ${CI.plan.smtpDownMs / 1000} s)
  --count N     cancellations (default ${FULL.count}; with --ci ${CI.count})
  --in-flight N at most this many unfinished at once (default ${FULL.inFlight}; with --ci ${CI.inFlight})
  --orders N    generated orders loaded beside them (default ${FULL.orders}, as npm start loads; with --ci ${CI.orders})
  --seed N      the seed of the mix of kinds and of the generated books (default 1)
  --out DIR     where the results go (default bench/results)
  --keep        keep the temporary data directory (logs of the worker, database and Temporal)
  --help        this text

Full size: ${FULL.count} cancellations; Temporal down ${FULL.plan.temporalDownMs / 1000} s twice, the database ${FULL.plan.databaseDownMs / 1000} s, SMTP ${FULL.plan.smtpDownMs / 1000} s;
the worker killed ${FULL.plan.workerKillAfterMs.map((ms) => ms / 1000).join('–')} s after each start.`;

function readOptions() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        ci: { type: 'boolean', default: false },
        count: { type: 'string' },
        'in-flight': { type: 'string' },
        orders: { type: 'string' },
        seed: { type: 'string', default: '1' },
        out: { type: 'string' },
        keep: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const profile = values.ci ? CI : FULL;
  const out = values.out ?? join(projectRoot, 'bench', 'results');
  return {
    ci: values.ci,
    profile: {
      ...profile,
      count: values.count ? positiveInteger('count', values.count) : profile.count,
      inFlight: values['in-flight'] ? positiveInteger('in-flight', values['in-flight']) : profile.inFlight,
    },
    orders: values.orders ? positiveInteger('orders', values.orders) : profile.orders,
    seed: positiveInteger('seed', values.seed),
    out: isAbsolute(out) ? out : resolve(out),
    keep: values.keep,
  };
}

/** What the probes ask: health, a cancellation still running (its workflow answers), the list, a repeated request. */
function probeTargets(cases: ChaosCase[]): ProbeTarget[] {
  const taken = () => cases.find((chaosCase) => chaosCase.cancellationId);
  const running = () => cases.find((chaosCase) => chaosCase.cancellationId && !chaosCase.outcome) ?? taken();
  return [
    { name: 'GET /health', method: 'GET', path: () => '/health' },
    {
      name: 'GET /v1/cancellations/{id} (running)',
      method: 'GET',
      path: () => {
        const id = running()?.cancellationId;
        return id ? `/v1/cancellations/${id}` : undefined;
      },
    },
    { name: 'GET /v1/cancellations', method: 'GET', path: () => '/v1/cancellations?limit=5' },
    {
      name: 'POST /v1/cancellations (a repeat)',
      method: 'POST',
      path: () => (taken() ? '/v1/cancellations' : undefined),
      body: () => taken()?.request,
      headers: () => ({ 'idempotency-key': taken()?.idempotencyKey ?? '' }),
    },
  ];
}

/** The workflow code bundled once: the restarted workers load it (WORKFLOW_BUNDLE_PATH), the replay runs it. */
async function bundleWorkflows(dataDir: string): Promise<string> {
  const { workflowsPath } = workflowsFromSource;
  if (!workflowsPath) throw new Error('the worker names no workflow code to bundle');
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('ERROR') });
  const path = join(dataDir, 'workflow-bundle.js');
  await writeFile(path, code);
  return path;
}

/**
 * Waits until no outbox entry of the run is still queued with a delivery workflow running that could send it
 * (every notice sent or given up), or the time is up. An entry queued with no delivery running will never go
 * out: the checks say which.
 */
async function drainNotices(stack: Stack, cases: ChaosCase[], timeoutMs: number) {
  const ids = cases.flatMap((chaosCase) => (chaosCase.cancellationId ? [chaosCase.cancellationId] : []));
  const deadline = performance.now() + timeoutMs;
  const running = async (workflowId: string) =>
    stack.temporal.workflow
      .getHandle(workflowId)
      .describe()
      .then(
        ({ status }) => status.name === 'RUNNING',
        () => false, // never started
      );
  for (;;) {
    const queued = await stack.models.Notification.find(
      { cancellationId: { $in: ids }, status: 'queued' },
      { deliveryWorkflowId: 1 },
    )
      .lean()
      .catch(() => undefined);
    if (queued) {
      const deliveries = [...new Set(queued.flatMap((entry) => entry.deliveryWorkflowId ?? []))];
      const live = (await Promise.all(deliveries.map(running))).filter(Boolean).length;
      if (live === 0) {
        if (queued.length)
          progress(`  ${queued.length} notices still queued with no delivery running to send them`);
        return;
      }
    }
    if (performance.now() > deadline) {
      progress(`  notices still queued after ${timeoutMs / 1000} s: checking as they are`);
      return;
    }
    await sleep(2_000);
  }
}

async function main(): Promise<number> {
  const options = readOptions();
  const { profile } = options;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  if (!javaAvailable()) throw new Error('the embedded database needs Java 17+');
  const startedAt = new Date();
  const began = performance.now();
  const command = `npm run chaos -- ${process.argv.slice(2).join(' ')}`.trim();
  const dataDir = mkdtempSync(join(tmpdir(), 'cancelflow-chaos-'));
  progress(`# Chaos: ${profile.count} cancellations while the stack breaks (data in ${dataDir})`);
  // Beside the stack's start: its first worker bundles for itself, the ones started again load this.
  const bundled = bundleWorkflows(dataDir);
  void bundled.catch(() => undefined); // awaited below, once the stack can be stopped
  const stack = await startStack('file', {
    orders: options.orders,
    seed: options.seed,
    baseline: false,
    dataDir,
    mailKept: profile.count * 40 + 1_000, // every mail is counted at the end
  });
  const stackSeconds = (performance.now() - began) / 1000;
  try {
    const { servers, models } = stack;
    if (!servers) throw new Error('the stack did not hand over its servers');
    const bundlePath = await bundled;
    servers.workerOptions.env.WORKFLOW_BUNDLE_PATH = bundlePath;
    let mark = performance.now();
    progress(`• placing ${profile.count} orders, one per cancellation…`);
    const cases = planCases(profile.count, options.seed, randomUUID().slice(0, 8));
    await placeCases(models, servers, cases);
    const people = await issuePeople(models, stack.apiUrl);
    const { token: probeToken } = await issueApiKey(models, {
      name: 'npm run chaos (probes)',
      personId: 'clerk-1',
      scopes: ['requester'],
      createdBy: 'npm run chaos',
    });
    const setupSeconds = (performance.now() - mark) / 1000;
    progress(`  placed in ${elapsed(mark)}`);

    progress(`• the work, with the faults (at most ${profile.inFlight} unfinished at once)…`);
    mark = performance.now();
    const createdFrom = new Date(Date.now() - 60_000).toISOString();
    const answers: AnswerCounts = {};
    const faults = new Faults(servers, profile.plan);
    const probes = new ApiProbes(stack.apiUrl, probeToken, () => faults.phase());
    const finished = () =>
      cases.filter((chaosCase) => chaosCase.outcome || chaosCase.requestFailure || chaosCase.closedBehindCopy)
        .length;
    const deadline = mark + profile.workloadTimeoutMs;
    const timeUp = () => performance.now() > deadline;
    const allEnded = () => finished() === cases.length;
    let outagesOver = false;
    const over = () => (allEnded() && outagesOver) || timeUp();
    const ticker = setInterval(
      () =>
        progress(
          `    ${cases.filter((chaosCase) => chaosCase.cancellationId).length} taken, ${finished()} ended, phase ${faults.phase()}, worker killed ${faults.kills.length} times (${elapsed(mark)})`,
        ),
      15_000,
    );
    probes.start(probeTargets(cases));
    try {
      await Promise.all([
        requestCancellations(
          cases,
          people.requester,
          { inFlight: profile.inFlight, timeoutMs: 180_000, stop: timeUp },
          answers,
        ),
        runPeople(
          cases,
          people,
          createdFrom,
          { everyMs: 2_000, opsMayAct: () => faults.quiet(), done: over },
          answers,
        ),
        faults.killWorkerRepeatedly(() => finished() / cases.length, over),
        faults.failProviders(() => finished() / cases.length, over),
        faults
          .runOutages(
            () => finished() / cases.length,
            () => allEnded() || timeUp(),
          )
          .then(() => {
            outagesOver = true;
          }),
      ]);
    } finally {
      clearInterval(ticker);
      await probes.stop();
    }
    const workloadSeconds = (performance.now() - mark) / 1000;

    progress('• waiting for the notices to go out…');
    mark = performance.now();
    await faults.ensureWorker();
    await drainNotices(stack, cases, profile.drainTimeoutMs);
    await refreshCases(cases, people.ops, createdFrom).catch(() => undefined);
    const drainSeconds = (performance.now() - mark) / 1000;

    progress('• checking…');
    mark = performance.now();
    const policy = await loadPolicyFile(parseConfig({}).CANCELLATION_POLICY_FILE);
    const checks = [
      checkEndings(cases, await workflowStatuses(stack.temporal, cases)),
      checkOutcomes(cases),
      await checkRefunds(models, cases, servers.gateway, policy.afterShipment.deductionPercent),
      await checkStock(models, cases),
      await checkRunBooks(models, cases),
      await checkNotices(
        models,
        cases,
        { mails: faults.caughtMails(), sms: servers.sms.messages },
        { kills: faults.kills, events: faults.events, epoch: (seconds) => faults.epoch(seconds) },
        stack.temporal,
      ),
      await checkReplay(
        stack.temporal,
        stack.taskQueue,
        { env: servers.workerOptions.env, bundlePath },
        profile.replayDeliveries,
      ),
      checkApi(probes.answers, answers),
    ];
    const checksSeconds = (performance.now() - mark) / 1000;

    const run: ChaosRun = {
      command,
      startedAt,
      ci: options.ci,
      count: profile.count,
      inFlight: profile.inFlight,
      plan: profile.plan,
      seconds: {
        stack: stackSeconds,
        setup: setupSeconds,
        workload: workloadSeconds,
        drain: drainSeconds,
        checks: checksSeconds,
        total: (performance.now() - began) / 1000,
      },
      faults: {
        events: faults.events,
        kills: faults.kills,
        unexpectedExits: faults.unexpectedExits,
        providerFailures: faults.providerFailures,
        ...(faults.quietSince === undefined ? {} : { quietSince: faults.quietSince }),
      },
      workload: {
        requested: cases.filter((chaosCase) => chaosCase.cancellationId).length,
        ended: cases.filter((chaosCase) => chaosCase.outcome).length,
        repeats: repeats.count,
        timedOut: timeUp(),
      },
      checks,
      // The stack reports its first worker's death; those of the workers killed here are no incident.
      incidents: stack.incidents.filter(
        (incident) => !faults.kills.some((kill) => incident.includes(`(pid ${kill.pid})`)),
      ),
      cases: cases.map(caseSummary),
    };
    const base = writeChaosResults(run, options.out);
    console.log(`\n${chaosTable(checks)}\n`);
    for (const check of checks.filter((each) => !each.holds))
      console.log(`${check.name}:\n${check.problems.map((problem) => `  - ${problem}`).join('\n')}\n`);
    console.log(`Took ${run.seconds.total.toFixed(0)} s. Written: ${base}.md and ${base}.json`);
    return checks.every((check) => check.holds) ? 0 : 1;
  } finally {
    progress('• stopping the stack…');
    await stack.stop();
    if (options.keep) progress(`  data kept in ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}

main()
  .then((code) => process.exit(code))
  .catch((error: unknown) => {
    console.error(isCancelflowError(error) ? error.message : error);
    if (error instanceof UsageError) console.error(usage);
    process.exit(1);
  });
