/**
 * PluginManager: loads config, creates plugins through factories and hosts, and runs hooks through
 * the 5-phase executor. Managers are independent: no global state, several per process.
 */
import {
  loadConfigFile,
  type NormalizedConfig,
  type PluginRef,
  CONDITION_FIELDS,
  parseConfigText,
  type RoutingConfig,
  setConditionField,
  validateConfig,
} from './config/load.js';
import { CANONICAL_MODES, ON_ERROR_VALUES, type RawConfig } from './config/schema.js';
import { resolveSettings } from './config/settings.js';
import { ConfigError, CpexError, describeCause } from './errors/cpex-error.js';
import { compileCapabilities } from './extensions/gate.js';
import { emptyResult, type Engine, Invocation } from './executor/pipeline.js';
import { buildLineups, type Lineup, type Registration } from './executor/registration.js';
import { type RequestMeta, RouteTable } from './executor/routing.js';
import { Watchdog } from './executor/watchdog.js';
import { type CustomHookOptions, type HookDefinition, HookRegistry } from './hooks/registry.js';
import { createNodeModuleFactory } from './host/node-module.js';
import { discoverHooks, pluginToInstance } from './host/in-process.js';
import { invokeWithSession } from './session/invoke.js';
import { resolveSession } from './session/resolve.js';
import type { PayloadOf } from './hooks/types.js';
import {
  PHASES,
  type Disposable,
  type FactoryContext,
  type Handler,
  type InvokeOptions,
  type Logger,
  type ManagerOptions,
  type Phase,
  type PipelineResult,
  type Plugin,
  type PluginCondition,
  type PluginEntry,
  type PluginFactory,
  type PluginHost,
  type PluginInstance,
  type PluginSet,
  type ResolvedSettings,
} from './types.js';

/** A config given as an object: the YAML structure (snake_case keys). */
export type ConfigObject = RawConfig;

/** One row of `lineup(hook)`: how a plugin is scheduled for a hook. */
export interface LineupEntry {
  name: string;
  kind: string;
  mode: Phase;
  priority: number;
  /** Seconds. */
  timeout: number;
  onError: PluginEntry['onError'];
  capabilities: string[];
  disabled: boolean;
}

const SCHEME_RE = /^([a-z][a-z0-9+.-]*):\/\//i;
const DOTTED_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;
const HOST_PACKAGES: Record<string, string> = {
  'python://': '@cpex/host-python (registerPythonHost(manager))',
  'wasm://': '@cpex/host-wasm (registerWasmHost(manager))',
  'native://': '@cpex/host-native (registerNativeHost(manager))',
  isolated_venv: '@cpex/host-python (registerPythonHost(manager))',
};

/** The default logger: warnings and errors to stderr, nothing else. */
export const consoleLogger: Logger = {
  debug() {},
  info() {},
  warn(msg, fields) {
    process.stderr.write(`[cpex] warn: ${msg}${fields ? ` ${safeJson(fields)}` : ''}\n`);
  },
  error(msg, fields) {
    process.stderr.write(`[cpex] error: ${msg}${fields ? ` ${safeJson(fields)}` : ''}\n`);
  },
};

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

let managerIds = 0;

const CONDITION_KEYS = new Set<string>(Object.values(CONDITION_FIELDS));

