/**
 * `createTestManager`: a real, initialized `PluginManager` around the plugins under test, with an
 * `invoke` that fills in a request context and waits for background work.
 */
import {
  CpexError,
  type GlobalContext,
  type InvokeOptions,
  type Logger,
  type ManagerOptions,
  type PayloadOf,
  type PipelineResult,
  type Plugin as PluginObject,
  type PluginEntry,
  type PluginErrorRecord,
  PluginManager,
  type PluginSet,
} from '@cpex/core';

/** A plugin to register: a plugin object or set, or one with entry overrides (`mode`, `priority`, `hooks`, ...). */
export type TestPlugin =
  | PluginObject
  | PluginSet
  | { plugin: PluginObject | PluginSet; entry?: Partial<PluginEntry> };

/** Options of `createTestManager`. */
export interface TestManagerOptions {
  /** Plugins registered in order (after the config's, if any). */
  plugins?: readonly TestPlugin[];
  /** A config: YAML text or an object in the YAML shape (`{ plugins: [...], plugin_settings: {...} }`). */
  config?: string | Record<string, unknown>;
  /** A config file to load instead of `config`. */
  configFile?: string;
  /** Directory relative `node://` kinds resolve against when `config` is given as text or object. */
  baseDir?: string;
  /** Manager options (override the config's `plugin_settings`). Without a `logger`, log lines are collected in `logs`. */
  settings?: ManagerOptions;
}

/** `invoke` options: like `manager.invoke`'s, with a partial global context. */
export interface TestInvokeOptions extends Omit<InvokeOptions, 'globalContext'> {
  /** Merged over `{ requestId: 'test-<n>', state: {}, metadata: {} }`. */
  globalContext?: Partial<GlobalContext>;
  /** Wait for fire-and-forget work before returning (default true). */
  waitForBackground?: boolean;
}

/** A `PipelineResult` plus the failures background (fire-and-forget) work reported. */
export type TestInvokeResult<P> = PipelineResult<P> & { backgroundErrors: PluginErrorRecord[] };

/** What `createTestManager` returns. `await using tm = await createTestManager(...)` shuts it down. */
export interface TestManager {
  readonly manager: PluginManager;
  /** Warnings and errors the manager logged (`"warn: ..."`, `"error: ..."`), unless `settings.logger` was given. */
  readonly logs: string[];
  /** Run a hook through the real executor; waits for fire-and-forget work unless told not to. */
  invoke<H extends string>(
    hook: H,
    payload: PayloadOf<H>,
    options?: TestInvokeOptions,
  ): Promise<TestInvokeResult<PayloadOf<H>>>;
  shutdown(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

function isEntryWrapper(
  p: TestPlugin,
): p is { plugin: PluginObject | PluginSet; entry?: Partial<PluginEntry> } {
  const o = p as { plugin?: unknown; kind?: unknown; hooks?: unknown };
  return (
    typeof o.plugin === 'object' && o.plugin !== null && o.kind !== 'plugin-set' && o.hooks === undefined
  );
}

/**
 * Build an initialized `PluginManager` for unit-testing plugins (real executor, no mocks).
 *
 * @example
 * const tm = await createTestManager({ plugins: [{ plugin: allowList, entry: { hooks: ['tool_pre_invoke'] } }] });
 * const r = await tm.invoke('tool_pre_invoke', { name: 'rm', args: {} });
 * expect(r.violation?.code).toBe('tool_not_allowed');
 * await tm.shutdown();
 */
export async function createTestManager(options: TestManagerOptions = {}): Promise<TestManager> {
  const logs: string[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (msg) => void logs.push(`warn: ${msg}`),
    error: (msg) => void logs.push(`error: ${msg}`),
  };
  const manager = new PluginManager({ logger, ...options.settings });
  if (options.configFile !== undefined) {
    await manager.loadConfig(options.configFile);
  } else if (typeof options.config === 'string') {
    await manager.loadConfigText(
      options.config,
      options.baseDir !== undefined ? { baseDir: options.baseDir } : {},
    );
  } else if (options.config !== undefined) {
    if (options.baseDir !== undefined) {
      await manager.loadConfigText(JSON.stringify(options.config), { baseDir: options.baseDir });
    } else {
      await manager.loadConfig(options.config as never);
    }
  }
  for (const [i, p] of (options.plugins ?? []).entries()) {
    if (p === null || typeof p !== 'object') {
      throw new CpexError('CPEX_ERR_INVALID_ARGUMENT', `createTestManager: plugins[${i}] is not a plugin`);
    }
    if (isEntryWrapper(p)) manager.register(p.plugin, p.entry ?? {});
    else manager.register(p);
  }
  await manager.initialize();
  let counter = 0;
  const shutdown = () => manager.shutdown();
  return {
    manager,
    logs,
    async invoke<H extends string>(hook: H, payload: PayloadOf<H>, opts: TestInvokeOptions = {}) {
      const { globalContext, waitForBackground = true, ...rest } = opts;
      counter += 1;
      const gc: GlobalContext = {
        requestId: `test-${counter}`,
        state: {},
        metadata: {},
        ...globalContext,
      };
      const result = await manager.invoke(hook, payload, { ...rest, globalContext: gc });
      const backgroundErrors = waitForBackground ? await result.background.wait() : [];
      return { ...result, backgroundErrors };
    },
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}
