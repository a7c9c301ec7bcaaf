import { setTimeout as wait } from 'node:timers/promises';

/**
 * Retries an assertion until it holds, for effects a workflow carries out after the state a test can see
 * (an activity still running). Fails with the assertion's own error after `timeoutMs`.
 */
export async function eventually<T>(assertion: () => Promise<T> | T, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await wait(100);
    }
  }
}
