import { ApplicationFailure } from '@temporalio/activity';
import { isCancelflowError } from '../lib/errors';
import { loadPolicyFile } from '../lib/policy';
import type { EffectParams } from '../contracts/effects.contract';
import type { CancellationPolicy } from '../contracts/policy.contract';
import type { ActivityDeps } from './deps';
import { FAILURE } from '../contracts/failures.contract';

export function createPolicyActivities({ policyFile }: ActivityDeps) {
  return {
    /** R8: the policy in force when the cancellation starts; its version is recorded with the cancellation. */
    async loadPolicy(_params: EffectParams['loadPolicy']): Promise<CancellationPolicy> {
      try {
        return await loadPolicyFile(policyFile);
      } catch (error) {
        // A missing or broken policy file is not fixed by retrying: ops correct it, then resume.
        const missing = (error as { code?: unknown }).code === 'ENOENT';
        if (isCancelflowError(error) || missing) {
          throw ApplicationFailure.nonRetryable(
            missing ? `the policy file ${policyFile} does not exist` : (error as Error).message,
            FAILURE.invalidPolicy,
          );
        }
        throw error;
      }
    },
  };
}
