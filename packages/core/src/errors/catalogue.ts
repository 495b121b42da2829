/**
 * The one error catalogue. Codes are never reused or renamed; add new ones at the end of a group.
 * `docs/errors.md` lists every code with the same summary (kept in sync by a test).
 */
export const ERROR_CATALOGUE = {
  // configuration
  CPEX_ERR_CONFIG_READ: 'The config file could not be read.',
  CPEX_ERR_CONFIG_PARSE: 'The config text is not valid YAML 1.2.',
  CPEX_ERR_CONFIG_INVALID:
    'The config does not match the schema (the message names the YAML path, expected and actual value).',
  CPEX_ERR_CONFIG_UNSUPPORTED:
    'The config uses a feature cpex-ts does not support yet (e.g. external MCP/gRPC/unix plugins).',
  CPEX_ERR_DUPLICATE_PLUGIN: 'Two plugins (or registrations) share one name.',
  CPEX_ERR_UNKNOWN_KIND: 'No registered factory or installed host handles the plugin kind.',
  CPEX_ERR_UNKNOWN_CAPABILITY: 'A capability name is not one of the 17 known capabilities.',
  // loading and lifecycle
  CPEX_ERR_PLUGIN_LOAD: 'A plugin could not be created or initialized.',
  CPEX_ERR_HOOK_NOT_IMPLEMENTED: 'A plugin lists a hook it has no handler for.',
  CPEX_ERR_MODULE_NOT_FOUND: 'A node:// plugin module could not be imported.',
  CPEX_ERR_EXPORT_NOT_FOUND: 'A node:// plugin module has no such export.',
  CPEX_ERR_EXPORT_SHAPE:
    'A node:// plugin export is not a plugin object, Plugin subclass or factory function.',
  CPEX_ERR_NOT_INITIALIZED:
    'invoke() was called on a manager that is not initialized (or whose initialize() failed).',
  CPEX_ERR_SHUT_DOWN: 'The manager (or host) has been shut down.',
  CPEX_ERR_LIFECYCLE_TIMEOUT:
    "A plugin's creation/initialize() or shutdown() (or a host's dispose()) exceeded plugin_init_timeout / plugin_shutdown_timeout.",
  CPEX_ERR_INVALID_ARGUMENT: 'An API was called with an invalid argument.',
  CPEX_ERR_HOST_UNAVAILABLE:
    'A host runtime is missing (e.g. no python interpreter, pydantic not installed).',
  // invocation
  CPEX_ERR_PLUGIN_EXCEPTION: 'A plugin handler threw or rejected.',
  CPEX_ERR_PLUGIN_TIMEOUT: 'A plugin handler exceeded its timeout.',
  CPEX_ERR_PAYLOAD_MUTATION:
    'An in-process plugin tried to write into its (read-only) payload or context view.',
  CPEX_ERR_EXTENSION_VIOLATION: 'A plugin returned an extension edit its tier or capabilities forbid.',
  CPEX_ERR_INVALID_RESULT: 'A plugin returned something that is not a valid PluginResult.',
  CPEX_ERR_INVALID_PAYLOAD: 'A payload failed validation at ingress.',
  CPEX_ERR_PAYLOAD_TOO_LARGE: 'A payload exceeded max_payload_bytes where it crosses a boundary.',
  CPEX_ERR_PLUGIN_VIOLATION: 'The pipeline halted and violationsAsExceptions was set (PluginViolationError).',
  CPEX_ERR_ABORTED: "The caller's AbortSignal aborted the invocation.",
  CPEX_ERR_PAYLOAD_TOO_DEEP:
    'A payload nests deeper than max_payload_depth where it is parsed or serialized at a boundary.',
  // out-of-process hosts
  CPEX_ERR_WORKER_START: 'A plugin worker process could not be started or failed its handshake.',
  CPEX_ERR_WORKER_DIED: 'A plugin worker process exited or crashed while calls were in flight.',
  CPEX_ERR_WORKER_MEMORY:
    "A plugin worker went past its entry's max_memory_mb; the call failed and the worker was restarted.",
  CPEX_ERR_PROTOCOL: 'A plugin worker sent a malformed or unexpected frame.',
  CPEX_ERR_RESPONSE_TOO_LARGE: 'A plugin worker response exceeded the size limit.',
  CPEX_ERR_VENV_BUILD: 'A per-plugin virtual environment could not be created or its requirements installed.',
  // fleet: shared session state and hot reload
  CPEX_ERR_SESSION_STORE:
    'A session store (in memory or Redis) failed to load or append labels; the invoke fails closed.',
  CPEX_ERR_SESSION_LABELS:
    "A session's labels are not valid labels (empty, too long, not text) or exceed the store's label cap; the invoke fails closed.",
  CPEX_ERR_SESSION_STORE_CONFIG:
    'A session store was configured with an invalid or unsafe endpoint, TLS or credential setting.',
  CPEX_ERR_RELOAD:
    'A hot reload was rejected (config invalid, a plugin failed to initialize); the old lineup keeps serving.',
  CPEX_ERR_NATIVE_ABI_MISMATCH:
    'A native library declares another cpex_plugin.h ABI version than this host speaks; it is not used.',
  CPEX_ERR_NATIVE_INTERFACE_HASH:
    'A native library declares another interface hash (ABI + wire schema version) than this host; it is not used.',
  CPEX_ERR_SIGNATURE_REQUIRED:
    'require_signature is set and a native library has no signature file (or no trusted key can check it); it was not opened.',
  CPEX_ERR_SIGNATURE_INVALID:
    "A native library's detached ed25519 signature does not verify with any trusted key (changed bytes or another key); it was not opened.",
  // WebAssembly host
  CPEX_ERR_WASM_LOAD: 'A WebAssembly plugin could not be read, compiled, transpiled or instantiated.',
  CPEX_ERR_WASM_WORLD:
    'A WebAssembly component does not export the cpex:plugin world (the message names what it exports).',
  CPEX_ERR_WASM_IMPORT:
    'A WebAssembly component imports something outside WASI 0.2 and the cpex:plugin world (named in the message).',
  CPEX_ERR_WASM_TRAP: 'A WebAssembly plugin trapped (panic, unreachable, exit, memory cap, stack overflow).',
  CPEX_ERR_WASM_OUTPUT:
    'A WebAssembly plugin returned output the host cannot decode (bad JSON, wrong payload type, oversized).',
  // ffi sidecar (cpex serve)
  CPEX_ERR_FFI_FRAME:
    'A sidecar request frame is malformed (not MessagePack/JSON, not a request map, or a field of the wrong type).',
  CPEX_ERR_FFI_FRAME_TOO_LARGE: 'A sidecar frame exceeded the frame size limit.',
  CPEX_ERR_FFI_INVALID_HANDLE: 'A sidecar handle is unknown, freed, or owned by another connection.',
  CPEX_ERR_FFI_TIMEOUT: 'A sidecar call exceeded its wall-clock limit.',
  CPEX_ERR_FFI_UNKNOWN_OP: 'A sidecar request names an operation the protocol does not have.',
  CPEX_ERR_FFI_INTERNAL:
    'The sidecar failed unexpectedly while answering a request (a bug: please report it).',
} as const;

export type CpexErrorCode = keyof typeof ERROR_CATALOGUE;

/** Lowercase codes the manager itself puts into violations and `errors[]` (data, not exceptions). */
export const MANAGER_VIOLATION_CODES = {
  plugin_error: 'A plugin threw, rejected or returned an invalid result (on_error fail halts).',
  plugin_timeout: 'A plugin exceeded its timeout.',
  denied: 'A plugin returned continue_processing=false without a violation (synthesized, fail closed).',
  extension_violation: 'A plugin returned an extension edit its tier or capabilities forbid.',
  payload_mutation: 'An in-process plugin wrote into its read-only payload view (cow_validation strict).',
  session_store_error:
    'The session store could not load the session labels before the pipeline or save the labels it added (fail closed).',
} as const;

export type ManagerViolationCode = keyof typeof MANAGER_VIOLATION_CODES;
