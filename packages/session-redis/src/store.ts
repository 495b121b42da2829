/**
 * `SessionStore` on Redis/Valkey with Rust cpex's schema, so TypeScript and Rust gateways of one
 * fleet share session labels:
 *
 * - key `<prefix>:<hex sha256(session id)>` (prefix `taint:v1`), holding a SET of labels;
 * - append = `MULTI SADD key l1 l2 … [EXPIRE key ttl] EXEC` — atomic, and SADD only ever adds, so
 *   concurrent writers on any number of replicas never lose a label;
 * - load = `SMEMBERS key` then `EXPIRE key ttl` (sliding TTL), in one round trip: one `EVALSHA` of a
 *   small script that also checks the set's size (`SCARD`) against `maxLabels` first, so a huge set
 *   is refused without being transferred. A session loaded again within `ttlRefreshIntervalMs`
 *   (default min(1 s, TTL/10)) of this replica's last refresh is read with a plain `SMEMBERS`
 *   (size checked after the read): its TTL was slid moments ago, so a hot session costs one plain
 *   command. `ttlRefreshIntervalMs: 0` slides the TTL on every load, exactly as Rust. A server that refuses scripts (ACL without `@scripting`) gets
 *   SCARD/SMEMBERS/EXPIRE pipelined instead (as in Rust, a failed TTL refresh after a good read is
 *   then logged, not fatal);
 * - every backend error on load or append rejects with `SessionStoreError`; the manager turns it
 *   into the halting violation `session_store_error` (fail closed, never an allow). Members that
 *   are not UTF-8 text are refused too (CPEX_ERR_SESSION_LABELS): the store is a boundary, and a
 *   mangled label would silently become another label.
 */
import { createHash } from 'node:crypto';
import {
  CpexError,
  DEFAULT_SESSION_MAX_LABELS,
  type Logger,
  type SessionStore,
  SessionStoreError,
} from '@cpex/core';
import type { Redis } from 'ioredis';
import { createRedisClient } from './client.js';
import { type RedisEndpointOptions, type ResolvedEndpoint, resolveEndpoint } from './config.js';

export const DEFAULT_KEY_PREFIX = 'taint:v1';

/**
 * The load, atomically and in one command: refuse a set over the cap (its size is returned instead
 * of its members), read it, slide its TTL (ARGV[1] = seconds, '0' = no TTL).
 */
const LOAD_SCRIPT = `local n = redis.call('SCARD', KEYS[1])
if n > tonumber(ARGV[2]) then return n end
local m = redis.call('SMEMBERS', KEYS[1])
if n > 0 and ARGV[1] ~= '0' then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return m`;
const LOAD_SHA = createHash('sha1').update(LOAD_SCRIPT).digest('hex');

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** What this replica remembers of one session: its key, and when it last slid the key's TTL. */
interface KeyState {
  readonly key: string;
  /** performance.now() of the last load or append that slid the TTL (and checked the cap server-side). */
  refreshedAt: number;
  /** The members of the last load as received and as decoded (for sets up to REMEMBER_MAX_BYTES). */
  last?: { readonly raw: readonly Uint8Array[]; readonly labels: readonly string[] } | undefined;
}

/**
 * A session's last members are remembered only up to this many bytes in all, so the table of
 * recent sessions stays small (4,096 sessions × 2 KB, raw and decoded, at most).
 */
const REMEMBER_MAX_BYTES = 1024;

/** True when `reply` holds exactly the buffers of `raw`, byte for byte, in the same order. */
function sameMembers(raw: readonly Uint8Array[], reply: readonly unknown[]): boolean {
  if (raw.length !== reply.length) return false;
  for (let i = 0; i < raw.length; i++) {
    const a = raw[i]!;
    const b = reply[i];
    if (!Buffer.isBuffer(b) || b.length !== a.length) return false;
    for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) return false;
  }
  return true;
}

