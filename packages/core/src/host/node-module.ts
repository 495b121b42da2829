/**
 * The `node://` kind: a TypeScript/JavaScript plugin module, imported in-process.
 *
 * `kind: node://<module specifier or path>[#export]` — relative paths resolve against the config
 * file's directory (`FactoryContext.baseDir`); a bare specifier is a file under one of the
 * `plugin_dirs` when one exists there, else a package resolved like an import from `baseDir`.
 * The export (default, or the one named after `#`) is one of:
 * - a plugin object (`definePlugin({...})`, or any object with `name` / `hooks`);
 * - a class (e.g. extending the sdk's `Plugin`), constructed as `new C(entry.config, entry)`;
 * - a factory function `(config, entry) => plugin | Promise<plugin>`.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CpexError, describeCause } from '../errors/index.js';
import type { FactoryContext, Plugin, PluginEntry, PluginFactory, PluginInstance } from '../types.js';
import { pluginToInstance } from './in-process.js';
import { HOOK_METHODS, PLUGIN_CLASS } from './markers.js';

/** The scheme this factory is registered under. */
export const NODE_MODULE_SCHEME = 'node://';

/** `node://./plugins/pii.ts#Redactor` → `{ specifier: './plugins/pii.ts', exportName: 'Redactor' }`. */
export function parseNodeKind(kind: string): { specifier: string; exportName: string } {
  const rest = kind.startsWith(NODE_MODULE_SCHEME) ? kind.slice(NODE_MODULE_SCHEME.length) : kind;
  const hash = rest.lastIndexOf('#');
  const specifier = hash === -1 ? rest : rest.slice(0, hash);
  const exportName = hash === -1 ? 'default' : rest.slice(hash + 1);
  return { specifier, exportName: exportName === '' ? 'default' : exportName };
}

function isPathLike(spec: string): boolean {
  return (
    spec.startsWith('./') ||
    spec.startsWith('../') ||
    spec === '.' ||
    spec === '..' ||
    path.isAbsolute(spec) ||
    /^[A-Za-z]:[\\/]/.test(spec)
  );
}

/** The URL to import for a specifier, resolved relative to `baseDir`; `found` when it exists on disk. */
function resolveModuleUrl(
  specifier: string,
  baseDir: string,
  pluginDirs: readonly string[],
): { url: string; found: boolean } {
  if (specifier.startsWith('file:')) return { url: specifier, found: existsSync(new URL(specifier)) };
  if (isPathLike(specifier)) {
    const file = path.resolve(baseDir, specifier);
    return { url: pathToFileURL(file).href, found: existsSync(file) };
  }
  // plugin_dirs are import roots (as for Python): `node://pii/redactor.ts` may live in one of them.
  for (const dir of pluginDirs) {
    const file = path.resolve(baseDir, dir, specifier);
    if (existsSync(file)) return { url: pathToFileURL(file).href, found: true };
  }
  try {
    // Resolve a package as code in baseDir would; falls back to the import() resolver below.
    return {
      url: pathToFileURL(createRequire(path.join(baseDir, 'noop.js')).resolve(specifier)).href,
      found: true,
    };
  } catch {
    return { url: specifier, found: false };
  }
}

function where(entry: PluginEntry, modulePath: string): string {
  return `plugin ${entry.name} (kind ${entry.kind}, module ${modulePath})`;
}

async function importModule(entry: PluginEntry, specifier: string, ctx: FactoryContext) {
  if (specifier === '') {
    throw new CpexError(
      'CPEX_ERR_MODULE_NOT_FOUND',
      `plugin ${entry.name}: kind ${entry.kind} names no module`,
      {
        plugin: entry.name,
      },
    );
  }
  const { url, found } = resolveModuleUrl(specifier, ctx.baseDir, ctx.pluginDirs ?? []);
  const shown = url.startsWith('file:') ? decodeURIComponent(new URL(url).pathname) : specifier;
  try {
    return { module: (await import(url)) as Record<string, unknown>, shown };
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
    // A bare specifier that createRequire could not resolve may still resolve through import().
    const notOurs = missing && found;
    let what: string;
    if (missing && !notOurs) what = 'was not found';
    else if (missing) what = `could not load one of its imports: ${describeCause(e)}`;
    else if (code === 'ERR_UNKNOWN_FILE_EXTENSION')
      what =
        'has an extension Node cannot import (TypeScript needs a loader such as tsx, or compile it to .js)';
    else what = `failed to import: ${describeCause(e)}`;
    throw new CpexError('CPEX_ERR_MODULE_NOT_FOUND', `${where(entry, shown)}: module ${what}`, {
      plugin: entry.name,
      details: { kind: entry.kind, module: shown },
      cause: e,
    });
  }
}

