/**
 * Turning an entry into a running plugin (factory -> instance -> initialize -> handlers) and
 * back (shutdown), for the manager.
 */
import { CpexError, describeCause } from '../errors/cpex-error.js';
import { compileCapabilities } from '../extensions/gate.js';
import type { Registration } from '../executor/registration.js';
import type {
  FactoryContext,
  Handler,
  Logger,
  Phase,
  PluginEntry,
  PluginInstance,
  ResolvedSettings,
} from '../types.js';
import type { FactoryResolver } from './factories.js';

/** A plugin waiting for (or holding) its registration. */
export interface PendingPlugin {
  entry: PluginEntry;
  /** Set for in-code registrations. */
  instance?: PluginInstance;
  /** YAML path of the entry, for errors. */
  path?: string;
  registration?: Registration;
}

export interface RegistrationDeps {
  readonly factories: FactoryResolver;
  readonly settings: ResolvedSettings;
  readonly factoryContext: FactoryContext;
  readonly logger: Logger;
  /** Names switched off by on_error: disable (they stay off across re-registration). */
  readonly disabledNames: ReadonlySet<string>;
}

/**
 * Run a lifecycle step bounded by `seconds`: resolves with its value, or rejects with
 * CPEX_ERR_LIFECYCLE_TIMEOUT when it does not settle in time (the step is left running; `late`
 * gets its value if it ever arrives, to clean it up). The timer never keeps the process alive.
 */
export function bounded<T>(
  step: () => T | Promise<T>,
  seconds: number,
  what: string,
  fields: { plugin?: string },
  late?: (value: T) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      reject(
        new CpexError('CPEX_ERR_LIFECYCLE_TIMEOUT', `${what} did not finish within ${seconds}s`, fields),
      );
    }, seconds * 1000);
    timer.unref?.();
    let p: Promise<T>;
    try {
      p = Promise.resolve(step());
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      (v) => {
        if (done) return late?.(v);
        done = true;
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/**
 * Create (through its factory unless given), initialize and wire one plugin. Creation plus
 * initialize() is bounded by plugin_init_timeout (CPEX_ERR_LIFECYCLE_TIMEOUT, then handled per
 * fail_on_plugin_error like any load failure); an instance that arrives late is shut down.
 */
export async function createRegistration(
  p: PendingPlugin,
  order: number,
  deps: RegistrationDeps,
): Promise<Registration> {
  const entry = p.entry;
  let created: PluginInstance | undefined;
  const instance = await bounded(
    async () => {
      const inst = p.instance ?? (await createInstance(entry, deps));
      created = inst;
      if (inst.initialize) {
        try {
          await inst.initialize();
        } catch (e) {
          throw new CpexError(
            e instanceof CpexError ? e.code : 'CPEX_ERR_PLUGIN_LOAD',
            `plugin "${entry.name}" failed to initialize: ${describeCause(e)}`,
            { plugin: entry.name, cause: e },
          );
        }
      }
      return inst;
    },
    deps.settings.pluginInitTimeout,
    `plugin "${entry.name}": creating and initializing it (plugin_init_timeout)`,
    { plugin: entry.name },
    (late) => void shutdownInstance(entry.name, late, deps),
  ).catch(async (e) => {
    // Timed out after the instance was created (initialize() hangs): shut what exists down.
    if (e instanceof CpexError && e.code === 'CPEX_ERR_LIFECYCLE_TIMEOUT' && created && !p.instance)
      void shutdownInstance(entry.name, created, deps);
    throw e;
  });
  const handlers = new Map<string, Handler>();
  for (const hook of entry.hooks) {
    const h = instance.handler(hook);
    if (typeof h !== 'function') {
      await shutdownInstance(entry.name, instance, deps);
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
  const timeoutMs = (entry.timeout ?? deps.settings.pluginTimeout) * 1000;
  // A pre-emptive host enforces the timeout itself: the executor only keeps a liveness backstop.
  const preemptive = instance.host.supportsTimeouts === 'preemptive';
  return {
    name: entry.name,
    entry,
    instance,
    handlers,
    caps: compileCapabilities(entry.capabilities),
    phase: entry.mode as Phase,
    timeoutMs,
    deadlineMs: preemptive ? timeoutMs + Math.max(1000, timeoutMs) : timeoutMs,
    order,
    protect: !instance.host.copiesPayloads && deps.settings.cowValidation === 'strict',
    conditions: entry.conditions,
    disabled: deps.disabledNames.has(entry.name),
    // Every field is set here, in one order, so every registration has one hidden class for its
    // lifetime (the executor's property reads on it stay monomorphic).
    closing: false,
    active: 0,
    async: undefined,
    onIdle: undefined,
  };
}

async function createInstance(entry: PluginEntry, deps: RegistrationDeps): Promise<PluginInstance> {
  const factory = deps.factories.resolve(entry.kind);
  const instance = await factory.create(entry, deps.factoryContext);
  if (!instance || typeof instance.handler !== 'function') {
    throw new CpexError('CPEX_ERR_PLUGIN_LOAD', `factory for kind ${entry.kind} returned no PluginInstance`, {
      plugin: entry.name,
    });
  }
  return instance;
}

/**
 * Shut a plugin instance down, bounded by plugin_shutdown_timeout; a failure or a timeout is
 * logged (coded), never thrown, so shutdown always proceeds.
 */
export async function shutdownInstance(
  name: string,
  instance: PluginInstance,
  deps: Pick<RegistrationDeps, 'logger' | 'settings'>,
): Promise<void> {
  if (!instance.shutdown) return;
  try {
    await bounded(
      () => instance.shutdown?.(),
      deps.settings.pluginShutdownTimeout,
      `plugin "${name}": shutdown() (plugin_shutdown_timeout)`,
      { plugin: name },
    );
  } catch (e) {
    const code = e instanceof CpexError ? ` (${e.code})` : '';
    deps.logger.warn(`plugin ${name} shutdown failed${code}: ${describeCause(e)}`, { plugin: name });
  }
}

/** Resolves when no call of the plugin is in flight. */
export function whenIdle(reg: Registration): Promise<void> {
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
