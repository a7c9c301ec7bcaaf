// What `npm run chaos` checks once the faults are over and the notices have drained: each an invariant of
// issue #15 with its figures and, when it fails, what broke it (the first few of each).
import { Worker } from '@temporalio/worker';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { HistoryAndWorkflowId } from '@temporalio/client';
import { parseConfig } from '../lib/config';
import { temporalDataConverter } from '../lib/payload-codec';
import type { Models } from '../models';
import { stockFromLedger } from '../models/stock-ledger';
import { cancellationWorkflowId, WORKFLOW_TYPE } from '../contracts/cancellation.contract';
import { checkBooks } from '../generators/books-property';
import { startingWith } from '../generators/books-property/scope';
import { keptBackForKeptGoods } from '../rules/refund-plan.rules';
import type { CaughtMail, SimulatedRefund, SimulatedSms } from '../simulators';
import type { FaultEvent, WorkerKill } from './chaos-faults';
import { isBadAnswer, type ProbeAnswer } from './chaos-probes';
import {
  actionsSaid,
  CASE_KINDS,
  CHAOS_PREFIX,
  SPARE_UNITS,
  type AnswerCounts,
  type CaseKind,
  type ChaosCase,
} from './chaos-workload';

export interface CheckResult {
  /** The invariant, as the report's table names it. */
  name: string;
  holds: boolean;
  /** One line of figures for the table. */
  figures: string;
  /** What broke it, or what is worth knowing beside (the first few). */
  problems: string[];
  notes?: string[];
  data?: Record<string, unknown>;
}

const SHOWN = 10;
const tally = (into: Record<string, number>, key: string, by = 1) => {
  into[key] = (into[key] ?? 0) + by;
};
const listed = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([key, n]) => `${key} ${n}`)
    .join(', ') || 'none';

/** The states a cancellation waits in for a person or another system, as the README documents them. */
export const WAITING_STATES: Record<string, string> = {
  awaitingApproval: 'waits for an approver',
  awaitingSettlement: 'waits for finance to settle the refund by hand',
  awaitingReturn: 'waits for the warehouse to confirm parcels back',
  agreeingWithCustomer: "waits for the customer's choice",
  awaitingCarrier: "waits for the carrier's answer",
  needsAttention: 'waits for ops to resume it',
};
const topState = (state: string) => state.split('.')[0] ?? state;

const firstFew = (lines: string[]) =>
  lines.slice(0, SHOWN).concat(lines.length > SHOWN ? [`… and ${lines.length - SHOWN} more`] : []);

function result(
  name: string,
  figures: string,
  problems: string[],
  extra: Partial<CheckResult> = {},
): CheckResult {
  return {
    name,
    holds: problems.length === 0,
    figures,
    ...extra,
    problems: firstFew(problems),
    ...(extra.notes ? { notes: firstFew(extra.notes) } : {}),
  };
}

/** Each cancellation's workflow status as Temporal tells it (the last run of a chain continued as new). */
export async function workflowStatuses(temporal: Client, cases: ChaosCase[]): Promise<Map<string, string>> {
  const statuses = new Map<string, string>();
  const ids = cases.flatMap((chaosCase) => (chaosCase.cancellationId ? [chaosCase.cancellationId] : []));
  for (let from = 0; from < ids.length; from += 10)
    await Promise.all(
      ids.slice(from, from + 10).map(async (id) => {
        const status = await temporal.workflow
          .getHandle(cancellationWorkflowId(id))
          .describe()
          .then(
            (description) => description.status.name,
            (error: unknown) => `unknown (${String(error)})`,
          );
        statuses.set(id, status);
      }),
    );
  return statuses;
}

/**
 * Every cancellation the API took reached an ending or a documented waiting state (and it took all), as the
 * API shows it (its database copy) and as its workflow agrees: one whose copy waits while its workflow ended, or
 * the other way round, has a copy that lies to everyone who reads it.
 */
