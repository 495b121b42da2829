/*
 * cpex_plugin.h — the C ABI of cpex native plugins (@cpex/host-native).
 *
 * A native plugin is a shared library (.so / .dylib) that exports the five functions below.
 * The gateway loads it with `kind: native://path/to/libplugin.so`. Data crosses the boundary
 * as MessagePack (https://msgpack.org) byte buffers, never as C structs, so the ABI stays small
 * and any language with a C FFI (C, C++, Rust, Zig, Go with cgo, ...) can implement it.
 *
 * Lifecycle, in the order the host calls it:
 *
 *   1. cpex_plugin_manifest()  once, right after the library is opened: ABI version, interface
 *                              hash, name, version and hook list are checked before anything else
 *                              runs. A mismatch refuses the library (CPEX_ERR_NATIVE_ABI_MISMATCH /
 *                              CPEX_ERR_NATIVE_INTERFACE_HASH) and no other function is called.
 *   2. cpex_plugin_init()      once per config entry: the entry's `config:` block in MessagePack.
 *   3. cpex_plugin_invoke()    once per hook call, on a worker thread (never the gateway's event
 *                              loop). Calls of one plugin instance are serialized by the host: at
 *                              most one invoke per state is in flight, so a plugin needs no locks
 *                              for its own state (see "Threads" below).
 *   4. cpex_plugin_shutdown()  once per state, when the manager shuts down.
 *   cpex_plugin_free()         for every buffer the plugin handed out (results and error messages).
 *
 * Threads. The host calls invoke() from a libuv thread-pool thread (isolation: none) or from
 * the main thread of a supervised child process (isolation: process). Different states (two
 * config entries using the same library) may be invoked at the same time from different
 * threads: global mutable data in the library must be thread-safe. The manifest must be
 * static (it is read once and never freed).
 *
 * Errors. Every function that can fail returns an int32_t status: CPEX_OK (0) or a CPEX_STATUS_*
 * value. On failure the plugin MAY put a UTF-8 message (not NUL-terminated, no MessagePack) in
 * the output buffer; the host copies it into a coded error naming the plugin and hook, then
 * frees it with cpex_plugin_free(). A plugin must never abort(), exit() or let a C++ exception
 * or Rust panic unwind across these functions: in-process that takes the gateway down.
 *
 * Request (invoke input), a MessagePack map with these keys (wire schema version 1):
 *   "hook"          str   the hook name, e.g. "tool_pre_invoke" (always one the manifest lists)
 *   "plugin_name"   str   the config entry's name
 *   "payload_type"  int   0 generic, 1 CMF message, 2 identity
 *   "payload"       any   the hook payload, snake_case fields as in the cpex schemas
 *   "extensions"    map | nil  the extensions this plugin's capabilities let it see (Rust cpex
 *                              0.2 shapes; security.labels is an array of strings)
 *   "context"       map   {"state": map, "metadata": map, "global_context": {"request_id",
 *                          "user"?, "tenant_id"?, "server_id"?, "content_type"?,
 *                          "user_context"?, "state": map, "metadata": map}}
 *
 * Result (invoke output on CPEX_OK), a MessagePack map; every key is optional:
 *   "continue_processing"  bool   false halts the pipeline (a violation is synthesized if absent)
 *   "modified_payload"     any    the new payload (whole), or nil
 *   "modified_extensions"  map    extensions as edited (the manager enforces tiers/capabilities)
 *   "violation"            map    {"code": str, "reason": str, "description"?: str,
 *                                  "details"?: map, "mcp_error_code"?: int,
 *                                  "http_status_code"?: int, "http_headers"?: map str->str}
 *   "metadata"             map    merged into the pipeline result's metadata
 *   "retry_delay_ms"       int    >= 0
 *   "context"              map    {"state"?: map, "metadata"?: map, "global_state"?: map,
 *                                  "global_metadata"?: map}: each given map REPLACES the
 *                                  plugin's local state / metadata or the global state / metadata
 *                                  (send what you were given plus your changes)
 * Output that is not MessagePack, not a map, or larger than the host's max_payload_bytes is a
 * coded error (CPEX_ERR_INVALID_RESULT / CPEX_ERR_RESPONSE_TOO_LARGE), handled by the entry's
 * on_error. The manager validates the decoded result (payload schema, extension tiers,
 * violation shape) exactly as for every other host.
 */
#ifndef CPEX_PLUGIN_H
#define CPEX_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The version of this ABI (the functions and the manifest layout). */
#define CPEX_ABI_VERSION 1u
/** The version of the MessagePack request/result schema described above. */
#define CPEX_WIRE_SCHEMA_VERSION 1u
/**
 * The interface hash: 64-bit FNV-1a of the ASCII text "cpex_plugin abi=1 wire=1", i.e. of the
 * ABI version plus the wire schema version. A library built against another wire schema carries
 * another hash and is refused at load even when its ABI version matches.
 */
