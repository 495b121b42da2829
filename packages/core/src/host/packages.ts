/**
 * The host packages: which config kinds each one serves and the export that registers it. One
 * table for the manager's "install …" errors and for the programs that register the installed
 * hosts a config needs (the `cpex` CLI and `cpex serve`, through {@link registerNeededHosts}).
 */
import type { HostRegistrar } from './register.js';

/** A host package for kinds other than `node://`. */
export interface HostPackage {
  /** The npm package. */
  readonly pkg: string;
  /** Its `register…Host(manager, options)` export. */
  readonly register: string;
  /** Kind schemes it serves (lower case, with `://`). */
  readonly schemes: readonly string[];
  /** Exact kinds it serves. */
  readonly kinds: readonly string[];
  /** Whether it serves bare dotted paths (`package.module.Class`). */
  readonly dottedPaths: boolean;
}

export const HOST_PACKAGES: readonly HostPackage[] = [
  {
    pkg: '@cpex/host-python',
    register: 'registerPythonHost',
    schemes: ['python://'],
    kinds: ['isolated_venv'],
    dottedPaths: true,
  },
  {
    pkg: '@cpex/host-wasm',
    register: 'registerWasmHost',
    schemes: ['wasm://'],
    kinds: [],
    dottedPaths: false,
  },
  {
    pkg: '@cpex/host-native',
    register: 'registerNativeHost',
    schemes: ['native://'],
    kinds: [],
    dottedPaths: false,
  },
];

/** A bare dotted path (`package.module.Class`): a Python class, for the host that takes them. */
export const DOTTED_KIND_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;
const SCHEME_RE = /^([a-z][a-z0-9+.-]*):\/\//i;

/** The host package that serves `kind` (by scheme, exact kind or dotted path), if any. */
export function hostPackageFor(kind: string): HostPackage | undefined {
  const scheme = SCHEME_RE.exec(kind);
  if (scheme) {
    const key = `${scheme[1]!.toLowerCase()}://`;
    return HOST_PACKAGES.find((p) => p.schemes.includes(key));
  }
  return HOST_PACKAGES.find((p) => p.kinds.includes(kind) || (p.dottedPaths && DOTTED_KIND_RE.test(kind)));
}

/** How to install and register a host package, as error messages name it. */
export function hostPackageHint(p: HostPackage): string {
  return `${p.pkg} (${p.register}(manager))`;
}

/** How {@link registerNeededHosts} reaches the host packages. */
export interface RegisterNeededHostsOptions {
  /**
   * Imports a host package from the caller's own location, where its (optional peer) dependencies
   * resolve: pass `(pkg) => import(pkg)`. A rejection means "not installed".
   */
  importer(pkg: string): Promise<unknown>;
  /** Options for a package's register function (e.g. the Python interpreter); default none. */
  options?(pkg: string): Record<string, unknown>;
  /** Told when an installed package has no register export. */
  warn?(message: string): void;
}

/** A registered host the caller disposes after shutting its manager down. */
export interface DisposableHost {
  dispose(): Promise<void>;
}

/**
 * Registers on `manager`, in table order, each installed host package that one of `kinds` needs;
 * returns the hosts that have a `dispose()`. A package that is not installed is skipped:
 * `initialize()` then reports CPEX_ERR_UNKNOWN_KIND naming it.
 *
 * @example
 * const kinds = manager.config?.entries.map((e) => e.kind) ?? [];
 * const hosts = await registerNeededHosts(manager, kinds, { importer: (pkg) => import(pkg) });
 */
export async function registerNeededHosts(
  manager: HostRegistrar,
  kinds: readonly string[],
  options: RegisterNeededHostsOptions,
): Promise<DisposableHost[]> {
  const needed = new Set(kinds.map(hostPackageFor));
  const hosts: DisposableHost[] = [];
  for (const host of HOST_PACKAGES) {
    if (!needed.has(host)) continue;
    let mod: Record<string, unknown>;
    try {
      mod = (await options.importer(host.pkg)) as Record<string, unknown>;
    } catch {
      continue; // not installed: initialize() reports CPEX_ERR_UNKNOWN_KIND naming the package
    }
    const register = mod?.[host.register];
    if (typeof register !== 'function') {
      options.warn?.(`${host.pkg} is installed but has no ${host.register}() export`);
      continue;
    }
    const made: unknown = await (register as (m: HostRegistrar, o: Record<string, unknown>) => unknown)(
      manager,
      options.options?.(host.pkg) ?? {},
    );
    if (made && typeof (made as { dispose?: unknown }).dispose === 'function')
      hosts.push(made as DisposableHost);
  }
  return hosts;
}
