/**
 * PluginManager: the public facade. It wires the concerns that live in ./manager/:
 * - config merging ........................ manager/config-state.ts
 * - kind -> factory resolution, hosts ..... manager/factories.ts
 * - in-code entries (same zod schema as YAML), the one duplicate-name check ... manager/entries.ts
 * - creating / shutting down plugins ...... manager/registrations.ts
 * - the lifecycle state machine ........... manager/lifecycle.ts
 * - the active lineup (one immutable snapshot, swapped by reference) ... manager/active-lineup.ts
 * - introspection rows .................... manager/introspect.ts
 * - the default logger .................... manager/logger.ts
 * and runs hooks through the executor (executor/). Managers are independent: no global state.
 */
import {
  configData,
  loadConfigFileHashed,
  type NormalizedConfig,
  parseConfigText,
  validateConfig,
} from './config/load.js';
import type { RawConfig } from './config/schema.js';
import { CpexError, describeCause } from './errors/cpex-error.js';
import { ingressExtensions } from './extensions/ingress.js';
import { emptyResult, Invocation } from './executor/pipeline.js';
import { PayloadAcceptor } from './executor/results.js';
import type { Lineup, Registration } from './executor/registration.js';
import { type RequestMeta, RouteTable } from './executor/routing.js';
import { type CustomHookOptions, type HookDefinition, HookRegistry } from './hooks/registry.js';
import type { PayloadOf } from './hooks/types.js';
import { discoverHooks, pluginToInstance } from './host/in-process.js';
import { type ActiveLineup, buildActiveLineup, EMPTY_LINEUP } from './manager/active-lineup.js';
import { ConfigState } from './manager/config-state.js';
import { ManagerEngine } from './manager/engine.js';
import { assertUniqueNames, entryFromCode } from './manager/entries.js';
import { FactoryResolver } from './manager/factories.js';
import { describeRegistration, type LineupEntry, lineupRows } from './manager/introspect.js';
import { Lifecycle, type LifecycleState } from './manager/lifecycle.js';
import { consoleLogger } from './manager/logger.js';
import { configHash } from './reload/hash.js';
import { type ReloadResult, type ReloadSource, Reloader } from './reload/reloader.js';
import { type ConfigWatch, type WatchConfigOptions, watchConfigFile } from './reload/watch.js';
import { invokeWithSession } from './session/invoke.js';
import { resolveSession } from './session/resolve.js';
import {
  createRegistration,
  type PendingPlugin,
  type RegistrationDeps,
  shutdownInstance,
  whenIdle,
} from './manager/registrations.js';
import type {
  Disposable,
  FactoryContext,
  Handler,
  InvokeOptions,
  Logger,
  ManagerOptions,
  Phase,
  PipelineResult,
  PluginDescription,
  Plugin,
  PluginEntry,
  PluginFactory,
  PluginHost,
  PluginSet,
  ResolvedSettings,
} from './types.js';

export { consoleLogger };
export type { LineupEntry, LifecycleState, ReloadResult, ReloadSource, ConfigWatch, WatchConfigOptions };

/** A config given as an object: the YAML structure (snake_case keys). */
export type ConfigObject = RawConfig;

let managerIds = 0;

/** `v instanceof URL`, false for a value whose prototype cannot be read (a revoked Proxy). */
function isUrl(v: unknown): v is URL {
  try {
    return v instanceof URL;
  } catch {
    return false;
  }
}

/**
 * The CPEX plugin manager.
 *
 * @example
 * ```ts
 * const manager = new PluginManager();
 * await manager.loadConfig('plugins.yaml');
 * await manager.initialize();
 * const result = await manager.invoke('tool_pre_invoke', { name: 'search', args: { q: 'x' } });
 * if (!result.continueProcessing) throw new Error(result.violation!.reason);
 * ```
 */
