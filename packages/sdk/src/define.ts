/**
 * Functional authoring: `definePlugin`, `hookHandler`, `pluginSet`.
 */
import {
  CpexError,
  type Handler,
  type Plugin as PluginObject,
  type PluginEntry,
  type PluginSet,
} from '@cpex/core';
import type { MaybePromise, TypedHandler, TypedHooks } from './types.js';

/** What `definePlugin` takes: a name, one handler per hook, optional lifecycle. */
export interface PluginDefinition<K extends string> {
  /** The plugin's own name (the config entry's `name` is what the manager schedules and reports). */
  name: string;
  /** Handlers by hook name; each gets the payload type of its hook. */
  hooks: TypedHooks<K>;
  /** Runs once before the first invoke (after the manager created the plugin). */
  initialize?(): MaybePromise<void>;
  /** Runs once on `manager.shutdown()` (reverse registration order). */
  shutdown?(): MaybePromise<void>;
}

/** The object `definePlugin` returns: a core `Plugin` whose `hooks` map holds your handlers. */
export interface DefinedPlugin<K extends string> extends PluginObject {
  name: string;
  hooks: TypedHooks<K> & Record<string, Handler>;
}

/**
 * Build a plugin object from a name and typed hook handlers (export it from a `node://` module or
 * pass it to `manager.register`).
 *
 * @example
 * export default definePlugin({
 *   name: 'deny-rm',
 *   hooks: { tool_pre_invoke: (payload) => (payload.name === 'rm' ? deny('no_rm', 'rm is not allowed') : allow()) },
 * });
 */
export function definePlugin<K extends string>(definition: PluginDefinition<K>): DefinedPlugin<K> {
  if (definition === null || typeof definition !== 'object') {
    throw new CpexError('CPEX_ERR_INVALID_ARGUMENT', 'definePlugin() expects an object { name, hooks }');
  }
  if (typeof definition.name !== 'string' || definition.name.length === 0) {
    throw new CpexError('CPEX_ERR_INVALID_ARGUMENT', 'definePlugin() needs a non-empty string `name`');
  }
  const hooks = definition.hooks as unknown;
  if (hooks === null || typeof hooks !== 'object') {
    throw new CpexError(
      'CPEX_ERR_INVALID_ARGUMENT',
      `definePlugin(${definition.name}): \`hooks\` must be an object`,
      {
        plugin: definition.name,
      },
    );
  }
  for (const [hook, fn] of Object.entries(hooks)) {
    if (typeof fn !== 'function') {
      throw new CpexError(
        'CPEX_ERR_INVALID_ARGUMENT',
        `definePlugin(${definition.name}): hooks.${hook} must be a function, got ${typeof fn}`,
        { plugin: definition.name, hook },
      );
    }
  }
  const plugin: DefinedPlugin<K> = {
    name: definition.name,
    hooks: { ...(hooks as Record<string, Handler>) } as TypedHooks<K> & Record<string, Handler>,
  };
  if (definition.initialize) plugin.initialize = definition.initialize;
  if (definition.shutdown) plugin.shutdown = definition.shutdown;
  return plugin;
}

/**
 * A typed single-function hook for `manager.registerHook(hook, handler)`; the function gets the
 * hook's payload type.
 *
 * @example
 * manager.registerHook(...hookHandler('tool_pre_invoke', (payload) => allow({ seen: payload.name })));
 */
export function hookHandler<H extends string>(
  hook: H,
  handler: TypedHandler<H>,
): [hook: H, handler: Handler] {
  if (typeof handler !== 'function') {
    throw new CpexError('CPEX_ERR_INVALID_ARGUMENT', `hookHandler(${hook}): handler must be a function`, {
      hook,
    });
  }
  return [hook, handler as Handler];
}

/** A member of a plugin set: a plugin, a nested set, or a plugin with entry overrides (mode, priority, ...). */
export type PluginSetMember =
  | PluginObject
  | PluginSet
  | { plugin: PluginObject; entry?: Partial<PluginEntry> };

/**
 * Group plugins (and nested sets) so they register and dispose as one unit.
 *
 * @example
 * const security = pluginSet('security', [piiRedactor, { plugin: allowList, entry: { priority: 10 } }]);
 * const handle = manager.register(security); // ... later: await handle.dispose()
 */
export function pluginSet(name: string, members: readonly PluginSetMember[]): PluginSet {
  if (typeof name !== 'string' || name.length === 0) {
    throw new CpexError('CPEX_ERR_INVALID_ARGUMENT', 'pluginSet() needs a non-empty name');
  }
  if (!Array.isArray(members)) {
    throw new CpexError('CPEX_ERR_INVALID_ARGUMENT', `pluginSet(${name}): members must be an array`);
  }
  members.forEach((m, i) => {
    if (m === null || typeof m !== 'object') {
      throw new CpexError(
        'CPEX_ERR_INVALID_ARGUMENT',
        `pluginSet(${name}): members[${i}] is not a plugin or set`,
      );
    }
  });
  return { kind: 'plugin-set', name, members: [...members] };
}
