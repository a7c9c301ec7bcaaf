// Custom search attributes that keep every cancellation findable in the Temporal UI. The dev server
// registers them at start (`--search-attribute`); docker-compose's namespace job does the same.
export const CANCELFLOW_SEARCH_ATTRIBUTES = {
  CancellationOrderNumber: 'Keyword',
  CancellationState: 'Keyword',
  CancellationReason: 'Keyword',
  CancellationRisk: 'Keyword',
  CancellationCustomer: 'Keyword',
} as const;
