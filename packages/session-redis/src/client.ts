/**
 * The one place an ioredis client is built, so the session store and the fleet reload channel
 * get the same endpoint rules, timeouts and failure behaviour.
 *
 * Failure behaviour: commands are bounded by `commandTimeoutMs` whether the connection is up or
 * not (a command queued while reconnecting times out like one sent), a dropped connection fails
 * its commands instead of replaying them, and the client reconnects in the background
 * (capped backoff) so callers recover as soon as the server is back.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { type RedisEndpointOptions, type ResolvedEndpoint, resolveEndpoint } from './config.js';

export function clientOptions(ep: ResolvedEndpoint, extra: Partial<RedisOptions> = {}): RedisOptions {
  return {
    host: ep.host,
    port: ep.port,
    db: ep.db,
    ...(ep.username !== undefined ? { username: ep.username } : {}),
    ...(ep.password !== undefined ? { password: ep.password } : {}),
    ...(ep.tls
      ? { tls: { ...(ep.tlsOptions ?? {}), servername: ep.tlsOptions?.servername ?? ep.host } }
      : {}),
    connectTimeout: ep.connectTimeoutMs,
    commandTimeout: ep.commandTimeoutMs,
    // Queue while (re)connecting — bounded by commandTimeout — but give up on a request after one
    // failed reconnect instead of retrying it for ever.
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
    // Fail fast at start too: `ready` reports the first connection error.
    lazyConnect: false,
    ...extra,
  };
}

/** A connected (or connecting) client for validated endpoint options. */
export function createRedisClient(
  options: RedisEndpointOptions | ResolvedEndpoint,
  extra: Partial<RedisOptions> = {},
): Redis {
  const ep = 'redacted' in options ? options : resolveEndpoint(options);
  // ioredis's overloads do not type-check under exactOptionalPropertyTypes; the options are RedisOptions.
  const client = new Redis(clientOptions(ep, extra) as never);
  // Errors surface through the commands that fail; an unhandled 'error' event would crash.
  client.on('error', () => {});
  return client;
}
