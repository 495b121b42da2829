/**
 * Hot reload: replace the config-sourced plugins of a running manager with ONE atomic swap of its
 * active lineup (manager/active-lineup.ts is the seam).
 *
 * 1. Read and validate the new config; its content hash equal to the serving one → no-op.
 * 2. Off to the side: resolve the new settings; keep the registration of every plugin whose entry
 *    (and the settings its registration depends on) did not change — same instance, no
 *    re-initialize; create and initialize the new and changed ones; build the route table.
 * 3. Swap: one assignment. Invocations in flight keep the lineup they started with; new ones get
 *    the new lineup. In-code registrations (`register`, `registerHook`) are untouched.
 * 4. After every invocation that started on the old lineup has finished, the removed plugins stop
 *    taking calls, their own calls drain, and they are shut down.
 *
 * Anything failing before the swap (unreadable or invalid config, a plugin failing to load or
 * initialize with fail_on_plugin_error) leaves the old lineup serving: the reload rejects with
 * CPEX_ERR_RELOAD (cause attached), the plugins it had created are shut down, and a `cpex:reload`
 * event with status `failed` is published.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import {
  configData,
  loadConfigFileHashed,
  type NormalizedConfig,
  parseConfigText,
  validateConfig,
} from '../config/load.js';
import { CpexError, describeCause } from '../errors/cpex-error.js';
import type { Registration } from '../executor/registration.js';
import { RouteTable } from '../executor/routing.js';
import { type ActiveLineup, buildActiveLineup } from '../manager/active-lineup.js';
import type { ConfigState } from '../manager/config-state.js';
import type { LifecycleState } from '../manager/lifecycle.js';
import {
  createRegistration,
  type PendingPlugin,
  type RegistrationDeps,
  shutdownInstance,
  whenIdle,
} from '../manager/registrations.js';
import type { Logger, PluginEntry } from '../types.js';
import { configHash, stableStringify } from './hash.js';

/** The invocations that started on one active lineup. */
export interface Generation {
  inflight: number;
  /** Set by a reload waiting for this generation to finish. */
  onDrained?: (() => void) | undefined;
}

/** What a reload needs from its manager (closures over the manager's private state). */
export interface ReloadPort {
  readonly logger: Logger;
  readonly env: Record<string, string | undefined>;
  state(): LifecycleState;
  active(): ActiveLineup;
  /** The manager's plugin list (config entries and in-code registrations), replaced on commit. */
  pending(): PendingPlugin[];
  setPending(list: PendingPlugin[]): void;
  /** A fresh config state holding only `cfg` (the manager's options and env applied). */
  configFor(cfg: NormalizedConfig): ConfigState;
  commitConfig(next: ConfigState): void;
  deps(cfg: ConfigState): RegistrationDeps;
  nextOrder(): number;
  /** Install a new active lineup; returns the generation of the lineup it replaced. */
  swap(next: ActiveLineup): Generation;
}

/** A config for `reload()`: a file path or file: URL, YAML text, or a config object. */
export type ReloadSource =
  | string
  | URL
  | { text: string; baseDir?: string; file?: string }
  | { config: Record<string, unknown>; baseDir?: string };

export interface ReloadResult {
  /** `unchanged`: the content hash matched the serving config (nothing was done). */
  status: 'reloaded' | 'unchanged';
  /** Content hash of the config now serving. */
  hash: string;
  previousHash: string | undefined;
  /** Plugins created for this config (new, or changed and re-created). */
  added: string[];
  /** Plugins whose entries did not change: same instance, not re-initialized. */
  kept: string[];
  /** Plugins of the old config that were removed or replaced (shut down after they drain). */
  removed: string[];
  /** Milliseconds from the start of the reload to the swap (reading, validating, initializing). */
  prepareMs: number;
  /** Milliseconds the swap itself took (commit + lineup publication). */
  swapMs: number;
  /** Settles when the removed plugins have drained and shut down. */
  drained: Promise<void>;
}

export interface ReloadEvent {
  manager: object;
  status: 'reloaded' | 'unchanged' | 'failed';
  hash?: string;
  previousHash?: string;
  error?: CpexError;
  added?: string[];
  kept?: string[];
  removed?: string[];
  source?: string;
}

/** Publishes a message per reload attempt (reloaded, unchanged, failed). */
export const reloadChannel = diagnostics_channel.channel('cpex:reload');

