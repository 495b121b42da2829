// Package cpex is a pure-Go client for CPEX (the ContextForge Plugin Extensibility engine) with the
// surface of the Rust cpex Go SDK. It runs no engine itself: it starts (or connects to) a
// `cpex serve` sidecar and speaks its MessagePack protocol over a Unix socket, so no cgo and no
// native library are needed.
//
// Module path: github.com/contextforge-org/cpex-ts/packages/ffi/go. Docs: docs/ffi/go.md and
// docs/ffi/protocol.md in the cpex-ts repository.
package cpex
