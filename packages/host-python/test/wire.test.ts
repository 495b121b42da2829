/** The call frame's context field: what a Python plugin's PluginContext is built from. */
import type { PluginContext } from '@cpex/core';
import { describe, expect, it } from 'vitest';
import { contextToWireJson } from '../src/wire.js';

function ctx(
  over: Partial<PluginContext> & { globalContext: PluginContext['globalContext'] },
): PluginContext {
  return {
    state: {},
    metadata: {},
    signal: new AbortController().signal,
    pluginName: 'p',
    hook: 'tool_pre_invoke',
    phase: 'sequential',
    timeoutMs: 30_000,
    getState: () => undefined,
    setState: () => {},
    ...over,
  };
}

describe('contextToWireJson', () => {
  it('every GlobalContext field in the Python cpex field names, valid JSON with awkward strings', () => {
    const c = ctx({
      state: { n: 1, s: 'quote " and \\ and \n and \u2028' },
      metadata: { m: [1, { deep: true }] },
      globalContext: {
        requestId: 'r-"1"',
        user: 'alice@example.com',
        userContext: { email: 'alice@example.com', roles: ['admin'] },
        tenantId: 't1',
        serverId: 's1',
        contentType: 'application/json',
        state: { g: 1 },
        metadata: { gm: 'x' },
      },
    });
    expect(JSON.parse(contextToWireJson(c))).toEqual({
      state: { n: 1, s: 'quote " and \\ and \n and \u2028' },
      metadata: { m: [1, { deep: true }] },
      global_context: {
        request_id: 'r-"1"',
        user: 'alice@example.com',
        user_context: { email: 'alice@example.com', roles: ['admin'] },
        tenant_id: 't1',
        server_id: 's1',
        content_type: 'application/json',
        state: { g: 1 },
        metadata: { gm: 'x' },
      },
    });
  });

  it('leaves out what is undefined (a hand-built context), so the frame stays valid JSON', () => {
    const c = ctx({
      state: undefined as never,
      metadata: undefined as never,
      globalContext: { requestId: undefined as never, state: {}, metadata: {} },
    });
    expect(JSON.parse(contextToWireJson(c))).toEqual({ global_context: { state: {}, metadata: {} } });
    const minimal = ctx({ globalContext: { requestId: 'r', state: {}, metadata: {} } });
    expect(contextToWireJson(minimal)).toBe(
      '{"state":{},"metadata":{},"global_context":{"request_id":"r","state":{},"metadata":{}}}',
    );
  });
});