interface Loaded {
  cfg: NormalizedConfig;
  hash: string;
  label: string;
}

async function loadSource(source: ReloadSource, env: Record<string, string | undefined>): Promise<Loaded> {
  if (typeof source === 'string' || source instanceof URL) {
    const { cfg, hash, file } = await loadConfigFileHashed(source, { env });
    return { cfg, hash, label: file };
  }
  if ('text' in source) {
    const cfg = parseConfigText(source.text, {
      env,
      ...(source.file !== undefined ? { file: source.file } : {}),
      ...(source.baseDir !== undefined ? { baseDir: source.baseDir } : {}),
    });
    return { cfg, hash: configHash(source.text), label: source.file ?? '(text)' };
  }
  const data = configData(source.config);
  const cfg = validateConfig(data, { env });
  if (source.baseDir !== undefined) cfg.baseDir = source.baseDir;
  return { cfg, hash: configHash(data), label: '(object)' };
}

/** What decides whether a registration can be kept: the entry and the settings it was built with. */
function registrationKey(entry: PluginEntry, deps: RegistrationDeps): string {
  return stableStringify({
    entry,
    timeout: entry.timeout ?? deps.settings.pluginTimeout,
    cow: deps.settings.cowValidation,
  });
}

export class Reloader {
  #port: ReloadPort;
  #hash: string | undefined;
  #keys = new WeakMap<Registration, string>();
  /** Reloads run one at a time, in call order. */
  #queue: Promise<unknown> = Promise.resolve();
  readonly #drains = new Set<Promise<void>>();

  constructor(port: ReloadPort) {
    this.#port = port;
  }

  /** Content hash of the config serving now (undefined until the first reload or `noteLoaded`). */
  get hash(): string | undefined {
    return this.#hash;
  }

  /**
   * Record the hash of the config the manager was started with, so that reloading identical
   * content is a no-op. `undefined` when the serving config is not one source (a second
   * loadConfig merged another): the next reload then diffs.
   */
  noteLoaded(hash: string | undefined): void {
    this.#hash = hash;
  }

