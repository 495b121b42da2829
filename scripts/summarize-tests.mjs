// Prints the closing line of the test run: "N passed, N failed, N skipped" (vitest tests + failed
// steps). Under CI nothing may skip: a skipped or todo test is listed and counted as a failure
// (a missing toolchain must fail loudly, never pass quietly).
import { existsSync, readFileSync } from 'node:fs';
import { isCI } from './lib/ci.mjs';

const [file, ...failedSteps] = process.argv.slice(2);
let passed = 0;
let failed = 0;
const skipped = [];
if (file && existsSync(file)) {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  passed = r.numPassedTests ?? 0;
  failed = r.numFailedTests ?? 0;
  for (const suite of r.testResults ?? []) {
    for (const t of suite.assertionResults ?? []) {
      if (t.status === 'pending' || t.status === 'skipped' || t.status === 'todo') {
        skipped.push(`${suite.name}: ${t.fullName ?? t.title}`);
      }
    }
  }
  const declared = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  // Whole files skipped (describe.skip at top level) may not list their tests.
  while (skipped.length < declared) skipped.push('(a skipped test without a name in the report)');
} else {
  failedSteps.push('vitest-report-missing');
}
const ci = isCI();
if (skipped.length > 0) {
  console.log(`${ci ? 'FAIL (CI): skipped tests' : 'skipped tests'} (${skipped.length}):`);
  for (const s of skipped) console.log(`  - ${s}`);
  if (ci) failedSteps.push('skipped-under-ci');
}
const nonVitest = failedSteps.filter((s) => s !== 'vitest');
if (failedSteps.length) console.log(`failed steps: ${failedSteps.join(', ')}`);
const skippedFailures = ci ? skipped.length : 0;
console.log(
  `${passed} passed, ${failed + skippedFailures + nonVitest.filter((s) => s !== 'skipped-under-ci').length} failed, ${skipped.length} skipped`,
);
process.exit(failed + failedSteps.length > 0 ? 1 : 0);
