/**
 * Test fixtures built from source, cached by the hash of their sources under
 * `<repo>/.cache/host-wasm/fixtures/<hash>/`:
 * - Rust (fixtures/rust: probe, noop) with `cargo +1.96.0 build --target wasm32-wasip2`;
 * - our reproduction of Rust cpex PR #65's example plugins (fixtures/rust/pr65), in the same build;
 * - the C plugin (fixtures/c/plugin.c), built with Debian clang + wasi-libc by the build script of
 *   fixtures/rust/cbuild in the same cargo run (it reuses the workspace's host build of
 *   wit-parser / wit-component);
 * - PR #65's example plugins built unchanged from its source, when `CPEX_PR65_SRC` names a clone
 *   of contextforge-org/cpex that has commit PR65_COMMIT (not in CI: it has no access to GitHub).
 * Also runnable as a script (scripts/setup.d/40-wasm.sh) so CI builds them before the tests.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PKG_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_DIR = path.resolve(PKG_DIR, '..', '..');
export const CACHE_DIR = path.join(REPO_DIR, '.cache', 'host-wasm');
export const RUST_TOOLCHAIN = '1.96.0';

function hashTree(dirs: string[], extra: string): string {
  const h = createHash('sha256').update(extra);
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name === 'target' || name.startsWith('.')) continue;
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else h.update(path.relative(PKG_DIR, p)).update(readFileSync(p));
    }
  };
  for (const d of dirs) walk(d);
  return h.digest('hex').slice(0, 24);
}

function log(msg: string) {
  process.stderr.write(`[host-wasm fixtures] ${msg}\n`);
}

/** `cargo +RUST_TOOLCHAIN build --release --target wasm32-wasip2 ...args` into `target`. */
function cargoWasm(args: string[], target: string, cwd?: string, env: Record<string, string> = {}): void {
  execFileSync(
    'cargo',
    [`+${RUST_TOOLCHAIN}`, 'build', '--quiet', '--release', '--target', 'wasm32-wasip2', ...args],
    {
      cwd,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, ...env, CARGO_TARGET_DIR: target },
    },
  );
}

