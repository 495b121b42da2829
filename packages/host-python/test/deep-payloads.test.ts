/**
 * Issue 11 item 13 at the Python host's wire: a payload (or extensions) deeper than
 * `max_payload_depth` is refused before serialization with CPEX_ERR_PAYLOAD_TOO_DEEP — 100,000
 * deep included, which JSON.stringify would answer with a RangeError — and a Python plugin
 * returning a payload too deep for the worker's JSON encoder gets a coded invalid result. The
 * gateway and the worker survive both.
 */
import type { PluginManager } from '@cpex/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, gc, managerWith, shimPython, realCpexPython } from './helpers.js';

const py = shimPython() ?? realCpexPython();

function deep(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = { end: true };
  for (let i = 0; i < depth; i++) v = { n: v };
  return v;
}

describe.skipIf(!py)('deep payloads at the Python wire (max_payload_depth)', () => {
  let manager: PluginManager;
  beforeAll(async () => {
    ({ manager } = await managerWith(
      'plugins:\n  - {name: chaos, kind: hp_plugins.chaos.Chaos, hooks: [tool_pre_invoke], on_error: ignore}\n',
      { python: py!, pythonPath: [FIXTURES] },
      { maxPayloadDepth: 64 },
    ));
  });
  afterAll(async () => {
    await manager?.shutdown();
  });
  const call = (args: Record<string, unknown>, extensions?: Record<string, unknown>) =>
    manager.invoke(
      'tool_pre_invoke',
      { name: 't', args },
      {
        globalContext: gc(),
        ...(extensions ? { extensions } : {}),
      },
    );

  it.each([100, 100_000])(
    'a %i-deep payload is CPEX_ERR_PAYLOAD_TOO_DEEP before it is sent; the next call works',
    async (depth) => {
      const r = await call({ action: 'ok', tree: deep(depth) });
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]).toMatchObject({ pluginName: 'chaos', errorCode: 'CPEX_ERR_PAYLOAD_TOO_DEEP' });
      expect(r.errors[0]?.message).toMatch(/Python plugin "chaos" on tool_pre_invoke: payload/);
      const ok = await call({ action: 'ok' });
      expect(ok.errors).toEqual([]);
    },
  );

  it('a payload within the bound passes', async () => {
    const r = await call({ action: 'ok', tree: deep(50) });
    expect(r.errors).toEqual([]);
  });

  it('a Python plugin returning a 100,000-deep payload gets a coded error, not a crash; the worker keeps answering', async () => {
    const r = await call({ action: 'deep', depth: 100_000 });
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]?.errorCode).toMatch(/^CPEX_ERR_/);
    expect(r.errors[0]?.message).not.toMatch(/Maximum call stack/);
    const ok = await call({ action: 'ok' });
    expect(ok.errors).toEqual([]);
  });

  it('"__proto__" keys a Python plugin returns stay own data keys (payload and metadata): no prototype change, no pollution', async () => {
    const r = await call({ action: 'proto_keys' });
    expect(r.errors).toEqual([]);
    const args = (r.modifiedPayload as { args: Record<string, unknown> }).args;
    expect(Object.getPrototypeOf(args)).toBe(Object.prototype);
    expect(Object.keys(args).sort()).toEqual(['__proto__', 'constructor', 'keep']);
    expect(Object.getOwnPropertyDescriptor(args, '__proto__')?.value).toEqual({ polluted: true });
    expect(Object.getPrototypeOf(r.metadata)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
