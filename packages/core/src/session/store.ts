/**
 * Session state shared across requests: the security labels (taint) a session has accumulated.
 *
 * A `SessionStore` is deliberately tiny — labels only, and they only grow — so a distributed
 * backend (`@cpex/session-redis`) can keep the same guarantees with concurrent writers on many
 * replicas. Both operations may fail; the manager then fails the invoke closed
 * (`session_store_error`), never treating an outage as "no labels".
 */
import { CpexError } from '../errors/cpex-error.js';

export interface SessionStore {
  /**
   * The labels accumulated for `sessionId`; `[]` for an unknown session (a confirmed miss is not
   * an error). Stores with a TTL refresh it here (sliding expiry). Rejects on a backend failure.
   */
  load(sessionId: string): Promise<readonly string[]>;
  /** Union `labels` into the session (existing labels are kept) and refresh its TTL. */
  append(sessionId: string, labels: readonly string[]): Promise<void>;
  /** Release connections/timers. Optional; the manager never calls it (the store may be shared). */
  close?(): Promise<void>;
  /**
   * The most labels one session may hold (default {@link DEFAULT_SESSION_MAX_LABELS}). The manager
   * fails an invoke closed (`CPEX_ERR_SESSION_LABELS`) when a load returns more, or when an append
   * would take the session past it.
   */
  readonly maxLabels?: number;
}

/** Default cap on the labels of one session (`SessionStore.maxLabels`). */
export const DEFAULT_SESSION_MAX_LABELS = 1024;

/** A backend failure of a session store (the manager turns it into a halting violation). */
export class SessionStoreError extends CpexError {
  readonly operation: 'load' | 'append';
  /**
   * @param code CPEX_ERR_SESSION_STORE (the backend failed) or CPEX_ERR_SESSION_LABELS (it answered
   *   with labels that are not valid, or too many).
   */
  constructor(
    operation: 'load' | 'append',
    message: string,
    cause?: unknown,
    code: 'CPEX_ERR_SESSION_STORE' | 'CPEX_ERR_SESSION_LABELS' = 'CPEX_ERR_SESSION_STORE',
  ) {
    super(code, `session store ${operation} failed: ${message}`, {
      details: { operation },
      ...(cause !== undefined ? { cause } : {}),
    });
    this.name = 'SessionStoreError';
    this.operation = operation;
  }
}

export interface MemorySessionStoreOptions {
  /** Sliding expiry in seconds, refreshed on load and append. Default: none (sessions never expire). */
  ttlSeconds?: number;
  /** Clock in ms (tests). Default `Date.now`. */
  now?: () => number;
}

interface Entry {
  labels: Set<string>;
  expiresAt: number;
}

/**
 * The embedded default: one process's sessions in a Map. Fine for a single gateway and for tests;
 * a fleet needs a shared store (`@cpex/session-redis`).
 *
 * @example
 * ```ts
 * const manager = new PluginManager({ sessionStore: new MemorySessionStore({ ttlSeconds: 3600 }) });
 * ```
 */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly now: () => number;
  private sweepAt = 0;

  constructor(options: MemorySessionStoreOptions = {}) {
    const ttl = options.ttlSeconds;
    if (ttl !== undefined && !(typeof ttl === 'number' && ttl > 0 && Number.isFinite(ttl))) {
      throw new CpexError(
        'CPEX_ERR_INVALID_ARGUMENT',
        `MemorySessionStore: ttlSeconds must be a positive number of seconds, got ${String(ttl)}`,
      );
    }
    this.ttlMs = ttl === undefined ? Number.POSITIVE_INFINITY : ttl * 1000;
    this.now = options.now ?? Date.now;
  }

  load(sessionId: string): Promise<readonly string[]> {
    const e = this.live(sessionId);
    if (e === undefined) return Promise.resolve([]);
    e.expiresAt = this.now() + this.ttlMs;
    return Promise.resolve([...e.labels]);
  }

  append(sessionId: string, labels: readonly string[]): Promise<void> {
    if (labels.length === 0) return Promise.resolve();
    const now = this.now();
    let e = this.live(sessionId);
    if (e === undefined) {
      e = { labels: new Set(), expiresAt: 0 };
      this.sessions.set(sessionId, e);
    }
    for (const l of labels) e.labels.add(l);
    e.expiresAt = now + this.ttlMs;
    this.maybeSweep(now);
    return Promise.resolve();
  }

  /** Number of live sessions (diagnostics, tests). */
  get size(): number {
    this.maybeSweep(this.now(), true);
    return this.sessions.size;
  }

  close(): Promise<void> {
    this.sessions.clear();
    return Promise.resolve();
  }

  private live(id: string): Entry | undefined {
    const e = this.sessions.get(id);
    if (e !== undefined && e.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return e;
  }

  /** Drop expired sessions at most once per TTL period (amortized; no timer keeps the process up). */
  private maybeSweep(now: number, force = false): void {
    if (this.ttlMs === Number.POSITIVE_INFINITY || (!force && now < this.sweepAt)) return;
    this.sweepAt = now + this.ttlMs;
    for (const [id, e] of this.sessions) if (e.expiresAt <= now) this.sessions.delete(id);
  }
}
