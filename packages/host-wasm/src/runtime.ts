/**
 * One live guest: the transpiled glue instantiated with our WASI, memory-capped core modules and
 * an instance budget. Used in-thread (`isolation: none`) and inside the worker threads. Imports
 * nothing from @cpex/core at run time (the worker loads it without the package graph).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import { capMemory } from './binary.js';
import type { SandboxPolicy } from './policy.js';
import { buildImports, GuestExit, type LogStream } from './wasi.js';

/** Everything a thread needs to instantiate one plugin (structured-clonable). */
export interface GuestSpec {
  /** Identifies the plugin instance across calls (worker-side cache key). */
  key: string;
  plugin: string;
  dir: string;
  jsFile: string;
  policy: SandboxPolicy;
  httpTimeoutMs: number;
  /** Keep this many bytes of guest stderr per call for trap messages. */
  stderrTailBytes?: number;
}

/** Values of a worker task's `started` flag (worker.ts). */
export const CALL_STARTED = 1;
export const CALL_RETURNED = 2;

export interface LogLine {
  stream: LogStream;
  level: string;
  text: string;
}

/** A guest call that failed: trap, exit, instance budget, memory cap. */
export interface GuestFailure {
  kind: 'trap' | 'exit' | 'instantiate';
  message: string;
  /** The guest's last stderr lines (Rust panics print their message there). */
  stderr: string;
}

type Instantiate = (
  getCoreModule: (name: string) => Promise<WebAssembly.Module>,
  imports: Record<string, unknown>,
  instantiateCore?: (m: WebAssembly.Module, i?: WebAssembly.Imports) => Promise<WebAssembly.Instance>,
) => Promise<{ handleHook: (...args: unknown[]) => unknown }>;

interface Glue {
  instantiate: Instantiate;
  /** Writes the V8 code cache of the glue (once per process, when it has none or it was rejected). */
  saveCodeCache(): void;
}

const glueCache = new Map<string, Promise<Glue>>();
const moduleCache = new Map<string, Promise<WebAssembly.Module>>();

/** The V8 code cache of a glue file, next to it in the content-addressed cache directory. */
export const codeCacheFile = (jsFile: string) => `${jsFile}.v8cache`;

/**
 * The jco glue (an ES module with one `export function instantiate` and one `export const _util`,
 * no static imports: `instantiation: 'async'`) as a classic script, so that V8 can use a code
 * cache for it: parsing and compiling ~1 MB of glue is most of a cached load, and compiling its
 * lowering/lifting functions on first use is most of a thread's first call. Returns undefined
 * when the text is not of that shape (then the glue is imported as a module).
 */