/**
 * The sessions this replica saw recently, each with its key (a SHA-256 per invoke costs
 * microseconds; a Map hit, nanoseconds) and its refresh time. Bounded: past `max` sessions the
 * oldest is forgotten, which only costs it a new hash and a TTL refresh on its next load.
 */
class SessionKeys {
  private readonly states = new Map<string, KeyState>();
  constructor(
    private readonly prefix: string,
    private readonly max = 4096,
  ) {}

  get(sessionId: string): KeyState {
    let state = this.states.get(sessionId);
    if (state === undefined) {
      if (this.states.size >= this.max) {
        for (const oldest of this.states.keys()) {
          this.states.delete(oldest);
          break;
        }
      }
      const digest = createHash('sha256').update(sessionId, 'utf8').digest('hex');
      state = { key: `${this.prefix}:${digest}`, refreshedAt: Number.NEGATIVE_INFINITY };
      this.states.set(sessionId, state);
    }
    return state;
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export interface RedisSessionStoreOptions extends RedisEndpointOptions {
  /** Key namespace; the key is `<keyPrefix>:<hex sha256(session id)>`. Default `taint:v1`. */
  keyPrefix?: string;
  /** Sliding expiry in seconds, refreshed on load and append. Default: none (keys never expire). */
  ttlSeconds?: number;
  /**
   * The longest a session identity lives; only used to warn when `ttlSeconds` is shorter
   * (taint could expire while the session still runs: downgrade by waiting).
   */
  maxSessionLifetimeSeconds?: number;
  /**
   * The sliding TTL is refreshed at most once per this many milliseconds per session and replica
   * (loads in between are a plain `SMEMBERS`). Default: min(1,000, TTL × 100), i.e. a tenth of the
   * TTL, at most a second — the resolution of a TTL in whole seconds. With no other writer
   * shortening the TTL, a key then never expires sooner than TTL minus this interval after its last
   * load. `0` refreshes on every load (Rust cpex's behaviour, one script per load).
   */
  ttlRefreshIntervalMs?: number;
  /**
   * The most labels one session may hold (default 1,024, core's `DEFAULT_SESSION_MAX_LABELS`). A
   * larger set is refused on load without being transferred, and an append that would exceed it
   * is refused before writing; both fail the invoke closed (CPEX_ERR_SESSION_LABELS).
   */
  maxLabels?: number;
  /** Where the TTL and fallback warnings go (default: stderr warnings). */
  logger?: Pick<Logger, 'warn'>;
}

function configError(message: string, path: string): CpexError {
  return new CpexError('CPEX_ERR_SESSION_STORE_CONFIG', message, { path });
}

const stderrLogger: Pick<Logger, 'warn'> = {
  warn: (msg) => process.stderr.write(`[cpex] warn: ${msg}\n`),
};

/**
 * @example
 * ```ts
 * import { PluginManager } from '@cpex/core';
 * import { RedisSessionStore } from '@cpex/session-redis';
 *
 * const sessionStore = new RedisSessionStore({ endpoint: 'rediss://gw:secret@redis.internal:6380', ttlSeconds: 86_400 });
 * const manager = new PluginManager({ sessionStore });
 * ```
 */
export class RedisSessionStore implements SessionStore {
  readonly endpoint: ResolvedEndpoint;
  readonly keyPrefix: string;
  readonly ttlSeconds: number | undefined;
  readonly maxLabels: number;
  private readonly client: Redis;
  private readonly logger: Pick<Logger, 'warn'>;
  /** The key of a session id and when this replica last slid its TTL, for recent sessions. */
  private readonly sessions: SessionKeys;
  /** A load within this long of the last TTL refresh is a plain SMEMBERS. */
  private readonly refreshEveryMs: number;
  /** The script's arguments after the key: TTL ('0' = none) and cap. */
  private readonly loadArgs: [string, string];
  /** False once the server refused the load script (then: pipelined commands). */
  private scripted = true;

  constructor(options: RedisSessionStoreOptions) {
    this.endpoint = resolveEndpoint(options);
    const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    if (typeof prefix !== 'string' || prefix === '') {
      throw configError('keyPrefix must be a non-empty string', 'keyPrefix');
    }
    const ttl = options.ttlSeconds;
    if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0)) {
      throw configError(
        `ttlSeconds must be a positive whole number of seconds, got ${String(ttl)}`,
        'ttlSeconds',
      );
    }
    const max = options.maxLabels ?? DEFAULT_SESSION_MAX_LABELS;
    if (!(Number.isInteger(max) && max > 0)) {
      throw configError(`maxLabels must be a positive whole number, got ${String(max)}`, 'maxLabels');
    }
    this.keyPrefix = prefix;
    this.ttlSeconds = ttl;
    this.maxLabels = max;
    this.loadArgs = [String(ttl ?? 0), String(max)];
    const every = options.ttlRefreshIntervalMs;
    if (every !== undefined && !(typeof every === 'number' && every >= 0 && Number.isFinite(every))) {
      throw configError(
        `ttlRefreshIntervalMs must be a number of milliseconds ≥ 0, got ${String(every)}`,
        'ttlRefreshIntervalMs',
      );
    }
    this.refreshEveryMs = every ?? (ttl === undefined ? 1000 : Math.min(1000, ttl * 100));
    this.sessions = new SessionKeys(prefix);
    this.logger = options.logger ?? stderrLogger;
    const life = options.maxSessionLifetimeSeconds;
    if (ttl !== undefined && life !== undefined && ttl < life) {
      this.logger.warn(
        `session store TTL (${ttl}s) is shorter than the max session lifetime (${life}s): accumulated taint can expire while the session lives`,
        { alarm: 'session_store_ttl_unsound', ttl_seconds: ttl, max_session_lifetime_seconds: life },
      );
    }
    this.client = createRedisClient(this.endpoint);
  }

