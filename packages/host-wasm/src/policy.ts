/**
 * `config.sandbox_policy` (PR #65's keys) and the host's own entry keys (`isolation`), validated
 * into a normalized policy. Anything we cannot honour is a config error (STYLE section 7).
 */
import path from 'node:path';
import { ConfigError, type PluginEntry } from '@cpex/core/host';
import { FS_PERMISSIONS } from './wasi.js';

export interface NetworkRule {
  host: string;
  ports: number[];
  schemes: string[];
  methods: string[];
}

export interface FsGrant {
  /** Path as written in the config (the guest sees this path, as on Rust's host). */
  guestPath: string;
  /** Absolute host path (relative entries resolve against the config's directory). */
  hostPath: string;
  permission: string;
  perms: { dirRead: boolean; dirMutate: boolean; fileRead: boolean; fileWrite: boolean };
}

export interface SandboxPolicy {
  allowedEnv: string[];
  allowedFilesystem: FsGrant[];
  allowedNetwork: NetworkRule[];
  maxMemoryBytes?: number;
  maxFuel?: number;
  maxExecutionTimeMs?: number;
  maxInstances?: number;
  maxTables?: number;
}

export type Isolation = 'worker' | 'none';

/** Rust's default `max_execution_time_ms`. */
export const DEFAULT_MAX_EXECUTION_TIME_MS = 5000;

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

function fail(entry: PluginEntry, key: string, message: string): never {
  const where = `plugins[${entry.name}].${key}`;
  throw new ConfigError('CPEX_ERR_CONFIG_INVALID', `plugin "${entry.name}": ${key} ${message}`, {
    plugin: entry.name,
    path: where,
  });
}

function strings(entry: PluginEntry, key: string, v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
    fail(entry, key, 'must be a list of strings');
  return v as string[];
}

