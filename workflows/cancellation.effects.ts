// The one exhaustive mapping from the machine's effects to what carries them out: activities for I/O,
// workflow timers for the approval clock. Results come back as events through `emit`. Adding an effect to the
// machine without a line here is a type error.
import {
  log,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { CancellationActivities } from '../activities';
import { ATTENTION_FAILURES, FAILURE } from '../contracts/failures.contract';
import type {
  CancellationEvent,
  DeadlineName,
  EffectParams,
  EffectType,
  FoundApprovers,
} from '../contracts/effects.contract';
import { customerHearsOf } from '../rules/notices.rules';
import { PATCHES, type UsesPatch } from './patches';

/**
 * What an activity threw. An activity's failure arrives as an ActivityFailure whose cause is it; a local
 * activity's arrives as the ApplicationFailure itself (sdk-core records a local activity's failure without the
 * activity wrapper: temporalio/sdk-core#449), and both mean the same here.
 */
function thrownByActivity(error: unknown): ApplicationFailure | undefined {
  if (error instanceof ActivityFailure)
    return error.cause instanceof ApplicationFailure ? error.cause : undefined;
  return error instanceof ApplicationFailure ? error : undefined;
}

/** The activity failed for good: a non-retryable ApplicationFailure (of one of `types`, when given). */
function failedWith(error: unknown, types?: readonly string[]): string | undefined {
  const failure = thrownByActivity(error);
  if (!failure) return undefined;
  const { type, message, nonRetryable } = failure;
  if (types) return type && types.includes(type) ? message : undefined;
  const listed = typeof type === 'string' && (ATTENTION_FAILURES as readonly string[]).includes(type);
  return nonRetryable || listed ? message : undefined;
}

// Reads and guarded writes on our own database: quick, and worth retrying for as long as it takes.
const booksOptions: LocalActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [...ATTENTION_FAILURES],
  },
};
const booksAsActivities = proxyActivities<CancellationActivities>(booksOptions);
// The same as local activities (PATCHES.leanHistory): run by this worker within the workflow task, each
// one marker event in history instead of six (its three, and the workflow task its result wakes).
const localBooks = proxyLocalActivities<CancellationActivities>(booksOptions);
/** Which of the two this run uses, decided at each call (old histories replay with activities). */
const books = (uses: UsesPatch): CancellationActivities =>
  uses(PATCHES.leanHistory) ? localBooks : booksAsActivities;

// Calls to providers (payment gateway, SMTP, SMS): slower, and retried with a longer backoff.
const providersOptions: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '10 minutes',
    nonRetryableErrorTypes: [FAILURE.refundRefused, FAILURE.refundExceedsCapture, ...ATTENTION_FAILURES],
  },
};
const providersSilent = proxyActivities<CancellationActivities>(providersOptions);
// With PATCHES.providerHeartbeats: the activities heartbeat every 5 s, so a lost attempt is retried within 20 s.
const providersHeartbeating = proxyActivities<CancellationActivities>({
  ...providersOptions,
  heartbeatTimeout: '20 seconds',
});
/** Which of the two this run uses, decided at each call (old histories replay without the heartbeat timeout). */
const providers = (uses: UsesPatch): CancellationActivities =>
  uses(PATCHES.providerHeartbeats) ? providersHeartbeating : providersSilent;

// Telling people (approvers, finance, ops): a few tries, then the cancellation goes on without it. Its
// message is in the outbox and the message centre records; a person's silence is handled by deadlines.
const noticesOptions: LocalActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumAttempts: 5 },
};
const notices = proxyActivities<CancellationActivities>(noticesOptions);
// Recording a notice and starting its delivery workflow, with PATCHES.leanHistory: our database
// and one call to Temporal, short enough to run locally too.
const localNotices = proxyLocalActivities<CancellationActivities>(noticesOptions);

/** Runs a notice; its failure is logged, never thrown: a notice must not hold the cancellation up. */
async function tell(what: string, notice: () => Promise<void>): Promise<undefined> {
  try {
    await notice();
  } catch (error) {
    log.warn(`could not ${what}; the cancellation goes on`, { error: String(error) });
  }
  return undefined;
}

type EffectHandlers = {
  [K in EffectType]: (params: EffectParams[K]) => Promise<CancellationEvent | undefined>;
};

/** An approval clock as it stands, to be carried across continue-as-new. */
export interface RunningClock {
  id: number;
  deadlineMs: number;
  reminderEveryMs: number;
  elapsedMs: number;
}

