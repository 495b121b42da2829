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
