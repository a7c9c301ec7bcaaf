// Every named failure an activity or the workflow raises (Temporal's ApplicationFailure `type`), in one list.
// The workflow's retry policies and its routing to needsAttention read these; callers of the Updates tell a
// refusal from a malformed request by them. A type is a string on the wire, so renaming one is a breaking
// change for running workflows and for callers: add, never rename.
export const FAILURE = {
  // A person must repair the books before the step can succeed: the cancellation waits in needsAttention.
  orderNotFound: 'OrderNotFound',
  invalidPolicy: 'InvalidPolicy',
  stockReleaseRefused: 'StockReleaseRefused',
  stockReturnRefused: 'StockReturnRefused',
  purchasingRefused: 'PurchasingRefused',
  redeliveryRefused: 'RedeliveryRefused',
  // The carrier answered in a way cancelflow does not know (ops find out, then resume).
  carrierAnswerUnknown: 'CarrierAnswerUnknown',
  // Money: the gateway refused for good, or the books forbid the refund as asked.
  refundRefused: 'RefundRefused',
  refundExceedsCapture: 'RefundExceedsCapture',
  refundKeyConflict: 'RefundKeyConflict',
  paymentWorthUnknown: 'PaymentWorthUnknown',
  // Notifications: a message that cannot be made, or a provider's answer.
  notificationNotQueued: 'NotificationNotQueued',
  notificationNotFound: 'NotificationNotFound',
  notificationRejected: 'NotificationRejected',
  notificationBusy: 'NotificationBusy',
  providerUnavailable: 'ProviderUnavailable',
  // A person's Update: refused by the rules now, or malformed (names the field).
  requestRefused: 'RequestRefused',
  requestMalformed: 'RequestMalformed',
  // A bulk job's selection finds more orders than BULK_MAX_ORDERS by the time the job lists them: the job fails.
  bulkSelectionRefused: 'BulkSelectionRefused',
} as const;
export type FailureType = (typeof FAILURE)[keyof typeof FAILURE];

/**
 * Business failures that retrying cannot fix and a person can: the activity fails with one of these, and the
 * machine goes to needsAttention instead of the workflow failing.
 */
export const ATTENTION_FAILURES: readonly FailureType[] = [
  FAILURE.stockReleaseRefused,
  FAILURE.orderNotFound,
  FAILURE.invalidPolicy,
  FAILURE.purchasingRefused,
  FAILURE.stockReturnRefused,
  FAILURE.redeliveryRefused,
];
