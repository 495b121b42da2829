/**
 * `SessionStore` on Redis/Valkey with Rust cpex's schema, so TypeScript and Rust gateways of one
 * fleet share session labels:
 *
 * - key `<prefix>:<hex sha256(session id)>` (prefix `taint:v1`), holding a SET of labels;
 * - append = `MULTI SADD key l1 l2 … [EXPIRE key ttl] EXEC` — atomic, and SADD only ever adds, so
 *   concurrent writers on any number of replicas never lose a label;
 * - load = `SMEMBERS key` then `EXPIRE key ttl` (sliding TTL) — pipelined: one round trip;
 * - every backend error on load or append rejects with `SessionStoreError`; the manager turns it
 *   into the halting violation `session_store_error` (fail closed, never an allow). As in Rust, a
 *   failed TTL refresh after a successful read is logged, not fatal.
 */
import { createHash } from 'node:crypto';
import { CpexError, type Logger, type SessionStore, SessionStoreError } from '@cpex/core';
import type { Redis } from 'ioredis';
import { createRedisClient } from './client.js';
import { type RedisEndpointOptions, type ResolvedEndpoint, resolveEndpoint } from './config.js';

export const DEFAULT_KEY_PREFIX = 'taint:v1';

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
  /** Where the TTL warnings go (default: stderr warnings). */
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
  private readonly client: Redis;
  private readonly logger: Pick<Logger, 'warn'>;

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
    this.keyPrefix = prefix;
    this.ttlSeconds = ttl;
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
    return `${this.keyPrefix}:${createHash('sha256').update(sessionId, 'utf8').digest('hex')}`;
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

  async load(sessionId: string): Promise<readonly string[]> {
    const key = this.key(sessionId);
    if (this.ttlSeconds === undefined) {
      try {
        return await this.client.smembers(key);
      } catch (e) {
        throw this.failure('load', e);
      }
    }
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await this.client.pipeline().smembers(key).expire(key, this.ttlSeconds).exec();
    } catch (e) {
      throw this.failure('load', e);
    }
    const [members, refresh] = replies ?? [];
    if (!members) throw this.failure('load', new Error('the pipeline returned no reply'));
    if (members[0]) throw this.failure('load', members[0]);
    if (!Array.isArray(members[1])) throw this.failure('load', new Error('SMEMBERS did not return a list'));
    if (refresh?.[0]) {
      this.logger.warn(`session store TTL refresh on load failed (labels were read): ${refresh[0].message}`, {
        alarm: 'session_store_ttl_refresh_failed',
      });
    }
    return members[1] as string[];
  }

  async append(sessionId: string, labels: readonly string[]): Promise<void> {
    if (labels.length === 0) return;
    const key = this.key(sessionId);
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
    const msg = e instanceof Error ? e.message : String(e);
    return new SessionStoreError(op, `redis ${this.endpoint.redacted}: ${msg}`, e);
  }
}