  /** Removed plugins still draining / shutting down. */
  drains(): Promise<void> {
    return Promise.allSettled([...this.#drains]).then(() => undefined);
  }

  reload(source: ReloadSource, owner: object): Promise<ReloadResult> {
    const run = this.#queue.then(() => this.#reload(source, owner));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #reload(source: ReloadSource, owner: object): Promise<ReloadResult> {
    const port = this.#port;
    const t0 = performance.now();
    const previousHash = this.#hash;
    let label = typeof source === 'string' ? source : source instanceof URL ? source.href : '(inline)';
    const fail = (e: unknown): never => {
      const err =
        e instanceof CpexError && e.code === 'CPEX_ERR_RELOAD'
          ? e
          : new CpexError(
              'CPEX_ERR_RELOAD',
              `reload of ${label} rejected, the previous config keeps serving: ${describeCause(e)}`,
              {
                cause: e,
                ...(e instanceof CpexError && e.plugin !== undefined ? { plugin: e.plugin } : {}),
                ...(e instanceof CpexError && e.path !== undefined ? { path: e.path } : {}),
                ...(e instanceof CpexError && e.file !== undefined ? { file: e.file } : {}),
              },
            );
      port.logger.error(err.message, {
        event: 'cpex_reload_failed',
        ...(previousHash ? { hash: previousHash } : {}),
      });
      if (reloadChannel.hasSubscribers) {
        reloadChannel.publish({
          manager: owner,
          status: 'failed',
          error: err,
          source: label,
          ...(previousHash ? { previousHash } : {}),
        } satisfies ReloadEvent);
      }
      throw err;
    };

    const state = port.state();
    if (state !== 'ready') {
      return fail(
        new CpexError(
          state === 'shutting_down' || state === 'shut_down'
            ? 'CPEX_ERR_SHUT_DOWN'
            : 'CPEX_ERR_NOT_INITIALIZED',
          `reload needs an initialized manager (state: ${state})`,
        ),
      );
    }
    let loaded: Loaded;
    try {
      loaded = await loadSource(source, port.env);
    } catch (e) {
      return fail(e);
    }
    label = loaded.label;
    if (loaded.hash === this.#hash) {
      if (reloadChannel.hasSubscribers) {
        reloadChannel.publish({
          manager: owner,
          status: 'unchanged',
          hash: loaded.hash,
          source: label,
        } satisfies ReloadEvent);
      }
      return {
        status: 'unchanged',
        hash: loaded.hash,
        previousHash,
        added: [],
        kept: [],
        removed: [],
        prepareMs: performance.now() - t0,
        swapMs: 0,
        drained: Promise.resolve(),
      };
    }

    const next = port.configFor(loaded.cfg);
    const deps = port.deps(next);
    const oldPending = port.pending();
    const inCode = oldPending.filter((p) => p.instance !== undefined);
    const oldConfig = oldPending.filter((p) => p.instance === undefined && p.registration !== undefined);
    const oldByName = new Map(oldConfig.map((p) => [p.entry.name, p]));
    const codeNames = new Set(inCode.map((p) => p.entry.name));

    const newPending: PendingPlugin[] = [];
    const toCreate: PendingPlugin[] = [];
    const kept = new Set<Registration>();
    try {
      loaded.cfg.entries.forEach((entry, i) => {
        if (codeNames.has(entry.name)) {
          throw new CpexError(
            'CPEX_ERR_DUPLICATE_PLUGIN',
            `plugins[${i}].name: plugin "${entry.name}" is already registered from code`,
            { plugin: entry.name, path: `plugins[${i}].name` },
          );
        }
        if (entry.mode === 'disabled') return;
        const p: PendingPlugin = { entry, path: `plugins[${i}]` };
        const old = oldByName.get(entry.name)?.registration;
        if (old && old.closing !== true && this.#keyOf(old, deps) === registrationKey(entry, deps)) {
          p.registration = old;
          kept.add(old);
        } else {
          toCreate.push(p);
        }
        newPending.push(p);
      });
    } catch (e) {
      return fail(e);
    }

    // Create and initialize the new plugins in parallel; any failure (fail_on_plugin_error) aborts.
    const created: Registration[] = [];
    const skipped = new Set<PendingPlugin>();
    const settled = await Promise.allSettled(toCreate.map((p) => createRegistration(p, 0, deps)));
    let firstFailure: unknown;
    settled.forEach((r, i) => {
      const p = toCreate[i]!;
      if (r.status === 'fulfilled') {
        p.registration = r.value;
        created.push(r.value);
        this.#keys.set(r.value, registrationKey(p.entry, deps));
      } else if (next.settings.failOnPluginError) {
        firstFailure ??= r.reason;
      } else {
        skipped.add(p);
        const msg = `skipped on reload: plugin "${p.entry.name}" failed to load: ${describeCause(r.reason)}`;
        next.warnings.push(msg);
        port.logger.warn(msg, { plugin: p.entry.name });
      }
    });

    let routes: RouteTable | undefined;
    const overrides: Registration[] = [];
    const reusedOverrides = new Set<Registration>();
    if (firstFailure === undefined && next.settings.routingEnabled) {
      try {
        routes = await this.#buildRoutes(next, newPending, deps, overrides, reusedOverrides, created);
      } catch (e) {
        firstFailure = e;
      }
    }
    if (port.state() !== 'ready')
      firstFailure ??= new CpexError('CPEX_ERR_SHUT_DOWN', 'the manager was shut down during the reload');
    if (firstFailure !== undefined) {
      for (const r of [...created].reverse()) await shutdownInstance(r.name, r.instance, deps);
      return fail(firstFailure);
    }

    // Commit: everything below is synchronous — the swap is one assignment.
    const t1 = performance.now();
    const finalPending = [...inCode, ...newPending.filter((p) => !skipped.has(p))];
    for (const p of newPending) {
      // Config order breaks priority ties, as at startup (the old lineup is already sorted).
      if (p.registration) (p.registration as { order: number }).order = port.nextOrder();
    }
    const registrations = finalPending.flatMap((p) => (p.registration ? [p.registration] : []));
    const nextActive = buildActiveLineup(registrations, routes, overrides);
    port.commitConfig(next);
    port.setPending(finalPending);
    const oldActive = port.active();
    const oldGeneration = port.swap(nextActive);
    this.#hash = loaded.hash;
    const swapMs = performance.now() - t1;

    const removedRegs = [
      ...oldActive.registrations.filter((r) => !kept.has(r) && !inCode.some((p) => p.registration === r)),
      ...oldActive.overrides.filter((r) => !reusedOverrides.has(r)),
    ];
    const drained = this.#retire(removedRegs, oldGeneration, deps);
    const result: ReloadResult = {
      status: 'reloaded',
      hash: loaded.hash,
      previousHash,
      added: created.filter((r) => !overrides.includes(r)).map((r) => r.name),
      kept: [...kept].map((r) => r.name),
      removed: oldActive.registrations.filter((r) => removedRegs.includes(r)).map((r) => r.name),
      prepareMs: t1 - t0,
      swapMs,
      drained,
    };
    port.logger.info(
      `config reloaded from ${label}: ${result.added.length} added, ${result.kept.length} kept, ${result.removed.length} removed`,
      { event: 'cpex_reload', hash: loaded.hash, ...(previousHash ? { previous_hash: previousHash } : {}) },
    );
    if (reloadChannel.hasSubscribers) {
      reloadChannel.publish({
        manager: owner,
        status: 'reloaded',
        hash: loaded.hash,
        ...(previousHash ? { previousHash } : {}),
        added: result.added,
        kept: result.kept,
        removed: result.removed,
        source: label,
      } satisfies ReloadEvent);
    }
    return result;
  }

  /** The key of an existing registration under the new settings (entry + what it was built with). */
  #keyOf(reg: Registration, deps: RegistrationDeps): string {
    const cached = this.#keys.get(reg);
    if (cached !== undefined) return cached;
    // Built before any reload: compare what it was built with (its timeout, its payload protection).
    const strict = deps.settings.cowValidation === 'strict';
    const sameCow = reg.instance.host.copiesPayloads || reg.protect === strict;
    return stableStringify({
      entry: reg.entry,
      timeout: reg.timeoutMs / 1000,
      cow: sameCow ? deps.settings.cowValidation : 'changed',
    });
  }

  /** The route table (and override instances) for the new config; unchanged overrides are reused. */
  async #buildRoutes(
    next: ConfigState,
    pending: PendingPlugin[],
    deps: RegistrationDeps,
    overrides: Registration[],
    reused: Set<Registration>,
    created: Registration[],
  ): Promise<RouteTable> {
    const routing = next.routing;
    const byName = new Map<string, Registration>();
    for (const p of [...this.#port.pending().filter((q) => q.instance !== undefined), ...pending]) {
      if (p.registration) byName.set(p.entry.name, p.registration);
    }
    const oldOverrides = new Map<string, Registration>();
    for (const r of this.#port.active().overrides)
      oldOverrides.set(`${r.name}\u0000${stableStringify(r.entry.config ?? {})}`, r);
    const byRef = new Map<object, Registration>();
    const refs = [
      ...Object.values(routing.groups).flat(),
      ...routing.routes.flatMap((r) => r.plugins),
    ].filter((r) => r.config !== undefined);
    for (const ref of refs) {
      const base = byName.get(ref.name);
      if (!base || byRef.has(ref)) continue;
      const entry: PluginEntry = { ...base.entry, config: { ...(base.entry.config ?? {}), ...ref.config } };
      const key = `${entry.name}\u0000${stableStringify(entry.config ?? {})}`;
      const old = oldOverrides.get(key);
      let reg: Registration;
      if (old && created.every((c) => c !== base) && old.closing !== true) {
        reg = old;
        reused.add(old);
      } else {
        const r = await createRegistration({ entry, path: `override of ${ref.name}` }, base.order, deps);
        reg = { ...r, order: base.order };
        created.push(reg);
      }
      byRef.set(ref, reg);
      if (!overrides.includes(reg)) overrides.push(reg);
    }
    return new RouteTable(routing, next.settings.routeCacheMaxEntries, (ref) =>
      ref.config !== undefined ? byRef.get(ref) : byName.get(ref.name),
    );
  }

  /** After the old generation finished: stop the removed plugins, let their calls drain, shut them down. */
  #retire(removed: Registration[], old: Generation, deps: RegistrationDeps): Promise<void> {
    if (removed.length === 0) return Promise.resolve();
    const done = (async () => {
      if (old.inflight > 0) await new Promise<void>((resolve) => (old.onDrained = resolve));
      for (const r of removed) r.closing = true;
      await Promise.all(removed.map(whenIdle));
      for (const r of removed) await shutdownInstance(r.name, r.instance, deps);
    })();
    this.#drains.add(done);
    done.finally(() => this.#drains.delete(done));
    return done;
  }
}
