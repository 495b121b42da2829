/**
 * Endpoint, TLS and credential rules — the same as Rust cpex's Valkey store (aed0f15,
 * `builtins/session/valkey/src/config.rs`), so one config means the same thing to both:
 *
 * - `endpoint` is a `redis://` / `rediss://` URL or a bare `host:port`;
 * - TLS is on with `tls: true` or a `rediss://` URL, and required for every endpoint but
 *   localhost / 127.0.0.1 / ::1; `tls: true` with a plaintext `redis://` URL is a contradiction;
 * - credentials come from the URL userinfo *or* `username`/`password` (both at once is
 *   ambiguous and rejected); a `username` needs a `password`; a lone `password` authenticates
 *   the default user;
 * - credentials never appear in an error or log line.
 */
import type { ConnectionOptions } from 'node:tls';
import { CpexError } from '@cpex/core';

export interface RedisEndpointOptions {
  /** `redis://[user:pass@]host:port[/db]`, `rediss://…`, or `host:port`. */
  endpoint: string;
  /** Use TLS (implied by `rediss://`). Required for any non-localhost endpoint. */
  tls?: boolean;
  /** Extra TLS settings (CA bundle, client certificate, servername). */
  tlsOptions?: ConnectionOptions;
  /** ACL user (Redis 6+ / Valkey); needs `password`. Not allowed with a URL endpoint. */
  username?: string;
  /** AUTH password. Not allowed with a URL endpoint (put it in the URL userinfo). */
  password?: string;
  /** Connection establishment timeout, ms. Default 250 (as Rust). */
  connectTimeoutMs?: number;
  /** Per-command timeout, ms — the fail-closed knob on the hot path. Default 500 (as Rust). */
  commandTimeoutMs?: number;
}

/** A validated endpoint, ready for the client. */
export interface ResolvedEndpoint {
  host: string;
  port: number;
  db: number;
  tls: boolean;
  username?: string;
  password?: string;
  /** The endpoint with any userinfo replaced by `***` (for messages). */
  redacted: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  tlsOptions?: ConnectionOptions;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 250;
export const DEFAULT_COMMAND_TIMEOUT_MS = 500;

function configError(message: string, path?: string): CpexError {
  return new CpexError('CPEX_ERR_SESSION_STORE_CONFIG', message, path ? { path } : {});
}

/** `scheme://***@host` — userinfo never reaches a message. */
export function redactEndpoint(endpoint: string): string {
  const i = endpoint.indexOf('://');
  const scheme = i >= 0 ? `${endpoint.slice(0, i)}://` : '';
  const rest = i >= 0 ? endpoint.slice(i + 3) : endpoint;
  const at = rest.lastIndexOf('@');
  return at >= 0 ? `${scheme}***@${rest.slice(at + 1)}` : endpoint;
}

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '127.0.0.1' || h === '::1';
}

function positiveMs(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw configError(`${name} must be a positive number of milliseconds, got ${String(v)}`, name);
  }
  return v;
}

/** Validate the endpoint options (throws CPEX_ERR_SESSION_STORE_CONFIG naming the rule broken). */
export function resolveEndpoint(options: RedisEndpointOptions): ResolvedEndpoint {
  const endpoint = options?.endpoint;
  if (typeof endpoint !== 'string' || endpoint.trim() === '') {
    throw configError('endpoint is required (a redis:// or rediss:// URL, or host:port)', 'endpoint');
  }
  const redacted = redactEndpoint(endpoint);
  const isUrl = endpoint.startsWith('redis://') || endpoint.startsWith('rediss://');
  if (!isUrl && endpoint.includes('://')) {
    throw configError(`endpoint '${redacted}': only redis:// and rediss:// URLs are supported`, 'endpoint');
  }
  if (options.tls === true && endpoint.startsWith('redis://')) {
    throw configError(
      `tls: true conflicts with the plaintext redis:// scheme of endpoint '${redacted}'; use rediss:// or host:port`,
      'tls',
    );
  }
  if (isUrl && (options.username !== undefined || options.password !== undefined)) {
    throw configError(
      `endpoint '${redacted}' is a URL: put credentials in its userinfo (rediss://user:pass@host) or use host:port with username/password, not both`,
      'username',
    );
  }
  if (options.username !== undefined && options.password === undefined) {
    throw configError(
      'username is set without a password: give the ACL user a password, or drop username to use the default user',
      'username',
    );
  }
  let url: URL;
  try {
    url = new URL(isUrl ? endpoint : `redis://${endpoint}`);
  } catch {
    throw configError(`endpoint '${redacted}' is not a valid URL or host:port`, 'endpoint');
  }
  const tls = options.tls === true || url.protocol === 'rediss:';
  if (!tls && !isLoopback(url.hostname)) {
    throw configError(
      `endpoint '${redacted}' is not localhost: TLS is required (tls: true or a rediss:// URL)`,
      'tls',
    );
  }
  const port = url.port === '' ? 6379 : Number(url.port);
  const dbText = url.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) {
    throw configError(
      `endpoint '${redacted}': the path must be a database number, got '/${dbText}'`,
      'endpoint',
    );
  }
  const out: ResolvedEndpoint = {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port,
    db,
    tls,
    redacted,
    connectTimeoutMs: positiveMs(options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 'connectTimeoutMs'),
    commandTimeoutMs: positiveMs(options.commandTimeoutMs, DEFAULT_COMMAND_TIMEOUT_MS, 'commandTimeoutMs'),
  };
  if (isUrl) {
    if (url.username !== '') out.username = decodeURIComponent(url.username);
    if (url.password !== '') out.password = decodeURIComponent(url.password);
  } else {
    if (options.username !== undefined) out.username = options.username;
    if (options.password !== undefined) out.password = options.password;
  }
  if (options.tlsOptions !== undefined) out.tlsOptions = options.tlsOptions;
  return out;
}
