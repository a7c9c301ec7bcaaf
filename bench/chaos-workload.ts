// The work `npm run chaos` puts through the API while bench/chaos-faults.ts breaks the stack: cancellations of
// every kind a shop sees, each of an order of its own (placed with the demo data's helpers, so its stock and
// money are known exactly), the providers told per order how to answer, and the people acting on what waits
// for them through the API with their own keys: the requester asks, withdraws and passes on the customer's
// choice; the approver decides; finance settles by hand; the warehouse confirms parcels back; ops resume.
import { performance } from 'node:perf_hooks';
import {
  CancelflowApiError,
  CancelflowClient,
  type CancellationSummary,
  type CreateCancellationRequest,
} from '../client/cancelflow-client';
import type { CancellationOutcome } from '../contracts/cancellation.contract';
import { seededRandom } from '../generators/books';
import { addCustomer, addProduct, placePaidOrder, receiveStock, shipOrder } from '../generators/demo-data';
import type { Models } from '../models';
import { issueApiKey } from '../models/credentials';
import { untilTaken } from './cancelling';
import { runSlots, sleep } from './common';
import type { StackServers } from './stack';

/** The kinds of cancellation a run mixes, what each is, how often it comes (of 100) and how it should end. */
export const CASE_KINDS = {
  auto: { says: 'auto-approved (low risk)', weight: 25, ends: 'completed' },
  approved: { says: 'approved by an approver (medium risk)', weight: 12, ends: 'completed' },
  rejected: { says: 'rejected by an approver', weight: 10, ends: 'rejected' },
  withdrawn: { says: 'withdrawn by the requester while awaiting approval', weight: 8, ends: 'withdrawn' },
  partial: { says: 'partial: one line of two', weight: 10, ends: 'completed' },
  recallStopped: {
    says: 'shipped; the carrier stops the parcel, the warehouse confirms it back',
    weight: 9,
    ends: 'completed',
  },
  recallTooLate: {
    says: 'shipped; the recall fails (too late), the customer keeps the goods less a deduction',
    weight: 8,
    ends: 'completed',
  },
  refundRetried: {
    says: 'the refund fails transiently twice, then goes through',
    weight: 10,
    ends: 'completed',
  },
  refundRefused: {
    says: 'the refund is refused for good; finance settles it by hand',
    weight: 8,
    ends: 'completed',
  },
} as const satisfies Record<string, { says: string; weight: number; ends: CancellationOutcome }>;
export type CaseKind = keyof typeof CASE_KINDS;
const KINDS = Object.keys(CASE_KINDS) as CaseKind[];

export const CHAOS_PREFIX = 'CHAOS';
/** Units received beyond what an order reserves, so a SKU's figures are not all zero. */
export const SPARE_UNITS = 3;
const MEDIUM_RISK_PRICE_MINOR = 250_000; // above the policy's mediumRefundMinor (2,000.00)

export interface CaseLine {
  lineId: string;
  sku: string;
  quantity: number;
  unitPriceMinor: number;
  /** Whether the cancellation asks for this line. */
  cancelled: boolean;
}

/** One person's action on a cancellation through the API, and what the API answered. */
export interface PersonAction {
  who: keyof People;
  what: string;
  state: string;
  /** `ok`, the HTTP status of a refusal, or the client's error (a timeout). */
  answer: string;
}

export interface ChaosCase {
  kind: CaseKind;
  orderNumber: string;
  customerId: string;
  /** The payment's reference at the gateway, which its refunds name. */
  paymentReference: string;
  capturedMinor: number;
  lines: CaseLine[];
  shipmentId?: string;
  request: CreateCancellationRequest;
  idempotencyKey: string;
  cancellationId?: string;
  /** The state and outcome as the API's list last showed them. */
  state?: string;
  outcome?: CancellationOutcome;
  statesSeen: string[];
  /** Why it needed ops, each reason the list showed. */
  attention: string[];
  actions: PersonAction[];
  /** Why asking for it failed, when the API never took it. */
  requestFailure?: string;
  /**
   * The API refused an action as "no longer running" while the list still showed the case waiting: its workflow
   * ended without its database copy hearing of it (the checks say so). Counted as finished, to stop waiting.
   */
  closedBehindCopy?: boolean;
  /** Milliseconds (performance.now) when the API took it and when the list first showed it ended. */
  requestedAt?: number;
  endedAt?: number;
}

