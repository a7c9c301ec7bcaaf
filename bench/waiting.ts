// The many-waiting scenario (issue #13): N cancellations that need an approval (medium risk: a refund above the
// policy's medium threshold, one approver of level 1) started at once, the worker's memory (its process's RSS,
// from /proc) sampled while they start and wait, then all approved through the API as an approver, and the time
// until every one of them has finished (drained).
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { placeBenchOrders, repeats, requestCancellation, untilTaken } from './cancelling';
import { fixed, progress, runSlots, sleep } from './common';
import { processMemory, type Stack } from './stack';

export interface WaitingOptions {
  count: number;
  /** Requests in flight at once (asking, then approving). */
  concurrency: number;
  timeoutMs: number;
}

const WAITING_STATE = 'awaitingApproval.waitingForDecision';

interface Sample {
  seconds: number;
  phase: string;
  rssMb: number;
}

export interface WaitingEntry {
  stack: string;
  stackName: string;
  cancellations: number;
  concurrency: number;
  setupSeconds: number;
  requests: { accepted: number; failed: number; seconds: number; perSecond: number; repeats: number };
  waiting: { reached: number; secondsUntilAll: number; states: Record<string, number> };
  /** The worker's resident memory (summed over its processes on this machine), MB; undefined if unreadable. */
  workerMemory?: {
    pids: number[];
    idleMb: number;
    peakWhileStartingMb: number;
    allWaitingMb: number;
    peakWhileDrainingMb: number;
    afterDrainMb: number;
    /** The kernel's high-water mark of each process (VmHWM) at the end, summed. */
    highWaterMb: number;
    samples: Sample[];
  };
  approvals: { approved: number; failed: number; seconds: number; perSecond: number; repeats: number };
  drain: {
    /** From the first approval sent until every approved cancellation had ended (as its database copy shows). */
    seconds: number;
    perSecond: number;
    ended: number;
    outcomes: Record<string, number>;
    unfinished: number;
    pollSeconds: number;
  };
  failures: string[];
}

/** Each cancellation's state and outcome from the database copy, in batches. */
async function statesOf(stack: Stack, ids: readonly string[]) {
  const found: { cancellationId: string; state: string; outcome?: string | null }[] = [];
  for (let start = 0; start < ids.length; start += 1_000) {
    const batch = ids.slice(start, start + 1_000);
    found.push(
      ...(await stack.models.Cancellation.find(
        { cancellationId: { $in: batch } },
        { cancellationId: 1, state: 1, outcome: 1 },
      ).lean()),
    );
  }
  return found;
}

const tally = (values: readonly string[]) =>
  values.reduce<Record<string, number>>(
    (counts, value) => ({ ...counts, [value]: (counts[value] ?? 0) + 1 }),
    {},
  );