function isClass(fn: Function): boolean {
  if ((fn as unknown as Record<symbol, unknown>)[PLUGIN_CLASS] === true) return true;
  if (/^class[\s{]/.test(Function.prototype.toString.call(fn))) return true;
  // A down-levelled class: a plain function whose prototype carries methods.
  const proto = (fn as { prototype?: object }).prototype;
  return proto !== undefined && Object.getOwnPropertyNames(proto).some((k) => k !== 'constructor');
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') {
    const keys = Object.keys(v as object).slice(0, 5);
    return `an object with keys [${keys.join(', ')}]`;
  }
  return `a ${typeof v}`;
}

/** True for something that can act as an in-process plugin object. */
function isPluginObject(v: unknown): v is Plugin {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  if (typeof (v as { then?: unknown }).then === 'function') return false;
  const o = v as Record<string | symbol, unknown>;
  if (o.hooks !== undefined) return o.hooks !== null && typeof o.hooks === 'object';
  return typeof o.name === 'string' || o[HOOK_METHODS] !== undefined;
}

/** Turn the module's export into a plugin object, per the node:// export contract. */
async function toPlugin(
  exported: unknown,
  entry: PluginEntry,
  shown: string,
  exportName: string,
): Promise<Plugin> {
  const label = exportName === 'default' ? 'the default export' : `export "${exportName}"`;
  const shapeError = (got: unknown, via: string) =>
    new CpexError(
      'CPEX_ERR_EXPORT_SHAPE',
      `${where(entry, shown)}: ${label}${via} is ${describeValue(got)}; expected a plugin object (definePlugin), ` +
        'a Plugin subclass, or a factory function (config, entry) => plugin',
      { plugin: entry.name, details: { kind: entry.kind, module: shown, export: exportName } },
    );
  if (typeof exported === 'function') {
    const config = entry.config ?? {};
    let made: unknown;
    const construct = isClass(exported);
    try {
      made = construct
        ? new (exported as new (c: unknown, e: PluginEntry) => unknown)(config, entry)
        : await (exported as (c: unknown, e: PluginEntry) => unknown)(config, entry);
    } catch (e) {
      throw new CpexError(
        'CPEX_ERR_PLUGIN_LOAD',
        `${where(entry, shown)}: ${construct ? 'constructing' : 'calling'} ${label} threw: ${describeCause(e)}`,
        { plugin: entry.name, details: { kind: entry.kind, module: shown, export: exportName }, cause: e },
      );
    }
    if (construct) {
      if (made === null || typeof made !== 'object') throw shapeError(made, ' (constructed)');
      return made as Plugin;
    }
    if (!isPluginObject(made)) throw shapeError(made, ' (a factory) returned something that');
    return made;
  }
  if ((exported as { kind?: unknown } | null)?.kind === 'plugin-set') {
    // A set is registered in code (manager.register); one config entry is one plugin.
    throw shapeError(exported, ' is a PluginSet, not one plugin: it');
  }
  if (isPluginObject(exported)) return exported;
  throw shapeError(exported, '');
}

/**
 * The factory behind `kind: node://...`: imports the module, picks the export, and wraps the
 * plugin it yields as an in-process `PluginInstance`.
 *
 * @example
 * manager.registerFactory('node://', createNodeModuleFactory()); // core does this for you
 */
export function createNodeModuleFactory(): PluginFactory {
  return {
    async create(entry: PluginEntry, ctx: FactoryContext): Promise<PluginInstance> {
      const { specifier, exportName } = parseNodeKind(entry.kind);
      const { module, shown } = await importModule(entry, specifier, ctx);
      if (!(exportName in module) || (exportName === 'default' && module.default === undefined)) {
        const available = Object.keys(module).filter((k) => k !== '__esModule');
        throw new CpexError(
          'CPEX_ERR_EXPORT_NOT_FOUND',
          `${where(entry, shown)}: no ${exportName === 'default' ? 'default export' : `export named "${exportName}"`}` +
            ` (exports: ${available.length ? available.join(', ') : 'none'}); name one with ${NODE_MODULE_SCHEME}${specifier}#<export>`,
          { plugin: entry.name, details: { kind: entry.kind, module: shown, export: exportName, available } },
        );
      }
      const plugin = await toPlugin(module[exportName], entry, shown, exportName);
      return pluginToInstance(plugin, { module: shown, export: exportName });
    },
  };
}
