// The export map of @cpex/core: which runtime names each subpath exports. The pinned lists live in
// export-map.json next to this file; a name that appears, vanishes or moves fails here, so the
// public surface changes only on purpose (with a changeset and docs/api.md).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as deprecatedRoot from '../../src/deprecated-root.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkgDir = path.resolve(here, '../..');
const pinned = JSON.parse(readFileSync(path.join(here, 'export-map.json'), 'utf8')) as {
  '@cpex/core': { public: string[]; deprecated: string[] };
} & Record<string, string[]>;
const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as {
  exports: Record<string, string | Record<string, string>>;
};

const SUBPATHS = [
  '@cpex/core',
  '@cpex/core/extensions',
  '@cpex/core/cmf',
  '@cpex/core/host',
  '@cpex/core/internal',
];
const load = async (spec: string) => (await import(spec)) as Record<string, unknown>;
const names = async (spec: string) => Object.keys(await load(spec)).sort();

describe('@cpex/core export map', () => {
  it('package.json exports exactly the pinned subpaths, each with source, types and import', () => {
    const keys = SUBPATHS.map((s) => (s === '@cpex/core' ? '.' : `.${s.slice('@cpex/core'.length)}`));
    expect(Object.keys(pkg.exports).sort()).toEqual(keys.sort());
    for (const [key, target] of Object.entries(pkg.exports)) {
      const t = target as Record<string, string>;
      // Condition order matters to resolvers: the workspace's source condition, then types, then import.
      expect(Object.keys(t), key).toEqual(['@cpex/source', 'types', 'import']);
      const src = t['@cpex/source'] as string;
      expect(statSync(path.join(pkgDir, src)).isFile(), `${key} → ${src}`).toBe(true);
      const stem = src.replace(/^\.\/src\//, './dist/').replace(/\.ts$/, '');
      expect(t.types, key).toBe(`${stem}.d.ts`);
      expect(t.import, key).toBe(`${stem}.js`);
    }
  });

  for (const spec of SUBPATHS.slice(1)) {
    it(`${spec} exports exactly its pinned runtime names`, async () => {
      expect(await names(spec)).toEqual(pinned[spec]);
    });
  }

  it('the root exports its pinned public names plus the pinned deprecated re-exports', async () => {
    const root = pinned['@cpex/core'];
    expect(await names('@cpex/core')).toEqual([...root.public, ...root.deprecated].sort());
    expect(Object.keys(deprecatedRoot).sort()).toEqual(root.deprecated);
  });

  it('every deprecated root name is the very binding its new subpath exports', async () => {
    const root = await load('@cpex/core');
    const homes = await Promise.all(['@cpex/core/extensions', '@cpex/core/cmf', '@cpex/core/host'].map(load));
    for (const name of pinned['@cpex/core'].deprecated) {
      const home = homes.find((m) => Object.hasOwn(m, name));
      expect(home, `${name} has a public subpath`).toBeDefined();
      expect(root[name], name).toBe(home?.[name]);
    }
  });

  it('internals are off the root: nothing of @cpex/core/internal, none of the named helpers', async () => {
    const root = await names('@cpex/core');
    const internal = await names('@cpex/core/internal');
    expect(root.filter((n) => internal.includes(n))).toEqual([]);
    for (const name of [
      'describeCause',
      'summarizeZodError',
      'formatIssuePath',
      'formatPath',
      'errorLocation',
      'resolveSettings',
      'scoreRoute',
      'extensionsToPython',
      'extensionsFromPython',
    ]) {
      expect(root, name).not.toContain(name);
    }
  });

  it('the hook-method and plugin-class markers are defined once in the workspace sources', () => {
    const packagesDir = path.resolve(pkgDir, '..');
    const hits: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        if (entry === 'node_modules' || entry === 'dist') continue;
        const p = path.join(dir, entry);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(ts|mts|js|mjs)$/.test(entry) && !/\.test\.ts$/.test(entry)) {
          const text = readFileSync(p, 'utf8');
          for (const marker of ["Symbol.for('cpex.hook-methods')", "Symbol.for('cpex.plugin-class')"]) {
            if (text.includes(marker)) hits.push(`${path.relative(packagesDir, p)}: ${marker}`);
          }
        }
      }
    };
    for (const p of readdirSync(packagesDir)) {
      const src = path.join(packagesDir, p, 'src');
      if (statSync(path.join(packagesDir, p)).isDirectory() && existsDir(src)) walk(src);
    }
    expect(hits.sort()).toEqual([
      "core/src/host/markers.ts: Symbol.for('cpex.hook-methods')",
      "core/src/host/markers.ts: Symbol.for('cpex.plugin-class')",
    ]);
  });
});

function existsDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
