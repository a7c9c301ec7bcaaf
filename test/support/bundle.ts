import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

// The bundler logs every module it packs; tests want only its errors.
const quiet = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message: string) => console.error(message),
};

/** Bundles the workflows at `workflowsPath` (an absolute path) for a test worker or the replayer. */
export function bundleQuietly(workflowsPath: string): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath, logger: quiet });
}