interface PendingPlugin {
  entry: PluginEntry;
  /** Set for in-code registrations. */
  instance?: PluginInstance;
  /** YAML path of the entry, for errors. */
  path?: string;
  registration?: Registration;
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
  private readonly options: ManagerOptions;
  private readonly env: Record<string, string | undefined>;
  private readonly logger: Logger;
  private readonly factories = new Map<string, PluginFactory>();
  private readonly hosts: PluginHost[] = [];
  private dottedFactory: PluginFactory | undefined;
  private yamlSettings: NonNullable<NormalizedConfig['settings']> = {};
  private _settings: ResolvedSettings;
  private readonly pending: PendingPlugin[] = [];
  private regs: Registration[] = [];
  private lineups = new Map<string, Lineup>();
  private order = 0;
  private _initialized = false;
  private initializing: Promise<void> | undefined;
  private initFailed: unknown;
  private shuttingDown = false;
  private pluginDirs: string[] = [];
  private baseDir = process.cwd();
  private _config: NormalizedConfig | undefined;
  private readonly _warnings: string[] = [];
  private readonly runtimeDisabledNames = new Set<string>();
  private readonly activations = new Set<Promise<void>>();
  /** A registration made after initialize() that failed to load: invokes fail closed until it is disposed. */
  private readonly activationFailures: Array<{ error: unknown; added: PendingPlugin[] }> = [];
  private readonly engine: Engine;
  private invocations = 0;
  /** Invocations in flight, and who waits for them to reach zero (shutdown). */
  private inflight = 0;
  private readonly idleWaiters: Array<() => void> = [];
  private routing: RoutingConfig = { groups: {}, defaults: {}, routes: [] };
  /** Override instances of routed plugins (`{name: {config}}` references). */
  private overrides = new Map<PluginRef, Registration>();
  private routeTable: RouteTable | undefined;

  constructor(options: ManagerOptions = {}) {
    this.options = options;
    this.env = options.env ?? process.env;
    this.logger = options.logger ?? consoleLogger;
    this._settings = resolveSettings(options, {}, this.env);
    const watchdog = new Watchdog();
    const policies = new Map<string, ReadonlySet<string>>();
    const mgr = this;
    this.engine = {
      owner: this,
      get settings() {
        return mgr._settings;
      },
      watchdog,
      logger: this.logger,
      policies,
      background: new Set(),
      nextInvocationId: () => ++this.invocations,
      invocationStarted: () => {
        this.inflight++;
      },
      invocationFinished: () => {
        if (--this.inflight === 0 && this.idleWaiters.length > 0) {
          for (const w of this.idleWaiters.splice(0)) w();
        }
      },
      onDisabled: (reg, reason) => {
        this.runtimeDisabledNames.add(reg.name);
        this.logger.warn(`plugin ${reg.name} disabled after an error (on_error: disable): ${reason}`, {
          plugin: reg.name,
        });
      },
    };
    this.compilePolicies();
    for (const h of options.hosts ?? []) this.registerHost(h);
  }

  /** Settings after precedence (option > YAML plugin_settings > PLUGINS_* env > default). */
  get settings(): ResolvedSettings {
    return this._settings;
  }

  /** The normalized config loaded last (undefined before loadConfig). */
  get config(): NormalizedConfig | undefined {
    return this._config;
  }

  /** Non-fatal config problems (unknown keys, skipped plugins). */
  get warnings(): readonly string[] {
    return this._warnings;
  }

  get initialized(): boolean {
    return this._initialized;
  }

  /** Number of registered (active) plugins. */
  get pluginCount(): number {
    return this.regs.length;
  }

  private compilePolicies(): void {
    const p = this.engine.policies as Map<string, ReadonlySet<string>>;
    p.clear();
    for (const [hook, fields] of Object.entries(this._settings.hookPolicies)) p.set(hook, new Set(fields));
  }

  /** Load a config file (path or file: URL) or a config object (YAML structure, snake_case keys). */
  async loadConfig(source: string | URL | ConfigObject): Promise<void> {
    const cfg =
      typeof source === 'string' || source instanceof URL
        ? await loadConfigFile(source, { env: this.env })
        : validateConfig(source, { env: this.env });
    await this.applyConfig(cfg);
  }

  /** Load YAML text; relative paths (plugin_dirs, node:// modules) resolve against `baseDir`. */
  async loadConfigText(yaml: string, options: { baseDir?: string; file?: string } = {}): Promise<void> {
    const cfg = parseConfigText(yaml, { env: this.env, ...options });
    await this.applyConfig(cfg);
  }

