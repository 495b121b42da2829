/**
 * The in-process host: TypeScript/JavaScript plugin objects running in the manager's thread.
 * Timeouts are cooperative (the manager stops waiting and aborts the signal); payloads are shared
 * read-only views, not copies.
 */
import type {
  Handler,
  HostCapabilities,
  Plugin,
  PluginFactory,
  PluginHost,
  PluginDescription,
  PluginInstance,
} from '../types.js';
import { HOOK_METHODS } from './markers.js';

export const IN_PROCESS_HOST_CAPABILITIES: HostCapabilities = Object.freeze({
  supportsTimeouts: 'cooperative',
  isolated: false,
  copiesPayloads: false,
});

const LIFECYCLE = new Set(['constructor', 'name', 'initialize', 'shutdown', 'hooks', 'config']);

/**
 * Resolve a plugin object's handler for `hook`: `plugin.hooks[hook]`, then a decorator-registered
 * method (`plugin[HOOK_METHODS][hook]`), then a method named after the hook.
 * Handlers are bound to the plugin.
 */
export function resolveHandler(plugin: Plugin, hook: string): Handler | undefined {
  const map = plugin.hooks;
  if (map && typeof map === 'object' && typeof map[hook] === 'function')
    return map[hook].bind(plugin) as Handler;
  const decorated = (plugin as unknown as Record<PropertyKey, unknown>)[HOOK_METHODS] as
    | Record<string, string | Handler>
    | undefined;
  const target = decorated?.[hook];
  if (typeof target === 'function') return target.bind(plugin) as Handler;
  if (typeof target === 'string' && typeof plugin[target] === 'function')
    return (plugin[target] as Handler).bind(plugin);
  if (!LIFECYCLE.has(hook) && typeof plugin[hook] === 'function')
    return (plugin[hook] as Handler).bind(plugin);
  return undefined;
}

/** Hook names a plugin object implements (for registrations without an explicit `hooks` list). */
export function discoverHooks(plugin: Plugin): string[] {
  const out = new Set<string>();
  if (plugin.hooks && typeof plugin.hooks === 'object') {
    for (const [k, v] of Object.entries(plugin.hooks)) if (typeof v === 'function') out.add(k);
  }
  const decorated = (plugin as unknown as Record<PropertyKey, unknown>)[HOOK_METHODS] as
    | Record<string, unknown>
    | undefined;
  if (decorated) for (const k of Object.keys(decorated)) out.add(k);
  // Methods named after hooks: own and prototype methods that look like hook names.
  let o: object | null = plugin;
  while (o && o !== Object.prototype) {
    for (const k of Object.getOwnPropertyNames(o)) {
      if (LIFECYCLE.has(k) || k.startsWith('_')) continue;
      const d = Object.getOwnPropertyDescriptor(o, k);
      if (d && typeof d.value === 'function' && /^[a-z][a-z0-9]*([._][a-z0-9]+)+$/.test(k)) out.add(k);
    }
    o = Object.getPrototypeOf(o);
  }
  return [...out];
}

/** What `describe()` says about every in-process plugin (details vary: module, export). */
const IN_PROCESS_NOTES = Object.freeze([
  'trusted code in the gateway process: payload and extension invariants are enforced, but the plugin can reach anything the process can',
  'timeout is cooperative: the manager stops waiting and aborts context.signal; a busy loop is not interrupted',
]);

/**
 * Wrap a plugin object as a PluginInstance. `details` (e.g. the module and export it came from)
 * appear in its `describe()`.
 */
export function pluginToInstance(plugin: Plugin, details?: Record<string, unknown>): PluginInstance {
  const cache = new Map<string, Handler | undefined>();
  return {
    plugin,
    host: IN_PROCESS_HOST_CAPABILITIES,
    handler(hook) {
      if (!cache.has(hook)) cache.set(hook, resolveHandler(plugin, hook));
      return cache.get(hook);
    },
    initialize: typeof plugin.initialize === 'function' ? () => plugin.initialize!() : undefined,
    shutdown: typeof plugin.shutdown === 'function' ? () => plugin.shutdown!() : undefined,
    describe(): PluginDescription {
      const ctor = (plugin as { constructor?: { name?: unknown } }).constructor;
      const className = typeof ctor?.name === 'string' && ctor.name !== 'Object' ? ctor.name : undefined;
      return {
        host: 'in-process',
        isolation: 'none',
        timeouts: 'cooperative',
        details: { ...(className ? { class: className } : {}), ...details },
        notes: [...IN_PROCESS_NOTES],
      };
    },
  } as PluginInstance;
}

/** The in-process host as a PluginHost (its factory takes `entry.config.plugin` objects; mostly for testHost). */
export function createInProcessHost(
  resolve?: (entry: Parameters<PluginFactory['create']>[0]) => Plugin | Promise<Plugin>,
): PluginHost {
  const factory: PluginFactory = {
    async create(entry) {
      if (!resolve) throw new Error('createInProcessHost: no resolver given');
      return pluginToInstance(await resolve(entry));
    },
  };
  return {
    name: 'in-process',
    capabilities: IN_PROCESS_HOST_CAPABILITIES,
    kinds: ['in-process'],
    factory,
    async dispose() {},
  };
}
