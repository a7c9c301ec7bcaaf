// The faults `npm run chaos` injects into the stack bench/stack.ts started, while bench/chaos-workload.ts runs:
// - the worker is killed with SIGKILL a few seconds after each start, and started again;
// - Temporal's dev server is stopped and started twice, and the embedded database once (same port, same files);
// - the mail catcher's SMTP server is down for a while, the SMS simulator fails a share of its requests, and the
//   payment gateway and the carrier fail a request now and then (transiently).
// The outages begin when a given share of the run's cancellations has ended, so that they fall among work in
// flight however fast the machine is; what happened when is kept for the report.
import { performance } from 'node:perf_hooks';
import {
  startMongoServer,
  startTemporalDevServer,
  startWorkerProcess,
  type WorkerProcess,
} from '../scripts/servers';
import { startMailCatcher, type CaughtMail } from '../simulators';
import { progress, sleep } from './common';
import type { StackServers } from './stack';

export interface FaultPlan {
  /** The worker is killed a random time in this range (ms) after it is polling again. */
  workerKillAfterMs: [number, number];
  /**
   * The kills and the SMS and providers' failures stop once this share of the run's cancellations has ended (1:
   * never; the outages come at their marks regardless). What they leave behind takes minutes to clear: a provider
   * call cut by a kill waits out its 2-minute timeout, an outbox entry it held stays claimed 2 minutes
   * (OUTBOX_LEASE_MS), a message's retries back off from 30 s. CI stops them halfway, to end within five minutes.
   */
  quietFrom: number;
  /** How long each of the two Temporal outages, the database outage and the SMTP outage last (ms). */
  temporalDownMs: number;
  databaseDownMs: number;
  smtpDownMs: number;
  /** The share of SMS requests the simulator fails (503, which the delivery retries). */
  smsFailShare: number;
  /**
   * One request in this many to the payment gateway, and to the carrier, fails transiently (503): counted on the
   * traffic each sees, so the share holds however fast the work goes.
   */
  providerFailEvery: number;
  /** When each outage begins: the share of the run's cancellations ended by then. */
  marks: { smtp: number; temporal: [number, number]; database: number };
}

/** What the API's probes are told about the moment they ask in. */
export type Phase = 'temporal down' | 'temporal back' | 'database down' | 'database back' | 'no outage';

export interface FaultEvent {
  fault: string;
  /** Seconds since the faults began. */
  from: number;
  to?: number;
  detail?: string;
}

export interface WorkerKill {
  pid: number;
  /** Seconds since the faults began. */
  at: number;
  /** How long until a new worker polled again, and how many starts that took. */
  restartSeconds?: number;
  starts?: number;
}

/** How long after a server is back the probes still count their answers as part of its outage. */
const RECOVERY_MS = 10_000;
/** The least time between one outage's end and the next one's start, so each shows on its own. */
const OUTAGE_SPACING_MS = 5_000;

export class Faults {
  readonly events: FaultEvent[] = [];
  readonly kills: WorkerKill[] = [];
  /** Worker exits that no kill of ours caused. */
  readonly unexpectedExits: string[] = [];
  /** Transient failures armed at the payment gateway and at the carrier, one request each. */
  readonly providerFailures = { gateway: 0, carrier: 0 };
  /** When the kills and the failures stopped (seconds since the faults began), if they did before the end. */
  quietSince?: number;
  private readonly started = performance.now();
  private readonly startedEpochMs = Date.now();
  private outage?: { kind: 'temporal' | 'database'; back?: number };
  /** The mails of mail catchers stopped during the run: a restarted one starts empty. */
  private readonly earlierMails: (readonly CaughtMail[])[] = [];
  private workerGone?: Promise<void>;

  constructor(
    private readonly servers: StackServers,
    private readonly plan: FaultPlan,
  ) {
    this.watchWorker(servers.worker);
  }

  private seconds(): number {
    return Math.round((performance.now() - this.started) / 100) / 10;
  }

  private begin(fault: string, detail?: string): FaultEvent {
    const event: FaultEvent = { fault, from: this.seconds(), ...(detail ? { detail } : {}) };
    this.events.push(event);
    progress(`  [chaos ${event.from.toFixed(1)} s] ${fault}${detail ? ` (${detail})` : ''}`);
    return event;
  }