  private async applyConfig(cfg: NormalizedConfig): Promise<void> {
    this.assertOpen();
    const names = new Set([...this.pending.map((p) => p.entry.name)]);
    cfg.entries.forEach((e, i) => {
      if (names.has(e.name)) {
        throw new ConfigError(
          'CPEX_ERR_DUPLICATE_PLUGIN',
          `plugins[${i}].name: plugin "${e.name}" is already registered`,
          {
            path: `plugins[${i}].name`,
            plugin: e.name,
            ...(cfg.file ? { file: cfg.file } : {}),
          },
        );
      }
    });
    this._config = cfg;
    this.yamlSettings = { ...this.yamlSettings, ...cfg.settings };
    this._settings = resolveSettings(this.options, this.yamlSettings, this.env);
    this.compilePolicies();
    this.pluginDirs = [...new Set([...this.pluginDirs, ...cfg.pluginDirs])];
    this.routing = {
      groups: { ...this.routing.groups, ...cfg.routing.groups },
      defaults: { ...this.routing.defaults, ...cfg.routing.defaults },
      routes: [...this.routing.routes, ...cfg.routing.routes],
    };
    this.baseDir = cfg.baseDir;
    for (const w of cfg.warnings) {
      this._warnings.push(cfg.file ? `${cfg.file}: ${w}` : w);
      this.logger.warn(`config: ${w}`, cfg.file ? { file: cfg.file } : undefined);
    }
    const added: PendingPlugin[] = [];
    cfg.entries.forEach((entry, i) => {
      if (entry.mode === 'disabled') return; // never instantiated
      const p: PendingPlugin = { entry, path: `plugins[${i}]` };
      this.pending.push(p);
      added.push(p);
    });
    if (this._initialized) await this.activate(added);
  }

  /** Register a factory for an exact kind (`my-kind`) or a scheme (`python://`). Last one wins. */
  registerFactory(kind: string, factory: PluginFactory): void {
    if (!kind || typeof factory?.create !== 'function') {
      throw new CpexError(
        'CPEX_ERR_INVALID_ARGUMENT',
        'registerFactory(kind, factory): factory must have create(entry, ctx)',
      );
    }
    this.factories.set(kind, factory);
  }

