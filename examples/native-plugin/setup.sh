#!/usr/bin/env bash
# Builds the example's Rust plugin into ./lib (idempotent; the quickstart gateway runs this on
# first use when ./lib/libcpex_tool_guard.so is missing). Needs cargo.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cargo=${CARGO:-$(command -v cargo || echo "$HOME/.cargo/bin/cargo")}
"$cargo" build --release --offline --quiet --manifest-path "$here/tool-guard-rs/Cargo.toml" --target-dir "$here/tool-guard-rs/target"
mkdir -p "$here/lib"
cp "$here/tool-guard-rs/target/release/libcpex_tool_guard.so" "$here/lib/libcpex_tool_guard.so.tmp"
mv "$here/lib/libcpex_tool_guard.so.tmp" "$here/lib/libcpex_tool_guard.so"
echo "built $here/lib/libcpex_tool_guard.so" >&2
