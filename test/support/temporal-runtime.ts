// Runs in each Jest worker before its test file: the Temporal SDK's runtime is one per process and must be
// installed before any worker or test environment starts. Keep the SDK's logging to errors (expected
// activity failures in tests would otherwise log warnings), and the native side's too: the test
// server's capability warnings would otherwise bury a failing test's output.
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({
  logger: new DefaultLogger('ERROR'),
  telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
});
