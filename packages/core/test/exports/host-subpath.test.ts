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
      'HOST_PACKAGES',
      'hostPackageFor',
      'registerNeededHosts',
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

  it('hostPackageFor names the package serving a kind, as the install errors of the manager do', async () => {
    const pkg = (kind: string) => host.hostPackageFor(kind)?.pkg;
    expect(pkg('python://mod.Class')).toBe('@cpex/host-python');
    expect(pkg('PYTHON://mod.Class')).toBe('@cpex/host-python');
    expect(pkg('isolated_venv')).toBe('@cpex/host-python');
    expect(pkg('pkg.module.Class')).toBe('@cpex/host-python');
    expect(pkg('wasm://x.wasm')).toBe('@cpex/host-wasm');
    expect(pkg('native://lib.so')).toBe('@cpex/host-native');
    expect(pkg('node://./p.mjs')).toBeUndefined();
    expect(pkg('my-kind')).toBeUndefined();
    const { PluginManager } = await import('@cpex/core');
    const m = new PluginManager();
    await m.loadConfigText('plugins:\n  - {name: w, kind: "wasm://w.wasm", hooks: [tool_pre_invoke]}\n');
    await expect(m.initialize()).rejects.toThrow(/install @cpex\/host-wasm \(registerWasmHost\(manager\)\)/);
  });

  it('registerNeededHosts registers, in table order, the installed packages the kinds need', async () => {
    const imported: string[] = [];
    const registered: Array<[string, unknown]> = [];
    const warnings: string[] = [];
    const disposable = { dispose: async () => {} };
    const manager = { registerFactory() {} };
    const hosts = await host.registerNeededHosts(
      manager,
      ['native://a.so', 'node://./p.mjs', 'pkg.mod.Class', 'wasm://w.wasm', 'native://b.so'],
      {
        importer: async (pkg) => {
          imported.push(pkg);
          if (pkg === '@cpex/host-wasm') throw new Error('not installed');
          if (pkg === '@cpex/host-native') return {};
          return {
            registerPythonHost: (m: unknown, o: unknown) => {
              expect(m).toBe(manager);
              registered.push([pkg, o]);
              return disposable;
            },
          };
        },
        options: (pkg) => ({ for: pkg }),
        warn: (message) => warnings.push(message),
      },
    );
    expect(imported).toEqual(['@cpex/host-python', '@cpex/host-wasm', '@cpex/host-native']);
    expect(registered).toEqual([['@cpex/host-python', { for: '@cpex/host-python' }]]);
    expect(hosts).toEqual([disposable]);
    expect(warnings).toEqual(['@cpex/host-native is installed but has no registerNativeHost() export']);
    expect(
      await host.registerNeededHosts(manager, ['node://./p.mjs'], { importer: async () => ({}) }),
    ).toEqual([]);
  });
});
