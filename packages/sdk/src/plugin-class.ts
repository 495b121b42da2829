/**
 * Class-based authoring: extend `Plugin`, name methods after hooks or mark them with `@hook(...)`.
 */
import {
  CpexError,
  type Extensions,
  type PayloadOf,
  type PluginContext,
  type Plugin as PluginObject,
  type PluginEntry,
} from '@cpex/core';
import { HOOK_METHODS, PLUGIN_CLASS } from '@cpex/core/host';

/**
 * `HOOK_METHODS`: where `@hook` records `{ hookName: methodName }` on an instance (core's
 * in-process host reads it). `PLUGIN_CLASS`: the static marker on the `Plugin` base class, so a
 * `node://` export carrying it is constructed, not called. Both are defined once, in core
 * (packages/core/src/host/markers.ts), and re-exported here.
 */
export { HOOK_METHODS, PLUGIN_CLASS };

/**
 * Base class for plugins written as classes. The constructor receives the config entry's `config`
 * block (and the entry itself); methods named after hooks (or marked `@hook`) are the handlers,
 * called with `this` bound to the instance.
 *
 * @example
 * export default class AllowList extends Plugin<{ tools: string[] }> {
 *   async tool_pre_invoke(payload: PayloadOf<'tool_pre_invoke'>) {
 *     const tool = String(payload.name);
 *     return this.config.tools.includes(tool) ? allow() : deny('tool_not_allowed', tool);
 *   }
 * }
 */
export class Plugin<C extends object = Record<string, unknown>> implements PluginObject {
  static readonly [PLUGIN_CLASS] = true;
  // Plugins are open objects (handlers are looked up by hook name at load time).
  [member: string]: unknown;
  /** The plugin's name: the config entry's `name` when created from config, else the class name. */
  name: string;
  /** The entry's `config:` block (an empty object when the entry has none). */
  readonly config: C;
  /** The config entry this instance was created for (absent when constructed by hand). */
  readonly entry: Partial<PluginEntry> | undefined;

  constructor(config?: C | null, entry?: Partial<PluginEntry>) {
    this.config = (config ?? {}) as C;
    this.entry = entry;
    this.name = entry?.name ?? new.target.name;
  }

  /** Called once after creation, before the first invoke. Override for async setup. */
  initialize(): void | Promise<void> {}

  /** Called once on `manager.shutdown()`. Override to release resources. */
  shutdown(): void | Promise<void> {}
}

type HookMethod<This, H extends string> = {
  bivariance(
    this: This,
    payload: Readonly<PayloadOf<H>>,
    context: PluginContext,
    extensions: Extensions | undefined,
  ): unknown;
}['bivariance'];

/**
 * Method decorator (TC39 / TypeScript 5 decorators): mark a method as the handler of one or more hooks,
 * for hook names that are not valid method names (`cmf.tool_pre_invoke`) or to use your own method name.
 *
 * @example
 * class Labeler extends Plugin {
 *   @hook('cmf.tool_pre_invoke')
 *   async label(payload: PayloadOf<'cmf.tool_pre_invoke'>) { return allow(); }
 * }
 */
export function hook<H extends string>(...hookNames: [H, ...H[]]) {
  if (hookNames.length === 0) {
    throw new CpexError('CPEX_ERR_INVALID_ARGUMENT', '@hook() needs one or more non-empty hook names');
  }
  for (const name of hookNames) {
    if (typeof name !== 'string' || name.length === 0) {
      throw new CpexError('CPEX_ERR_INVALID_ARGUMENT', '@hook() needs one or more non-empty hook names');
    }
  }
  return function decorate<This extends object, M extends HookMethod<This, H>>(
    _method: M,
    context: ClassMethodDecoratorContext<This, M>,
  ): void {
    if (context.kind !== 'method' || context.private || typeof context.name !== 'string') {
      throw new CpexError(
        'CPEX_ERR_INVALID_ARGUMENT',
        `@hook(${hookNames.join(', ')}) must decorate a public, string-named method (got ${String(context.name)})`,
      );
    }
    const methodName = context.name;
    context.addInitializer(function (this: This) {
      recordHookMethods(this, hookNames, methodName);
    });
  };
}

function recordHookMethods(target: object, hookNames: readonly string[], methodName: string): void {
  const holder = target as { [HOOK_METHODS]?: Record<string, string> };
  // Each instance gets its own map so subclasses and siblings never share entries.
  const own = Object.hasOwn(target, HOOK_METHODS) ? holder[HOOK_METHODS] : undefined;
  const map: Record<string, string> = own ?? { ...(holder[HOOK_METHODS] ?? {}) };
  for (const h of hookNames) map[h] = methodName;
  if (own === undefined) {
    Object.defineProperty(target, HOOK_METHODS, {
      value: map,
      enumerable: false,
      configurable: true,
      writable: true,
    });
  }
}