const pad = (index: number) => String(index + 1).padStart(6, '0');

/** The kinds for `count` cancellations in their proportions (largest remainders round), shuffled with the seed. */
function allot(count: number, seed: number): CaseKind[] {
  const total = KINDS.reduce((sum, kind) => sum + CASE_KINDS[kind].weight, 0);
  const shares = KINDS.map((kind) => ({ kind, exact: (count * CASE_KINDS[kind].weight) / total }));
  const counts = new Map(shares.map(({ kind, exact }) => [kind, Math.floor(exact)]));
  const left = count - [...counts.values()].reduce((sum, n) => sum + n, 0);
  for (const { kind } of [...shares].sort((a, b) => (b.exact % 1) - (a.exact % 1)).slice(0, left))
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  const random = seededRandom(seed * 7919 + 101);
  return [...counts]
    .flatMap(([kind, n]) => Array.from({ length: n }, () => ({ kind, order: random() })))
    .sort((a, b) => a.order - b.order)
    .map(({ kind }) => kind);
}

function linesOf(kind: CaseKind, orderNumber: string): CaseLine[] {
  const sku = (lineId: string) => `${orderNumber}-${lineId}`;
  if (kind === 'approved' || kind === 'rejected' || kind === 'withdrawn')
    return [
      { lineId: 'L1', sku: sku('L1'), quantity: 1, unitPriceMinor: MEDIUM_RISK_PRICE_MINOR, cancelled: true },
    ];
  if (kind === 'partial')
    return [
      { lineId: 'L1', sku: sku('L1'), quantity: 2, unitPriceMinor: 4_500, cancelled: true },
      { lineId: 'L2', sku: sku('L2'), quantity: 1, unitPriceMinor: 16_800, cancelled: false },
    ];
  return [{ lineId: 'L1', sku: sku('L1'), quantity: 2, unitPriceMinor: 4_500, cancelled: true }];
}

/** The cancellations of a run, with their orders' numbers, lines and what each asks; nothing written yet. */
export function planCases(count: number, seed: number, runId: string): ChaosCase[] {
  return allot(count, seed).map((kind, index) => {
    const orderNumber = `${CHAOS_PREFIX}-${pad(index)}`;
    const lines = linesOf(kind, orderNumber);
    const shipped = kind === 'recallStopped' || kind === 'recallTooLate';
    return {
      kind,
      orderNumber,
      customerId: `${CHAOS_PREFIX}-C${pad(index)}`,
      paymentReference: `ch_${orderNumber.toLowerCase()}`, // as placePaidOrder records it
      capturedMinor: lines.reduce((sum, line) => sum + line.quantity * line.unitPriceMinor, 0),
      lines,
      ...(shipped ? { shipmentId: `${CHAOS_PREFIX}-SH-${pad(index)}` } : {}),
      request: {
        orderNumber,
        reasonCode: 'customer_changed_mind',
        confirm: [shipped ? 'shipped' : 'awaiting_shipment'],
        ...(kind === 'partial'
          ? {
              lines: lines
                .filter((line) => line.cancelled)
                .map(({ lineId, quantity }) => ({ lineId, quantity })),
            }
          : {}),
      },
      idempotencyKey: `chaos-${runId}-${orderNumber}`,
      statesSeen: [],
      attention: [],
      actions: [],
    };
  });
}

/**
 * Writes each case's customer (a phone and mailbox of their own, so every message can be told apart at the
 * simulators), products, stock, paid order and, for the shipped kinds, its parcel; then tells the gateway and the
 * carrier how to answer for it.
 */
