// Heartbeats for the activities that call providers (the payment gateway, the carrier), whose workflow gives
// them a heartbeat timeout (PATCHES.providerHeartbeats).
//
// Why: an attempt the worker will never finish (its worker killed, or its task handed out by a Temporal server
// that stopped before the worker got it) is only retried once Temporal declares it timed out. Their
// start-to-close timeout is two minutes, room for a slow provider, so such an attempt held its cancellation in
// `refunding` for two minutes (`npm run chaos -- --ci` found two). With a heartbeat every few seconds and a
// heartbeat timeout of 20 s, a lost attempt is retried within 20 s, and a slow live one still has its two minutes.
import { Context, heartbeat } from '@temporalio/activity';

/** How often a provider activity says it is alive: well inside the workflow's 20 s heartbeat timeout. */
export const PROVIDER_HEARTBEAT_EVERY_MS = 5_000;

/**
 * Runs `work`, heartbeating at once and then every `everyMs` until it settles. Outside an activity (a test
 * calling the function directly) it only runs `work`.
 */
export async function heartbeatingWhile<T>(
  work: () => Promise<T>,
  everyMs = PROVIDER_HEARTBEAT_EVERY_MS,
): Promise<T> {
  if (!inActivity()) return work();
  heartbeat();
  const timer = setInterval(() => heartbeat(), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

function inActivity(): boolean {
  try {
    Context.current();
    return true;
  } catch {
    return false;
  }
}
