// Every patch the workflow code branches on (the SDK's `patched`), oldest first. Whoever reaches a `patched()`
// call live records its marker and takes the new way, runs started before the deploy included; a history that
// passed the call without the marker replays the old way. (`recheckAfterApproval` is decided once, at the start,
// and kept in the machine's context, so there a run keeps the way it started.) docs/versioning.md tells when a patch may be retired (`deprecatePatch`, then removed); the replay
// test checks that the stored histories replay each of them both ways.
export const PATCHES = {
  /**
   * After an approval the order is read again (it may have shipped meanwhile). Runs started before this keep
   * going without the second look; the flag is kept in the machine's context, so it crosses continue-as-new.
   */
  recheckAfterApproval: 'recheck-after-approval',
  /**
   * Notices (approvers, finance, ops, customers, departments) are sent beside the cancellation rather than before
   * its next step: a mail server retried for minutes used to hold the whole cancellation up. Histories recorded
   * before this change sent them inline, and replay that way behind this patch.
   */
  noticesInBackground: 'notices-in-background',
  /**
   * Each recorded message is handed to its own delivery workflow (notification-delivery.workflow.ts: Temporal's
   * retries, 30 s doubling up to 2 h apart, for a day), started by an activity as a workflow with no parent.
   * Histories recorded before this delivered each message here with a few attempts, and replay that way.
   *
   * Why not the alternatives. Abandoned children: correct on a real server, but the time-skipping test server
   * (1.40.0) locks time skipping when a child closes, until the parent takes the news; a parent already closed
   * (or continued as new) never does, so from then on time passes in real time (sdk-java #2392, #1540) and our
   * deadline tests stall. Retrying here for a day: the workflow waits for its notices before it ends or
   * continues as new (`drain()`), so a mail server down for hours would hold the end, the continue-as-new and
   * every decision queued meanwhile. A workflow of its own per message has neither cost, outlives the
   * cancellation's end, and its workflow id (one per outbox key) makes starting it again harmless.
   */
  noticesDeliveredByWorkflows: 'notices-delivered-by-workflows',
  /**
   * The customer's "cancelled" message goes the same way: recorded, handed to its delivery workflows, and the
   * view says `queued` (the outbox says what became of it). Histories recorded before this sent it here in
   * one attempt per channel, which a provider down at that moment failed for good.
   */
  customerCompletionDelivery: 'customer-completion-delivered-by-workflow',
  /**
   * The approvers' request and reminder mails too: recorded with their content, then handed to their delivery
   * workflows. Histories recorded before this sent each once, at once.
   */
  approvalMailDelivery: 'approval-mails-delivered-by-workflows',
  /**
   * Issue #13, one patch for the three changes that make a cancellation's history lean (each patch a run meets
   * costs it a marker and a search-attribute write, so they share one; a run under it also skips the calls to
   * the patches above, which would record their markers for nothing):
   * - short reads and writes on our own database (the policy, review, risk, stock, purchase orders, closing the
   *   order, recording each step) run as local activities: within the workflow task that asks for them, one
   *   marker event each where an activity and the workflow task its result wakes cost six, and no round trip
   *   through the task queue. Calls to providers stay activities;
   * - each notice is recorded and handed to one delivery workflow for all its messages in one activity
   *   (notices.activities.ts, notificationBatchDeliveryWorkflow), where it took a recording activity, a
   *   starting activity and one workflow per message;
   * - the state and risk search attributes are written when they changed and the workflow is about to wait (for
   *   a provider, a person or time), not on every step of milliseconds.
   * Histories recorded before this replay the old ways.
   */
  leanHistory: 'lean-history',
  /**
   * A person's decision (an Update) is answered before the steps it leads to run: under lean-history those
   * steps are local activities in the same workflow task, and the answer leaves only when the task completes,
   * so an approver waited for the release, the purchase orders and the rest (over the API's 10 s deadline with
   * 1,000 approvals at once, `npm run bench -- --waiting 1000`). A one-millisecond timer ends the task with the
   * answer. Histories recorded before this replay without the timer.
   */
  answerPeopleFirst: 'answer-people-first',
  /**
   * The database copy is written once before the workflow waits (for a provider, a person or time) and at the
   * end, with every step taken since, rather than after each step: a low-risk cancellation's eight reads and
   * writes of its record become two (issue #13). The steps in between run in one workflow task within
   * milliseconds, and the API answers for a running cancellation from the workflow itself, so no reader saw
   * them there anyway. Histories recorded before this replay with a write per step.
   */
  recordStepsTogether: 'record-steps-together',
  /**
   * The calls to providers (the payment gateway, the carrier) heartbeat, with a 20 s heartbeat timeout beside
   * their two minutes to finish (activities/heartbeats.ts): an attempt lost with its worker, or with a Temporal
   * server that stopped as it handed the task out, is retried within 20 s rather than after two minutes, which
   * held cancellations in `refunding` past the end of `npm run chaos -- --ci`. Histories recorded before this
   * schedule them without a heartbeat timeout.
   */
  providerHeartbeats: 'provider-heartbeats',
  /**
   * Every patch above is decided once, in a run's first workflow task: a run that records this marker takes
   * each new way without asking `patched()` again (and records none of their markers); a run without it asks
   * each where it always did.
   *
   * Why. `patched()` replaying a history answers from the markers of the workflow task being replayed. A run's
   * steps are local activities, and when they outlast 80 % of the task timeout the worker heartbeats the task:
   * it completes it with what is done and goes on in a new one. `npm run chaos` found a run whose local
   * activity resolved on such a heartbeat task: the worker recorded the activity's marker in one task, and the
   * commands the workflow made on its result (the provider-heartbeats marker first) in the next. Replayed, the
   * result arrives with the first task, `patched('provider-heartbeats')` cannot see the marker yet and answers
   * false, and the run fails on non-determinism for good (TMPRL1100, "Non-deprecated patch marker
   * encountered"). A patch asked for the first time right after a local activity can always meet this; one
   * decided in the first task, before any local activity, cannot. A patch added after this one gets a marker of
   * its own, asked for in the first task too, not `UsesPatch` (which answers true for every run that recorded
   * this one, open runs from before the new patch included). Histories recorded before this replay asking as
   * they did.
   */
  decidedAtStart: 'patches-decided-at-start',
} as const;

export type PatchId = (typeof PATCHES)[keyof typeof PATCHES];

/**
 * Whether this run takes a patch's new way: `patched(patch)` for runs from before PATCHES.decidedAtStart, true
 * for runs that decided it at their start. The cancellation workflow makes it in its first workflow task and
 * hands it to everything that branches on a patch.
 */
export type UsesPatch = (patch: PatchId) => boolean;
