// The cancellation policy (R8, R21) as the workflow sees it: plain data, loaded and validated by an activity
// (activities/policy.activities.ts) from a versioned file, so rules change without a code change and every
// cancellation records the version it ran under. Durations are milliseconds here.
import type { ReasonCode, RiskLevel } from './cancellation.contract';

export interface ApprovalStep {
  /** The approval level (people's `approvalLevel`) an approver needs for this step. */
  level: number;
  deadlineMs: number;
  reminderEveryMs: number;
}

export interface CancellationPolicy {
  version: string;
  cancellableStatuses: string[];
  risk: {
    mediumRefundMinor: number;
    highRefundMinor: number;
    frequentCancellerCount: number;
    relationshipTiers: string[];
    highRiskReasons: ReasonCode[];
  };
  approval: Record<RiskLevel, ApprovalStep[]> & {
    escalation: { maxEscalations: number; deadlineMs: number };
    onFinalTimeout: 'reject' | 'approve';
  };
  refund: {
    partialCancellation: 'lines_amount' | 'none';
    wholeCancellation: 'all_captured' | 'lines_amount';
  };
}