  private end(event: FaultEvent, detail?: string): void {
    event.to = this.seconds();
    if (detail) event.detail = event.detail ? `${event.detail}; ${detail}` : detail;
    progress(`  [chaos ${event.to.toFixed(1)} s] over: ${event.fault}${detail ? ` (${detail})` : ''}`);
  }

  /** The wall-clock time (ms since the epoch) of a moment the events and kills give in seconds. */
  epoch(seconds: number): number {
    return this.startedEpochMs + seconds * 1000;
  }

  /** Where the stack stands now, for the probes. */
  phase(): Phase {
    if (!this.outage) return 'no outage';
    const back = this.outage.back !== undefined;
    if (this.outage.kind === 'temporal') return back ? 'temporal back' : 'temporal down';
    return back ? 'database back' : 'database down';
  }

  /** No outage of Temporal or the database under way, or just over: ops may resume what stopped. */
  quiet(): boolean {
    return this.outage === undefined;
  }

  /** Every mail the mail catchers caught, those stopped during the run included. */
  caughtMails(): CaughtMail[] {
    return [...this.earlierMails.flat(), ...this.servers.mail.messages];
  }

  private noiseOver(ended: () => number): boolean {
    if (ended() < this.plan.quietFrom) return false;
    if (this.quietSince === undefined) {
      this.quietSince = this.seconds();
      progress(`  [chaos ${this.quietSince.toFixed(1)} s] no more kills nor provider failures`);
    }
    return true;
  }

  /**
   * The SMS simulator's failures and the providers', until `over()` or the plan's quiet mark: the gateway and the
   * carrier fail one request in `providerFailEvery`, counted on the traffic each sees.
   */
  async failProviders(ended: () => number, over: () => boolean): Promise<void> {
    const { sms, gateway, carrier } = this.servers;
    const every = this.plan.providerFailEvery;
    // The gateway counts every request; the carrier only the recalls it made, so one in `every - 1` of those.
    let gatewayNext = gateway.requests + every;
    let carrierNext = carrier.recalls.length + every - 1;
    sms.failShare(this.plan.smsFailShare);
    try {
      while (!over() && !this.noiseOver(ended)) {
        if (gateway.requests >= gatewayNext) {
          gateway.setBehaviour({ mode: 'fail_transient', times: 1 });
          this.providerFailures.gateway += 1;
          gatewayNext = gateway.requests + every;
        }
        if (carrier.recalls.length >= carrierNext) {
          carrier.setBehaviour({ mode: 'fail', times: 1 });
          this.providerFailures.carrier += 1;
          carrierNext = carrier.recalls.length + every - 1;
        }
        await sleep(250);
      }
    } finally {
      sms.failShare(0);
      gateway.setBehaviour({ mode: 'succeed' });
      carrier.setBehaviour({ mode: 'accept' });
    }
  }

  /** Notes when a worker's process ends; a kill of ours says so first, any other end is unexpected. */
  private watchWorker(worker: WorkerProcess): void {
    this.workerGone = new Promise((gone) =>
      worker.process.once('exit', (code, signal) => {
        if (!this.kills.some((kill) => kill.pid === worker.workerPid))
          this.unexpectedExits.push(
            `worker pid ${worker.workerPid} exited (${signal ?? `code ${code}`}) at ${this.seconds()} s without being killed`,
          );
        gone();
      }),
    );
  }

  private workerRunning(): boolean {
    const { process: watchdog } = this.servers.worker;
    return watchdog.exitCode === null && watchdog.signalCode === null;
  }

  /** Starts a worker as the stack did, until one polls (a start fails while Temporal or the database is down). */
  private async startWorker(): Promise<number> {
    for (let starts = 1; ; starts += 1) {
      try {
        // Not the stack's onUnexpectedExit: a worker killed here is no incident.
        const worker = await startWorkerProcess({
          ...this.servers.workerOptions,
          onUnexpectedExit: undefined,
        });
        this.servers.worker = worker;
        this.watchWorker(worker);
        return starts;
      } catch (error) {
        progress(
          `  [chaos ${this.seconds().toFixed(1)} s] the worker did not start (${String(error).split('\n')[0]}); again`,
        );
        await sleep(2_000);
      }
    }
  }