export function checkEndings(cases: ChaosCase[], statuses: Map<string, string>): CheckResult {
  const endings: Record<string, number> = {};
  const waiting: Record<string, number> = {};
  const problems: string[] = [];
  for (const chaosCase of cases) {
    const { cancellationId, orderNumber } = chaosCase;
    const status = cancellationId ? statuses.get(cancellationId) : undefined;
    if (!cancellationId)
      problems.push(`${orderNumber}: never taken by the API (${chaosCase.requestFailure ?? '?'})`);
    else if (chaosCase.outcome) {
      tally(endings, chaosCase.outcome);
      if (status !== 'COMPLETED')
        problems.push(
          `${orderNumber}: the API shows it ${chaosCase.outcome}, its workflow is ${status ?? '?'} (${cancellationId})`,
        );
    } else if (chaosCase.state && topState(chaosCase.state) in WAITING_STATES) {
      tally(waiting, chaosCase.state);
      if (status !== 'RUNNING')
        problems.push(
          `${orderNumber}: the API shows it in ${chaosCase.state}, but its workflow is ${status ?? '?'}: the database copy never learnt how it ended (${cancellationId})`,
        );
    } else problems.push(`${orderNumber}: stuck in ${chaosCase.state ?? 'no state'} (${cancellationId})`);
  }
  const settled = cases.length - problems.length;
  return result(
    'every cancellation reached an ending or a documented waiting state',
    `${settled} of ${cases.length}: ended ${listed(endings)}; waiting ${listed(waiting)}`,
    problems,
    {
      notes: Object.keys(waiting).map((state) => `${state}: ${WAITING_STATES[topState(state)] ?? ''}`),
      data: { endings, waiting },
    },
  );
}

/** Each kind ended as it should; and which ones ops had to resume, with why they stopped. */
export function checkOutcomes(cases: ChaosCase[]): CheckResult {
  const byKind: Record<string, { as: number; of: number }> = {};
  const problems: string[] = [];
  const resumed: string[] = [];
  for (const chaosCase of cases) {
    const expected = CASE_KINDS[chaosCase.kind].ends;
    const kind = (byKind[chaosCase.kind] ??= { as: 0, of: 0 });
    kind.of += 1;
    if (chaosCase.outcome === expected) kind.as += 1;
    else if (chaosCase.cancellationId)
      problems.push(
        `${chaosCase.orderNumber} (${chaosCase.kind}) ${chaosCase.outcome ? `ended ${chaosCase.outcome}` : `is in ${chaosCase.state ?? '?'}`}, expected ${expected}; states ${chaosCase.statesSeen.join(' → ')}; people: ${actionsSaid(chaosCase)}`,
      );
    if (chaosCase.actions.some((action) => action.what === 'resume' && action.answer === 'ok'))
      resumed.push(
        `${chaosCase.orderNumber} (${chaosCase.kind}): ${chaosCase.attention.join('; ') || 'no reason shown'}`,
      );
  }
  return result(
    'each kind ended as it should (people acting through the API)',
    `${Object.entries(byKind)
      .map(([kind, { as, of }]) => `${kind} ${as}/${of} ${CASE_KINDS[kind as CaseKind].ends}`)
      .join(', ')}; resumed by ops: ${resumed.length}`,
    problems,
    { notes: resumed.map((line) => `resumed by ops after an outage: ${line}`), data: { byKind, resumed } },
  );
}

/** What each case should have been refunded: at the gateway, and as the books count it. */
function expectedRefund(chaosCase: ChaosCase, deductionPercent: number): { gateway: number; books: number } {
  if (chaosCase.outcome !== 'completed') return { gateway: 0, books: 0 };
  const cancelled = chaosCase.lines
    .filter((line) => line.cancelled)
    .reduce((sum, line) => sum + line.quantity * line.unitPriceMinor, 0);
  if (chaosCase.kind === 'refundRefused') return { gateway: 0, books: cancelled };
  if (chaosCase.kind === 'recallTooLate') {
    const refund = cancelled - keptBackForKeptGoods(cancelled, deductionPercent);
    return { gateway: refund, books: refund };
  }
  return { gateway: cancelled, books: cancelled };
}

