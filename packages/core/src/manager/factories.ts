/**
 * kind -> factory resolution (ARCHITECTURE s2 "kind resolution"): an exact registered factory
 * name, then a scheme (`node://` built in; `python://`, `wasm://`, `native://` from their hosts),
 * then a bare dotted path -> the host that takes dotted paths; else a coded error naming the
 * host package to install. Also keeps the registered hosts, which the manager disposes last.
 */
import { CpexError, describeCause } from '../errors/cpex-error.js';
import { createNodeModuleFactory } from '../host/node-module.js';
import { DOTTED_KIND_RE, hostPackageFor, hostPackageHint } from '../host/packages.js';
import type { Logger, PluginFactory, PluginHost } from '../types.js';
import { bounded } from './registrations.js';

const SCHEME_RE = /^([a-z][a-z0-9+.-]*):\/\//i;

/** The host package to install for a kind nothing serves, as the error names it. */
function installHint(kind: string): string | undefined {
  const p = hostPackageFor(kind);
  return p === undefined ? undefined : hostPackageHint(p);
}

export class FactoryResolver {
  readonly #factories = new Map<string, PluginFactory>();
  readonly #hosts: PluginHost[] = [];
  #dotted: PluginFactory | undefined;

  /** Register a factory for an exact kind (`my-kind`) or a scheme (`python://`). Last one wins. */
  registerFactory(kind: string, factory: PluginFactory): void {
    if (typeof kind !== 'string' || !kind || typeof factory?.create !== 'function') {
      throw new CpexError(
        'CPEX_ERR_INVALID_ARGUMENT',
        'registerFactory(kind, factory): kind must be a non-empty string and factory must have create(entry, ctx)',
      );
    }
    this.#factories.set(kind, factory);
  }

  registerHost(host: PluginHost): void {
    for (const k of host.kinds) this.registerFactory(k, host.factory);
    if (host.handlesDottedPaths) this.#dotted = host.factory;
    if (!this.#hosts.includes(host)) this.#hosts.push(host);
  }

  resolve(kind: string): PluginFactory {
    const exact = this.#factories.get(kind);
    if (exact) return exact;
    const scheme = SCHEME_RE.exec(kind);
    if (scheme) {
      const key = `${scheme[1]!.toLowerCase()}://`;
      const f = this.#factories.get(key);
      if (f) return f;
      if (key === 'node://') {
        const nf = createNodeModuleFactory();
        this.#factories.set('node://', nf);
        return nf;
      }
      const pkg = installHint(kind);
      throw new CpexError(
        'CPEX_ERR_UNKNOWN_KIND',
        pkg
          ? `kind ${kind} needs a host: install ${pkg}`
          : `no factory is registered for the scheme ${key} (kind ${kind})`,
      );
    }
    if (DOTTED_KIND_RE.test(kind)) {
      if (this.#dotted) return this.#dotted;
      throw new CpexError(
        'CPEX_ERR_UNKNOWN_KIND',
        `kind ${kind} looks like a Python class path; install @cpex/host-python and call registerPythonHost(manager)`,
      );
    }
    const pkg = installHint(kind);
    throw new CpexError(
      'CPEX_ERR_UNKNOWN_KIND',
      pkg
        ? `kind ${kind} needs a host: install ${pkg}`
        : `no factory is registered for kind "${kind}" (registered: ${[...this.#factories.keys()].join(', ') || 'none'}; node:// modules and python:// classes are built in or come with their host)`,
    );
  }

  /** Dispose every registered host, each bounded by `seconds` (errors and timeouts are logged, never thrown). */
  async disposeHosts(logger: Logger, seconds: number): Promise<void> {
    for (const h of this.#hosts) {
      try {
        await bounded(() => h.dispose(), seconds, `host ${h.name}: dispose() (plugin_shutdown_timeout)`, {});
      } catch (e) {
        logger.warn(`host ${h.name} dispose failed: ${describeCause(e)}`);
      }
    }
  }
}
