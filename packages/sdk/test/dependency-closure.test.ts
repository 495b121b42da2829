// The sdk is what plugin authors install: its production dependency closure must stay free of
// hosts and heavy runtimes (ARCHITECTURE section 1).
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const sdkDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  optionalDependencies?: Record<string, string>;
}

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest;
}

/** Node's lookup: <dir>/node_modules/<name>, then each parent directory's. */
function findPackageDir(from: string, name: string): string {
  let dir = from;
  for (;;) {
    const candidate = path.join(dir, 'node_modules', name);
    try {
      return realpathSync(candidate);
    } catch {
      const parent = path.dirname(dir);
      if (parent === dir) throw new Error(`${name} is not installed (looked up from ${from})`);
      dir = parent;
    }
  }
}

/** Production dependencies: `dependencies`, `optionalDependencies` and non-optional peers. */
function productionDeps(m: Manifest): string[] {
  const peers = Object.keys(m.peerDependencies ?? {}).filter((p) => !m.peerDependenciesMeta?.[p]?.optional);
  return [...Object.keys(m.dependencies ?? {}), ...Object.keys(m.optionalDependencies ?? {}), ...peers];
}

function closure(root: string): Map<string, string> {
  const seen = new Map<string, string>();
  const queue: Array<[string, string]> = productionDeps(readManifest(root)).map((d) => [root, d]);
  while (queue.length > 0) {
    const [from, name] = queue.shift()!;
    if (seen.has(name)) continue;
    let dir: string;
    try {
      dir = findPackageDir(from, name);
    } catch (e) {
      // An optional dependency may be absent on this platform; everything else must resolve.
      if (readManifest(from).optionalDependencies?.[name] !== undefined) continue;
      throw e;
    }
    seen.set(name, dir);
    for (const d of productionDeps(readManifest(dir))) queue.push([dir, d]);
  }
  return seen;
}

const FORBIDDEN: Array<[string, RegExp]> = [
  ['a cpex host package', /^@cpex\/host-/],
  ['the ffi package', /^@cpex\/ffi$/],
  ['jco', /^@bytecodealliance\/(jco|componentize|preview2-shim)/],
  ['koffi', /^koffi$/],
  ['piscina', /^piscina$/],
  ['a Python bridge', /python|pythonia|pymport/i],
];

describe('@cpex/sdk production dependency closure', () => {
  const deps = closure(sdkDir);

  it('is walked for real (reaches @cpex/core and its runtime deps)', () => {
    expect(deps.has('@cpex/core')).toBe(true);
    expect(deps.has('yaml')).toBe(true);
    expect(deps.has('zod')).toBe(true);
  });

  it.each(FORBIDDEN)('contains no %s', (_what, pattern) => {
    const hits = [...deps.keys()].filter((n) => pattern.test(n));
    expect(hits).toEqual([]);
  });

  it('keeps the test runner an optional peer at most', () => {
    const m = readManifest(sdkDir);
    expect(Object.keys(m.dependencies ?? {})).not.toContain('vitest');
    if (m.peerDependencies?.vitest !== undefined) expect(m.peerDependenciesMeta?.vitest?.optional).toBe(true);
  });
});
