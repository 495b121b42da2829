/**
 * @cpex/ffi — the CPEX language boundary: the MessagePack wire protocol (docs/ffi/protocol.md),
 * the `cpex serve` sidecar, and (in `go/`) a pure-Go client with the Rust cpex Go SDK surface.
 */
export * from './wire.js';
export { SidecarServer, FfiError, classify, Connection } from './server.js';
export type { SidecarOptions } from './server.js';
