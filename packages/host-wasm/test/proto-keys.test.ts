/**
 * Issue 11 (the `__proto__` class) at the WASM wire: a guest's modified context entry named
 * `__proto__` stays an own data key — it never re-parents the plugin's state or the caller's
 * global state. Pure mapping test (no component needed).
 */
import type { PluginContext } from '@cpex/core';
import { describe, expect, it } from 'vitest';
import { applyContext, contextFromWit } from '../src/mapping.js';

describe('host-wasm: "__proto__" context keys from a guest stay data', () => {
  it('decoded and applied as own keys; no prototype changes, no pollution', () => {
    const entry = (key: string, value: unknown) => ({ key, value: JSON.stringify(value) });
    const decoded = contextFromWit({
      localState: [entry('__proto__', { isAdmin: true }), entry('a', 1)],
      globalState: [entry('__proto__', { isAdmin: true })],
    });
    for (const o of [decoded.local, decoded.global]) {
      expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
      expect(Object.keys(o)).toContain('__proto__');
    }
    const ctx = {
      state: {},
      globalContext: { requestId: 'r', state: {}, metadata: {} },
    } as unknown as PluginContext;
    applyContext(ctx, decoded);
    for (const o of [ctx.state, ctx.globalContext.state] as Record<string, unknown>[]) {
      expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
      expect(o.isAdmin).toBeUndefined();
      expect(Object.getOwnPropertyDescriptor(o, '__proto__')?.value).toEqual({ isAdmin: true });
    }
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });
});