function posInt(entry: PluginEntry, key: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    fail(entry, key, `must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

/** Parses `config.sandbox_policy`; absent means "deny everything, default limits". */
export function parseSandboxPolicy(entry: PluginEntry, baseDir: string): SandboxPolicy {
  const raw = entry.config?.sandbox_policy;
  const base = 'config.sandbox_policy';
  if (raw !== undefined && raw !== null && !isRec(raw)) fail(entry, base, 'must be a mapping');
  const p: Rec = (raw as Rec | undefined) ?? {};
  for (const k of Object.keys(p)) {
    if (!['allowed_filesystem', 'allowed_network', 'allowed_env', 'resources'].includes(k))
      fail(
        entry,
        `${base}.${k}`,
        'is not a sandbox_policy key (allowed_filesystem, allowed_network, allowed_env, resources)',
      );
  }
  const allowedEnv = strings(entry, `${base}.allowed_env`, p.allowed_env);
  for (const n of allowedEnv)
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(n))
      fail(entry, `${base}.allowed_env`, `has an invalid variable name ${JSON.stringify(n)}`);

  const fsRaw = p.allowed_filesystem ?? [];
  if (!Array.isArray(fsRaw)) fail(entry, `${base}.allowed_filesystem`, 'must be a list');
  const allowedFilesystem = fsRaw.map((r, i): FsGrant => {
    const key = `${base}.allowed_filesystem[${i}]`;
    if (!isRec(r)) fail(entry, key, 'must be a mapping {dir|file, permission}');
    const p2 = (r.dir ?? r.file) as unknown;
    if (typeof p2 !== 'string' || !p2) fail(entry, key, 'needs dir or file');
    const permission = r.permission ?? 'read-only';
    if (typeof permission !== 'string' || !FS_PERMISSIONS[permission])
      fail(entry, `${key}.permission`, `must be one of ${Object.keys(FS_PERMISSIONS).join(', ')}`);
    const hostPath = path.resolve(baseDir, r.file ? path.dirname(p2) : p2);
    const guestPath = r.file ? path.posix.dirname(p2) : p2;
    return { guestPath, hostPath, permission, perms: FS_PERMISSIONS[permission]! };
  });

  const netRaw = p.allowed_network ?? [];
  if (!Array.isArray(netRaw)) fail(entry, `${base}.allowed_network`, 'must be a list');
  const allowedNetwork = netRaw.map((r, i): NetworkRule => {
    const key = `${base}.allowed_network[${i}]`;
    if (typeof r === 'string') return { host: r.toLowerCase(), ports: [], schemes: ['https'], methods: [] };
    if (!isRec(r) || typeof r.host !== 'string' || !r.host)
      fail(entry, key, 'must be a host name or {host, ports?, schemes?, methods?}');
    const ports = r.ports ?? [];
    if (!Array.isArray(ports) || !ports.every((n) => Number.isInteger(n) && n > 0 && n < 65536))
      fail(entry, `${key}.ports`, 'must be a list of port numbers');
    const schemes =
      r.schemes === undefined
        ? ['https']
        : strings(entry, `${key}.schemes`, r.schemes).map((s) => s.toLowerCase());
    for (const s of schemes)
      if (s !== 'http' && s !== 'https')
        fail(entry, `${key}.schemes`, `has unknown scheme ${JSON.stringify(s)}`);
    return {
      host: r.host.toLowerCase(),
      ports: ports as number[],
      schemes,
      methods: strings(entry, `${key}.methods`, r.methods),
    };
  });

  const res = p.resources ?? {};
  if (!isRec(res)) fail(entry, `${base}.resources`, 'must be a mapping');
  for (const k of Object.keys(res)) {
    if (!['max_memory_bytes', 'max_fuel', 'max_execution_time_ms', 'max_instances', 'max_tables'].includes(k))
      fail(entry, `${base}.resources.${k}`, 'is not a resources key');
  }
  const out: SandboxPolicy = { allowedEnv, allowedFilesystem, allowedNetwork };
  const r = `${base}.resources`;
  const mem = posInt(entry, `${r}.max_memory_bytes`, res.max_memory_bytes);
  if (mem !== undefined) {
    if (mem < 65_536) fail(entry, `${r}.max_memory_bytes`, 'must be at least 65536 (one wasm page)');
    out.maxMemoryBytes = mem;
  }
  const fuel = posInt(entry, `${r}.max_fuel`, res.max_fuel);
  if (fuel !== undefined) out.maxFuel = fuel;
  const t = posInt(entry, `${r}.max_execution_time_ms`, res.max_execution_time_ms);
  if (t !== undefined) out.maxExecutionTimeMs = t;
  const inst = posInt(entry, `${r}.max_instances`, res.max_instances);
  if (inst !== undefined) out.maxInstances = inst;
  const tables = posInt(entry, `${r}.max_tables`, res.max_tables);
  if (tables !== undefined) out.maxTables = tables;
  return out;
}

/** `isolation:` of the entry (a top-level entry key; `config.isolation` is accepted too). */
export function parseIsolation(entry: PluginEntry, fallback: Isolation): Isolation {
  const v = entry.extra.isolation ?? entry.config?.isolation;
  if (v === undefined || v === null) return fallback;
  if (v !== 'worker' && v !== 'none')
    fail(entry, 'isolation', `must be worker or none, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * `max_fuel` has no V8 counterpart: it maps to time at `fuelPerMs` units per millisecond
 * (default 200,000, so PR #65's usual `max_fuel: 1000000000` is 5 s, the `max_execution_time_ms`
 * its configs pair it with; a tighter rate made wall-clock limits fail ordinary calls on a loaded
 * machine). The smallest of
 * max_execution_time_ms (default 5000), the fuel time and the entry's `timeout` applies.
 */
export function effectiveTimeMs(
  policy: SandboxPolicy,
  entryTimeoutS: number | undefined,
  fuelPerMs: number,
): number {
  const candidates = [policy.maxExecutionTimeMs ?? DEFAULT_MAX_EXECUTION_TIME_MS];
  if (policy.maxFuel !== undefined) candidates.push(Math.max(1, Math.ceil(policy.maxFuel / fuelPerMs)));
  if (entryTimeoutS !== undefined) candidates.push(Math.max(1, Math.round(entryTimeoutS * 1000)));
  return Math.min(...candidates);
}

/** The entry config the guest receives: everything but the host's own keys. */
export function guestConfig(entry: PluginEntry): Rec {
  const out: Rec = {};
  for (const [k, v] of Object.entries(entry.config ?? {}))
    if (k !== 'sandbox_policy' && k !== 'isolation') out[k] = v;
  return out;
}
