// What Jest's global setup hands the test files: addresses of the servers it started for this run.
export const testEnvironmentKeys = {
  temporalAddress: 'CANCELFLOW_TEST_TEMPORAL_ADDRESS',
  mongoUri: 'CANCELFLOW_TEST_MONGODB_URI',
  workflowBundle: 'CANCELFLOW_TEST_WORKFLOW_BUNDLE',
  testWorkflowBundle: 'CANCELFLOW_TEST_TEST_WORKFLOW_BUNDLE',
  workDir: 'CANCELFLOW_TEST_WORK_DIR',
} as const;

export function testEnvironment() {
  const read = (key: string) => {
    const value = process.env[key];
    if (!value)
      throw new Error(`${key} is not set: run the tests through \`npm test\` (Jest's global setup)`);
    return value;
  };
  return {
    temporalAddress: read(testEnvironmentKeys.temporalAddress),
    mongoUri: read(testEnvironmentKeys.mongoUri),
    /** The product's workflows, as the worker runs them. */
    workflowBundlePath: read(testEnvironmentKeys.workflowBundle),
    /** The same, with the workflows only the integration tests run (test/support/test-workflows.ts). */
    testWorkflowBundlePath: read(testEnvironmentKeys.testWorkflowBundle),
  };
}
