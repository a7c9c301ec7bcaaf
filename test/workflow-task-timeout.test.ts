// A cancellation's workflow tasks time out after 5 s rather than Temporal's 10 (CANCELLATION_WORKFLOW_TASK_TIMEOUT,
// models/cancellation-requests.ts says why: `npm run chaos` found closing steps lost with every killed worker).
// The start options give it; this checks that a run continued as new keeps it, which the workflow relies on
// without passing it again. The first run's is checked on a cancellation started through the API (tracer.test.ts).
import { CANCELLATION_WORKFLOW_TASK_TIMEOUT } from '../contracts/cancellation.contract';
import { startIntegrationStack, type IntegrationStack } from './support/integration-stack';
import { continuesAsNewOnceWorkflow } from './support/test-workflows';

let stack: IntegrationStack;

beforeAll(async () => {
  stack = await startIntegrationStack('task-timeout');
});

afterAll(async () => {
  await stack.stop();
});

test('a run continued as new keeps the workflow task timeout its first run was started with', async () => {
  const continuedRunTimeoutMs = await stack.temporal.workflow.execute(continuesAsNewOnceWorkflow, {
    taskQueue: stack.taskQueue,
    workflowId: `continues-as-new-once-${Date.now()}`,
    workflowTaskTimeout: CANCELLATION_WORKFLOW_TASK_TIMEOUT,
  });
  expect(continuedRunTimeoutMs).toBe(5_000);
});
