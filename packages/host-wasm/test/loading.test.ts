/** Loading: refusals with coded errors, and the on-disk transpile cache. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { capMemory, loadComponent } from '../src/index.js';
import { rustFixtures, scratchDir } from './fixtures.js';

const fx = rustFixtures();

describe('loading', () => {
  it('transpiles once per content hash; a second load (a restart) reads the cache', async () => {
    const cache = scratchDir('cache');
    const first = await loadComponent(fx.noop, cache, 'noop');
    expect(first.transpiled).toBe(true);
    const again = await loadComponent(fx.noop, cache, 'noop');
    expect(again.transpiled).toBe(false);
    expect(again.dir).toBe(first.dir);
    expect(again.imports.every((i) => i.startsWith('wasi:') || i.startsWith('cpex:plugin/'))).toBe(true);
  }, 120_000);

  it('refuses a component importing something outside WASI 0.2 and the world, naming it', async () => {
    const { parse } = await import('@bytecodealliance/jco-transpile/wasm-tools');
    const dir = scratchDir('foreign');
    const file = path.join(dir, 'foreign.wasm');
    writeFileSync(file, await parse('(component (import "evil:net/raw@1.0.0" (instance)))'));
    await expect(loadComponent(file, dir, 'foreign')).rejects.toMatchObject({
      code: 'CPEX_ERR_WASM_IMPORT',
      message: expect.stringContaining('evil:net/raw@1.0.0'),
    });
  });

  it('refuses a component exporting another world, naming its exports', async () => {
    const { parse } = await import('@bytecodealliance/jco-transpile/wasm-tools');
    const dir = scratchDir('world');
    const file = path.join(dir, 'other.wasm');
    const wat = `(component
      (core module $m (func (export "f") (result i32) i32.const 7))
      (core instance $i (instantiate $m))
      (func $f (result u32) (canon lift (core func $i "f")))
      (export "answer" (func $f)))`;
    writeFileSync(file, await parse(wat));
    await expect(loadComponent(file, dir, 'other')).rejects.toMatchObject({
      code: 'CPEX_ERR_WASM_WORLD',
      message: expect.stringContaining('answer (function)'),
    });
  }, 120_000);

  it('refuses a core module and an unreadable file with CPEX_ERR_WASM_LOAD', async () => {
    const dir = scratchDir('core');
    const file = path.join(dir, 'core.wasm');
    writeFileSync(file, Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    await expect(loadComponent(file, dir, 'core')).rejects.toMatchObject({ code: 'CPEX_ERR_WASM_LOAD' });
    await expect(loadComponent(path.join(dir, 'missing.wasm'), dir, 'x')).rejects.toMatchObject({
      code: 'CPEX_ERR_WASM_LOAD',
    });
  });

  it('rewrites a core memory maximum and refuses a minimum above the cap', () => {
    // (module (memory 2 100)): magic, version, memory section [1 memory, flags 1, min 2, max 100]
    const mod = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 4, 1, 1, 2, 100]);
    const capped = capMemory(mod, 3 * 65536);
    expect(capped.memories).toEqual([{ minBytes: 2 * 65536, maxBytes: 3 * 65536 }]);
    expect(() => capMemory(mod, 65536)).toThrow(/at least 131072 bytes/);
    expect(readFileSync(fx.noop).length).toBeGreaterThan(0);
  });
});
