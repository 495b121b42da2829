/**
 * One registration body for every host package's `registerXHost(manager, options)`: hosts attach
 * through `manager.registerHost` (capabilities, describe, dispose), or, on a manager without it,
 * kind by kind through `registerFactory`.
 */
import type { PluginFactory, PluginHost } from '../types.js';

/** The part of PluginManager a host needs to attach itself. */
export interface HostRegistrar {
  registerFactory(kind: string, factory: PluginFactory): void;
  registerHost?(host: PluginHost): void;
}

/**
 * Attaches `host` to `manager` and returns it.
 * @example
 * export function registerMyHost(manager: HostRegistrar, options: MyOptions = {}): MyHost {
 *   return attachHost(manager, createMyHost(options));
 * }
 */
export function attachHost<H extends PluginHost>(manager: HostRegistrar, host: H): H {
  if (typeof manager.registerHost === 'function') manager.registerHost(host);
  else for (const kind of host.kinds) manager.registerFactory(kind, host.factory);
  return host;
}

/**
 * Adds `plugin` to `live` (the plugins a host created, which its `dispose()` shuts down) and
 * wraps its `shutdown` so it leaves the set once it has shut down, however that was started.
 * Returns the plugin.
 * @example
 * const plugins = new Set<MyPlugin>();
 * // in the factory's create():
 * return trackLive(plugins, new MyPlugin(entry));
 */
export function trackLive<P extends { shutdown(): Promise<void> }>(live: Set<P>, plugin: P): P {
  live.add(plugin);
  const shutdown = plugin.shutdown.bind(plugin);
  plugin.shutdown = async () => {
    try {
      await shutdown();
    } finally {
      live.delete(plugin);
    }
  };
  return plugin;
}
