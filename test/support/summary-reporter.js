// Prints one plain closing line ("N passed, N failed, N skipped") that any CI log reader understands, and
// writes the counts to HOOKLANE_TEST_SUMMARY (when set) so scripts/test.mjs can add the Stripe App's suite.
const { writeFileSync } = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests, numFailedTests, numPendingTests, numFailedTestSuites, numRuntimeErrorTestSuites } = results;
    // A suite that fails to load has no failed test; count it so the line never says 0 failed.
    const failed = numFailedTests + (numFailedTests === 0 ? numFailedTestSuites + numRuntimeErrorTestSuites : 0);
    const counts = { passed: numPassedTests, failed, skipped: numPendingTests };
    if (process.env.HOOKLANE_TEST_SUMMARY) writeFileSync(process.env.HOOKLANE_TEST_SUMMARY, JSON.stringify(counts));
    process.stdout.write(`\njest: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}
module.exports = SummaryReporter;