export class PluginManager {
  readonly id = ++managerIds;
  /**
   * The hooks this manager knows (every built-in hook, plus custom ones defined at runtime), with
   * their payload/result schemas for ingress validation. Any hook name works without a definition.
   */
  readonly hooks = new HookRegistry();
  readonly #logger: Logger;
  readonly #env: Record<string, string | undefined>;
  readonly #sessionStore: ManagerOptions['sessionStore'];
  /** Config sources loaded (loadConfig/loadConfigText): one has a content hash, several merged do not. */
  #configLoads = 0;
  readonly #cfg: ConfigState;
  readonly #factories = new FactoryResolver();
  readonly #life = new Lifecycle();
  /** Plugins in registration order: waiting for initialize(), or holding their registration. */
  readonly #pending: PendingPlugin[] = [];
  /**
   * THE active lineup. Read once per invoke; replaced (never mutated) whenever who runs changes.
   * See manager/active-lineup.ts for the hot-reload seam.
   */
  #active: ActiveLineup = EMPTY_LINEUP;
  /** The last (active lineup, hook) looked up by invoke, and its lineup (undefined: no plugin). */
  #lastActive: ActiveLineup | undefined;
  #lastHook: string | undefined;
  #lastLineup: Lineup | undefined;
  #order = 0;
  #initializing: Promise<void> | undefined;
  #shutdown: Promise<void> | undefined;
  readonly #disabledNames = new Set<string>();
  readonly #activations = new Set<Promise<void>>();
  /** A registration made after initialize() that failed to load: invokes fail closed until it is disposed. */
  readonly #activationFailures: Array<{ error: unknown; added: PendingPlugin[] }> = [];
  /** The executor's view of this manager, with the counters of invocations in flight (manager/engine.ts). */
  readonly #engine: ManagerEngine;
  readonly #reloader: Reloader;
  /** Config watches started by watchConfig(); shutdown() closes them. */
  readonly #watches = new Set<ConfigWatch>();