/** No refund made twice, counted where the money moves (the gateway sees every request), and each as expected. */
export async function checkRefunds(
  models: Models,
  cases: ChaosCase[],
  gateway: { refunds: readonly SimulatedRefund[]; requests: number },
  deductionPercent: number,
): Promise<CheckResult> {
  const problems: string[] = [];
  const byKey: Record<string, number> = {};
  const byPayment: Record<string, SimulatedRefund[]> = {};
  for (const refund of gateway.refunds) {
    tally(byKey, refund.idempotencyKey);
    (byPayment[refund.payment] ??= []).push(refund);
  }
  for (const [key, n] of Object.entries(byKey))
    if (n > 1) problems.push(`idempotency key ${key} refunded ${n} times`);
  const ours = new Set(cases.map((chaosCase) => chaosCase.paymentReference));
  for (const [payment, refunds] of Object.entries(byPayment)) {
    if (refunds.length > 1)
      problems.push(
        `payment ${payment} refunded ${refunds.length} times: ${refunds.map((refund) => `${refund.amount} under ${refund.idempotencyKey}`).join(', ')}`,
      );
    if (!ours.has(payment)) problems.push(`a refund of ${payment}, which is no order of this run`);
  }
  const payments = new Map(
    (await models.Payment.find({ orderNumber: startingWith(`${CHAOS_PREFIX}-`) }).lean()).map((payment) => [
      payment.orderNumber,
      payment,
    ]),
  );
  let asExpected = 0;
  for (const chaosCase of cases) {
    if (chaosCase.outcome !== CASE_KINDS[chaosCase.kind].ends) continue; // its outcome is a problem of its own
    const expected = expectedRefund(chaosCase, deductionPercent);
    const atGateway = (byPayment[chaosCase.paymentReference] ?? []).reduce(
      (sum, refund) => sum + refund.amount,
      0,
    );
    const inBooks = payments.get(chaosCase.orderNumber)?.refundedMinor ?? 0;
    if (atGateway !== expected.gateway || inBooks !== expected.books)
      problems.push(
        `${chaosCase.orderNumber} (${chaosCase.kind}): refunded ${atGateway} at the gateway and ${inBooks} in the books, expected ${expected.gateway} and ${expected.books}`,
      );
    else asExpected += 1;
  }
  const twice = Object.values(byPayment).filter((refunds) => refunds.length > 1).length;
  return result(
    'no refund made twice (counted at the payment gateway)',
    `refunded twice: ${twice}; ${gateway.refunds.length} refunds from ${gateway.requests} requests (repeats and refusals included); ${asExpected} cancellations refunded exactly as expected at the gateway and in the books`,
    problems,
    {
      data: { refunds: gateway.refunds.length, requests: gateway.requests, refundedTwice: twice, asExpected },
    },
  );
}

/** What a line's stock should be once its cancellation ended as its kind should. */
function expectedStock(
  chaosCase: ChaosCase,
  line: ChaosCase['lines'][number],
): { onHand: number; reserved: number } {
  const received = line.quantity + SPARE_UNITS;
  if (!chaosCase.shipmentId) {
    const released = line.cancelled && chaosCase.outcome === 'completed';
    return { onHand: received, reserved: released ? 0 : line.quantity };
  }
  // Shipped: a parcel stopped comes back on hand; goods the customer keeps stay out.
  return { onHand: chaosCase.kind === 'recallStopped' ? received : received - line.quantity, reserved: 0 };
}

