// Custom search attributes that keep every cancellation findable in the Temporal UI. The dev server
// registers them at start (`--search-attribute`); docker-compose's namespace job does the same.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const searchAttributeKeys = {
  orderNumber: defineSearchAttributeKey('CancellationOrderNumber', SearchAttributeType.KEYWORD),
  state: defineSearchAttributeKey('CancellationState', SearchAttributeType.KEYWORD),
  reason: defineSearchAttributeKey('CancellationReason', SearchAttributeType.KEYWORD),
  risk: defineSearchAttributeKey('CancellationRisk', SearchAttributeType.KEYWORD),
  customer: defineSearchAttributeKey('CancellationCustomer', SearchAttributeType.KEYWORD),
} as const;

/** How the Temporal CLI names each type (`--search-attribute CancellationState=Keyword`). */
const CLI_TYPE_NAMES = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
} as const satisfies Record<SearchAttributeType, string>;

type CancelflowSearchAttributeType = (typeof searchAttributeKeys)[keyof typeof searchAttributeKeys]['type'];

/** The same attributes as the dev server registers them: name → type. */
export const CANCELFLOW_SEARCH_ATTRIBUTES: Readonly<
  Record<string, (typeof CLI_TYPE_NAMES)[CancelflowSearchAttributeType]>
> = Object.fromEntries(Object.values(searchAttributeKeys).map((key) => [key.name, CLI_TYPE_NAMES[key.type]]));
