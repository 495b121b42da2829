/**
 * Loading a component: checks (a component, only WASI 0.2 and cpex:plugin imports, the
 * cpex:plugin world's export), then transpiles it with jco-transpile (`instantiation: 'async'`:
 * the host supplies every import) once per content hash, cached on disk so a restart does not
 * transpile again.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { CpexError } from '@cpex/core/host';
import { componentImportNames, isComponent, parseInterfaceName } from './binary.js';
import { WASI_INTERFACES, WORLD_INTERFACES } from './wasi.js';

/** The exact jco-transpile version (the glue changes between versions; part of the cache key). */
export const JCO_TRANSPILE_VERSION = '0.15.0';

/** What the cache holds for one component. */
export interface LoadedComponent {
  /** sha256 of the component bytes. */
  hash: string;
  /** Directory with `plugin.js` and the core modules. */
  dir: string;
  jsFile: string;
  /** Core module file names, in the order the glue asks for them. */
  coreFiles: string[];
  /** Top-level imports, with versions. */
  imports: string[];
  exports: Array<[string, string]>;
  /** True when this load transpiled (false: served from the cache). */
  transpiled: boolean;
  bytes: number;
}

export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(base, 'cpex-ts', 'wasm');
}

const WASI_PACKAGES = new Set(['cli', 'clocks', 'filesystem', 'io', 'random', 'sockets', 'http']);
const WASI_SET = new Set<string>(WASI_INTERFACES);
const WORLD_SET = new Set<string>(WORLD_INTERFACES);

/** Why an import is refused, or undefined when it is WASI 0.2 or the world's own. */
export function importProblem(name: string): string | undefined {
  const p = parseInterfaceName(name);
  if (!p) return 'not an interface import (the world imports interfaces only)';
  const unversioned = `${p.ns}:${p.pkg}/${p.iface}`;
  if (p.ns === 'wasi') {
    if (!WASI_PACKAGES.has(p.pkg) || !WASI_SET.has(unversioned)) return 'not a WASI 0.2 interface';
    if (!p.version || !/^0\.2\.\d+$/.test(p.version))
      return `WASI version ${p.version ?? '(none)'} is not 0.2.x`;
    return undefined;
  }
  if (p.ns === 'cpex' && p.pkg === 'plugin') {
    if (!WORLD_SET.has(unversioned)) return 'not an interface of the cpex:plugin world';
    if (p.version)
      return 'the cpex:plugin package carries no version (a versioned import would not load on Rust cpex either)';
    return undefined;
  }
  return 'outside WASI 0.2 and the cpex:plugin world';
}

interface Meta {
  imports: string[];
  exports: Array<[string, string]>;
  coreFiles: string[];
  jco: string;
}

/**
 * Reads, checks and (if not cached) transpiles the component at `file`.
 * @throws CpexError CPEX_ERR_WASM_LOAD | CPEX_ERR_WASM_IMPORT | CPEX_ERR_WASM_WORLD
 */
export async function loadComponent(
  file: string,
  cacheDir: string,
  plugin: string,
): Promise<LoadedComponent> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new CpexError(
      'CPEX_ERR_WASM_LOAD',
      `plugin "${plugin}": cannot read ${file}: ${(e as Error).message}`,
      {
        plugin,
        cause: e,
      },
    );
  }
  if (!isComponent(bytes)) {
    throw new CpexError(
      'CPEX_ERR_WASM_LOAD',
      `plugin "${plugin}": ${file} is not a WebAssembly component (a core module? build for wasm32-wasip2 or wrap it with wasm-tools component new)`,
      { plugin, details: { file } },
    );
  }
  let imports: string[];
  try {
    imports = componentImportNames(bytes);
  } catch (e) {
    throw new CpexError(
      'CPEX_ERR_WASM_LOAD',
      `plugin "${plugin}": ${file} is malformed: ${(e as Error).message}`,
      {
        plugin,
        cause: e,
      },
    );
  }
  for (const name of imports) {
    const problem = importProblem(name);
    if (problem) {
      throw new CpexError(
        'CPEX_ERR_WASM_IMPORT',
        `plugin "${plugin}": ${path.basename(file)} imports "${name}": ${problem}; only WASI 0.2 and cpex:plugin/host-logging can be satisfied`,
        { plugin, details: { import: name, imports } },
      );
    }
  }
  const hash = createHash('sha256').update(bytes).digest('hex');
  const dir = path.join(cacheDir, `${hash.slice(0, 32)}-jco${JCO_TRANSPILE_VERSION}`);
  const metaFile = path.join(dir, 'meta.json');
  let meta: Meta | undefined;
  let transpiled = false;
  if (existsSync(metaFile)) {
    try {
      meta = JSON.parse(readFileSync(metaFile, 'utf8')) as Meta;
      if (
        !meta.coreFiles.every((f) => existsSync(path.join(dir, f))) ||
        !existsSync(path.join(dir, 'plugin.js'))
      )
        meta = undefined;
    } catch {
      meta = undefined;
    }
  }
  if (!meta) {
    const { transpileBytes } = await import('@bytecodealliance/jco-transpile');
    let out: Awaited<ReturnType<typeof transpileBytes>>;
    try {
      out = await transpileBytes(bytes, {
        name: 'plugin',
        instantiation: 'async',
        emitTypescriptDeclarations: false,
        noTypescript: true,
      } as Parameters<typeof transpileBytes>[1]);
    } catch (e) {
      throw new CpexError(
        'CPEX_ERR_WASM_LOAD',
        `plugin "${plugin}": jco could not transpile ${file}: ${(e as Error).message ?? e}`,
        {
          plugin,
          cause: e,
        },
      );
    }
    const coreFiles = Object.keys(out.files)
      .filter((f) => f.endsWith('.wasm'))
      .sort((a, b) => coreIndex(a) - coreIndex(b));
    meta = { imports, exports: out.exports, coreFiles, jco: JCO_TRANSPILE_VERSION };
    const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    mkdirSync(tmp, { recursive: true });
    for (const [name, data] of Object.entries(out.files)) {
      if (name.endsWith('.d.ts')) continue;
      writeFileSync(path.join(tmp, name), data);
    }
    // the glue is an ES module
    writeFileSync(path.join(tmp, 'package.json'), '{"type":"module"}\n');
    writeFileSync(path.join(tmp, 'meta.json'), JSON.stringify(meta));
    try {
      renameSync(tmp, dir);
    } catch {
      // another process won the race: its copy is identical
      rmSync(tmp, { recursive: true, force: true });
    }
    transpiled = true;
  }
  const handle = meta.exports.find(([n]) => n === 'handleHook');
  if (!handle || handle[1] !== 'function') {
    const names = meta.exports.map(([n, k]) => `${n} (${k})`).join(', ') || 'nothing';
    throw new CpexError(
      'CPEX_ERR_WASM_WORLD',
      `plugin "${plugin}": ${path.basename(file)} does not export the cpex:plugin world (handle-hook); it exports ${names}`,
      { plugin, details: { exports: meta.exports } },
    );
  }
  return {
    hash,
    dir,
    jsFile: path.join(dir, 'plugin.js'),
    coreFiles: meta.coreFiles,
    imports: meta.imports,
    exports: meta.exports,
    transpiled,
    bytes: bytes.length,
  };
}

function coreIndex(f: string): number {
  const m = /core(\d*)\.wasm$/.exec(f);
  return m ? Number(m[1] || 1) : 0;
}