export async function runWaiting(stack: Stack, options: WaitingOptions): Promise<WaitingEntry> {
  const run = randomUUID().slice(0, 6);
  const { count, concurrency } = options;
  // A phase may take longer than one request: at least the request timeout, and 2 s a cancellation.
  const phaseMs = Math.max(options.timeoutMs, count * 2_000);
  const pollMs = count > 2_000 ? 5_000 : 1_000;
  progress(`• many waiting: placing ${count} orders that need an approval (run ${run})…`);
  const orders = await placeBenchOrders(stack.models, {
    prefix: `BW-${run}`,
    count,
    quantity: 1,
    // 3,000.00 CNY: refund and fees above the policy's medium threshold (2,000.00), under its high one.
    unitPriceMinor: 300_000,
    skuOf: (index) => `BENCH-W-${run}-${String(Math.floor(index / 100) + 1).padStart(4, '0')}`,
  });
  progress(`  placed in ${orders.seconds.toFixed(1)} s`);

  // The worker's memory, every second, through every phase: idle once what ran before has ended.
  await stack.settle(options.timeoutMs);
  const pids = await stack.workerPids();
  const started = performance.now();
  const samples: Sample[] = [];
  let phase = 'idle';
  const sample = () => {
    const readings = pids.map(processMemory);
    if (pids.length === 0 || readings.some((reading) => reading === undefined)) return undefined;
    const rssMb = readings.reduce((sum, reading) => sum + (reading?.rssMb ?? 0), 0);
    samples.push({ seconds: (performance.now() - started) / 1000, phase, rssMb });
    return rssMb;
  };
  if (pids.length === 0) progress('  the worker runs elsewhere: its memory is not measured');
  const idleMb = sample() ?? Number.NaN;
  const sampler = setInterval(sample, 1_000);
  const peak = (of: string) => {
    const values = samples.filter((entry) => entry.phase === of).map((entry) => entry.rssMb);
    return values.length ? Math.max(...values) : Number.NaN;
  };
  const failures: string[] = [];

  try {
    phase = 'starting';
    progress(`  • asking for ${count} cancellations, ${concurrency} requests at a time…`);
    let repeatsBefore = repeats.count;
    const requested = await runSlots('requests', count, concurrency, phaseMs, async (index) => {
      const orderNumber = orders.orderNumbers[index] as string;
      return (await requestCancellation(stack.api, orderNumber, options.timeoutMs)).cancellationId;
    });
    failures.push(...requested.failures.slice(0, 10));
    const ids = requested.results;
    const requests = {
      accepted: ids.length,
      failed: requested.failures.length,
      seconds: requested.seconds,
      perSecond: ids.length / requested.seconds,
      repeats: repeats.count - repeatsBefore,
    };
    progress(
      `    ${ids.length} accepted, ${requested.failures.length} refused in ${requested.seconds.toFixed(1)} s`,
    );

    // Until every accepted one waits for its decision (or ended without one: a failure here).
    progress('  • waiting until all of them wait for an approver…');
    let states = await statesOf(stack, ids);
    const deadline = performance.now() + phaseMs;
    while (
      states.some((entry) => entry.state !== WAITING_STATE && !entry.outcome) &&
      performance.now() < deadline
    ) {
      await sleep(pollMs);
      states = await statesOf(stack, ids);
    }
    const secondsUntilAll = (performance.now() - started) / 1000;
    const waiting = {
      reached: states.filter((entry) => entry.state === WAITING_STATE).length,
      secondsUntilAll,
      states: tally(states.map((entry) => entry.outcome ?? entry.state)),
    };
    phase = 'waiting';
    // A few seconds all waiting: what the worker holds for them, once what started them has settled.
    await sleep(5_000);
    const allWaitingMb = sample() ?? Number.NaN;
    progress(
      `    ${waiting.reached} waiting after ${secondsUntilAll.toFixed(1)} s; worker RSS ${fixed(idleMb, 0)} MB idle, ${fixed(peak('starting'), 0)} MB at most while starting, ${fixed(allWaitingMb, 0)} MB with all waiting`,
    );

    // Approve every one that waits, as manager-1 (level 1), through POST /v1/cancellations/:id/decision.
    phase = 'draining';
    const toApprove = states
      .filter((entry) => entry.state === WAITING_STATE)
      .map((entry) => entry.cancellationId);
    progress(`  • approving ${toApprove.length}, ${concurrency} at a time…`);
    repeatsBefore = repeats.count;
    const approvalsStarted = performance.now();
    const approved = await runSlots('approvals', toApprove.length, concurrency, phaseMs, async (index) => {
      const id = toApprove[index] as string;
      await untilTaken(`POST /v1/cancellations/${id}/decision`, options.timeoutMs, () =>
        // One key per approval: a repeat after a 503 is the same decision, answered as the first.
        stack.approver.decide(
          id,
          { approved: true, comment: 'npm run bench: many waiting' },
          { idempotencyKey: `bench-approval-${id}` },
        ),
      );
    });
    failures.push(...approved.failures.slice(0, 10));
    const approvals = {
      approved: approved.results.length,
      failed: approved.failures.length,
      seconds: approved.seconds,
      perSecond: approved.results.length / approved.seconds,
      repeats: repeats.count - repeatsBefore,
    };
    progress(
      `    ${approved.results.length} approved in ${approved.seconds.toFixed(1)} s; waiting for them to finish…`,
    );

    let ended = await statesOf(stack, toApprove);
    const drainDeadline = performance.now() + phaseMs;
    while (ended.some((entry) => !entry.outcome) && performance.now() < drainDeadline) {
      await sleep(pollMs);
      ended = await statesOf(stack, toApprove);
    }
    const drainSeconds = (performance.now() - approvalsStarted) / 1000;
    const finished = ended.filter((entry) => entry.outcome);
    const drain = {
      seconds: drainSeconds,
      perSecond: finished.length / drainSeconds,
      ended: finished.length,
      outcomes: tally(finished.map((entry) => entry.outcome as string)),
      unfinished: ended.length - finished.length,
      pollSeconds: pollMs / 1000,
    };
    clearInterval(sampler);
    phase = 'drained';
    await sleep(2_000);
    const afterDrainMb = sample() ?? Number.NaN;
    const highWater = pids.map((pid) => processMemory(pid)?.peakMb ?? Number.NaN);
    progress(
      `    drained in ${drainSeconds.toFixed(1)} s: ${JSON.stringify(drain.outcomes)}, ${drain.unfinished} unfinished; worker RSS ${fixed(peak('draining'), 0)} MB at most while draining, ${fixed(afterDrainMb, 0)} MB after`,
    );
    return {
      stack: stack.kind,
      stackName: stack.name,
      cancellations: count,
      concurrency,
      setupSeconds: orders.seconds,
      requests,
      waiting,
      ...(pids.length
        ? {
            workerMemory: {
              pids,
              idleMb,
              peakWhileStartingMb: peak('starting'),
              allWaitingMb,
              peakWhileDrainingMb: peak('draining'),
              afterDrainMb,
              highWaterMb: highWater.reduce((sum, mb) => sum + mb, 0),
              samples: samples.map((entry) => ({
                ...entry,
                seconds: Number(entry.seconds.toFixed(1)),
                rssMb: Number(entry.rssMb.toFixed(1)),
              })),
            },
          }
        : {}),
      approvals,
      drain,
      failures,
    };
  } finally {
    clearInterval(sampler);
  }
}