#define CPEX_INTERFACE_HASH 0x2841e49185527beaull

/* Status codes (int32_t). */
#define CPEX_OK 0
/** The plugin failed (its own error); the output buffer may hold a UTF-8 message. */
#define CPEX_STATUS_ERROR 1
/** The request (or config) could not be decoded or is missing a key. */
#define CPEX_STATUS_BAD_REQUEST 2
/** The call noticed *cancel != 0 and gave up; the host has already stopped waiting. */
#define CPEX_STATUS_CANCELLED 3

#if defined(_WIN32)
#define CPEX_EXPORT __declspec(dllexport)
#else
#define CPEX_EXPORT __attribute__((visibility("default")))
#endif

/**
 * The manifest. Layout is fixed for ABI version 1: the host reads abi_version first and reads
 * nothing else when it differs.
 */
typedef struct cpex_manifest {
    /** Must be CPEX_ABI_VERSION. */
    uint32_t abi_version;
    /** Number of entries in `hooks`. */
    uint32_t hook_count;
    /** Must be CPEX_INTERFACE_HASH. */
    uint64_t interface_hash;
    /** The plugin's name (NUL-terminated UTF-8); informational, the config entry names the instance. */
    const char *name;
    /** The plugin's version (NUL-terminated UTF-8, e.g. "1.2.0"). */
    const char *version;
    /** The hooks the library implements (hook_count NUL-terminated names). A config entry that
     *  lists a hook not in here is a load error (CPEX_ERR_HOOK_NOT_IMPLEMENTED). */
    const char *const *hooks;
} cpex_manifest;

/**
 * Returns the library's manifest.
 * Ownership: the manifest and every string it points to are owned by the library and must stay
 * valid and unchanged until the library is unloaded (use static data). The host never frees them.
 * Errors: cannot fail; returning NULL refuses the library (CPEX_ERR_PLUGIN_LOAD).
 */
CPEX_EXPORT const cpex_manifest *cpex_plugin_manifest(void);

/**
 * Creates one plugin instance from its config.
 * Input: `config`/`config_len` is the entry's `config:` block as a MessagePack map (an empty map
 * when the entry has none). Owned by the host, valid only during the call: copy what you keep.
 * Output: on CPEX_OK, `*state` is an opaque pointer the host passes back to invoke/shutdown
 * (NULL is allowed). On failure, `*err`/`*err_len` may hold a UTF-8 message allocated by the
 * library, which the host releases with cpex_plugin_free(); `*state` is ignored and shutdown is
 * NOT called for it. A failing init is a load error (CPEX_ERR_PLUGIN_LOAD) naming the plugin.
 */
CPEX_EXPORT int32_t cpex_plugin_init(const uint8_t *config, size_t config_len, void **state,
                                     uint8_t **err, size_t *err_len);

/**
 * Runs one hook call.
 * Input: `request`/`request_len` is the request map described above; owned by the host, valid
 * only during the call. `cancel` points to a flag the host sets to non-zero when it stops
 * waiting (timeout, or the caller aborted); long-running plugins should poll it and return
 * CPEX_STATUS_CANCELLED. It stays readable until invoke returns. It is never NULL.
 * Output: on CPEX_OK, `*out`/`*out_len` is the result map, allocated by the library; on any
 * other status, `*out` may hold a UTF-8 error message (or stay NULL). Either way the host copies
 * the bytes and then calls cpex_plugin_free(*out, *out_len) exactly once (not for NULL).
 * Errors: a non-zero status is a plugin error (CPEX_ERR_PLUGIN_EXCEPTION) handled by the
 * entry's on_error; the pipeline does not crash.
 * Threads: at most one invoke per `state` runs at a time; see "Threads" above.
 */
CPEX_EXPORT int32_t cpex_plugin_invoke(void *state, const uint8_t *request, size_t request_len,
                                       const volatile int32_t *cancel, uint8_t **out,
                                       size_t *out_len);

/**
 * Releases a buffer the library returned from init or invoke (`len` is the length it reported).
 * Called exactly once per non-NULL buffer, from any thread. Use the allocator the buffer came
 * from (malloc/free in C; in Rust, rebuild the Box<[u8]>/Vec you leaked).
 */
CPEX_EXPORT void cpex_plugin_free(uint8_t *ptr, size_t len);

/**
 * Destroys a state made by a successful init. Called once per state, after its last invoke has
 * returned (a call still running when the host gives up keeps its thread; under isolation: none
 * shutdown waits for it, under isolation: process the child is killed instead). Must not fail.
 */
CPEX_EXPORT void cpex_plugin_shutdown(void *state);

#ifdef __cplusplus
}
#endif

#endif /* CPEX_PLUGIN_H */
