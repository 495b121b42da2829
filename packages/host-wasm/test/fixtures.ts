/**
 * Test fixtures built from source, cached by the hash of their sources under
 * `<repo>/.cache/host-wasm/fixtures/<hash>/`:
 * - Rust (fixtures/rust: probe, noop) with `cargo +1.96.0 build --target wasm32-wasip2`;
 * - C (fixtures/c: probe-c) with Debian clang + wasi-libc + jco's reactor adapter.
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

/** Builds (or finds cached) Rust fixtures; returns name → .wasm path. */
export function rustFixtures(): Record<'probe' | 'noop', string> {
  const src = path.join(PKG_DIR, 'fixtures', 'rust');
  const wit = path.join(PKG_DIR, 'wit');
  const hash = hashTree([src, wit], `rust ${RUST_TOOLCHAIN}`);
  const out = path.join(CACHE_DIR, 'fixtures', `rust-${hash}`);
  const want = { probe: path.join(out, 'probe.wasm'), noop: path.join(out, 'noop.wasm') };
  if (Object.values(want).every((f) => existsSync(f))) return want;
  log(`building Rust fixtures (cargo +${RUST_TOOLCHAIN}, wasm32-wasip2) into ${out}`);
  const target = path.join(CACHE_DIR, 'cargo-target');
  execFileSync(
    'cargo',
    [
      `+${RUST_TOOLCHAIN}`,
      'build',
      '--quiet',
      '--release',
      '--target',
      'wasm32-wasip2',
      '--manifest-path',
      path.join(src, 'Cargo.toml'),
    ],
    { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, CARGO_TARGET_DIR: target } },
  );
  const tmp = `${out}.tmp-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  copyFileSync(
    path.join(target, 'wasm32-wasip2', 'release', 'cpex_fixture_probe.wasm'),
    path.join(tmp, 'probe.wasm'),
  );
  copyFileSync(
    path.join(target, 'wasm32-wasip2', 'release', 'cpex_fixture_noop.wasm'),
    path.join(tmp, 'noop.wasm'),
  );
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
  return want;
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
}