  /**
   * Until `over()`: a random while after the worker is polling, SIGKILL it (not the watchdog, which then exits
   * as it did) and start another, until `ended()` (the share of the run's cancellations ended) reaches the
   * plan's quiet mark; a worker that ended by itself is started again too, and noted. Leaves one running.
   */
  async killWorkerRepeatedly(ended: () => number, over: () => boolean): Promise<void> {
    const [least, most] = this.plan.workerKillAfterMs;
    const killing = () => !this.noiseOver(ended);
    while (!over()) {
      const waitUntil = performance.now() + least + Math.random() * (most - least);
      while (!over() && this.workerRunning() && (performance.now() < waitUntil || !killing()))
        await sleep(200);
      if (over() && this.workerRunning()) return;
      const { workerPid } = this.servers.worker;
      const kill: WorkerKill = { pid: workerPid, at: this.seconds() };
      if (this.workerRunning()) {
        this.kills.push(kill);
        process.kill(workerPid, 'SIGKILL');
        await this.workerGone;
      }
      const since = performance.now();
      kill.starts = await this.startWorker();
      kill.restartSeconds = Math.round((performance.now() - since) / 100) / 10;
      progress(
        `  [chaos ${kill.at.toFixed(1)} s] worker pid ${workerPid} ${this.kills.includes(kill) ? 'killed' : 'had ended'}; pid ${this.servers.worker.workerPid} polling ${kill.restartSeconds} s later`,
      );
    }
  }

  /** A worker polls: started again if the last one ended. */
  async ensureWorker(): Promise<void> {
    if (!this.workerRunning()) await this.startWorker();
  }

  private async outageOf(
    kind: 'temporal' | 'database',
    label: string,
    downMs: number,
    stop: () => Promise<void>,
    start: () => Promise<void>,
  ) {
    const event = this.begin(label, `${downMs / 1000} s`);
    this.outage = { kind };
    await stop();
    await sleep(downMs);
    await start();
    const outage = { kind, back: performance.now() };
    this.outage = outage;
    this.end(event);
    await sleep(RECOVERY_MS);
    if (this.outage === outage) this.outage = undefined;
  }

  private temporalOutage(nth: number): Promise<void> {
    return this.outageOf(
      'temporal',
      `Temporal server stopped (${nth} of 2), state kept on disk`,
      this.plan.temporalDownMs,
      () => this.servers.temporal.stop(),
      async () => {
        this.servers.temporal = await startTemporalDevServer(this.servers.temporalOptions);
      },
    );
  }

  private databaseOutage(): Promise<void> {
    return this.outageOf(
      'database',
      'database stopped, data files kept',
      this.plan.databaseDownMs,
      () => this.servers.mongo.stop(),
      async () => {
        this.servers.mongo = await startMongoServer(this.servers.mongoOptions);
      },
    );
  }

  private async smtpOutage(): Promise<void> {
    const event = this.begin('SMTP server down', `${this.plan.smtpDownMs / 1000} s`);
    const { smtpPort } = this.servers.mail;
    await this.servers.mail.close();
    this.earlierMails.push(this.servers.mail.messages);
    await sleep(this.plan.smtpDownMs);
    this.servers.mail = await startMailCatcher({ ...this.servers.mailOptions, smtpPort });
    this.end(event);
  }

  /**
   * The outages, each once `ended()` (the share of the run's cancellations ended) reaches its mark, or at once
   * when `stopWaiting()` (the work is all done, or its time is up): Temporal, the database and Temporal again one after another, the SMTP server's
   * beside them.
   */
  async runOutages(ended: () => number, stopWaiting: () => boolean): Promise<void> {
    const reach = async (mark: number) => {
      while (ended() < mark && !stopWaiting()) await sleep(250);
    };
    const { marks } = this.plan;
    const smtp = reach(marks.smtp).then(() => this.smtpOutage());
    await reach(marks.temporal[0]);
    await this.temporalOutage(1);
    await reach(marks.database);
    await sleep(OUTAGE_SPACING_MS);
    await this.databaseOutage();
    await reach(marks.temporal[1]);
    await sleep(OUTAGE_SPACING_MS);
    await this.temporalOutage(2);
    await smtp;
  }
}