  /** The Redis key of a session: `<prefix>:<hex sha256(session id)>`. */
  key(sessionId: string): string {
    return this.sessions.get(sessionId).key;
  }

  /** Resolves once connected; rejects with a SessionStoreError when the first connection fails. */
  ready(): Promise<void> {
    return this.client.ping().then(
      () => {},
      (e) => {
        throw this.failure('load', e);
      },
    );
  }

  load(sessionId: string): Promise<readonly string[]> {
    const state = this.sessions.get(sessionId);
    const now = performance.now();
    const full = now - state.refreshedAt >= this.refreshEveryMs;
    let pending: Promise<unknown>;
    try {
      if (!full) pending = this.client.smembersBuffer(state.key);
      else pending = this.scripted ? this.loadScripted(state.key) : this.loadPipelined(state.key);
    } catch (e) {
      return Promise.reject(this.failure('load', e));
    }
    return pending.then(
      (reply) => {
        if (Array.isArray(reply) && reply.length > this.maxLabels) reply = reply.length;
        // Over the cap: the next load checks the size server-side again (without transferring the set).
        if (typeof reply === 'number') state.refreshedAt = Number.NEGATIVE_INFINITY;
        else if (full) state.refreshedAt = now;
        return this.members(reply, state);
      },
      (e) => {
        throw this.failure('load', e);
      },
    );
  }

  /** EVALSHA; EVAL when the server does not have the script (restart, SCRIPT FLUSH, failover). */
  private async loadScripted(key: string): Promise<unknown> {
    const [ttl, max] = this.loadArgs;
    try {
      return await this.client.callBuffer('EVALSHA', LOAD_SHA, 1, key, ttl, max);
    } catch (e) {
      const text = errorText(e);
      if (text.startsWith('NOSCRIPT')) return this.client.callBuffer('EVAL', LOAD_SCRIPT, 1, key, ttl, max);
      if (!/^NOPERM|unknown command/i.test(text)) throw e;
      this.scripted = false;
      this.logger.warn(
        `session store: the server refused the load script (${text}); loading with pipelined SCARD/SMEMBERS/EXPIRE instead`,
        { alarm: 'session_store_no_scripting' },
      );
      return this.loadPipelined(key);
    }
  }

