/**
 * Fleet mode for hot reload: replicas announce the content hash of the config they reloaded on a
 * Redis pub/sub channel; every replica that hears a hash it is not serving re-reads its own config
 * file (hash guard: a no-op when nothing changed) and reloads. A replica whose file does not hash
 * to the announced value keeps serving what it has and reports itself diverged — in `status()`
 * and in a log line — until its file catches up (its own watch then reloads and clears it).
 *
 * Pub/sub carries only hashes, never config: each replica's config comes from its own file (a
 * ConfigMap, a baked image), so a compromised channel can at most make replicas re-read files.
 */
import { hostname } from 'node:os';
import type { ConfigWatch, Logger, PluginManager, WatchConfigOptions } from '@cpex/core';
import type { Redis } from 'ioredis';
import { createRedisClient } from './client.js';
import { type RedisEndpointOptions, type ResolvedEndpoint, resolveEndpoint } from './config.js';

export const DEFAULT_FLEET_CHANNEL = 'cpex:config:v1';

export interface FleetReloadOptions extends RedisEndpointOptions {
  /** This replica's config file (watched, and re-read when another replica announces a hash). */
  file: string;
  /** Pub/sub channel. Default `cpex:config:v1`. */
  channel?: string;
  /** How this replica names itself in announcements and logs. Default `<hostname>:<pid>`. */
  replicaId?: string;
  /** Options for the file watch, or false to reload only on announcements. */
  watch?: WatchConfigOptions | false;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
}

export interface FleetStatus {
  replica: string;
  /** Hash of the config this replica serves. */
  hash: string | undefined;
  /** Latest hash announced on the channel (by any replica), and by whom. */
  announced: string | undefined;
  announcedBy: string | undefined;
  /** True when the latest announced hash is not what this replica serves. */
  diverged: boolean;
  /** The last reload this replica rejected (its old lineup kept serving). */
  lastError: string | undefined;
  /** Messages on the channel that were not announcements (garbage, oversized, bad hash or id). */
  ignoredMessages: number;
}

interface Announcement {
  hash: string;
  replica: string;
}

/** An announcement is a small JSON object; anything longer is not one (and is not parsed). */
const MAX_ANNOUNCEMENT_BYTES = 1024;
/** A replica id is printable ASCII (it goes into log lines: no control characters, no newlines). */
const REPLICA_ID = /^[\x21-\x7e][\x20-\x7e]{0,254}$/;
const CONFIG_HASH = /^sha256:[0-9a-f]{64}$/;

/**
 * The channel is a boundary: anyone who can publish on it can send anything. Only
 * `{"hash":"sha256:<64 hex>","replica":"<printable id>"}` is an announcement; everything else is
 * counted and ignored.
 */
function parseAnnouncement(raw: unknown): Announcement | undefined {
  if (typeof raw !== 'string' || raw.length > MAX_ANNOUNCEMENT_BYTES) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const { hash, replica } = v as Record<string, unknown>;
  if (typeof hash !== 'string' || !CONFIG_HASH.test(hash)) return undefined;
  if (typeof replica !== 'string' || !REPLICA_ID.test(replica)) return undefined;
  return { hash, replica };
}

/**
 * @example
 * ```ts
 * const fleet = await FleetReload.start(manager, { endpoint: process.env.REDIS_URL!, file: '/etc/cpex/plugins.yaml' });
 * app.get('/healthz/config', (_req, res) => res.json(fleet.status()));
 * ```
 */
export class FleetReload {
  readonly replica: string;
  readonly channel: string;
  readonly #manager: PluginManager;
  readonly #file: string;
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  #watch: ConfigWatch | undefined;
  #announced: Announcement | undefined;
  #diverged = false;
  #lastError: string | undefined;
  #chain: Promise<void> = Promise.resolve();
  #ignored = 0;
  /** The newest announcement not yet acted on (a burst is handled once, by its latest). */
  #pending: Announcement | undefined;

