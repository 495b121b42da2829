#!/usr/bin/env bash
# @cpex/host-wasm: Rust 1.96.0 with the wasm32-wasip2 target, Debian clang + wasi-libc for the C
# fixture, then the test fixtures themselves (cached by source hash under .cache/host-wasm).
# Under CI every failure here fails the run; locally it warns and the wasm tests fail loudly.
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/common.sh

fail() {
  echo "setup wasm: $*" >&2
  if is_ci; then exit 1; fi
  exit 0
}

command -v rustup >/dev/null 2>&1 || fail "rustup is not installed (needed for the Rust wasm fixtures)"
if ! rustup run 1.96.0 rustc --version >/dev/null 2>&1; then
  rustup toolchain install 1.96.0 --profile minimal --no-self-update >&2 || fail "cannot install Rust 1.96.0"
fi
if ! rustup target list --toolchain 1.96.0 --installed 2>/dev/null | grep -qx wasm32-wasip2; then
  rustup target add --toolchain 1.96.0 wasm32-wasip2 >&2 || fail "cannot add the wasm32-wasip2 target"
fi
need_apt clang lld wasi-libc libclang-rt-dev-wasm32 || fail "cannot install clang + wasi-libc (C fixture)"
node --conditions=@cpex/source --import tsx packages/host-wasm/test/fixtures.ts || fail "building the wasm fixtures failed"