/** No stock movement applied twice: levels are their ledger's sums and what each ending leaves, and no line was released or returned twice. */
export async function checkStock(models: Models, cases: ChaosCase[]): Promise<CheckResult> {
  const problems: string[] = [];
  let lines = 0;
  const movementCounts: Record<string, number> = {};
  for (const chaosCase of cases) {
    for (const line of chaosCase.lines) {
      lines += 1;
      const [level, ledger, movements] = await Promise.all([
        models.StockLevel.findOne({ sku: line.sku }).lean(),
        stockFromLedger(models, line.sku, 'WH-SH-01'),
        models.StockMovement.find({ sku: line.sku, state: 'applied' }, { type: 1, idempotencyKey: 1 }).lean(),
      ]);
      const figures = { onHand: level?.onHand ?? 0, reserved: level?.reserved ?? 0 };
      if (figures.onHand !== ledger.onHand || figures.reserved !== ledger.reserved)
        problems.push(
          `${line.sku}: on hand ${figures.onHand}, reserved ${figures.reserved}; its ledger ${ledger.onHand}, ${ledger.reserved}`,
        );
      for (const type of ['release', 'return']) {
        const applied = movements.filter((movement) => movement.type === type);
        tally(movementCounts, type, applied.length);
        if (applied.length > 1)
          problems.push(
            `${line.sku}: ${type} applied ${applied.length} times (${applied.map((movement) => movement.idempotencyKey).join(', ')})`,
          );
      }
      if (chaosCase.outcome !== CASE_KINDS[chaosCase.kind].ends) continue;
      const expected = expectedStock(chaosCase, line);
      if (figures.onHand !== expected.onHand || figures.reserved !== expected.reserved)
        problems.push(
          `${line.sku} (${chaosCase.kind}, ${chaosCase.outcome}): on hand ${figures.onHand}, reserved ${figures.reserved}; expected ${expected.onHand}, ${expected.reserved}`,
        );
    }
  }
  return result(
    'no stock movement applied twice (levels = ledger = what each ending leaves)',
    `${lines} order lines on SKUs of their own: ${problems.length} off; applied ${listed(movementCounts)}`,
    problems,
    { data: { lines, movements: movementCounts } },
  );
}

/**
 * The books' invariants of the property test (generators/books-property: stock, shipments, payments, refunds,
 * vouchers, links) over the run's orders and SKUs.
 */
export async function checkRunBooks(models: Models, cases: ChaosCase[]): Promise<CheckResult> {
  const skus = cases.flatMap((chaosCase) => chaosCase.lines.map((line) => line.sku));
  const refunds = await models.Refund.find(
    { orderNumber: startingWith(`${CHAOS_PREFIX}-`) },
    { idempotencyKey: 1 },
  ).lean();
  // The engine keys a refund's voucher by the refund (models/refund-ledger.ts), not by the run's prefix.
  const voucherKeys = refunds.map((refund) => `${refund.idempotencyKey}:voucher`);
  const problems = await checkBooks(models, { prefix: CHAOS_PREFIX, skus, offPlan: new Set(), voucherKeys });
  return result(
    "the books' invariants hold",
    `checkBooks over ${cases.length} orders, ${skus.length} SKUs and ${refunds.length} refunds with their vouchers: ${problems.length} problems`,
    problems,
  );
}

/** The outbox keys a case's customer and sales must have had: the request, and how it ended. */
function expectedNoticeKeys(
  chaosCase: ChaosCase,
  { reviewed, customerTold }: { reviewed: boolean; customerTold: boolean },
): string[] {
  const id = chaosCase.cancellationId;
  if (!id || !chaosCase.outcome) return [];
  const moments = [
    // The review tells the customer it was received: a withdrawal while the policy loads comes before it.
    ...(reviewed ? ['received'] : []),
    ...(chaosCase.kind === 'recallTooLate' ? ['options_offered'] : []),
    chaosCase.outcome,
  ];
  return moments.flatMap((moment) => [
    // A customer hears how a request ended when they heard of it (activities/notices.activities.ts), also
    // from a workflow task lost before its history was written.
    ...(moment === 'withdrawn' && !customerTold
      ? []
      : (['email', 'sms'] as const).map((channel) => `${id}:customer:${moment}:${channel}`)),
    // The completed notice to sales is the departments' own, beside the customer's completion message.
    `${id}:department:sales:${moment}:email`,
  ]);
}

/**
 * What can explain a copy: something between the first copy's arrival and the next that kept the sender from
 * marking the entry sent, or from hearing that the provider took it.
 */