export function waitingMarkdown(entries: readonly WaitingEntry[]): string[] {
  if (entries.length === 0) return [];
  const lines = [
    '## Many waiting for approval',
    '',
    '| stack | cancellations | asked (per s) | all waiting after s | worker RSS MB: idle / peak starting / all waiting / peak draining / after (high-water) | approved (per s) | drained in s (per s) | outcomes |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const entry of entries) {
    const memory = entry.workerMemory;
    lines.push(
      `| ${entry.stackName} | ${entry.cancellations} | ${entry.requests.accepted} (${fixed(entry.requests.perSecond, 2)}) | ${entry.waiting.reached} after ${fixed(entry.waiting.secondsUntilAll, 1)} | ${memory ? `${fixed(memory.idleMb, 0)} / ${fixed(memory.peakWhileStartingMb, 0)} / ${fixed(memory.allWaitingMb, 0)} / ${fixed(memory.peakWhileDrainingMb, 0)} / ${fixed(memory.afterDrainMb, 0)} (${fixed(memory.highWaterMb, 0)})` : 'not on this machine'} | ${entry.approvals.approved} (${fixed(entry.approvals.perSecond, 2)}) | ${fixed(entry.drain.seconds, 1)} (${fixed(entry.drain.perSecond, 2)}) | ${Object.entries(
        entry.drain.outcomes,
      )
        .map(([outcome, times]) => `${outcome} ${times}`)
        .join(', ')}${entry.drain.unfinished ? `, **${entry.drain.unfinished} unfinished**` : ''} |`,
    );
  }
  const failures = entries.flatMap((entry) =>
    entry.failures.slice(0, 3).map((failure) => `- ${entry.stack}: ${failure}`),
  );
  lines.push(
    '',
    "Orders of 3,000.00 CNY (refund and fees above the policy's medium threshold: one approval at level 1), placed with the demo data's helpers, a customer each. " +
      `All are asked for through POST /v1/cancellations, ${entries[0]?.concurrency ?? ''} requests at a time; once the database copy shows every one in ${WAITING_STATE}, manager-1 approves each through POST /v1/cancellations/:id/decision (the same number at a time). ` +
      "Worker RSS: the worker process's VmRSS from /proc/<pid>/status, sampled every second (high-water: its VmHWM at the end). " +
      'Drained: from the first approval sent until the database copy shows every approved one ended, polled every ' +
      `${entries[0]?.drain.pollSeconds ?? 1} s.`,
    ...(failures.length ? ['', 'Failures (first three):', '', ...failures] : []),
    '',
  );
  return lines;
}
