/**
 * The two markers shared by core's in-process/`node://` hosts and the sdk's class-based authoring.
 * Defined once here; the sdk re-exports them. Registry symbols (`Symbol.for`), so two copies of
 * core or the sdk in one process still agree.
 */

/** Where `@hook(...)` records `{ hookName: methodName }` (on the instance or its prototype chain). */
export const HOOK_METHODS: unique symbol = Symbol.for('cpex.hook-methods') as never;

/** Static marker on the sdk's `Plugin` base class: a `node://` export carrying it is constructed, not called. */
export const PLUGIN_CLASS: unique symbol = Symbol.for('cpex.plugin-class') as never;
