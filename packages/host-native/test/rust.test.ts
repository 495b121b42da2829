// A Rust plugin (examples/native-plugin/tool-guard-rs: a dependency-free cdylib with its own tiny
// MessagePack reader/writer) built with the machine's cargo, run in both isolation modes.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PluginManager } from '@cpex/core';
import { registerNativeHost } from '@cpex/host-native';
import { buildRustPlugin } from '@cpex/host-native/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { gc } from './helpers.js';

const CRATE = fileURLToPath(new URL('../../../examples/native-plugin/tool-guard-rs', import.meta.url));
// Under CI a missing cargo is a failure (buildRustPlugin throws), never a skip.
const LIB = buildRustPlugin(CRATE, 'cpex_tool_guard');

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.each(['none', 'process'] as const)('Rust plugin, isolation: %s', (isolation) => {
  it('denies configured tools, allows others, keeps its local state per request', {
    timeout: 60_000,
  }, async () => {
    const manager = new PluginManager();
    const host = registerNativeHost(manager, { isolation });
    cleanups.push(() => host.dispose());
    cleanups.push(() => manager.shutdown());
    await manager.loadConfig({
      plugins: [
        {
          name: 'rust_guard',
          kind: `native://${path.relative(process.cwd(), LIB).startsWith('..') ? LIB : `./${path.relative(process.cwd(), LIB)}`}`,
          hooks: ['tool_pre_invoke'],
          config: { deny: ['shell_exec'], code: 'rust_denied' },
        },
      ],
    });
    await manager.initialize();
    const denied = await manager.invoke(
      'tool_pre_invoke',
      { name: 'shell_exec', args: {} },
      { globalContext: gc() },
    );
    expect(denied.continueProcessing).toBe(false);
    expect(denied.violation?.code).toBe('rust_denied');
    expect(denied.violation?.reason).toMatch(/shell_exec is denied/);
    const allowed = await manager.invoke(
      'tool_pre_invoke',
      { name: 'search', args: {} },
      { globalContext: gc('req-2') },
    );
    expect(allowed.continueProcessing).toBe(true);
    expect(allowed.metadata.rust_guard).toBe('allowed');
    const again = await manager.invoke(
      'tool_pre_invoke',
      { name: 'search', args: {} },
      { globalContext: gc('req-2'), contextTable: allowed.contextTable },
    );
    const table = (again.contextTable?.toJSON() ?? {}) as unknown as Record<
      string,
      { state: { calls: number } }
    >;
    expect(table.rust_guard?.state.calls).toBe(2);
  });
});