function copyCause(
  first: number,
  next: number,
  disruptions: { kills: WorkerKill[]; events: FaultEvent[]; epoch: (seconds: number) => number },
): string | undefined {
  const { epoch } = disruptions;
  const kill = disruptions.kills.find((each) => epoch(each.at) >= first - 1_000 && epoch(each.at) <= next);
  if (kill) return `worker pid ${kill.pid} killed at ${kill.at} s`;
  const overlapping = (prefix: string) =>
    disruptions.events.find(
      (event) =>
        event.fault.startsWith(prefix) &&
        epoch(event.from) - 2_000 <= next &&
        first <= epoch(event.to ?? event.from),
    );
  const database = overlapping('database');
  if (database) return `the database stopped at ${database.from} s`;
  const smtp = overlapping('SMTP');
  if (smtp) return `the SMTP server stopped at ${smtp.from} s`;
  return undefined;
}

/**
 * Every notice that should have gone out went out, once: each outbox entry of the run is sent, and arrived at
 * the mail catcher (by Message-ID) or the SMS simulator (by recipient and text, both unique to a message here).
 * Copies are counted apart: the documented duplicate window (docs/notifications.md) is the sender losing track
 * after the provider accepted a message and before it was marked sent (a crash, the database away, the provider
 * dropping the connection before it answered); each copy is listed with what happened between its arrivals.
 */
