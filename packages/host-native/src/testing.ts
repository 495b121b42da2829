/**
 * @cpex/host-native/testing — builds the native probe libraries (the conformance / host-suite
 * probe in C, and its hostile variants) with the machine's C compiler, cached by source hash.
 * Used by this package's tests, the conformance runner (`--host native`), the bench and the
 * examples. Needs `cc` (gcc or clang); a missing compiler is a coded CPEX_ERR_HOST_UNAVAILABLE.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CpexError } from '@cpex/core/host';
import type { HostLimit, HostProbe, HostileKind, ProbeBehaviour } from '@cpex/sdk/testing';

const PKG = fileURLToPath(new URL('..', import.meta.url));
/** The C sources of the probe. */
export const PROBE_SOURCE_DIR = path.join(PKG, 'testing', 'c');
const INCLUDE = path.join(PKG, 'include');

/** The variants `buildProbeLibraries` makes, by file name. */
export const PROBE_VARIANTS = {
  /** pyref Probe + the host-suite behaviours + hostile options, on the legacy and CMF hooks. */
  'libcpex_probe.so': [] as string[],
  /** pyref ExtensionsProbe (tool_pre_invoke). */
  'libcpex_extprobe.so': ['-DPROBE_CLASS=1'],
  /** pyref PartialPlugin (implements tool_pre_invoke only). */
  'libcpex_partial.so': ['-DPROBE_CLASS=2'],
  /** Declares ABI version 2. */
  'libcpex_wrong_abi.so': ['-DPROBE_ABI=2'],
  /** Declares the interface hash of wire schema 2. */
  'libcpex_wrong_hash.so': ['-DPROBE_HASH=0x2841e39185527a37ull'],
} as const;

export type ProbeVariant = keyof typeof PROBE_VARIANTS;

function repoCache(): string {
  let dir = PKG;
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return path.join(dir, '.cache', 'native-fixtures');
    dir = path.dirname(dir);
  }
  return path.join(os.tmpdir(), 'cpex-native-fixtures');
}