  constructor(options: ManagerOptions = {}) {
    this.#logger = options.logger ?? consoleLogger;
    this.#env = options.env ?? process.env;
    this.#sessionStore = options.sessionStore;
    this.#cfg = new ConfigState(options, this.#env);
    this.#engine = new ManagerEngine(
      this,
      this.#cfg,
      this.#logger,
      new PayloadAcceptor(this.hooks),
      this.#disabledNames,
    );
    for (const h of options.hosts ?? []) this.registerHost(h);
    this.#reloader = new Reloader({
      logger: this.#logger,
      env: this.#env,
      state: () => this.#life.state,
      active: () => this.#active,
      pending: () => this.#pending,
      setPending: (list) => {
        this.#pending.splice(0, this.#pending.length, ...list);
      },
      configFor: (cfg) => {
        const next = new ConfigState(options, this.#env);
        next.merge(cfg, this.#logger);
        return next;
      },
      commitConfig: (next) => this.#cfg.replaceWith(next),
      deps: (next) => {
        const d = this.#deps();
        const ctx = {
          ...d.factoryContext,
          baseDir: next.baseDir,
          pluginDirs: next.pluginDirs,
          settings: next.settings,
        };
        return { ...d, settings: next.settings, factoryContext: ctx };
      },
      nextOrder: () => ++this.#order,
      swap: (next) => {
        const engine = this.#engine;
        const old = engine.gen;
        this.#active = next;
        engine.gen = { inflight: 0, onDrained: undefined };
        return old;
      },
    });
  }

  /**
   * Hot reload: replace the config-sourced plugins with those of `source` in ONE atomic swap.
   * Unchanged content (same hash) is a no-op; plugins whose entries did not change keep their
   * instances (no re-initialize); invocations in flight finish on the old lineup; removed plugins
   * shut down after their calls drain. A config that fails to validate or initialize rejects with
   * CPEX_ERR_RELOAD and the old lineup keeps serving. Publishes `cpex:reload` events.
   *
   * @example
   * ```ts
   * const r = await manager.reload('/etc/cpex/plugins.yaml');
   * console.log(r.status, r.hash, r.added, r.removed);
   * ```
   */
  reload(source: ReloadSource): Promise<ReloadResult> {
    return this.#reloader.reload(source, this);
  }

  /**
   * Watch a config file (and its directory, so editors' rename-over and Kubernetes ConfigMap
   * symlink swaps are seen) and reload on every content change. Opt-in, from code only.
   */
  watchConfig(file: string, options: WatchConfigOptions = {}): ConfigWatch {
    this.#life.assertOpen('watchConfig');
    const w = watchConfigFile(this, this.#reloader, file, { logger: this.#logger, ...options });
    this.#watches.add(w);
    return w;
  }

  /** Content hash of the config serving now (set by reload()/watchConfig()). */
  get configHash(): string | undefined {
    return this.#reloader.hash;
  }

  /** Settings after precedence (option > YAML plugin_settings > PLUGINS_* env > default). */
  get settings(): ResolvedSettings {
    return this.#cfg.settings;
  }

  /** The normalized config loaded last (undefined before loadConfig). */
  get config(): NormalizedConfig | undefined {
    return this.#cfg.config;
  }

  /** Non-fatal config problems (unknown keys, skipped plugins). */
  get warnings(): readonly string[] {
    return this.#cfg.warnings;
  }

  get initialized(): boolean {
    return this.#life.state === 'ready';
  }

  /** Where the manager is in its lifecycle (created, initializing, ready, failed, shutting_down, shut_down). */
  get state(): LifecycleState {
    return this.#life.state;
  }

  /** Number of registered (active) plugins. */
  get pluginCount(): number {
    return this.#active.registrations.length;
  }

  /**
   * Load a config file (path or file: URL) or a config object (YAML structure, snake_case keys).
   * The content hash is recorded, so a later `reload()` of identical content is `unchanged`.
   */
  async loadConfig(source: string | URL | ConfigObject): Promise<void> {
    this.#life.assertOpen('loadConfig');
    if (typeof source === 'string' || isUrl(source)) {
      const { cfg, hash } = await loadConfigFileHashed(source, { env: this.#env });
      await this.#applyConfig(cfg, hash);
    } else {
      const data = configData(source);
      await this.#applyConfig(validateConfig(data, { env: this.#env }), configHash(data));
    }
  }

  /** Load YAML text; relative paths (plugin_dirs, node:// modules) resolve against `baseDir`. */
  async loadConfigText(yaml: string, options: { baseDir?: string; file?: string } = {}): Promise<void> {
    this.#life.assertOpen('loadConfigText');
    const cfg = parseConfigText(yaml, { env: this.#env, ...options });
    await this.#applyConfig(cfg, configHash(yaml));
  }

  async #applyConfig(cfg: NormalizedConfig, hash: string): Promise<void> {
    this.#life.assertOpen('loadConfig');
    assertUniqueNames(
      this.#pending.map((p) => p.entry.name),
      cfg.entries.map((e, i) => ({ name: e.name, path: `plugins[${i}]` })),
      cfg.file,
    );
    this.#cfg.merge(cfg, this.#logger);
    // One source: its hash is the serving config's (once it is in force). A second one merged in:
    // no single hash, the next reload diffs.
    const only = this.#configLoads++ === 0;
    this.#reloader.noteLoaded(undefined);
    const added: PendingPlugin[] = [];
    cfg.entries.forEach((entry, i) => {
      if (entry.mode === 'disabled') return; // never instantiated
      const p: PendingPlugin = { entry, path: `plugins[${i}]` };
      this.#pending.push(p);
      added.push(p);
    });
    if (this.#life.state === 'ready') await this.#activate(added);
    if (only) this.#reloader.noteLoaded(hash);
  }

  /** Register a factory for an exact kind (`my-kind`) or a scheme (`python://`). Last one wins. */
  registerFactory(kind: string, factory: PluginFactory): void {
    this.#factories.registerFactory(kind, factory);
  }

  /** Register a language host: its factory for each of its kinds (and bare dotted paths if it takes them). */
  registerHost(host: PluginHost): void {
    this.#factories.registerHost(host);
  }

  /** Resolve a kind: exact factory name, then scheme, then bare dotted path → Python host. */
  resolveFactory(kind: string): PluginFactory {
    return this.#factories.resolve(kind);
  }

  /**
   * Define a custom hook at runtime, optionally with a payload/result schema (hosts validate
   * payloads crossing a boundary against it). Built-in hooks cannot be redefined.
   */
  defineHook(name: string, options: CustomHookOptions = {}): HookDefinition {
    return this.hooks.define(name, options);
  }

  /**
   * Register a plugin object (or a nestable PluginSet). Active once the manager is initialized;
   * registered after initialize(), it is created and initialized at once — `ready` settles when it
   * is active (or rejects with its load error, which then also fails every invoke until disposed
   * when fail_on_plugin_error is true).
   */
  register(
    pluginOrSet: Plugin | PluginSet,
    entry: Partial<PluginEntry> = {},
  ): Disposable & { ready: Promise<void> } {
    this.#life.assertOpen('register');
    const added: PendingPlugin[] = [];
    const collect = (p: Plugin | PluginSet, e: Partial<PluginEntry>) => {
      if (isPluginSet(p)) {
        for (const m of p.members) {
          if (isPluginSet(m)) collect(m, {});
          else if (isEntryMember(m)) collect(m.plugin, m.entry ?? {});
          else collect(m as Plugin, {});
        }
        return;
      }
      if (!p || typeof p !== 'object' || typeof p.name !== 'string' || !p.name) {
        throw new CpexError(
          'CPEX_ERR_INVALID_ARGUMENT',
          'register(plugin): a plugin needs a non-empty string name',
        );
      }
      const full = entryFromCode(e.name ?? p.name, e, discoverHooks(p));
      added.push({ entry: full, instance: pluginToInstance(p) });
    };
    try {
      collect(pluginOrSet, entry);
    } catch (e) {
      if (e instanceof CpexError) throw e;
      // a plugin object, set or entry whose reads throw (a getter, a Proxy trap, a revoked Proxy)
      throw new CpexError(
        'CPEX_ERR_INVALID_ARGUMENT',
        `register(plugin): cannot read the plugin: ${describeCause(e)}`,
        {
          cause: e,
        },
      );
    }
    return this.#addInCode(added);
  }

  /** Register a single function as a plugin for one hook. */
  registerHook(
    hook: string,
    handler: Handler,
    entry: Partial<PluginEntry> = {},
  ): Disposable & { ready: Promise<void> } {
    this.#life.assertOpen('registerHook');
    if (typeof handler !== 'function')
      throw new CpexError('CPEX_ERR_INVALID_ARGUMENT', 'registerHook: handler must be a function');
    let full: PluginEntry;
    let plugin: Plugin;
    try {
      const name = entry.name ?? `${hook}#${handler.name || 'handler'}-${this.#order + 1}`;
      plugin = { name, hooks: { [hook]: handler } };
      full = entryFromCode(name, { ...entry, hooks: [hook] }, [hook]);
    } catch (e) {
      if (e instanceof CpexError) throw e;
      throw new CpexError(
        'CPEX_ERR_INVALID_ARGUMENT',
        `registerHook: cannot read the entry: ${describeCause(e)}`,
        {
          cause: e,
        },
      );
    }
    return this.#addInCode([{ entry: full, instance: pluginToInstance(plugin) }]);
  }

  #addInCode(added: PendingPlugin[]): Disposable & { ready: Promise<void> } {
    assertUniqueNames(
      this.#pending.map((p) => p.entry.name),
      added.map((p) => ({ name: p.entry.name })),
    );
    this.#pending.push(...added.filter((p) => p.entry.mode !== 'disabled'));
    let ready: Promise<void> = Promise.resolve();
    if (this.#life.state === 'ready') {
      ready = this.#activate(added);
      const a = ready.catch((e) => {
        // fail_on_plugin_error true (else activate() skipped it with a warning): fail closed.
        this.#activationFailures.push({ error: e, added });
        this.#logger.error(`late registration failed: ${describeCause(e)}`);
      });
      this.#activations.add(a);
      a.finally(() => this.#activations.delete(a));
      ready.catch(() => {}); // the failure is also reported through invoke()
    }
    let disposed = false;
    const dispose = async () => {
      if (disposed) return;
      disposed = true;
      const f = this.#activationFailures.findIndex((x) => x.added === added);
      if (f >= 0) this.#activationFailures.splice(f, 1);
      const regs: Registration[] = [];
      for (const p of added) {
        const i = this.#pending.indexOf(p);
        if (i >= 0) this.#pending.splice(i, 1);
        if (p.registration) regs.push(p.registration);
      }
      if (regs.length === 0) return;
      // No new calls start; calls in flight finish before the plugin is shut down.
      for (const r of regs) r.closing = true;
      this.#swap(this.#active.registrations.filter((r) => !regs.includes(r)));
      for (const r of regs) {
        await whenIdle(r);
        await shutdownInstance(r.name, r.instance, { logger: this.#logger, settings: this.#cfg.settings });
      }
    };
    return { dispose, [Symbol.asyncDispose]: dispose, ready };
  }

  /** Replace the active lineup with one built from `registrations` (keeping the route table). */
  #swap(
    registrations: readonly Registration[],
    routes = this.#active.routes,
    overrides = this.#active.overrides,
  ): void {
    this.#active = buildActiveLineup(registrations, routes, overrides);
  }

  /** Create and initialize every plugin; fails (coded, naming the plugin) unless fail_on_plugin_error is false. */
  async initialize(): Promise<void> {
    this.#life.assertOpen('initialize');
    if (this.#life.state === 'ready') return;
    this.#initializing ??= (async () => {
      this.#life.to('initializing');
      try {
        // Registrations made while this runs are picked up by the next round.
        for (;;) {
          const todo = this.#pending.filter((p) => !p.registration);
          if (todo.length === 0) break;
          await this.#activate(todo);
          if (this.#life.closed) break;
        }
        await this.#buildRoutes();
        if (this.#life.state === 'initializing') this.#life.to('ready');
      } catch (e) {
        if (this.#life.state === 'initializing') this.#life.to('failed', e);
        throw e;
      } finally {
        this.#initializing = undefined;
      }
    })();
    return this.#initializing;
  }

  #deps(): RegistrationDeps {
    const factoryContext: FactoryContext = {
      baseDir: this.#cfg.baseDir,
      pluginDirs: this.#cfg.pluginDirs,
      settings: this.#cfg.settings,
      logger: this.#logger,
      hooks: this.hooks,
    };
    return {
      factories: this.#factories,
      settings: this.#cfg.settings,
      factoryContext,
      logger: this.#logger,
      disabledNames: this.#disabledNames,
    };
  }

  /** Create, initialize and register the given plugins (in order), then swap in the new lineup. */
  async #activate(list: PendingPlugin[]): Promise<void> {
    // Create and initialize in parallel (Python workers, slow initialize()s overlap); registration
    // order — which breaks priority ties — stays the list order, fixed before anything starts.
    const orders = list.map(() => ++this.#order);
    const deps = this.#deps();
    const settled = await Promise.allSettled(list.map((p, i) => createRegistration(p, orders[i]!, deps)));
    const failures: CpexError[] = [];
    settled.forEach((r, i) => {
      const p = list[i]!;
      if (r.status === 'fulfilled') {
        p.registration = r.value;
        return;
      }
      const e = r.reason;
      failures.push(
        e instanceof CpexError && e.plugin === p.entry.name
          ? e
          : new CpexError(
              e instanceof CpexError ? e.code : 'CPEX_ERR_PLUGIN_LOAD',
              `plugin "${p.entry.name}" (kind ${p.entry.kind}${p.path ? `, ${p.path}` : ''}) failed to load: ${describeCause(e)}`,
              { plugin: p.entry.name, ...(p.path ? { path: p.path } : {}), cause: e },
            ),
      );
    });
    if (failures.length > 0 && this.#cfg.settings.failOnPluginError) {
      const created = list.flatMap((p) => (p.registration ? [p.registration] : []));
      for (const r of created.reverse()) await shutdownInstance(r.name, r.instance, deps);
      for (const q of list) delete q.registration;
      throw failures[0];
    }
    for (const [i, r] of settled.entries()) {
      if (r.status === 'fulfilled') continue;
      const p = list[i]!;
      const err = failures.shift()!;
      const at = this.#pending.indexOf(p);
      if (at >= 0) this.#pending.splice(at, 1);
      this.#cfg.warnings.push(`skipped: ${err.message}`);
      this.#logger.warn(`skipping plugin: ${err.message}`, { plugin: p.entry.name });
    }
    this.#swap(this.#pending.flatMap((p) => (p.registration ? [p.registration] : [])));
  }

  /** With routing on: create the override instances routes and groups ask for, and the route table. */
  async #buildRoutes(): Promise<void> {
    const active = this.#active;
    if (!this.#cfg.settings.routingEnabled) {
      if (active.routes !== undefined) this.#swap(active.registrations, undefined, active.overrides);
      return;
    }
    const routing = this.#cfg.routing;
    const byName = new Map(active.registrations.map((r) => [r.name, r]));
    const overrides = new Map<object, Registration>();
    const refs = [
      ...Object.values(routing.groups).flat(),
      ...routing.routes.flatMap((r) => r.plugins),
    ].filter((r) => r.config !== undefined);
    const deps = this.#deps();
    for (const ref of refs) {
      const base = byName.get(ref.name);
      if (!base || overrides.has(ref)) continue;
      const entry: PluginEntry = { ...base.entry, config: { ...(base.entry.config ?? {}), ...ref.config } };
      const reg = await createRegistration({ entry, path: `override of ${ref.name}` }, base.order, deps);
      overrides.set(ref, { ...reg, order: base.order });
    }
    const routes = new RouteTable(routing, this.#cfg.settings.routeCacheMaxEntries, (ref) =>
      ref.config !== undefined ? overrides.get(ref) : byName.get(ref.name),
    );
    this.#swap(active.registrations, routes, [...active.overrides, ...overrides.values()]);
  }

  /**
   * Run `hook` through the pipeline.
   *
   * @throws CpexError CPEX_ERR_NOT_INITIALIZED before initialize() (or after it failed),
   *   CPEX_ERR_SHUT_DOWN from shutdown() on; PluginViolationError on any halt when
   *   `violationsAsExceptions` is set.
   */
  invoke<H extends string>(
    hook: H,
    payload: PayloadOf<H>,
    options: InvokeOptions = {},
  ): Promise<PipelineResult<PayloadOf<H>>> {
    if (typeof hook !== 'string' || hook === '') {
      return Promise.reject(
        new CpexError(
          'CPEX_ERR_INVALID_ARGUMENT',
          `invoke(hook): the hook name must be a non-empty string, got ${safeJson(hook)}`,
        ),
      );
    }
    const refused = this.#life.invokeError(hook);
    if (refused !== undefined) return Promise.reject(refused);
    if (this.#activations.size > 0)
      return Promise.all(this.#activations).then(() => this.invoke(hook, payload, options));
    if (this.#activationFailures.length > 0) return Promise.reject(this.#activationFailures[0]!.error);
    if (options.extensions != null) {
      // Ingress: the caller's extensions get the schemas plugin output gets (once per object).
      const ext = ingressExtensions(options.extensions, hook);
      if (ext instanceof CpexError) return Promise.reject(ext);
      if (ext !== options.extensions) options = { ...options, extensions: ext };
    }
    // The one read of the active lineup: this invocation runs on it to the end, whatever swaps later.
    const active = this.#active;
    // One-entry cache in front of the hook map (a gateway invokes a few hooks over and over).
    let lineup: Lineup | undefined;
    if (active === this.#lastActive && hook === this.#lastHook) lineup = this.#lastLineup;
    else {
      lineup = active.hooks.get(hook);
      this.#lastActive = active;
      this.#lastHook = hook;
      this.#lastLineup = lineup;
    }
    if (lineup !== undefined && active.routes !== undefined) {
      lineup = active.routes.select(lineup, hook, options.extensions?.meta as RequestMeta | undefined);
      if (lineup.ordered.length === 0) lineup = undefined;
    }
    if (lineup === undefined) return Promise.resolve(emptyResult<PayloadOf<H>>());
    const store = this.#sessionStore;
    if (store !== undefined && options.extensions != null) {
      const session = resolveSession(options.extensions);
      if (session !== undefined) {
        const l = lineup;
        // Reserve a place in this lineup's generation across the store round trip (hot reload
        // retires a lineup only when every invocation that took it has finished).
        const gen = this.#engine.gen;
        gen.inflight++;
        let reserved = true;
        const release = () => {
          if (!reserved) return;
          reserved = false;
          if (--gen.inflight === 0) gen.onDrained?.();
        };
        const p = invokeWithSession(
          store,
          session,
          hook,
          options,
          (o) => {
            const late = this.#life.invokeError(hook);
            if (late !== undefined) throw late;
            this.#engine.startGen = gen;
            try {
              return new Invocation(this.#engine, l, hook, payload, o).run() as Promise<
                PipelineResult<PayloadOf<H>>
              >;
            } finally {
              this.#engine.startGen = undefined;
              release();
            }
          },
          this.#logger,
        );
        p.then(release, release);
        return p;
      }
    }
    try {
      return new Invocation(this.#engine, lineup, hook, payload, options).run() as Promise<
        PipelineResult<PayloadOf<H>>
      >;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** True if at least one plugin is registered for the hook (conditions and runtime-disabled ignored). */
  hasHooksFor(hook: string): boolean {
    return this.#active.hooks.has(hook);
  }

  /** Registered plugin names, in registration order. */
  pluginNames(): string[] {
    return this.#active.registrations.map((r) => r.name);
  }

  /** Plugin names for a hook sorted by priority (ties in registration order), regardless of phase. */
  hookOrder(hook: string): string[] {
    return (this.#active.hooks.get(hook)?.ordered ?? []).map((r) => r.name);
  }

  /** Hooks that have at least one plugin. */
  hookNames(): string[] {
    return [...this.#active.hooks.keys()];
  }

  /** How each phase is staffed for a hook (for `cpex plugins`). */
  lineup(hook: string): Record<Phase, LineupEntry[]> {
    return lineupRows(this.#active.hooks.get(hook));
  }

  /**
   * How the plugin's host runs it (isolation, timeouts, grants, signature state, details, notes),
   * from its `PluginInstance.describe()`; undefined for a name that is not registered.
   * `cpex plugins` prints this for any host.
   */
  describePlugin(name: string): PluginDescription | undefined {
    const reg = this.#active.registrations.find((r) => r.name === name);
    return reg === undefined ? undefined : describeRegistration(reg);
  }

  /** Plugins switched off by on_error: disable, for the manager's lifetime. */
  runtimeDisabled(): string[] {
    return [...this.#disabledNames];
  }

  /** Wait for all fire-and-forget work in flight. */
  async drain(): Promise<void> {
    await this.#engine.background.idle();
  }

  /** Drain background work, then shut plugins down in reverse registration order, then dispose hosts. */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#doShutdown();
    return this.#shutdown;
  }

  async #doShutdown(): Promise<void> {
    // A running initialize() settles first (its plugins are then shut down like the others).
    if (this.#initializing) await this.#initializing.catch(() => undefined);
    // New invokes are refused from here on; invocations in flight run to completion (bounded by
    // their plugins' timeouts), then background work drains, then plugins shut down.
    this.#life.to('shutting_down');
    await Promise.allSettled([...this.#activations]);
    const engine = this.#engine;
    if (engine.inflight > 0) await new Promise<void>((resolve) => engine.idleWaiters.push(resolve));
    for (const w of this.#watches) w.close();
    await this.drain();
    await this.#reloader.drains();
    const active = this.#active;
    const all = [...active.registrations, ...active.overrides];
    for (const r of all) r.closing = true;
    await Promise.all(all.map(whenIdle));
    this.#active = EMPTY_LINEUP;
    for (const r of [...active.overrides, ...[...active.registrations].reverse()])
      await shutdownInstance(r.name, r.instance, { logger: this.#logger, settings: this.#cfg.settings });
    await this.#factories.disposeHosts(this.#logger, this.#cfg.settings.pluginShutdownTimeout);
    this.#engine.watchdog.dispose();
    this.#life.to('shut_down');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return '(unprintable)';
  }
}

/** `{ plugin, entry? }` members of a PluginSet (a plugin object itself has a string `name`). */
function isEntryMember(v: unknown): v is { plugin: Plugin; entry?: Partial<PluginEntry> } {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { name?: unknown }).name !== 'string' &&
    typeof (v as { plugin?: unknown }).plugin === 'object'
  );
}

function isPluginSet(v: unknown): v is PluginSet {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'plugin-set';
}