export async function placeCases(models: Models, servers: StackServers, cases: ChaosCase[]): Promise<void> {
  const run = await runSlots('chaos orders', cases.length, 8, Number.POSITIVE_INFINITY, async (index) => {
    const chaosCase = cases[index];
    if (!chaosCase) return;
    await addCustomer(models, {
      customerId: chaosCase.customerId,
      name: index % 2 ? `混沌客户 ${index + 1}` : `Chaos Customer ${index + 1}`,
      email: `chaos.${index + 1}@example.cn`,
      phone: `+86138${String(index).padStart(8, '0')}`,
      country: 'CN',
      language: index % 2 ? 'zh-CN' : 'en',
    });
    for (const line of chaosCase.lines) {
      await addProduct(models, {
        sku: line.sku,
        name: `Chaos ${line.sku}`,
        unitPriceMinor: line.unitPriceMinor,
        currency: 'CNY',
      });
      await receiveStock(models, line.sku, line.quantity + SPARE_UNITS);
    }
    await placePaidOrder(models, {
      orderNumber: chaosCase.orderNumber,
      customerId: chaosCase.customerId,
      currency: 'CNY',
      lines: chaosCase.lines.map(({ lineId, sku, quantity, unitPriceMinor }) => ({
        lineId,
        sku,
        quantity,
        unitPriceMinor,
      })),
    });
    if (chaosCase.shipmentId)
      await shipOrder(models, chaosCase.orderNumber, { shipmentId: chaosCase.shipmentId });
  });
  if (run.failures.length)
    throw new Error(`placing the chaos orders: ${run.failures.length} failed, the first: ${run.failures[0]}`);
  for (const chaosCase of cases) {
    if (chaosCase.kind === 'refundRetried')
      servers.gateway.setBehaviourFor(chaosCase.paymentReference, { mode: 'fail_transient', times: 2 });
    if (chaosCase.kind === 'refundRefused')
      servers.gateway.setBehaviourFor(chaosCase.paymentReference, { mode: 'fail_final' });
    if (chaosCase.kind === 'recallTooLate' && chaosCase.shipmentId)
      servers.carrier.setBehaviourFor(chaosCase.shipmentId, { mode: 'refuse' });
  }
}

/** What people did about a case and what the API answered, counted: "approver approve → 503 ×2, ok". */
export function actionsSaid(chaosCase: ChaosCase): string {
  const counts = new Map<string, number>();
  for (const { who, what, answer } of chaosCase.actions) {
    const said = `${who} ${what} → ${answer}`;
    counts.set(said, (counts.get(said) ?? 0) + 1);
  }
  return [...counts].map(([said, n]) => (n > 1 ? `${said} ×${n}` : said)).join(', ') || 'none';
}

/** A case as the results keep it: what it was, how it went, how long it took. */
export function caseSummary(chaosCase: ChaosCase) {
  const { kind, orderNumber, cancellationId, state, outcome, statesSeen, attention, requestFailure } =
    chaosCase;
  const { requestedAt, endedAt } = chaosCase;
  return {
    kind,
    orderNumber,
    cancellationId,
    ...(outcome ? { outcome } : { state }),
    seconds:
      requestedAt !== undefined && endedAt !== undefined
        ? Math.round((endedAt - requestedAt) / 100) / 10
        : null,
    states: statesSeen,
    people: actionsSaid(chaosCase),
    ...(attention.length ? { attention } : {}),
    ...(requestFailure ? { requestFailure } : {}),
  };
}

/** The people who act, each through the API with an API key of their own. */
export interface People {
  requester: CancelflowClient;
  approver: CancelflowClient;
  finance: CancelflowClient;
  warehouse: CancelflowClient;
  ops: CancelflowClient;
}

/** Keys for the demo people (the stack seeded them) in the one role each plays here. */
export async function issuePeople(models: Models, apiUrl: string): Promise<People> {
  const key = async (
    personId: string,
    role: 'requester' | 'approver' | 'finance_clerk' | 'warehouse_clerk' | 'ops',
  ) => {
    const { token } = await issueApiKey(models, {
      name: `npm run chaos (${role})`,
      personId,
      scopes: [role],
      createdBy: 'npm run chaos',
    });
    return new CancelflowClient({ baseUrl: apiUrl, apiKey: token, timeoutMs: 20_000 });
  };
  return {
    requester: await key('clerk-1', 'requester'),
    approver: await key('manager-1', 'approver'),
    finance: await key('finance-1', 'finance_clerk'),
    warehouse: await key('warehouse-1', 'warehouse_clerk'),
    ops: await key('ops-1', 'ops'),
  };
}

