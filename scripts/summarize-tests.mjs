// Prints the closing line of the test run: "N passed, N failed" (vitest tests + failed steps).
import { existsSync, readFileSync } from 'node:fs';

const [file, ...failedSteps] = process.argv.slice(2);
let passed = 0;
let failed = 0;
if (file && existsSync(file)) {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  passed = r.numPassedTests ?? 0;
  failed = r.numFailedTests ?? 0;
} else {
  failedSteps.push('vitest-report-missing');
}
const nonVitest = failedSteps.filter((s) => s !== 'vitest');
if (failedSteps.length) console.log(`failed steps: ${failedSteps.join(', ')}`);
console.log(`${passed} passed, ${failed + nonVitest.length} failed`);
process.exit(failed + failedSteps.length > 0 ? 1 : 0);