  /** The same load as three pipelined commands (one round trip, not atomic, the set transferred). */
  private async loadPipelined(key: string): Promise<unknown> {
    const p = this.client.pipeline().scard(key).smembersBuffer(key);
    if (this.ttlSeconds !== undefined) p.expire(key, this.ttlSeconds);
    const replies = await p.exec();
    const [count, members, refresh] = replies ?? [];
    if (!count || !members) throw new Error('the pipeline returned no reply');
    if (count[0]) throw count[0];
    if (members[0]) throw members[0];
    if (refresh?.[0]) {
      this.logger.warn(`session store TTL refresh on load failed (labels were read): ${refresh[0].message}`, {
        alarm: 'session_store_ttl_refresh_failed',
      });
    }
    return typeof count[1] === 'number' && count[1] > this.maxLabels ? count[1] : members[1];
  }

  /**
   * The reply as labels: a list of UTF-8 members; a number is the size of a set over the cap.
   * When the members are byte for byte those of this session's previous load, the labels decoded
   * then come back (the same frozen array; small sets only), so a hot session is not decoded again.
   */
  private members(reply: unknown, state: KeyState): readonly string[] {
    if (typeof reply === 'number') {
      throw new SessionStoreError(
        'load',
        `redis ${this.endpoint.redacted}: the session holds ${reply} labels, over the store's cap of ${this.maxLabels}`,
        undefined,
        'CPEX_ERR_SESSION_LABELS',
      );
    }
    if (!Array.isArray(reply)) {
      throw this.failure('load', new Error('the server answered with something other than a set of members'));
    }
    const last = state.last;
    if (last !== undefined && sameMembers(last.raw, reply)) return last.labels;
    const out = new Array<string>(reply.length);
    let bytes = 0;
    for (let i = 0; i < reply.length; i++) {
      const m: unknown = reply[i];
      let label: string | undefined;
      if (Buffer.isBuffer(m)) {
        bytes += m.length;
        try {
          label = utf8.decode(m);
        } catch {
          label = undefined;
        }
      }
      if (label === undefined) {
        throw new SessionStoreError(
          'load',
          `redis ${this.endpoint.redacted}: member ${i} of the session's set is not UTF-8 text`,
          undefined,
          'CPEX_ERR_SESSION_LABELS',
        );
      }
      out[i] = label;
    }
    const labels = Object.freeze(out);
    // Copies: a reply's buffers may be views of a whole socket read, which must not be kept alive.
    state.last =
      bytes <= REMEMBER_MAX_BYTES
        ? { raw: (reply as Buffer[]).map((m) => new Uint8Array(m)), labels }
        : undefined;
    return labels;
  }

  async append(sessionId: string, labels: readonly string[]): Promise<void> {
    if (labels.length === 0) return;
    const state = this.sessions.get(sessionId);
    const key = state.key;
    const tx = this.client.multi().sadd(key, ...labels);
    if (this.ttlSeconds !== undefined) tx.expire(key, this.ttlSeconds);
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await tx.exec();
    } catch (e) {
      throw this.failure('append', e);
    }
    if (replies === null) throw this.failure('append', new Error('the MULTI transaction was aborted'));
    for (const [err] of replies) if (err) throw this.failure('append', err);
    if (this.ttlSeconds !== undefined) state.refreshedAt = performance.now(); // EXPIRE ran in the MULTI
  }

  /** Close the connection (pending commands fail). */
  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  private failure(op: 'load' | 'append', e: unknown): SessionStoreError {
    return new SessionStoreError(op, `redis ${this.endpoint.redacted}: ${errorText(e)}`, e);
  }
}