export async function checkNotices(
  models: Models,
  cases: ChaosCase[],
  caught: { mails: CaughtMail[]; sms: readonly SimulatedSms[] },
  disruptions: { kills: WorkerKill[]; events: FaultEvent[]; epoch: (seconds: number) => number },
  temporal: Client,
): Promise<CheckResult> {
  const ids = cases.flatMap((chaosCase) => (chaosCase.cancellationId ? [chaosCase.cancellationId] : []));
  const entries = await models.Notification.find({ cancellationId: { $in: ids } }).lean();
  // A workflow task that timed out after its local activities ran (Temporal down, the worker killed) leaves the
  // outbox entries of its notices, named for a delivery workflow it never got to start; its retry, having seen
  // an Update meanwhile, may take another path, whose history has none of them. Such an entry is no notice of the
  // cancellation: it should not go out (an approval request for a withdrawn cancellation), and does not count;
  // but the customer's "received" goes out with the withdrawal that ended the request (notices.activities.ts).
  // Only an entry whose named delivery workflow does not exist at all is taken for one.
  const neverStarted = new Set<string>();
  const queuedDeliveries = new Set(
    entries.flatMap((entry) =>
      entry.status === 'queued' && entry.deliveryWorkflowId ? [entry.deliveryWorkflowId] : [],
    ),
  );
  for (const workflowId of queuedDeliveries) {
    const missing = await temporal.workflow
      .getHandle(workflowId)
      .describe()
      .then(
        () => false,
        (error: unknown) => error instanceof WorkflowNotFoundError,
      );
    if (missing) neverStarted.add(workflowId);
  }
  const lostTask: string[] = [];
  // Withdrawn before the review ended (ORDER_REVIEWED leads to assessingRisk; the database copy's timeline is the
  // workflow's path).
  const unreviewed = new Set(
    (
      await models.Cancellation.find(
        { cancellationId: { $in: ids }, outcome: 'withdrawn' },
        { cancellationId: 1, timeline: 1 },
      ).lean()
    ).flatMap((record) =>
      record.timeline.some((entry) => entry.state === 'assessingRisk') ? [] : [record.cancellationId],
    ),
  );
  // An approval request recorded by a task lost before it handed the request to a delivery, for a cancellation
  // whose history never asked for an approval (withdrawn while it looked for approvers, or before its review).
  const askedApproval = new Set(
    (
      await models.Cancellation.find(
        { cancellationId: { $in: ids } },
        { cancellationId: 1, timeline: 1 },
      ).lean()
    ).flatMap((record) =>
      record.timeline.some((entry) => entry.state === 'awaitingApproval.waitingForDecision')
        ? [record.cancellationId]
        : [],
    ),
  );
  const leftByLostTask = (entry: (typeof entries)[number]) =>
    entry.status === 'queued' &&
    (neverStarted.has(entry.deliveryWorkflowId ?? '') ||
      (!entry.deliveryWorkflowId &&
        entry.idempotencyKey.startsWith(`${entry.cancellationId}:approval:`) &&
        !askedApproval.has(entry.cancellationId)));
  const keys = new Set(entries.flatMap((entry) => (leftByLostTask(entry) ? [] : [entry.idempotencyKey])));
  const customerTold = new Set(
    entries.flatMap((entry) =>
      entry.idempotencyKey.startsWith(`${entry.cancellationId}:customer:received:`)
        ? [entry.cancellationId]
        : [],
    ),
  );
  const problems: string[] = [];
  for (const chaosCase of cases) {
    const id = chaosCase.cancellationId ?? '';
    const told = { reviewed: !unreviewed.has(id), customerTold: customerTold.has(id) };
    for (const key of expectedNoticeKeys(chaosCase, told))
      if (!keys.has(key)) problems.push(`no outbox entry ${key} (${chaosCase.kind})`);
  }

  const group = <T>(items: readonly T[], keyOf: (item: T) => string | null | undefined) => {
    const groups = new Map<string, T[]>();
    for (const item of items) {
      const key = keyOf(item);
      if (key) groups.set(key, [...(groups.get(key) ?? []), item]);
    }
    return groups;
  };
  const mailsById = group(caught.mails, (mail) => mail.messageId);
  const smsByText = group(caught.sms, (sms) => `${sms.to}\n${sms.body}`);
  const at = (epochMs: number) => `${((epochMs - disruptions.epoch(0)) / 1000).toFixed(1)} s`;

  const figures = {
    email: { entries: 0, arrived: 0, copies: 0, explained: 0 },
    sms: { entries: 0, arrived: 0, copies: 0, explained: 0 },
  };
  const statuses: Record<string, number> = {};
  const copies: string[] = [];
  const matched = new Set<string>();
  for (const entry of entries) {
    if (leftByLostTask(entry)) {
      lostTask.push(entry.idempotencyKey);
      continue;
    }
    tally(statuses, entry.status);
    const channel = entry.channel === 'sms' ? figures.sms : figures.email;
    channel.entries += 1;
    if (entry.messageId) matched.add(entry.messageId);
    if (entry.status !== 'sent' && entry.status !== 'delivered') {
      problems.push(`${entry.idempotencyKey} is ${entry.status}${entry.error ? ` (${entry.error})` : ''}`);
      continue;
    }
    const arrivals = (
      entry.channel === 'sms'
        ? (smsByText.get(`${entry.recipient}\n${entry.content?.body ?? ''}`) ?? []).map(
            (sms) => sms.dateCreated,
          )
        : (mailsById.get(entry.messageId ?? '') ?? []).map((mail) => mail.receivedAt)
    )
      .map((date) => date.getTime())
      .sort((a, b) => a - b);
    if (arrivals.length === 0) {
      problems.push(`${entry.idempotencyKey} is marked ${entry.status} but never arrived`);
      continue;
    }
    channel.arrived += 1;
    for (const [index, arrival] of arrivals.slice(1).entries()) {
      channel.copies += 1;
      const previous = arrivals[index] ?? arrival;
      const cause = copyCause(previous, arrival, disruptions);
      const line = `${entry.idempotencyKey}: copies at ${at(previous)} and ${at(arrival)} (${entry.attempts ?? 0} attempts), ${cause ?? 'nothing in between'}`;
      if (cause) {
        channel.explained += 1;
        copies.push(line);
      } else problems.push(`${line}: a duplicate outside the documented window`);
    }
  }
  const strangers = caught.mails.filter(
    (mail) => mail.messageId?.endsWith('@cancelflow>') && !matched.has(mail.messageId),
  );
  for (const mail of strangers)
    problems.push(`a mail with no outbox entry of the run: ${mail.messageId ?? ''} "${mail.subject}"`);
  const { email, sms } = figures;
  return result(
    'every notice that should have gone out went out exactly once',
    `mail: ${email.arrived} of ${email.entries} outbox entries arrived (distinct Message-IDs), copies ${email.copies} (in the documented window ${email.explained}); SMS: ${sms.arrived} of ${sms.entries} arrived, copies ${sms.copies} (in the window ${sms.explained}); outbox ${listed(statuses)}${lostTask.length ? `; left queued by lost workflow tasks (their delivery never started, not in the history) ${lostTask.length}` : ''}`,
    problems,
    {
      notes: [
        ...lostTask.map((key) => `left queued by a lost workflow task, not a notice of the history: ${key}`),
        ...copies.map((line) => `copy in the documented window: ${line}`),
      ],
      data: { ...figures, statuses, copies, lostTask },
    },
  );
}

