// Custom search attributes that keep every cancellation findable in the Temporal UI. The dev server
// registers them at start (`--search-attribute`); docker-compose's namespace job does the same.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const CANCELFLOW_SEARCH_ATTRIBUTES = {
  CancellationOrderNumber: 'Keyword',
  CancellationState: 'Keyword',
  CancellationReason: 'Keyword',
  CancellationRisk: 'Keyword',
  CancellationCustomer: 'Keyword',
} as const;

export const searchAttributeKeys = {
  orderNumber: defineSearchAttributeKey('CancellationOrderNumber', SearchAttributeType.KEYWORD),
  state: defineSearchAttributeKey('CancellationState', SearchAttributeType.KEYWORD),
  reason: defineSearchAttributeKey('CancellationReason', SearchAttributeType.KEYWORD),
  risk: defineSearchAttributeKey('CancellationRisk', SearchAttributeType.KEYWORD),
  customer: defineSearchAttributeKey('CancellationCustomer', SearchAttributeType.KEYWORD),
} as const;