export function glueAsScript(source: string): string | undefined {
  const exportsSeen = source.match(/^export\s/gm) ?? [];
  if (exportsSeen.length !== 2) return undefined;
  if (!/^export function instantiate\(/m.test(source) || !/^export const _util = /m.test(source))
    return undefined;
  if (/^import\s/m.test(source)) return undefined;
  const body = source
    .replace(/^export function instantiate\(/m, 'function instantiate(')
    .replace(/^export const _util = /m, 'const _util = ')
    .replace(/\bimport\.meta\.url\b/g, '__cpexGlueUrl')
    .replace(/\bawait import\(/g, 'await __cpexGlueImport(');
  if (/\bimport\.meta\b|[^.\w]import\(/.test(body)) return undefined;
  return `(function (__cpexGlueUrl, __cpexGlueImport) {"use strict";\n${body}\nreturn instantiate;\n})`;
}

async function loadGlue(jsFile: string): Promise<Glue> {
  const source = readFileSync(jsFile, 'utf8');
  const wrapped = glueAsScript(source);
  if (!wrapped) {
    const m = (await import(pathToFileURL(jsFile).href)) as { instantiate: Instantiate };
    return { instantiate: m.instantiate, saveCodeCache() {} };
  }
  const cacheFile = codeCacheFile(jsFile);
  let cachedData: Buffer | undefined;
  try {
    if (existsSync(cacheFile)) cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new Script(wrapped, { filename: jsFile, ...(cachedData ? { cachedData } : {}) });
  const url = pathToFileURL(jsFile).href;
  const factory = script.runInThisContext() as (
    url: string,
    load: (specifier: string) => Promise<unknown>,
  ) => Instantiate;
  let saved = cachedData !== undefined && !script.cachedDataRejected;
  return {
    instantiate: factory(url, (specifier) => import(specifier)),
    saveCodeCache() {
      if (saved) return;
      saved = true;
      try {
        const tmp = `${cacheFile}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
      } catch {
        // a read-only cache directory: the glue still works, only slower to load
      }
    },
  };
}

function glue(jsFile: string): Promise<Glue> {
  let g = glueCache.get(jsFile);
  if (!g) {
    g = loadGlue(jsFile);
    g.catch(() => glueCache.delete(jsFile));
    glueCache.set(jsFile, g);
  }
  return g;
}

function coreModule(
  dir: string,
  name: string,
  maxMemoryBytes: number | undefined,
): Promise<WebAssembly.Module> {
  const key = `${dir}\0${name}\0${maxMemoryBytes ?? ''}`;
  let m = moduleCache.get(key);
  if (!m) {
    m = (async () => {
      let bytes: Uint8Array = readFileSync(path.join(dir, name));
      if (maxMemoryBytes !== undefined) bytes = capMemory(bytes, maxMemoryBytes).bytes;
      return WebAssembly.compile(bytes);
    })();
    m.catch(() => moduleCache.delete(key));
    moduleCache.set(key, m);
  }
  return m;
}

/** Compiles the core modules ahead (so the first call does not pay for it). */
export async function precompile(spec: GuestSpec, coreFiles: readonly string[]): Promise<void> {
  await glue(spec.jsFile);
  await Promise.all(coreFiles.map((f) => coreModule(spec.dir, f, spec.policy.maxMemoryBytes)));
}

export class GuestInstance {
  private exports: { handleHook: (...args: unknown[]) => unknown } | undefined;
  private logs: LogLine[] = [];
  private stderrTail = '';
  private saveCodeCache: (() => void) | undefined;

  private constructor(
    readonly spec: GuestSpec,
    private readonly onLog?: (line: LogLine) => void,
  ) {}

  static async create(spec: GuestSpec, onLog?: (line: LogLine) => void): Promise<GuestInstance> {
    const g = new GuestInstance(spec, onLog);
    await g.instantiate();
    return g;
  }

  private sink = (stream: LogStream, level: string, text: string) => {
    if (stream === 'stderr') {
      this.stderrTail = (this.stderrTail + text + '\n').slice(-(this.spec.stderrTailBytes ?? 2048));
    }
    const line = { stream, level, text };
    if (this.onLog) this.onLog(line);
    else this.logs.push(line);
  };

  private async instantiate(): Promise<void> {
    const g = await glue(this.spec.jsFile);
    this.saveCodeCache = g.saveCodeCache;
    const instantiate = g.instantiate;
    const imports = buildImports({
      policy: this.spec.policy,
      sink: this.sink,
      httpTimeoutMs: this.spec.httpTimeoutMs,
    });
    let instances = 0;
    const max = this.spec.policy.maxInstances;
    const maxTables = this.spec.policy.maxTables;
    let tables = 0;
    try {
      this.exports = await instantiate(
        (name) => coreModule(this.spec.dir, name, this.spec.policy.maxMemoryBytes),
        imports,
        async (module, imp) => {
          instances++;
          if (max !== undefined && instances > max) {
            throw new Error(`the component needs more than max_instances=${max} core instances`);
          }
          if (maxTables !== undefined) {
            tables += WebAssembly.Module.exports(module).filter((e) => e.kind === 'table').length;
            if (tables > maxTables)
              throw new Error(`the component defines more than max_tables=${maxTables} tables`);
          }
          return WebAssembly.instantiate(module, imp);
        },
      );
    } catch (e) {
      this.exports = undefined;
      throw failure('instantiate', e, this.stderrTail);
    }
  }

  /** Drains log lines collected since the last call (worker mode). */
  takeLogs(): LogLine[] {
    const l = this.logs;
    this.logs = [];
    return l;
  }

  /**
   * Calls handle-hook. A trap poisons a component instance (jco refuses further calls), so the
   * next call instantiates afresh from the compiled modules (sub-millisecond).
   */
  async call(args: [string, unknown, unknown, unknown]): Promise<unknown> {
    if (!this.exports) await this.instantiate();
    this.stderrTail = '';
    try {
      const result = await this.exports!.handleHook(...args);
      // After the first call the glue's lowering/lifting functions are compiled: cache them too.
      if (this.saveCodeCache) {
        this.saveCodeCache();
        this.saveCodeCache = undefined;
      }
      return result;
    } catch (e) {
      this.exports = undefined;
      throw failure(e instanceof GuestExit ? 'exit' : 'trap', e, this.stderrTail);
    }
  }
}

function failure(kind: GuestFailure['kind'], e: unknown, stderr: string): GuestFailure {
  const message =
    e instanceof Error ? `${e.name === 'RuntimeError' ? 'wasm trap: ' : ''}${e.message}` : String(e);
  return { kind, message, stderr: stderr.trim() };
}

export function isGuestFailure(e: unknown): e is GuestFailure {
  return (
    typeof e === 'object' &&
    e !== null &&
    'kind' in e &&
    'stderr' in e &&
    'message' in e &&
    !(e instanceof Error)
  );
}