  private constructor(manager: PluginManager, options: FleetReloadOptions, ep: ResolvedEndpoint) {
    this.#manager = manager;
    this.#file = options.file;
    this.channel = options.channel ?? DEFAULT_FLEET_CHANNEL;
    this.replica = options.replicaId ?? `${hostname()}:${process.pid}`;
    this.#logger = options.logger ?? {
      info: (m) => process.stderr.write(`[cpex] ${m}\n`),
      warn: (m) => process.stderr.write(`[cpex] warn: ${m}\n`),
      error: (m) => process.stderr.write(`[cpex] error: ${m}\n`),
    };
    this.#pub = createRedisClient(ep);
    // A subscriber connection waits for messages: no command timeout on it.
    this.#sub = createRedisClient(ep, { commandTimeout: undefined as never, maxRetriesPerRequest: null });
  }

  /** Subscribe, take the file as the baseline, and (unless `watch: false`) watch it. */
  static async start(manager: PluginManager, options: FleetReloadOptions): Promise<FleetReload> {
    const ep = resolveEndpoint(options);
    const f = new FleetReload(manager, options, ep);
    f.#sub.on('message', (channel: string, raw: unknown) => f.#onMessage(channel, raw));
    await f.#sub.subscribe(f.channel);
    try {
      await manager.reload(f.#file);
    } catch (e) {
      f.#lastError = (e as Error).message;
    }
    if (options.watch !== false) {
      f.#watch = manager.watchConfig(f.#file, {
        ...(options.watch ?? {}),
        onReload: (r) => {
          options.watch && options.watch.onReload?.(r);
          f.#serialize(() => f.#afterLocalReload());
        },
        onError: (e) => {
          f.#lastError = e.message;
          options.watch && options.watch.onError?.(e);
        },
      });
    }
    return f;
  }

  status(): FleetStatus {
    return {
      replica: this.replica,
      hash: this.#manager.configHash,
      announced: this.#announced?.hash,
      announcedBy: this.#announced?.replica,
      diverged: this.#diverged,
      lastError: this.#lastError,
      ignoredMessages: this.#ignored,
    };
  }

  /** Announce the hash this replica serves (e.g. after an operator rolled a new config out). */
  async announce(): Promise<void> {
    const hash = this.#manager.configHash;
    if (hash === undefined) return;
    this.#announced = { hash, replica: this.replica };
    this.#diverged = false;
    await this.#pub.publish(this.channel, JSON.stringify({ hash, replica: this.replica }));
  }

  async close(): Promise<void> {
    this.#watch?.close();
    await this.#chain;
    await Promise.allSettled([this.#sub.quit(), this.#pub.quit()]);
  }

  #onMessage(channel: string, raw: unknown): void {
    if (channel !== this.channel) return;
    const a = parseAnnouncement(raw);
    if (a === undefined) {
      // Logged on the first and then every 1,000th, so a flood cannot flood the log.
      if (this.#ignored++ % 1000 === 0) {
        this.#logger.warn(
          `cpex fleet: ignored a message on ${this.channel} that is not an announcement (${this.#ignored} so far)`,
          { event: 'cpex_fleet_ignored_message', replica: this.replica, ignored: this.#ignored },
        );
      }
      return;
    }
    if (a.replica === this.replica) return;
    const queued = this.#pending !== undefined;
    this.#pending = a;
    if (queued) return;
    this.#serialize(() => {
      const latest = this.#pending!;
      this.#pending = undefined;
      return this.#onAnnouncement(latest);
    });
  }

  #serialize(fn: () => Promise<void>): void {
    this.#chain = this.#chain.then(fn).catch((e) => {
      this.#logger.error(`cpex fleet: ${(e as Error).message}`);
    });
  }

  async #afterLocalReload(): Promise<void> {
    this.#lastError = undefined;
    this.#check('local file change');
    await this.announce();
  }

  async #onAnnouncement(a: Announcement): Promise<void> {
    // The announcement becomes visible in status() together with its outcome (after the reload).
    if (this.#manager.configHash !== a.hash) {
      try {
        await this.#manager.reload(this.#file);
        this.#lastError = undefined;
      } catch (e) {
        this.#lastError = (e as Error).message;
      }
    }
    this.#announced = a;
    this.#check(`announcement from ${a.replica}`);
  }

  #check(why: string): void {
    const serving = this.#manager.configHash;
    const announced = this.#announced?.hash;
    const diverged = announced !== undefined && serving !== announced;
    if (diverged) {
      this.#logger.warn(
        `cpex fleet: replica ${this.replica} diverged: serving ${serving ?? '(none)'}, the fleet announced ${announced} (by ${this.#announced?.replica}); keeps serving its config (${why})`,
        { event: 'cpex_fleet_diverged', replica: this.replica, hash: serving, announced },
      );
    } else if (this.#diverged) {
      this.#logger.info(`cpex fleet: replica ${this.replica} converged on ${serving}`, {
        event: 'cpex_fleet_converged',
        replica: this.replica,
        hash: serving,
      });
    }
    this.#diverged = diverged;
  }
}