function compilerVersion(cc: string): string {
  try {
    return (
      execFileSync(cc, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split(
        '\n',
      )[0] ?? cc
    );
  } catch (e) {
    throw new CpexError(
      'CPEX_ERR_HOST_UNAVAILABLE',
      `native fixtures need a C compiler: ${cc} was not found (apt-get install gcc)`,
      { cause: e },
    );
  }
}

/**
 * Compiles a C plugin (sources + flags) into `<cacheDir>/<hash>/<name>` unless it is already
 * there, and returns its path. The hash covers the sources, the header, flags and compiler.
 */
export function buildCPlugin(
  name: string,
  sources: readonly string[],
  flags: readonly string[] = [],
  options: { cacheDir?: string; cc?: string } = {},
): string {
  const cc = options.cc ?? process.env.CC ?? 'cc';
  const hash = createHash('sha256');
  hash.update(compilerVersion(cc));
  hash.update(flags.join(' '));
  hash.update(readFileSync(path.join(INCLUDE, 'cpex_plugin.h')));
  for (const s of sources) hash.update(readFileSync(s));
  for (const h of ['mp.h']) {
    const p = path.join(path.dirname(sources[0] ?? PROBE_SOURCE_DIR), h);
    if (existsSync(p)) hash.update(readFileSync(p));
  }
  const dir = path.join(
    options.cacheDir ?? process.env.CPEX_NATIVE_FIXTURE_DIR ?? repoCache(),
    hash.digest('hex').slice(0, 16),
  );
  const out = path.join(dir, name);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    execFileSync(
      cc,
      [
        '-O2',
        '-shared',
        '-fPIC',
        '-fvisibility=hidden',
        '-Wall',
        `-I${INCLUDE}`,
        ...flags,
        ...sources,
        '-o',
        tmp,
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new CpexError(
      'CPEX_ERR_HOST_UNAVAILABLE',
      `building ${name} with ${cc} failed: ${stderr || (e as Error).message}`,
      { cause: e },
    );
  }
  renameSync(tmp, out); // atomic: concurrent test workers never see a half-written library
  return out;
}

/** Builds (or finds in the cache) every probe variant; returns name → absolute path. */
export function buildProbeLibraries(
  options: { cacheDir?: string; cc?: string } = {},
): Record<ProbeVariant, string> {
  const out = {} as Record<ProbeVariant, string>;
  const src = path.join(PROBE_SOURCE_DIR, 'probe.c');
  for (const [name, flags] of Object.entries(PROBE_VARIANTS))
    out[name as ProbeVariant] = buildCPlugin(name, [src], flags, options);
  return out;
}

/** What `isolation: none` cannot contain: the library runs in the gateway's own process. */
const NATIVE_IN_PROCESS_LIMITS: Partial<Record<HostileKind, HostLimit>> = {
  hang: {
    reason: 'a call that ignores its cancel flag keeps its pool thread, so the process cannot exit',
    doc: 'docs/hosts/native.md',
    says: 'keeps its pool thread',
  },
  hang_init: {
    reason: 'a cpex_plugin_init that never returns keeps its pool thread, so the process cannot exit',
    doc: 'docs/hosts/native.md',
    says: 'keeps its pool thread',
  },
  hang_shutdown: {
    reason: 'a cpex_plugin_shutdown that never returns keeps its pool thread, so the process cannot exit',
    doc: 'docs/hosts/native.md',
    says: 'keeps its pool thread',
  },
  grow: {
    reason: "the library allocates from the gateway's own memory",
    doc: 'docs/hosts/native.md',
    says: "allocates from the gateway's memory",
  },
  garbage: {
    reason: "the library writes to the gateway's own stdout and descriptors",
    doc: 'docs/hosts/native.md',
    says: "writes to the gateway's stdout",
  },
  crash: {
    reason: 'a segfault, abort or exit takes the gateway down',
    doc: 'docs/hosts/native.md',
    says: 'takes the gateway down',
  },
};

/**
 * A `HostProbe` for `testHost` that runs the C probe: entries `native://<lib>` with
 * `config: { behaviour, events_dir }`. Events are read from the directory of the latest entry of
 * that plugin name (of the latest entry, when the suite gave no name).
 * `grow` entries get `max_memory_mb`; for `isolation: none` the probe declares what that mode
 * cannot contain (`NATIVE_IN_PROCESS_LIMITS`).
 * @example
 * await testHost({ name: 'native', makeHost: () => createNativeHost(), probe: nativeProbe(lib, extra) });
 */
export function nativeProbe(
  library: string,
  extra: Record<string, unknown> = {},
  isolation: 'none' | 'process' = 'none',
): HostProbe {
  const dirs = new Map<string, string>();
  let latest = '';
  return {
    entry: (behaviour: ProbeBehaviour, _hooks: readonly string[], pluginName?: string) => {
      const eventsDir = path.join(
        os.tmpdir(),
        `cpex-native-events-${process.pid}-${Math.random().toString(36).slice(2)}`,
      );
      mkdirSync(eventsDir, { recursive: true });
      latest = eventsDir;
      if (pluginName !== undefined) dirs.set(pluginName, eventsDir);
      const cap = behaviour.kind === 'grow' ? { max_memory_mb: behaviour.limitMb } : {};
      return { kind: `native://${library}`, config: { behaviour, events_dir: eventsDir }, ...cap, ...extra };
    },
    ...(isolation === 'none' ? { limits: NATIVE_IN_PROCESS_LIMITS } : {}),
    events: (pluginName: string) => {
      const file = path.join(dirs.get(pluginName) ?? latest, pluginName);
      return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    },
  };
}

function cargoBinary(): string {
  const home = path.join(os.homedir(), '.cargo', 'bin', 'cargo');
  for (const c of [process.env.CARGO, 'cargo', home]) {
    if (!c) continue;
    try {
      execFileSync(c, ['--version'], { stdio: 'ignore' });
      return c;
    } catch {}
  }
  throw new CpexError(
    'CPEX_ERR_HOST_UNAVAILABLE',
    'building a Rust native plugin needs cargo (apt-get install cargo, or rustup)',
  );
}

function crateFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === 'target') continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.rs') || e.name === 'Cargo.toml' || e.name === 'Cargo.lock') out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * Builds a dependency-free Rust cdylib crate (`cargo build --release --offline`) into the cache,
 * keyed by its sources and the toolchain; returns the path of `lib<name>.so`.
 * @example const lib = buildRustPlugin('examples/native-plugin/tool-guard-rs', 'cpex_tool_guard');
 */
export function buildRustPlugin(
  crateDir: string,
  libName: string,
  options: { cacheDir?: string } = {},
): string {
  const cargo = cargoBinary();
  const hash = createHash('sha256');
  hash.update(execFileSync(cargo, ['--version'], { encoding: 'utf8' }));
  for (const f of crateFiles(crateDir)) hash.update(f.slice(crateDir.length)).update(readFileSync(f));
  const key = hash.digest('hex').slice(0, 16);
  const root = options.cacheDir ?? process.env.CPEX_NATIVE_FIXTURE_DIR ?? repoCache();
  const file = `lib${libName}${process.platform === 'darwin' ? '.dylib' : '.so'}`;
  const out = path.join(root, `rust-${key}`, file);
  if (existsSync(out)) return out;
  const target = path.join(root, 'cargo-target');
  mkdirSync(path.dirname(out), { recursive: true });
  try {
    execFileSync(
      cargo,
      [
        'build',
        '--release',
        '--offline',
        '--quiet',
        '--manifest-path',
        path.join(crateDir, 'Cargo.toml'),
        '--target-dir',
        target,
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new CpexError(
      'CPEX_ERR_HOST_UNAVAILABLE',
      `cargo build of ${crateDir} failed: ${stderr || (e as Error).message}`,
      { cause: e },
    );
  }
  const tmp = `${out}.${process.pid}.tmp`;
  copyFileSync(path.join(target, 'release', file), tmp);
  renameSync(tmp, out);
  return out;
}
