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

/** Create (through its factory unless given), initialize and wire one plugin. */
export async function createRegistration(
  p: PendingPlugin,
  order: number,
  deps: RegistrationDeps,
): Promise<Registration> {
  const entry = p.entry;
  let instance = p.instance;
  if (!instance) {
    const factory = deps.factories.resolve(entry.kind);
    instance = await factory.create(entry, deps.factoryContext);
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
        { plugin: entry.name, cause: e },
      );
    }
  }
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
    active: 0,
  };
}

/** Shut a plugin instance down; a failure is logged, never thrown. */
export async function shutdownInstance(
  name: string,
  instance: PluginInstance,
  deps: Pick<RegistrationDeps, 'logger'>,
): Promise<void> {
  try {
    await instance.shutdown?.();
  } catch (e) {
    deps.logger.warn(`plugin ${name} shutdown failed: ${describeCause(e)}`, { plugin: name });
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
