// The time-skipping test server for tests of deadlines: days pass in milliseconds. It knows no custom search
// attributes until told, as a real namespace would not, so they are registered here.
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporalTestServerPath } from '../../scripts/servers';
import { CANCELFLOW_SEARCH_ATTRIBUTES } from '../../contracts/search-attributes';
import { TEST_DATA_CONVERTER } from './data-converter';

export async function startTimeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath() } },
    client: { dataConverter: TEST_DATA_CONVERTER },
  });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      Object.keys(CANCELFLOW_SEARCH_ATTRIBUTES).map((name) => [
        name,
        temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      ]),
    ),
  });
  return env;
}
