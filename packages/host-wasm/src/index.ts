/**
 * @cpex/host-wasm — sandboxed WebAssembly component plugins.
 *
 * Components export the `cpex:plugin` world of Rust cpex's WASM host (the WIT files ship in this
 * package under `wit/`), so one `.wasm` runs unchanged on Rust's wasmtime host and on cpex-ts.
 * Guests get our own deny-by-default WASI; `config.sandbox_policy` grants env, files and HTTP.
 */
export { createWasmHost, registerWasmHost, WASM_KINDS } from './host.js';
export type { WasmHost, WasmHostOptions, ManagerLike } from './host.js';
export { WasmPlugin, WORKER_CAPABILITIES, IN_THREAD_CAPABILITIES } from './plugin.js';
export { loadComponent, defaultCacheDir, importProblem, JCO_TRANSPILE_VERSION } from './loader.js';
export type { LoadedComponent } from './loader.js';
export { parseSandboxPolicy, DEFAULT_MAX_EXECUTION_TIME_MS } from './policy.js';
export type { SandboxPolicy, NetworkRule, FsGrant, Isolation } from './policy.js';
export { routeFor, TOOL_INVOKE_TYPE, CONFIG_KEY, NAME_KEY } from './mapping.js';
export { capMemory, componentImportNames } from './binary.js';
/** The deny-by-default WASI import object (for tools and benchmarks that instantiate a component by hand). */
export { buildImports, networkAllows } from './wasi.js';
export { WIT_DIR, WORLD_VERSION } from './wit.js';
