/**
 * Warm state per worker thread, and the glue's V8 code cache. No timing asserts: a call is "cold"
 * when its thread had to instantiate the guest for it (the host logs that at debug level), which
 * the warm-state channel is there to prevent, a thread replaced after a timeout included.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadComponent } from '../src/index.js';
import { codeCacheFile, glueAsScript } from '../src/runtime.js';
import { rustFixtures, scratchDir } from './fixtures.js';
import { gc, HOOK, tracked } from './harness.js';

const fx = rustFixtures();
const t = tracked();

describe('warm state per worker thread', () => {
  it('no call lands on a cold thread, not even after a timeout replaced a thread', async () => {
    const cold: string[] = [];
    const logger = {
      debug: (text: string, fields?: Record<string, unknown>) => {
        if (fields?.cold) cold.push(text);
      },
      info() {},
      warn() {},
      error() {},
    };
    const host = t.host({ workers: 2, logger });
    const probe = (name: string, config: Record<string, unknown>, extra = {}) => ({
      name,
      kind: `wasm://${fx.probe}`,
      hooks: [HOOK],
      on_error: 'ignore',
      ...extra,
      config,
    });
    const manager = await t.manager(host, [
      probe('a', { metadata: { a: 1 } }, { mode: 'concurrent', priority: 1 }),
      probe('b', { metadata: { b: 1 } }, { mode: 'concurrent', priority: 2 }),
      probe('c', { metadata: { c: 1 } }, { mode: 'concurrent', priority: 3 }),
    ]);
    const round = async () => {
      const rs = await Promise.all(
        Array.from({ length: 4 }, () =>
          manager.invoke(HOOK, { name: 't', args: {} }, { globalContext: gc() }),
        ),
      );
      for (const r of rs) expect(r.metadata).toMatchObject({ a: 1, b: 1, c: 1 });
    };
    await round();
    // A timeout terminates a thread; piscina starts a replacement, which warms a, b and c
    // before it takes a call.
    const spin = await t.manager(host, [
      probe('spin', { spin: true, sandbox_policy: { resources: { max_execution_time_ms: 200 } } }),
    ]);
    const stopped = await spin.invoke(HOOK, { name: 't', args: {} }, { globalContext: gc() });
    expect(stopped.errors[0]?.code).toBe('plugin_timeout');
    for (let i = 0; i < 3; i++) await round();
    expect(cold).toEqual([]);
  });
});

describe('the glue as a script with a V8 code cache', () => {
  it('a transpiled glue becomes a script; anything else is imported as a module', async () => {
    const l = await loadComponent(fx.noop, scratchDir('glue'), 'noop');
    const wrapped = glueAsScript(readFileSync(l.jsFile, 'utf8'));
    expect(wrapped).toMatch(/^\(function \(__cpexGlueUrl, __cpexGlueImport\)/);
    expect(wrapped).not.toMatch(/^export /m);
    expect(glueAsScript('export function instantiate() {}\nexport const other = 1;\n')).toBeUndefined();
    expect(
      glueAsScript('import x from "y";\nexport function instantiate() {}\nexport const _util = {};\n'),
    ).toBeUndefined();
  });

  it('the first call writes the code cache beside the glue (later loads read it)', async () => {
    const dir = scratchDir('codecache');
    const run = async () => {
      const m = await t.manager(t.host({ cacheDir: dir, isolation: 'none' }), [
        { name: 'n', kind: `wasm://${fx.noop}`, hooks: [HOOK] },
      ]);
      const r = await m.invoke(HOOK, { name: 't', args: {} }, { globalContext: gc() });
      expect(r.errors).toEqual([]);
      return (await loadComponent(fx.noop, dir, 'n')).jsFile;
    };
    const jsFile = await run();
    expect(existsSync(codeCacheFile(jsFile))).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });
});
