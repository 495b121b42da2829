/**
 * Issue 11 items 5/13 at the WASM wire: `max_payload_depth` bounds what crosses into a guest and
 * what a guest sends back, with a coded CPEX_ERR_PAYLOAD_TOO_DEEP through on_error — never a
 * RangeError from encoding a deep payload — and the host keeps serving. Real components, both
 * isolation modes.
 */
import { PluginManager } from '@cpex/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createWasmHost, type WasmHost } from '../src/index.js';
import { CACHE_DIR, rustFixtures } from './fixtures.js';

const fx = rustFixtures();
const cacheDir = `${CACHE_DIR}/transpiled`;
const HOOK = 'tool_pre_invoke';
const gc = () => ({ requestId: `r-${Math.random()}`, state: {}, metadata: {} });
const hosts: WasmHost[] = [];
const managers: PluginManager[] = [];

afterAll(async () => {
  for (const m of managers) await m.shutdown();
  for (const h of hosts) await h.dispose();
});

/** `{ d: { d: … 1 } }`, `depth` levels, built without recursion. */
function nest(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { d: v };
  return v;
}

async function managerWith(
  probeConfig: Record<string, unknown>,
  isolation: 'worker' | 'none',
  settings: Record<string, unknown> = {},
) {
  const host = createWasmHost({ cacheDir, isolation });
  hosts.push(host);
  const manager = new PluginManager({ hosts: [host] });
  managers.push(manager);
  const entry = (name: string, config: Record<string, unknown>, priority: number) => ({
    name,
    kind: `wasm://${fx.probe}`,
    hooks: [HOOK],
    on_error: 'ignore',
    priority,
    config,
  });
  await manager.loadConfigText(
    JSON.stringify({
      plugin_settings: settings,
      plugins: [entry('p', probeConfig, 1), entry('after', { metadata: { after: 'served' } }, 200)],
    }),
    { baseDir: CACHE_DIR },
  );
  await manager.initialize();
  return manager;
}

describe.each(['worker', 'none'] as const)('host-wasm wire depth bound (%s)', (iso) => {
  it('a 100,000-deep payload is CPEX_ERR_PAYLOAD_TOO_DEEP at each plugin; the host keeps serving', async () => {
    const m = await managerWith({}, iso);
    const deep = { name: 'probe_tool', args: { x: nest(100_000) } };
    const r = await m.invoke(HOOK, deep as never, { globalContext: gc() });
    // Both WASM plugins see the same payload at their wire: each refuses it, coded, through
    // on_error (ignore), and the invoke settles.
    expect(r.errors.map((e) => [e.pluginName, e.errorCode])).toEqual([
      ['p', 'CPEX_ERR_PAYLOAD_TOO_DEEP'],
      ['after', 'CPEX_ERR_PAYLOAD_TOO_DEEP'],
    ]);
    expect(r.errors[0]?.message).toMatch(/payload/);
    expect(r.continueProcessing).toBe(true);
    // Within the bound, the same plugins are called normally: the host keeps serving.
    const ok = await m.invoke(HOOK, { name: 'probe_tool', args: { x: nest(50) } } as never, {
      globalContext: gc(),
    });
    expect(ok.errors).toEqual([]);
    expect(ok.metadata.after).toBe('served');
  });

  it('a guest modification deeper than max_payload_depth is refused, the caller payload stands', async () => {
    const m = await managerWith({ set_fields: { deep: nest(12) } }, iso, { max_payload_depth: 8 });
    const payload = { name: 'probe_tool', args: { x: 1 } };
    const r = await m.invoke(HOOK, payload, { globalContext: gc() });
    expect(r.errors[0]).toMatchObject({ pluginName: 'p', errorCode: 'CPEX_ERR_PAYLOAD_TOO_DEEP' });
    expect(r.errors[0]?.message).toMatch(/modified payload/);
    expect(r.modifiedPayload ?? null).toBeNull();
    expect(r.metadata.after).toBe('served');
  });
});
