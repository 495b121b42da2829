// PluginInstance.describe() through manager.describePlugin (what `cpex plugins` prints for any host).
import { PluginManager } from '@cpex/core';
import type { PluginDescription, PluginHost, PluginInstance } from '@cpex/core/host';
import { describe, expect, it } from 'vitest';

function hostWith(describeFn: PluginInstance['describe'], isolated = true): PluginHost {
  const caps = { supportsTimeouts: 'preemptive', isolated, copiesPayloads: true } as const;
  return {
    name: 'fake',
    capabilities: caps,
    kinds: ['fake://'],
    factory: {
      async create(): Promise<PluginInstance> {
        return {
          host: caps,
          handler: () => () => ({ continueProcessing: true }),
          ...(describeFn ? { describe: describeFn } : {}),
        };
      },
    },
    async dispose() {},
  };
}

async function managerFor(host: PluginHost): Promise<PluginManager> {
  const m = new PluginManager({ hosts: [host] });
  await m.loadConfig({ plugins: [{ name: 'p', kind: 'fake://x', hooks: ['tool_pre_invoke'] }] });
  await m.initialize();
  return m;
}

describe('manager.describePlugin', () => {
  it("returns the host's own description, unchanged", async () => {
    const d: PluginDescription = {
      host: 'fake',
      isolation: 'sandbox',
      timeouts: 'preemptive',
      grants: { env: ['TZ'], network: false },
      signature: { state: 'verified', keyId: 'k1' },
      details: { component: 'sha256:abc' },
      notes: ['n'],
    };
    const m = await managerFor(hostWith(() => d));
    expect(m.describePlugin('p')).toEqual(d);
    expect(m.describePlugin('nope')).toBeUndefined();
    await m.shutdown();
  });

  it('in-process plugins describe themselves (isolation none, cooperative timeouts)', async () => {
    const m = new PluginManager();
    m.register({ name: 'ts', tool_pre_invoke: () => undefined });
    await m.initialize();
    expect(m.describePlugin('ts')).toMatchObject({
      host: 'in-process',
      isolation: 'none',
      timeouts: 'cooperative',
    });
    await m.shutdown();
  });

  it('a host without describe(), a throwing describe() or a malformed one gets an inferred description with a note', async () => {
    for (const [fn, note] of [
      [undefined, /no describe\(\)/],
      [
        () => {
          throw new Error('boom');
        },
        /describe\(\) failed: boom/,
      ],
      [() => ({ host: 'fake', isolation: 'vm', timeouts: 'preemptive' }) as never, /isolation must be/],
      [() => ({ host: 'fake', isolation: 'none', timeouts: 'x' }) as never, /timeouts must be/],
      [() => ({ host: '', isolation: 'none', timeouts: 'cooperative' }) as never, /host must be/],
      [
        () =>
          ({ host: 'f', isolation: 'none', timeouts: 'cooperative', signature: { state: 'ok' } }) as never,
        /signature\.state/,
      ],
      [() => 42 as never, /not an object/],
    ] as const) {
      const m = await managerFor(hostWith(fn as PluginInstance['describe']));
      const d = m.describePlugin('p')!;
      expect(d).toMatchObject({ host: 'unknown', isolation: 'process', timeouts: 'preemptive' });
      expect(d.notes?.join(' ')).toMatch(note);
      await m.shutdown();
    }
  });
});
