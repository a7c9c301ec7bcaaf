// Ends a Jest run with one plain line, 'N passed, N failed, N skipped', that any CI log reader understands.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const failedSuites = results.numFailedTestSuites + results.numRuntimeErrorTestSuites;
    const suites = failedSuites > 0 ? ` (${failedSuites} test files failed to run or pass)` : '';
    process.stdout.write(
      `\njest: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped${suites}\n`,
    );
  }
}
module.exports = SummaryReporter;
