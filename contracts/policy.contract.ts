// The cancellation policy (R8, R21) as the workflow sees it: plain data, loaded and validated by an activity
// (activities/policy.activities.ts) from a versioned file, so rules change without a code change and every
// cancellation records the version it ran under. Durations are milliseconds here.
import type {
  Department,
  NoticeMoment,
  ReasonCode,
  ResolutionOption,
  RiskLevel,
} from './cancellation.contract';

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
    /** Payment fees the gateway keeps on a refund, as a share of it (percent): money lost, not returned. */
    paymentFeePercent: number;
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
  /**
   * R6, R24: which departments hear of each moment. Absent only in policies that running cancellations
   * recorded before it was part of the policy; they keep the defaults (DEPARTMENTS_BY_MOMENT).
   */
  notices?: Record<NoticeMoment, Department[]>;
  /** R9, R12: when the goods have left the warehouse. */
  afterShipment: {
    /** How long to wait for the carrier's later answer on a recall. */
    carrierAnswerDeadlineMs: number;
    /** No answer by then: offer the customer the options, or stop for a person to find out. */
    onCarrierSilence: 'ask_customer' | 'needs_attention';
    customerOptions: ResolutionOption[];
    customerChoiceDeadlineMs: number;
    /** Applied when the customer does not choose in time; one of `customerOptions`. */
    defaultOption: ResolutionOption;
    /** Share of the refund kept back when the customer keeps the goods (refund without return). */
    deductionPercent: number;
    /** After this, logistics is reminded that goods expected back have not arrived (the wait goes on). */
    returnDeadlineMs: number;
  };
}
