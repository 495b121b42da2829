/**
 * docs/security.md backs each claim with a test: every repository path it names must exist, so a
 * renamed or deleted test cannot leave a claim without its evidence.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('docs/security.md', () => {
  it('every path it cites exists', () => {
    const text = readFileSync(path.join(ROOT, 'docs/security.md'), 'utf8');
    const cited = [...text.matchAll(/`((?:packages|docs|conformance|examples|scripts)\/[^`\s]+)`/g)].map(
      (m) => m[1]!,
    );
    expect(cited.length).toBeGreaterThan(20);
    expect(cited.filter((p) => !existsSync(path.join(ROOT, p)))).toEqual([]);
  });
});