/** The C compiler of the C fixture (`CPEX_WASM_CLANG`, default `clang`) and its version line. */
function clangVersion(): string {
  const clang = process.env.CPEX_WASM_CLANG ?? 'clang';
  try {
    return execFileSync(clang, ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? clang;
  } catch {
    throw new Error(
      `the C wasm fixture needs ${clang} with wasi-libc (scripts/setup.d/40-wasm.sh installs them: apt-get install clang lld wasi-libc libclang-rt-dev-wasm32)`,
    );
  }
}

export type FixtureName = 'probe' | 'noop' | 'pr65' | 'c';

/** Builds (or finds cached) the Rust and C fixtures; returns name → .wasm path. */
export function rustFixtures(): Record<FixtureName, string> {
  const src = path.join(PKG_DIR, 'fixtures', 'rust');
  const csrc = path.join(PKG_DIR, 'fixtures', 'c');
  const wit = path.join(PKG_DIR, 'wit');
  const hash = hashTree([src, csrc, wit], `rust ${RUST_TOOLCHAIN} ${clangVersion()}`);
  const out = path.join(CACHE_DIR, 'fixtures', `rust-${hash}`);
  const want = {
    probe: path.join(out, 'probe.wasm'),
    noop: path.join(out, 'noop.wasm'),
    pr65: path.join(out, 'pr65.wasm'),
    c: path.join(out, 'c-plugin.wasm'),
  };
  if (Object.values(want).every((f) => existsSync(f))) return want;
  log(`building Rust and C fixtures (cargo +${RUST_TOOLCHAIN}, wasm32-wasip2; clang) into ${out}`);
  const target = path.join(CACHE_DIR, 'cargo-target');
  const tmp = `${out}.tmp-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  cargoWasm(['--manifest-path', path.join(src, 'Cargo.toml')], target, undefined, {
    CPEX_C_FIXTURE_OUT: tmp,
  });
  for (const name of ['probe', 'noop', 'pr65'])
    copyFileSync(
      path.join(target, 'wasm32-wasip2', 'release', `cpex_fixture_${name}.wasm`),
      path.join(tmp, `${name}.wasm`),
    );
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
  return want;
}

/** Rust cpex PR #65 (the WASM host), as fetched from refs/pull/65/head. */
export const PR65_COMMIT = '9dce96f8a17a5e6fee493721712f07e6ea4d41f8';
/** PR #65's example plugins (`make build-demos` names = cargo features of cpex-wasm-plugin). */
export const PR65_EXAMPLES = [
  'identity-checker',
  'header-injector',
  'audit-logger',
  'token-attenuator',
  'noop',
  'tool-invoke-checker',
  'pii-guard',
  'audit-logger-custom',
  'remote-authz',
  'compute-bench',
  'fs-sandbox-demo',
  'env-sandbox-demo',
  'resource-sandbox-demo',
  'net-sandbox-demo',
] as const;
export type Pr65Example = (typeof PR65_EXAMPLES)[number];

/**
 * A directory holding one `<example>.wasm` per PR #65 example, all our own reproduction
 * (fixtures/rust/pr65 picks the behaviour by plugin name), so configs written like PR #65's
 * (`kind: wasm://pii-guard.wasm`) load it.
 */
export function pr65Reproduction(): string {
  const src = rustFixtures().pr65;
  const dir = path.join(path.dirname(src), 'pr65-examples');
  if (PR65_EXAMPLES.every((e) => existsSync(path.join(dir, `${e}.wasm`)))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  for (const e of PR65_EXAMPLES) copyFileSync(src, path.join(tmp, `${e}.wasm`));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}

/**
 * PR #65's example plugins built UNCHANGED from its source (`cargo build --features <example>`
 * in crates/cpex-wasm-plugin, as its `make build-demos` does), plus its config files under
 * `config/`. Source: `CPEX_PR65_SRC`, a git clone (or bare git dir) of contextforge-org/cpex
 * containing PR65_COMMIT. Cached by commit + toolchain; a cold build takes ~5 min + ~1.5 min per
 * example on a 2-core machine. Returns undefined when CPEX_PR65_SRC is unset.
 */
export function pr65Unchanged(): string | undefined {
  const repo = process.env.CPEX_PR65_SRC;
  if (!repo) return undefined;
  const out = path.join(CACHE_DIR, 'pr65', `${PR65_COMMIT.slice(0, 12)}-${RUST_TOOLCHAIN}`);
  const done = path.join(out, 'examples');
  if (PR65_EXAMPLES.every((e) => existsSync(path.join(done, `${e}.wasm`)))) return done;
  const src = path.join(CACHE_DIR, 'pr65', 'src');
  if (!existsSync(path.join(src, 'crates', 'cpex-wasm-plugin'))) {
    log(`extracting ${PR65_COMMIT} from ${repo}`);
    mkdirSync(src, { recursive: true });
    const tar = execFileSync('git', ['-C', repo, 'archive', PR65_COMMIT], { maxBuffer: 1 << 30 });
    execFileSync('tar', ['-x', '-C', src], { input: tar });
  }
  const crate = path.join(src, 'crates', 'cpex-wasm-plugin');
  const target = path.join(CACHE_DIR, 'pr65', 'cargo-target');
  const tmp = `${done}.tmp-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  for (const e of PR65_EXAMPLES) {
    log(`building PR #65 example ${e} unchanged (cargo +${RUST_TOOLCHAIN} --features ${e})`);
    cargoWasm(['--features', e, '--no-default-features'], target, crate);
    copyFileSync(
      path.join(target, 'wasm32-wasip2', 'release', 'cpex_wasm_plugin.wasm'),
      path.join(tmp, `${e}.wasm`),
    );
  }
  const configs = path.join(src, 'crates', 'cpex-wasm-host', 'config');
  for (const f of readdirSync(configs)) copyFileSync(path.join(configs, f), path.join(tmp, f));
  rmSync(done, { recursive: true, force: true });
  renameSync(tmp, done);
  return done;
}

/** A directory for one test's scratch files. */
export function scratchDir(name: string): string {
  const d = path.join(CACHE_DIR, 'scratch', `${name}-${process.pid}`);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
  return d;
}

export function writeText(file: string, text: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const r = rustFixtures();
  log(`rust: ${Object.values(r).join(', ')}`);
  log(`PR #65 examples (our reproduction): ${pr65Reproduction()}`);
  const unchanged = pr65Unchanged();
  if (unchanged) log(`PR #65 examples (unchanged): ${unchanged}`);
}