/**
 * The run's histories replay through the current workflow code without non-determinism: every cancellation's
 * (each run of a chain continued as new) and up to `deliveries` delivery workflows, with the workflow bundle the
 * restarted workers ran and the same data converter as theirs (PAYLOAD_KEYS from their environment).
 */
export async function checkReplay(
  temporal: Client,
  taskQueue: string,
  worker: { env: Record<string, string>; bundlePath: string },
  deliveries: number,
): Promise<CheckResult> {
  const histories = async function* (query: string, limit: number): AsyncIterable<HistoryAndWorkflowId> {
    let taken = 0;
    if (limit <= 0) return;
    for await (const history of temporal.workflow.list({ query }).intoHistories({ concurrency: 4 })) {
      yield history;
      taken += 1;
      if (taken >= limit) return;
    }
  };
  const queue = `TaskQueue = '${taskQueue}'`;
  const all = async function* () {
    yield* histories(`${queue} AND WorkflowType = '${WORKFLOW_TYPE}'`, Number.POSITIVE_INFINITY);
    yield* histories(`${queue} AND WorkflowType != '${WORKFLOW_TYPE}'`, deliveries);
  };
  const replayed: Record<string, number> = {};
  const problems: string[] = [];
  for await (const replay of Worker.runReplayHistories(
    {
      workflowBundle: { codePath: worker.bundlePath },
      dataConverter: temporalDataConverter(parseConfig(worker.env)),
      replayName: 'npm run chaos',
    },
    all(),
  )) {
    tally(replayed, replay.error ? 'failed' : 'ok');
    if (replay.error)
      problems.push(`${replay.workflowId} (${replay.runId}): ${replay.error.name}: ${replay.error.message}`);
  }
  return result(
    'the histories replay without non-determinism',
    `${(replayed.ok ?? 0) + (replayed.failed ?? 0)} workflow runs replayed (every cancellation run, up to ${deliveries} delivery workflows): ${replayed.failed ?? 0} failed`,
    problems,
    { data: replayed },
  );
}

/** While Temporal or the database was down the API answered 503 with a reason and a Retry-After, never hung nor 500. */
export function checkApi(probes: ProbeAnswer[], workload: AnswerCounts): CheckResult {
  const byPhase: Record<string, Record<string, number>> = {};
  const problems: string[] = [];
  for (const answer of probes) {
    tally((byPhase[answer.phase] ??= {}), answer.answer);
    if (isBadAnswer(answer))
      problems.push(
        `${answer.target} while ${answer.phase}: ${answer.answer} after ${answer.ms} ms${answer.retryAfter ? '' : ', no Retry-After'}${answer.reason ? ` (${answer.reason})` : ', no reason'}`,
      );
  }
  for (const [answer, n] of Object.entries(workload))
    if (answer === 'timeout' || (Number(answer) >= 500 && answer !== '503') || !/^\d+$/.test(answer))
      problems.push(`the workload's requests got ${answer} ${n} times`);
  const phases = ['temporal down', 'temporal back', 'database down', 'database back', 'no outage'];
  return result(
    'while Temporal or the database is down the API answers 503 with a reason and Retry-After, never hangs or 500',
    `${phases
      .filter((phase) => byPhase[phase])
      .map((phase) => `${phase}: ${listed(byPhase[phase] ?? {})}`)
      .join('; ')}; the workload's own requests: ${listed(workload)}`,
    problems,
    { data: { byPhase, workload } },
  );
}
