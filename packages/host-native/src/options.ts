import type { Logger } from '@cpex/core/host';

/** Options of the native host (`createNativeHost` / `registerNativeHost`). */
export interface NativeHostOptions {
  /** Isolation for entries without an `isolation:` key: 'none' (default, in-process) or 'process'. */
  isolation?: 'none' | 'process';
  /** Extra directories a relative or bare `native://` path is looked up in (after the config's dir and plugin_dirs). */
  searchPaths?: string[];
  /** Trusted ed25519 public keys added to `plugin_settings.trusted_keys` (PEM or base64 raw). */
  trustedKeys?: string[];
  /** Require a valid signature for every library (ORed with `plugin_settings.require_signature` and the entry's key). */
  requireSignature?: boolean;
  /** Boundary limit for requests and results in bytes; default: the manager's `max_payload_bytes`. */
  maxPayloadBytes?: number;
  /** Deepest nesting accepted in requests and results; default: the manager's `max_payload_depth`. */
  maxPayloadDepth?: number;
  /** How long `shutdown()` waits for a call in flight before giving up on the instance (ms, default 5 000). */
  shutdownTimeoutMs?: number;
  /** Stack size of koffi's async calls, i.e. of plugin code under isolation: none (bytes, default 1 MiB; koffi's own default is 128 KiB). */
  asyncStackBytes?: number;
  /** isolation: process — how long a child may take to load its library and answer (ms, default 10 000). */
  startTimeoutMs?: number;
  /** isolation: process — restarts allowed within `restartWindowMs` before the plugin is given up (default 5). */
  maxRestarts?: number;
  /** isolation: process — window of `maxRestarts` (ms, default 60 000). */
  restartWindowMs?: number;
  /** Logger for child-process stderr and lifecycle; default: the manager's. */
  logger?: Logger;
}

/**
 * Threads in the libuv pool that koffi's async calls (and fs, dns, crypto, zlib) share: fixed at
 * process start by UV_THREADPOOL_SIZE (default 4, libuv's maximum 1024).
 */
export function threadPoolSize(env: Record<string, string | undefined> = process.env): number {
  const n = Number.parseInt(env.UV_THREADPOOL_SIZE ?? '', 10);
  return Number.isInteger(n) && n > 0 ? Math.min(n, 1024) : 4;
}