  /** Register a language host: its factory for each of its kinds (and bare dotted paths if it takes them). */
  registerHost(host: PluginHost): void {
    for (const k of host.kinds) this.registerFactory(k, host.factory);
    if (host.handlesDottedPaths) this.dottedFactory = host.factory;
    if (!this.hosts.includes(host)) this.hosts.push(host);
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
    this.assertOpen();
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
      const full = this.entryFor(e.name ?? p.name, e, discoverHooks(p));
      added.push({ entry: full, instance: pluginToInstance(p) });
    };
    collect(pluginOrSet, entry);
    return this.addInCode(added);
  }

  /** Register a single function as a plugin for one hook. */
  registerHook(
    hook: string,
    handler: Handler,
    entry: Partial<PluginEntry> = {},
  ): Disposable & { ready: Promise<void> } {
    this.assertOpen();
    if (typeof handler !== 'function')
      throw new CpexError('CPEX_ERR_INVALID_ARGUMENT', 'registerHook: handler must be a function');
    const name = entry.name ?? `${hook}#${handler.name || 'handler'}-${this.order + 1}`;
    const plugin: Plugin = { name, hooks: { [hook]: handler } };
    const full = this.entryFor(name, { ...entry, hooks: [hook] }, [hook]);
    return this.addInCode([{ entry: full, instance: pluginToInstance(plugin) }]);
  }

  /** A complete, validated entry for an in-code registration (the same rules as a YAML entry). */
  private entryFor(name: string, e: Partial<PluginEntry>, discovered: string[]): PluginEntry {
    const bad = (field: string, want: string, got: unknown): never => {
      throw new CpexError(
        'CPEX_ERR_INVALID_ARGUMENT',
        `plugin "${name}": ${field}: expected ${want}, got ${safeJson(got)}`,
        { plugin: name, path: field },
      );
    };
    const isStrings = (v: unknown): v is string[] =>
      Array.isArray(v) && v.every((x) => typeof x === 'string');
    if (e.mode !== undefined && !(CANONICAL_MODES as readonly string[]).includes(e.mode)) {
      bad('mode', `one of ${CANONICAL_MODES.join('|')}`, e.mode);
    }
    if (e.onError !== undefined && !(ON_ERROR_VALUES as readonly string[]).includes(e.onError)) {
      bad('onError', `one of ${ON_ERROR_VALUES.join('|')}`, e.onError);
    }
    if (e.priority !== undefined && !Number.isInteger(e.priority)) bad('priority', 'an integer', e.priority);
    if (e.hooks !== undefined && !isStrings(e.hooks)) bad('hooks', 'a list of hook names', e.hooks);
    if (e.capabilities !== undefined && !isStrings(e.capabilities))
      bad('capabilities', 'a list of capability names', e.capabilities);
    if (e.tags !== undefined && !isStrings(e.tags)) bad('tags', 'a list of strings', e.tags);
    if (
      e.config !== undefined &&
      e.config !== null &&
      (typeof e.config !== 'object' || Array.isArray(e.config))
    ) {
      bad('config', 'an object', e.config);
    }
    if (e.conditions !== undefined && !Array.isArray(e.conditions))
      bad('conditions', 'a list of conditions', e.conditions);
    const conditions = (e.conditions ?? []).map((c, i) => {
      if (!c || typeof c !== 'object' || Array.isArray(c)) bad(`conditions[${i}]`, 'an object', c);
      const out: PluginCondition = {};
      for (const [k, v] of Object.entries(c)) {
        if (!CONDITION_KEYS.has(k))
          bad(`conditions[${i}].${k}`, `one of ${[...CONDITION_KEYS].join('|')}`, k);
        if (!isStrings(v)) bad(`conditions[${i}].${k}`, 'a list of strings', v);
        setConditionField(out, k as keyof PluginCondition, v as string[]);
      }
      return out;
    });
    const out: PluginEntry = {
      name,
      kind: e.kind ?? 'in-process',
      hooks: [...new Set(e.hooks ?? discovered)],
      mode: e.mode ?? 'sequential',
      priority: e.priority ?? 100,
      onError: e.onError ?? 'fail',
      capabilities: [...new Set((e.capabilities ?? []).map((c) => c.trim().toLowerCase()))],
      conditions,
      config: e.config ?? null,
      tags: e.tags ?? [],
      extra: e.extra ?? {},
    };
    if (e.timeout !== undefined) {
      if (!(typeof e.timeout === 'number' && e.timeout > 0 && Number.isFinite(e.timeout)))
        bad('timeout', 'seconds > 0', e.timeout);
      out.timeout = e.timeout as number;
    }
    try {
      compileCapabilities(out.capabilities);
    } catch (err) {
      throw new CpexError(
        'CPEX_ERR_UNKNOWN_CAPABILITY',
        `plugin "${name}": capabilities: ${(err as Error).message}`,
        {
          plugin: name,
          path: 'capabilities',
        },
      );
    }
    return out;
  }

  private addInCode(added: PendingPlugin[]): Disposable & { ready: Promise<void> } {
    const names = new Set(this.pending.map((p) => p.entry.name));
    for (const p of added) {
      if (names.has(p.entry.name)) {
        throw new CpexError('CPEX_ERR_DUPLICATE_PLUGIN', `plugin "${p.entry.name}" is already registered`, {
          plugin: p.entry.name,
        });
      }
      names.add(p.entry.name);
    }
    this.pending.push(...added.filter((p) => p.entry.mode !== 'disabled'));
    let ready: Promise<void> = Promise.resolve();
    if (this._initialized) {
      ready = this.activate(added);
      const a = ready.catch((e) => {
        // fail_on_plugin_error true (else activate() skipped it with a warning): fail closed.
        this.activationFailures.push({ error: e, added });
        this.logger.error(`late registration failed: ${describeCause(e)}`);
      });
      this.activations.add(a);
      a.finally(() => this.activations.delete(a));
      ready.catch(() => {}); // the failure is also reported through invoke()
    }
    let disposed = false;
    const dispose = async () => {
      if (disposed) return;
      disposed = true;
      const f = this.activationFailures.findIndex((x) => x.added === added);
      if (f >= 0) this.activationFailures.splice(f, 1);
      for (const p of added) {
        const i = this.pending.indexOf(p);
        if (i >= 0) this.pending.splice(i, 1);
        const reg = p.registration;
        if (reg) {
          // No new calls start; calls in flight finish before the plugin is shut down.
          reg.closing = true;
          this.regs = this.regs.filter((r) => r !== reg);
          this.lineups = buildLineups(this.regs);
          await whenIdle(reg);
          await this.safeShutdown(reg);
        }
      }
      this.lineups = buildLineups(this.regs);
    };
    return { dispose, [Symbol.asyncDispose]: dispose, ready };
  }

  /** Create and initialize every plugin; fails (coded, naming the plugin) unless fail_on_plugin_error is false. */
  async initialize(): Promise<void> {
    this.assertOpen();
    if (this._initialized) return;
    this.initializing ??= (async () => {
      this.initFailed = undefined;
      try {
        await this.activate(this.pending.filter((p) => !p.registration));
        await this.buildRoutes();
        this._initialized = true;
      } catch (e) {
        this.initFailed = e;
        throw e;
      } finally {
        this.initializing = undefined;
      }
    })();
    return this.initializing;
  }

  /** Create, initialize and register the given plugins (in order). */
  private async activate(list: PendingPlugin[]): Promise<void> {
    // Create and initialize in parallel (Python workers, slow initialize()s overlap); registration
    // order — which breaks priority ties — stays the list order, fixed before anything starts.
    const orders = list.map(() => ++this.order);
    const settled = await Promise.allSettled(list.map((p, i) => this.createRegistration(p, orders[i]!)));
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
    if (failures.length > 0 && this._settings.failOnPluginError) {
      const created = list.flatMap((p) => (p.registration ? [p.registration] : []));
      for (const r of created.reverse()) await this.safeShutdown(r);
      for (const q of list) delete q.registration;
      throw failures[0];
    }
    for (const [i, r] of settled.entries()) {
      if (r.status === 'fulfilled') continue;
      const p = list[i]!;
      const err = failures.shift()!;
      const at = this.pending.indexOf(p);
      if (at >= 0) this.pending.splice(at, 1);
      this._warnings.push(`skipped: ${err.message}`);
      this.logger.warn(`skipping plugin: ${err.message}`, { plugin: p.entry.name });
    }
    this.regs = this.pending.flatMap((p) => (p.registration ? [p.registration] : []));
    this.lineups = buildLineups(this.regs);
  }

  /** With routing on: create the override instances routes and groups ask for, and the route table. */
  private async buildRoutes(): Promise<void> {
    this.routeTable = undefined;
    if (!this._settings.routingEnabled) return;
    const byName = new Map(this.regs.map((r) => [r.name, r]));
    const refs = [
      ...Object.values(this.routing.groups).flat(),
      ...this.routing.routes.flatMap((r) => r.plugins),
    ].filter((r) => r.config !== undefined && !this.overrides.has(r));
    for (const ref of refs) {
      const base = byName.get(ref.name);
      if (!base) continue;
      const entry: PluginEntry = { ...base.entry, config: { ...(base.entry.config ?? {}), ...ref.config } };
      const reg = await this.createRegistration({ entry, path: `override of ${ref.name}` });
      this.overrides.set(ref, { ...reg, order: base.order });
    }
    this.routeTable = new RouteTable(this.routing, this._settings.routeCacheMaxEntries, (ref) =>
      ref.config !== undefined ? this.overrides.get(ref) : byName.get(ref.name),
    );
  }

  private factoryContext(): FactoryContext {
    return {
      baseDir: this.baseDir,
      pluginDirs: this.pluginDirs,
      settings: this._settings,
      logger: this.logger,
      hooks: this.hooks,
    };
  }

  /** Resolve a kind: exact factory name, then scheme, then bare dotted path → Python host. */
  resolveFactory(kind: string): PluginFactory {
    const exact = this.factories.get(kind);
    if (exact) return exact;
    const scheme = SCHEME_RE.exec(kind);
    if (scheme) {
      const key = `${scheme[1]!.toLowerCase()}://`;
      const f = this.factories.get(key);
      if (f) return f;
      if (key === 'node://') {
        const nf = createNodeModuleFactory();
        this.factories.set('node://', nf);
        return nf;
      }
      const pkg = HOST_PACKAGES[key];
      throw new CpexError(
        'CPEX_ERR_UNKNOWN_KIND',
        pkg
          ? `kind ${kind} needs a host: install ${pkg}`
          : `no factory is registered for the scheme ${key} (kind ${kind})`,
      );
    }
    if (DOTTED_RE.test(kind)) {
      if (this.dottedFactory) return this.dottedFactory;
      throw new CpexError(
        'CPEX_ERR_UNKNOWN_KIND',
        `kind ${kind} looks like a Python class path; install @cpex/host-python and call registerPythonHost(manager)`,
      );
    }
    const pkg = HOST_PACKAGES[kind];
    throw new CpexError(
      'CPEX_ERR_UNKNOWN_KIND',
      pkg
        ? `kind ${kind} needs a host: install ${pkg}`
        : `no factory is registered for kind "${kind}" (registered: ${[...this.factories.keys()].join(', ') || 'none'}; node:// modules and python:// classes are built in or come with their host)`,
    );
  }

  private async createRegistration(p: PendingPlugin, order: number = ++this.order): Promise<Registration> {
    const entry = p.entry;
    let instance = p.instance;
    if (!instance) {
      const factory = this.resolveFactory(entry.kind);
      instance = await factory.create(entry, this.factoryContext());
      if (!instance || typeof instance.handler !== 'function') {
        throw new CpexError(
          'CPEX_ERR_PLUGIN_LOAD',
          `factory for kind ${entry.kind} returned no PluginInstance`,
          {
            plugin: entry.name,
          },
        );
      }
    }
    if (instance.initialize) {
      try {
        await instance.initialize();
      } catch (e) {
        throw new CpexError(
          e instanceof CpexError ? e.code : 'CPEX_ERR_PLUGIN_LOAD',
          `plugin "${entry.name}" failed to initialize: ${describeCause(e)}`,
          {
            plugin: entry.name,
            cause: e,
          },
        );
      }
    }
    const handlers = new Map<string, Handler>();
    for (const hook of entry.hooks) {
      const h = instance.handler(hook);
      if (typeof h !== 'function') {
        try {
          await instance.shutdown?.();
        } catch {}
        throw new CpexError(
          'CPEX_ERR_HOOK_NOT_IMPLEMENTED',
          `plugin "${entry.name}" has no handler for hook "${hook}"`,
          {
            plugin: entry.name,
            hook,
            ...(p.path ? { path: `${p.path}.hooks` } : {}),
          },
        );
      }
      handlers.set(hook, h);
    }
    const timeout = entry.timeout ?? this._settings.pluginTimeout;
    return {
      name: entry.name,
      entry,
      instance,
      handlers,
      caps: compileCapabilities(entry.capabilities),
      phase: entry.mode as Phase,
      timeoutMs: timeout * 1000,
      order,
      protect: !instance.host.copiesPayloads && this._settings.cowValidation === 'strict',
      conditions: entry.conditions,
      disabled: this.runtimeDisabledNames.has(entry.name),
      active: 0,
    };
  }

  private async safeShutdown(reg: Registration): Promise<void> {
    try {
      await reg.instance.shutdown?.();
    } catch (e) {
      this.logger.warn(`plugin ${reg.name} shutdown failed: ${describeCause(e)}`, { plugin: reg.name });
    }
  }

  /**
   * Run `hook` through the pipeline.
   *
   * @throws CpexError CPEX_ERR_NOT_INITIALIZED before initialize() (or after it failed);
   *   PluginViolationError on any halt when `violationsAsExceptions` is set.
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
    if (this.shuttingDown) return Promise.reject(this.notInitialized(hook));
    if (!this._initialized) return Promise.reject(this.notInitialized(hook));
    if (this.activations.size > 0)
      return Promise.all(this.activations).then(() => this.invoke(hook, payload, options));
    if (this.activationFailures.length > 0) return Promise.reject(this.activationFailures[0]!.error);
    let lineup = this.lineups.get(hook);
    if (lineup !== undefined && this.routeTable !== undefined) {
      lineup = this.routeTable.select(lineup, hook, options.extensions?.meta as RequestMeta | undefined);
      if (lineup.ordered.length === 0) lineup = undefined;
    }
    if (lineup === undefined) return Promise.resolve(emptyResult<PayloadOf<H>>());
    const store = this.options.sessionStore;
    if (store !== undefined && options.extensions != null) {
      const session = resolveSession(options.extensions);
      if (session !== undefined) {
        const l = lineup;
        return invokeWithSession(
          store,
          session,
          hook,
          options,
          (o) => {
            if (this.shuttingDown) throw this.notInitialized(hook);
            return new Invocation(this.engine, l, hook, payload, o).run();
          },
          this.logger,
        );
      }
    }
    try {
      return new Invocation(this.engine, lineup, hook, payload, options).run();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private notInitialized(hook: string): CpexError {
    const why = this.shuttingDown
      ? 'the manager was shut down'
      : this.initFailed
        ? `initialize() failed: ${describeCause(this.initFailed)}`
        : 'call initialize() first';
    return new CpexError('CPEX_ERR_NOT_INITIALIZED', `cannot invoke ${hook}: ${why}`, { hook });
  }

  /** True if at least one plugin is registered for the hook (conditions and runtime-disabled ignored). */
  hasHooksFor(hook: string): boolean {
    return this.lineups.has(hook);
  }

  /** Registered plugin names, in registration order. */
  pluginNames(): string[] {
    return this.regs.map((r) => r.name);
  }

  /** Plugin names for a hook sorted by priority (ties in registration order), regardless of phase. */
  hookOrder(hook: string): string[] {
    return (this.lineups.get(hook)?.ordered ?? []).map((r) => r.name);
  }

  /** Hooks that have at least one plugin. */
  hookNames(): string[] {
    return [...this.lineups.keys()];
  }

  /** How each phase is staffed for a hook (for `cpex plugins`). */
  lineup(hook: string): Record<Phase, LineupEntry[]> {
    const l = this.lineups.get(hook);
    const out = {} as Record<Phase, LineupEntry[]>;
    for (const phase of PHASES) {
      out[phase] = (l?.phases[phase] ?? []).map((r) => ({
        name: r.name,
        kind: r.entry.kind,
        mode: r.phase,
        priority: r.entry.priority,
        timeout: r.timeoutMs / 1000,
        onError: r.entry.onError,
        capabilities: [...r.entry.capabilities],
        disabled: r.disabled,
      }));
    }
    return out;
  }

  /** Plugins switched off by on_error: disable, for the manager's lifetime. */
  runtimeDisabled(): string[] {
    return [...this.runtimeDisabledNames];
  }

  /** Wait for all fire-and-forget work in flight. */
  async drain(): Promise<void> {
    while (this.engine.background.size > 0) await Promise.allSettled([...this.engine.background]);
  }

  /** Drain background work, then shut plugins down in reverse registration order, then dispose hosts. */
  async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    // New invokes are refused from here on; invocations in flight run to completion (bounded by
    // their plugins' timeouts), then background work drains, then plugins shut down.
    this.shuttingDown = true;
    await Promise.allSettled([...this.activations]);
    if (this.inflight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.drain();
    for (const r of [...this.regs, ...this.overrides.values()]) r.closing = true;
    await Promise.all([...this.regs, ...this.overrides.values()].map(whenIdle));
    const regs = [...this.overrides.values(), ...[...this.regs].reverse()];
    this.overrides.clear();
    this.routeTable = undefined;
    this._initialized = false;
    this.regs = [];
    this.lineups = new Map();
    for (const r of regs) await this.safeShutdown(r);
    for (const h of this.hosts) {
      try {
        await h.dispose();
      } catch (e) {
        this.logger.warn(`host ${h.name} dispose failed: ${describeCause(e)}`);
      }
    }
    this.engine.watchdog.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  private assertOpen(): void {
    if (this.shuttingDown) throw new CpexError('CPEX_ERR_SHUT_DOWN', 'the manager has been shut down');
  }
}

/** Resolves when no call of the plugin is in flight. */
function whenIdle(reg: Registration): Promise<void> {
  if (reg.active === 0) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const prev = reg.onIdle;
    reg.onIdle = () => {
      reg.onIdle = prev;
      prev?.();
      resolve();
    };
  });
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