/** Every answer the API gave the workload, by HTTP status (`timeout` when none came in time). */
export type AnswerCounts = Record<string, number>;

function answerOf(error: unknown): string {
  if (error instanceof CancelflowApiError) return String(error.status);
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return 'timeout';
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function count(answers: AnswerCounts, answer: string): void {
  answers[answer] = (answers[answer] ?? 0) + 1;
}

export interface RequestOptions {
  /** At most this many of the run's cancellations unfinished at once: requests wait for room. */
  inFlight: number;
  /** How long one request may be repeated while the API answers 503 or not at all. */
  timeoutMs: number;
  /** Ask for no more (the run's time is up). */
  stop: () => boolean;
}

/** Asks for every case's cancellation as the requester, keeping `inFlight` unfinished; repeats what the API could not take now. */
export async function requestCancellations(
  cases: ChaosCase[],
  requester: CancelflowClient,
  options: RequestOptions,
  answers: AnswerCounts,
): Promise<void> {
  // Asked and not yet ended, those still being asked included.
  let asking = 0;
  const unfinished = () =>
    asking +
    cases.filter(
      (chaosCase) =>
        chaosCase.requestedAt !== undefined && chaosCase.endedAt === undefined && !chaosCase.closedBehindCopy,
    ).length;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(options.inFlight, cases.length) }, async () => {
      while (next < cases.length) {
        while (unfinished() >= options.inFlight && !options.stop()) await sleep(250);
        const chaosCase = cases[next];
        next += 1;
        if (!chaosCase) break;
        if (options.stop()) {
          chaosCase.requestFailure = "not asked: the run's time was up";
          continue;
        }
        asking += 1;
        try {
          const accepted = await untilTaken(
            `POST /v1/cancellations ${chaosCase.orderNumber}`,
            options.timeoutMs,
            () =>
              requester
                .createCancellation(chaosCase.request, { idempotencyKey: chaosCase.idempotencyKey })
                .catch((error: unknown) => {
                  count(answers, answerOf(error));
                  throw error;
                }),
          );
          count(answers, '202');
          chaosCase.cancellationId = accepted.cancellationId;
          chaosCase.requestedAt = performance.now();
        } catch (error) {
          chaosCase.requestFailure = error instanceof Error ? error.message : String(error);
        } finally {
          asking -= 1;
        }
      }
    }),
  );
}

/** What a person does about a cancellation in this state, given what the case should become; none to wait. */
function actionFor(chaosCase: ChaosCase, id: string, state: string, people: People, opsMayAct: boolean) {
  if (state.startsWith('awaitingApproval.waitingForDecision')) {
    if (chaosCase.kind === 'withdrawn')
      return {
        who: 'requester',
        what: 'withdraw',
        send: () => people.requester.withdraw(id, { reason: 'chaos' }),
      } as const;
    const approved = chaosCase.kind !== 'rejected';
    return {
      who: 'approver',
      what: approved ? 'approve' : 'reject',
      send: () => people.approver.decide(id, { approved, comment: 'chaos run' }),
    } as const;
  }
  if (state.startsWith('awaitingSettlement.waitingForFinance'))
    return {
      who: 'finance',
      what: 'settle by hand',
      send: () => people.finance.settle(id, { reference: `BANK-${chaosCase.orderNumber}` }),
    } as const;
  if (state.startsWith('awaitingReturn.waitingForGoods') && chaosCase.shipmentId) {
    const shipmentId = chaosCase.shipmentId;
    return {
      who: 'warehouse',
      what: 'confirm the parcel back',
      send: () => people.warehouse.confirmReturn(id, { shipmentId }),
    } as const;
  }
  if (state.startsWith('agreeingWithCustomer'))
    return {
      who: 'requester',
      what: 'pass on the choice to keep the goods',
      send: () => people.requester.recordChoice(id, { option: 'refund_without_return' }),
    } as const;
  // Ops resume what stopped once the outage that stopped it is over, as they would.
  if (state.startsWith('needsAttention.waitingForOps') && opsMayAct)
    return {
      who: 'ops',
      what: 'resume',
      send: () => people.ops.resume(id, { note: 'chaos: the outage is over' }),
    } as const;
  return undefined;
}

