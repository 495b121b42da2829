/**
 * The second-language fixture: a plugin written in C (fixtures/c/plugin.c; wit-bindgen's C
 * bindings, Debian clang + wasi-libc, the wasi_snapshot_preview1 reactor adapter). It loads,
 * decides (allow, deny with a violation, modify the payload), its stdout reaches the logger, and
 * the sandbox treats it exactly as it treats the Rust probe (env and file reads denied by
 * default, granted by the same policy keys).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rustFixtures, scratchDir } from './fixtures.js';
import { gc, HOOK, tracked } from './harness.js';

const fx = rustFixtures();
const t = tracked();

interface Logged {
  level: string;
  text: string;
  fields?: Record<string, unknown>;
}

async function managerWith(
  plugins: Array<Record<string, unknown>>,
  isolation: 'worker' | 'none' = 'worker',
  logged: Logged[] = [],
) {
  const log = (level: string) => (text: string, fields?: Record<string, unknown>) =>
    logged.push({ level, text, ...(fields ? { fields } : {}) });
  const logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  return t.manager(t.host({ isolation, logger }), plugins);
}

const entry = (name: string, file: string, config: Record<string, unknown>, extra = {}) => ({
  name,
  kind: `wasm://${file}`,
  hooks: [HOOK],
  on_error: 'ignore',
  ...extra,
  config,
});

describe.each(['worker', 'none'] as const)('C plugin decides (%s)', (isolation) => {
  it('allows, and reports itself in metadata', async () => {
    const m = await managerWith([entry('c', fx.c, {})], isolation);
    const r = await m.invoke(HOOK, { name: 't', args: { q: 'hello' } }, { globalContext: gc() });
    expect(r.errors).toEqual([]);
    expect(r.continueProcessing).toBe(true);
    expect(r.violation ?? undefined).toBeUndefined();
    expect(r.modifiedPayload ?? undefined).toBeUndefined();
    expect(r.metadata).toMatchObject({ lang: 'c', hook: HOOK });
  });

  it('denies with a violation', async () => {
    const m = await managerWith([entry('c', fx.c, { block: 'forbidden' })], isolation);
    const ok = await m.invoke(HOOK, { name: 't', args: { q: 'fine' } }, { globalContext: gc() });
    expect(ok.violation ?? undefined).toBeUndefined();
    const r = await m.invoke(HOOK, { name: 't', args: { q: 'a forbidden word' } }, { globalContext: gc() });
    expect(r.continueProcessing).toBe(false);
    expect(r.violation).toMatchObject({
      code: 'C_BLOCKED',
      reason: 'blocked word',
      details: { word: 'forbidden' },
      pluginName: 'c',
    });
  });

  it('modifies the payload (in cpex-ts shape) for the next plugin', async () => {
    const m = await managerWith(
      [
        entry('c', fx.c, { redact: 'secret' }, { priority: 1 }),
        entry('next', fx.probe, { record: true }, { priority: 2 }),
      ],
      isolation,
    );
    const r = await m.invoke(HOOK, { name: 't', args: { q: 'my secret', n: 1 } }, { globalContext: gc() });
    expect(r.errors).toEqual([]);
    expect(r.modifiedPayload).toEqual({ name: 't', args: { q: 'my ******', n: 1 } });
  });
});

describe('C plugin: guest output and the sandbox', () => {
  it("stdout and stderr go to the host's logger with the plugin's name", async () => {
    const logged: Logged[] = [];
    const m = await managerWith([entry('talker', fx.c, { say: 'hello from C' })], 'worker', logged);
    await m.invoke(HOOK, { name: 't', args: {} }, { globalContext: gc() });
    const lines = logged.filter((l) => l.text.includes('hello from C'));
    expect(lines.map((l) => l.level).sort()).toEqual(['info', 'warn']);
    for (const l of lines) expect(JSON.stringify(l.fields)).toContain('talker');
  });

  process.env.CPEX_WASM_C_TEST_SECRET = 'c-s3cret';
  const dir = scratchDir('c-fs');
  const file = path.join(dir, 'secret.txt');
  writeFileSync(file, 'inside');
  const probe = { read_env: ['HOME', 'PATH', 'CPEX_WASM_C_TEST_SECRET'], read_file: file };

  /** One plugin alone with the probe keys (the C plugin and the Rust probe share them). */
  async function alone(file_: string, policy?: Record<string, unknown>) {
    const config = policy ? { ...probe, sandbox_policy: policy } : probe;
    const m = await managerWith([entry('p', file_, config)]);
    const r = await m.invoke(HOOK, { name: 't', args: {} }, { globalContext: gc() });
    expect(r.errors).toEqual([]);
    return r.metadata as Record<string, any>;
  }

  it('denied by default: no env variable, no file — the same answers as the Rust probe', async () => {
    const c = await alone(fx.c);
    const rust = await alone(fx.probe);
    expect(c.read_env).toEqual({ HOME: null, PATH: null, CPEX_WASM_C_TEST_SECRET: null, count: 0 });
    expect(c.read_env).toEqual(rust.read_env);
    expect(c.read_file.ok).toBe(false);
    expect(rust.read_file.ok).toBe(false);
  });

  it('granted by the same policy keys: exactly the allowed variable and directory', async () => {
    const policy = {
      allowed_env: ['CPEX_WASM_C_TEST_SECRET'],
      allowed_filesystem: [{ dir, permission: 'read-only' }],
    };
    const c = await alone(fx.c, policy);
    const rust = await alone(fx.probe, policy);
    expect(c.read_env).toEqual({ HOME: null, PATH: null, CPEX_WASM_C_TEST_SECRET: 'c-s3cret', count: 1 });
    expect(c.read_env).toEqual(rust.read_env);
    expect(c.read_file).toEqual({ ok: true, value: 'inside' });
    expect(rust.read_file).toEqual({ ok: true, value: 'inside' });
  });
});
