/**
 * Issue 11 item 24: `CI` is detected by one helper everywhere — `isCI()` (scripts/lib/ci.mjs) in
 * TypeScript/JavaScript and `is_ci` (scripts/lib/common.sh) in shell — so `CI=false` or `CI=0`
 * means the same to every test, bench and script, and no suite decides on its own whether a
 * missing toolchain may be skipped.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isCI } from '../../scripts/lib/ci.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HELPERS = new Set([
  'scripts/lib/ci.mjs',
  'scripts/lib/ci.d.mts',
  'scripts/lib/common.sh',
  'packages/host-python/python/tests/conftest.py', // is_ci(), the Python twin for pytest
]);

describe('one CI helper (issue 11 item 24)', () => {
  it('no tracked source reads the CI variable directly (only scripts/lib/ci.mjs, scripts/lib/common.sh and the pytest conftest twin do)', () => {
    const files = execFileSync('git', ['ls-files', '*.ts', '*.mts', '*.mjs', '*.js', '*.sh', '*.py'], {
      cwd: ROOT,
      encoding: 'utf8',
    })
      .split('\n')
      .filter((f) => f && !HELPERS.has(f) && f !== 'docs/test/ci-helper.test.ts');
    const raw =
      /process\.env\.CI\b|process\.env\[['"]CI['"]\]|\$\{?CI\b(?![A-Z_])|os\.environ(?:\.get\(|\[)['"]CI['"]/;
    const offenders: string[] = [];
    for (const f of files) {
      const text = readFileSync(path.join(ROOT, f), 'utf8');
      text.split('\n').forEach((line, i) => {
        // scripts/test.sh exports CI for its children (`export CI=${CI:-}`): passing it on is not deciding on it
        if (raw.test(line) && !/^\s*export CI=\$\{CI:-\}/.test(line))
          offenders.push(`${f}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });

  it('isCI() and is_ci agree on every spelling', () => {
    for (const v of ['true', 'TRUE', '1', 'yes', 'false', '0', '', 'no', 'on']) {
      const sh = execFileSync('bash', ['-c', `. scripts/lib/common.sh; is_ci && echo yes || echo no`], {
        cwd: ROOT,
        env: { ...process.env, CI: v },
        encoding: 'utf8',
      }).trim();
      expect(sh === 'yes', `CI=${JSON.stringify(v)}`).toBe(isCI({ CI: v }));
    }
  });
});