export interface PeopleOptions {
  /** How often the people look at what waits. */
  everyMs: number;
  /** Whether ops may resume now (no outage under way). */
  opsMayAct: () => boolean;
  /** Stop looking. */
  done: () => boolean;
}

/** The run's cancellations as the API lists them (the database copy), all pages. */
async function listRun(ops: CancelflowClient, createdFrom: string): Promise<CancellationSummary[]> {
  const items: CancellationSummary[] = [];
  let cursor: string | undefined;
  do {
    const page = await ops.listCancellations({ createdFrom, limit: 100, ...(cursor ? { cursor } : {}) });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

/**
 * The people at work until `done()`: every `everyMs` ops list the run's cancellations (the database copy, as
 * every queue of the console reads it), and whoever a waiting cancellation waits for acts through the API. An
 * action is not repeated for the same state within 10 s (the copy may not have moved yet); one the workflow
 * refuses (409: it moved on meanwhile) is looked at again on the next round.
 */
/** The cases as the API lists them now: state, outcome, and why any needs ops. */
export async function refreshCases(
  cases: ChaosCase[],
  ops: CancelflowClient,
  createdFrom: string,
): Promise<{ chaosCase: ChaosCase; summary: CancellationSummary }[]> {
  const byId = new Map(
    cases.flatMap((chaosCase) =>
      chaosCase.cancellationId ? [[chaosCase.cancellationId, chaosCase] as const] : [],
    ),
  );
  const seen = [];
  for (const summary of await listRun(ops, createdFrom)) {
    const chaosCase = byId.get(summary.cancellationId);
    if (!chaosCase) continue; // another run's
    chaosCase.state = summary.state;
    if (chaosCase.statesSeen.at(-1) !== summary.state) chaosCase.statesSeen.push(summary.state);
    const reason = summary.attention?.reason;
    if (reason && !chaosCase.attention.includes(reason)) chaosCase.attention.push(reason);
    if (summary.outcome) {
      chaosCase.outcome = summary.outcome;
      chaosCase.endedAt ??= performance.now();
    }
    seen.push({ chaosCase, summary });
  }
  return seen;
}

export async function runPeople(
  cases: ChaosCase[],
  people: People,
  createdFrom: string,
  options: PeopleOptions,
  answers: AnswerCounts,
): Promise<void> {
  const lastTried = new Map<string, number>();
  const inFlight = new Set<string>();
  while (!options.done()) {
    let listed: { chaosCase: ChaosCase; summary: CancellationSummary }[] = [];
    try {
      listed = await refreshCases(cases, people.ops, createdFrom);
      count(answers, '200');
    } catch (error) {
      count(answers, answerOf(error));
    }
    for (const { chaosCase, summary } of listed) {
      if (summary.outcome) continue;
      const action = actionFor(chaosCase, summary.cancellationId, summary.state, people, options.opsMayAct());
      const key = `${summary.cancellationId}:${summary.state}`;
      if (
        !action ||
        inFlight.has(summary.cancellationId) ||
        performance.now() - (lastTried.get(key) ?? -Infinity) < 10_000
      )
        continue;
      lastTried.set(key, performance.now());
      inFlight.add(summary.cancellationId);
      void action
        .send()
        .then(
          () => 'ok',
          (error: unknown) => {
            // The API says the workflow ended while its list still shows it waiting: nothing more to do for it.
            if (error instanceof CancelflowApiError && /no longer running/.test(error.body.message))
              chaosCase.closedBehindCopy = true;
            return answerOf(error);
          },
        )
        .then((answer) => {
          count(answers, answer === 'ok' ? '200' : answer);
          chaosCase.actions.push({ who: action.who, what: action.what, state: summary.state, answer });
          inFlight.delete(summary.cancellationId);
        });
    }
    await sleep(options.everyMs);
  }
  while (inFlight.size > 0) await sleep(100);
}
