#!/usr/bin/env bash
# Rebuilds the demo component examples/wasm-plugin/deny_list.wasm from plugin/ (committed, so the
# demo runs without Rust). Needs: rustup toolchain 1.96.0 with the wasm32-wasip2 target.
set -euo pipefail
cd "$(dirname "$0")"
cargo +1.96.0 build --release --target wasm32-wasip2 --manifest-path plugin/Cargo.toml \
  --target-dir ../../.cache/host-wasm/demo-target
cp ../../.cache/host-wasm/demo-target/wasm32-wasip2/release/cpex_wasm_deny_list.wasm deny_list.wasm
ls -l deny_list.wasm