/** A deadline as it stands (carrier answer, customer choice, goods return), to be carried across continue-as-new. */
export interface RunningDeadline {
  deadline: DeadlineName;
  clock: number;
  /** Time left until it passes. */
  afterMs: number;
}

export interface EffectRunner {
  /** Whether an action the machine returned is an effect (XState's own actions, such as assign, are not). */
  handles(type: string): type is EffectType;
  run<K extends EffectType>(type: K, params: EffectParams[K]): Promise<CancellationEvent | undefined>;
  /** Stops anything still running in the background (the approval clock). */
  stop(): void;
  /** Waits for the notices still being sent, before the run ends or continues as new. */
  drain(): Promise<void>;
  /** The running approval clock, if any, so a continued run can resume it where it was. */
  runningClock(): RunningClock | undefined;
  resumeClock(clock: RunningClock): void;
  runningDeadline(): RunningDeadline | undefined;
  resumeDeadline(deadline: RunningDeadline): void;
}

/**
 * `emit` receives events that arrive later, on their own (the approval clock's reminders and deadline);
 * `beforeSlowStep` is called (and awaited) before a call to a provider (the gateway, the carrier), which may
 * take a while.
 */
export function createEffectRunner(
  emit: (event: CancellationEvent) => void,
  {
    beforeSlowStep = () => Promise.resolve(),
    uses = patched,
  }: { beforeSlowStep?: () => Promise<void>; uses?: UsesPatch } = {},
): EffectRunner {
  const sending: Promise<undefined>[] = [];
  /** Starts a notice; `tell` never throws, so nothing sent in the background can fail the workflow. */
  function notice(what: string, send: () => Promise<void>): Promise<undefined> {
    if (!uses(PATCHES.leanHistory) && !uses(PATCHES.noticesInBackground)) return tell(what, send);
    sending.push(tell(what, send));
    return Promise.resolve(undefined);
  }

  let clock:
    { scope: CancellationScope; state: Omit<RunningClock, 'elapsedMs'>; startedAt: number } | undefined;
  const stopClock = () => {
    clock?.scope.cancel();
    clock = undefined;
  };

  /** Runs an approval clock from `elapsedMs` on (0 when it starts; more when a continued run resumes it). */
  function runClock({ id, deadlineMs, reminderEveryMs, elapsedMs }: RunningClock): void {
    stopClock();
    const scope = new CancellationScope();
    // Date.now() is the workflow's deterministic clock.
    clock = { scope, state: { id, deadlineMs, reminderEveryMs }, startedAt: Date.now() - elapsedMs };
    scope
      .run(async () => {
        let elapsed = elapsedMs;
        let nextReminder = (Math.floor(elapsedMs / reminderEveryMs) + 1) * reminderEveryMs;
        while (nextReminder < deadlineMs) {
          await sleep(nextReminder - elapsed);
          elapsed = nextReminder;
          nextReminder += reminderEveryMs;
          emit({ type: 'APPROVAL_REMINDER_DUE', clock: id });
        }
        await sleep(Math.max(1, deadlineMs - elapsed));
        emit({ type: 'APPROVAL_DEADLINE_PASSED', clock: id });
      })
      .catch((error: unknown) => {
        if (!isCancellation(error)) throw error;
      });
  }

  let deadline:
    { scope: CancellationScope; state: Omit<RunningDeadline, 'afterMs'>; dueAt: number } | undefined;
  const stopDeadline = () => {
    deadline?.scope.cancel();
    deadline = undefined;
  };
  function runDeadline(state: RunningDeadline): void {
    stopDeadline();
    const scope = new CancellationScope();
    deadline = {
      scope,
      state: { deadline: state.deadline, clock: state.clock },
      dueAt: Date.now() + state.afterMs,
    };
    scope
      .run(async () => {
        await sleep(Math.max(1, state.afterMs));
        emit({ type: 'DEADLINE_PASSED', deadline: state.deadline, clock: state.clock });
      })
      .catch((error: unknown) => {
        if (!isCancellation(error)) throw error;
      });
  }

  const handlers: EffectHandlers = {
    async loadPolicy(params) {
      return { type: 'POLICY_LOADED', policy: await books(uses).loadPolicy(params) };
    },
    async reviewOrder(params) {
      const result = await books(uses).reviewOrder(params);
      return result.ok
        ? { type: 'ORDER_REVIEWED', review: result.review }
        : { type: 'ORDER_REFUSED', reason: result.reason };
    },
    async assessRisk(params) {
      return { type: 'RISK_ASSESSED', risk: await books(uses).assessRisk(params) };
    },
    async findApprovers(params) {
      // R15: the activity answers the approvers and the delegations in force then. Histories recorded before
      // delegation hold its older answer, a plain list, and replay with no delegates: the result is recorded
      // data, the commands are the same, so no patch is needed.
      const found: FoundApprovers | string[] = await books(uses).findApprovers(params);
      return Array.isArray(found)
        ? { type: 'APPROVERS_FOUND', approvers: found }
        : { type: 'APPROVERS_FOUND', approvers: found.approvers, delegations: found.delegations };
    },
    startApprovalClock({ clock: id, deadlineMs, reminderEveryMs }) {
      runClock({ id, deadlineMs, reminderEveryMs, elapsedMs: 0 });
      return Promise.resolve(undefined);
    },
    stopApprovalClock() {
      stopClock();
      return Promise.resolve(undefined);
    },
    requestApproval(params) {
      return notice('ask the approvers', async () => {
        if (uses(PATCHES.leanHistory)) return localNotices.recordAndDeliverApprovalRequest(params);
        if (!uses(PATCHES.approvalMailDelivery)) return notices.requestApproval(params);
        const keys = await notices.queueApprovalRequest(params);
        if (keys.length > 0) await notices.startDeliveryWorkflows(keys);
      });
    },
    async releaseStock(params) {
      await books(uses).releaseReservedStock(params);
      return { type: 'STOCK_RELEASED' };
    },
    async requestRecall(params) {
      await beforeSlowStep();
      return { type: 'RECALL_ANSWERED', recalls: await providers(uses).requestRecall(params) };
    },
    startDeadline(params) {
      runDeadline(params);
      return Promise.resolve(undefined);
    },
    stopDeadline() {
      stopDeadline();
      return Promise.resolve(undefined);
    },
    async returnStock(params) {
      await books(uses).returnShippedStock(params);
      return { type: 'STOCK_RETURNED' };
    },
    async arrangeRedelivery(params) {
      await books(uses).arrangeRedelivery(params);
      return { type: 'REDELIVERY_ARRANGED' };
    },
    async reducePurchaseOrders(params) {
      return { type: 'PURCHASE_ORDERS_ADJUSTED', purchasing: await books(uses).reducePurchaseOrders(params) };
    },
    async refundPayment(params) {
      await beforeSlowStep();
      try {
        const refund = await providers(uses).refundPayment(params);
        if (refund.refundedMinor < params.amountMinor) {
          // The payments had less left than the review found (refunded elsewhere meanwhile): finance decides.
          const reason = `only ${refund.refundedMinor} of ${params.amountMinor} could be refunded through the gateway`;
          return { type: 'REFUND_FAILED', reason, refundedMinor: refund.refundedMinor };
        }
        return { type: 'PAYMENT_REFUNDED', refundId: refund.refundId, refundedMinor: refund.refundedMinor };
      } catch (error) {
        const reason = failedWith(error, [FAILURE.refundRefused, FAILURE.refundExceedsCapture]);
        if (!reason) throw error;
        // What did go back before the refusal (an order paid in several payments) is on the books.
        const refundedMinor = await books(uses).refundedForCancellation({
          cancellationId: params.cancellationId,
        });
        return { type: 'REFUND_FAILED', reason, refundedMinor };
      }
    },
    async findStaff(params) {
      return { type: 'STAFF_FOUND', role: params.role, people: await books(uses).findStaff(params) };
    },
    requestSettlement(params) {
      return notice('ask finance to settle', () => notices.requestSettlement(params));
    },
    async recordManualSettlement(params) {
      return { type: 'SETTLEMENT_RECORDED', refundedMinor: await books(uses).recordManualSettlement(params) };
    },
    reportAttention(params) {
      return notice('tell ops', () => notices.reportAttention(params));
    },
    async closeOrder(params) {
      await books(uses).markOrderCancelled(params);
      return { type: 'ORDER_CLOSED' };
    },
    notify(params) {
      return notice(`send the ${params.moment} notices`, async () => {
        const { tellCustomer, customerId, offer, ...rest } = params;
        // The wait becomes a date on the workflow's clock, the same clock its deadline runs on.
        const about = {
          ...rest,
          offer: offer && {
            options: offer.options,
            defaultOption: offer.defaultOption,
            decideBy: new Date(Date.now() + offer.decideWithinMs).toISOString(),
            refundableMinor: offer.refundableMinor,
            deductionMinor: offer.deductionMinor,
          },
        };
        const moment = params.moment;
        const customerNotice =
          tellCustomer && customerId && customerHearsOf(moment)
            ? { ...about, customerId, moment }
            : undefined;
        if (uses(PATCHES.leanHistory)) {
          await localNotices.recordAndDeliverNotices({
            departments: about,
            ...(customerNotice ? { customer: customerNotice } : {}),
          });
          return;
        }
        if (uses(PATCHES.noticesDeliveredByWorkflows)) {
          // Recorded independently: a customer message that cannot be made does not silence the departments.
          const queued = await Promise.allSettled([
            notices.queueDepartmentNotifications(about),
            ...(customerNotice ? [notices.queueCustomerNotifications(customerNotice)] : []),
          ]);
          const keys = queued.flatMap((result) => (result.status === 'fulfilled' ? result.value : []));
          if (keys.length > 0) await notices.startDeliveryWorkflows(keys);
          const refused = queued.find((result) => result.status === 'rejected');
          if (refused) throw refused.reason;
          return;
        }
        const keys = await notices.queueDepartmentNotifications(about);
        if (customerNotice) keys.push(...(await notices.queueCustomerNotifications(customerNotice)));
        // Each message is recorded in the outbox before this; a few tries here, and a failure stays recorded
        // there (visible on the cancellation) for redelivery, without holding the cancellation up.
        for (const key of keys)
          await tell(`deliver ${key}`, async () => void (await notices.deliverNotification(key)));
      });
    },
    async notifyCustomer(params) {
      if (uses(PATCHES.leanHistory)) {
        // Recorded and handed to delivery in one step, retried until Temporal takes it: a Temporal that cannot
        // start a workflow cannot run this one either, so there is nothing better to do meanwhile.
        return { type: 'CUSTOMER_NOTIFIED', results: await localBooks.recordAndDeliverCompletion(params) };
      }
      if (!uses(PATCHES.customerCompletionDelivery)) {
        return { type: 'CUSTOMER_NOTIFIED', results: await providersSilent.notifyCustomer(params) };
      }
      // Recording is our own database (a message that cannot be made comes back as skipped); starting the
      // deliveries gets a few tries, and failing that the view says so: the cancellation is complete anyway.
      const { keys, results } = await books(uses).queueCustomerCompletion(params);
      if (keys.length === 0) return { type: 'CUSTOMER_NOTIFIED', results };
      try {
        await notices.startDeliveryWorkflows(keys);
      } catch (error) {
        const detail = `recorded, but its delivery could not be started: ${String(error)}`;
        log.warn('could not start the delivery of the cancelled message', { error: String(error) });
        await tell('give up the cancelled message', async () => {
          for (const key of keys) await notices.recordNotificationFailure({ key, reason: detail });
        });
        const failed = results.map((result) =>
          result.status === 'queued' ? { ...result, status: 'failed' as const, detail } : result,
        );
        return { type: 'CUSTOMER_NOTIFIED', results: failed };
      }
      return { type: 'CUSTOMER_NOTIFIED', results };
    },
  };

  return {
    handles: (type): type is EffectType => Object.hasOwn(handlers, type),
    async run(type, params) {
      try {
        return await handlers[type](params);
      } catch (error) {
        // Any failure retrying cannot fix, foreseen or not, waits for a person instead of failing the workflow.
        const reason = failedWith(error);
        if (!reason) throw error;
        return { type: 'EFFECT_FAILED', effect: type, reason };
      }
    },
    stop() {
      stopClock();
      stopDeadline();
    },
    async drain() {
      while (sending.length > 0) await Promise.all(sending.splice(0));
    },
    runningClock: () => clock && { ...clock.state, elapsedMs: Date.now() - clock.startedAt },
    resumeClock: runClock,
    runningDeadline: () => deadline && { ...deadline.state, afterMs: deadline.dueAt - Date.now() },
    resumeDeadline: runDeadline,
  };
}

/** Keeps the database copy of the cancellation in step with the workflow, a step at a time (older runs). */
export const recordProgress: CancellationActivities['recordCancellationState'] = (progress) =>
  books(patched).recordCancellationState(progress);

/** The same for the steps taken since the workflow last waited, in one call (PATCHES.recordStepsTogether). */
export const recordSteps: CancellationActivities['recordCancellationSteps'] = (steps) =>
  localBooks.recordCancellationSteps(steps);
