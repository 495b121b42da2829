// The `@cpex/core/host` subpath: what host packages (python, wasm, native, ffi) build on.
import * as host from '@cpex/core/host';
import type { FactoryContext, PluginDescription, PluginHost, PluginInstance } from '@cpex/core/host';
import { describe, expect, it } from 'vitest';

describe('@cpex/core/host', () => {
  it('exports the runtime names a host author needs', () => {
    for (const name of [
      'CpexError',
      'ConfigError',
      'isCpexError',
      'describeCause',
      'ERROR_CATALOGUE',
      'HookRegistry',
      'parseExtensions',
      'extensionsToJSON',
      'ExtensionsSchema',
      'MonotonicSet',
      'copyPlain',
      'setOwn',
      'unwrapViews',
      'IN_PROCESS_HOST_CAPABILITIES',
      'createInProcessHost',
      'pluginToInstance',
      'HOOK_METHODS',
      'attachHost',
    ]) {
      expect(host, name).toHaveProperty(name);
    }
  });

  it('a host written against the subpath types registers and describes its plugins', async () => {
    const created: FactoryContext[] = [];
    const myHost: PluginHost = {
      name: 'demo',
      capabilities: host.IN_PROCESS_HOST_CAPABILITIES,
      kinds: ['demo://'],
      factory: {
        async create(_entry, ctx): Promise<PluginInstance> {
          created.push(ctx);
          const description: PluginDescription = { host: 'demo', isolation: 'none', timeouts: 'cooperative' };
          return {
            host: host.IN_PROCESS_HOST_CAPABILITIES,
            handler: () => () => ({ continueProcessing: true }),
            describe: () => description,
          };
        },
      },
      async dispose() {},
    };
    expect(myHost.kinds).toEqual(['demo://']);
    const err = new host.CpexError('CPEX_ERR_PROTOCOL', 'bad frame', { plugin: 'p' });
    expect(host.isCpexError(err)).toBe(true);
    expect(() => host.parseExtensions({ security: { labels: 'pii' } }, 'tool_pre_invoke')).toThrow(
      expect.objectContaining({ code: 'CPEX_ERR_INVALID_PAYLOAD' }),
    );
  });

  it('attachHost registers a host through registerHost, or kind by kind on a manager without it', () => {
    const h: PluginHost = {
      name: 'demo',
      capabilities: host.IN_PROCESS_HOST_CAPABILITIES,
      kinds: ['a://', 'b://'],
      factory: {
        create: async () => ({ host: host.IN_PROCESS_HOST_CAPABILITIES, handler: () => undefined }),
      },
      async dispose() {},
    };
    const hosts: PluginHost[] = [];
    const withHost = { registerFactory: () => {}, registerHost: (x: PluginHost) => hosts.push(x) };
    expect(host.attachHost(withHost, h)).toBe(h);
    expect(hosts).toEqual([h]);
    const kinds: string[] = [];
    host.attachHost({ registerFactory: (k: string) => kinds.push(k) }, h);
    expect(kinds).toEqual(['a://', 'b://']);
  });
});
