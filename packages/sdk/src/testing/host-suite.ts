/**
 * `testHost`: the behaviour suite every `PluginHost` runs unchanged (in-process now; python, wasm,
 * native later). It drives the host directly (factory → instance → handler) and through a real
 * `PluginManager` (results, errors, timeouts, lifecycle), using probe plugins the host supplies.
 */
import {
  DEFAULT_SETTINGS,
  type FactoryContext,
  type GlobalContext,
  type Logger,
  type PluginContext,
  type PluginEntry,
  type PluginHost,
  HookRegistry,
  PluginManager,
  type ResolvedSettings,
} from '@cpex/core';
import { descriptionProblem } from '@cpex/core/host';
import type { HostProbe, ProbeBehaviour } from './probe.js';

/** The subset of vitest (or jest / node:test adapters) the suite needs. */
export interface SuiteApi {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => Promise<void> | void, timeout?: number): void;
  afterEach(fn: () => Promise<void> | void): void;
  expect: (value: unknown) => {
    toBe(v: unknown): void;
    toEqual(v: unknown): void;
    toContain(v: unknown): void;
    toMatch(v: RegExp | string): void;
    toBeUndefined(): void;
    toBeTypeOf(t: string): void;
    not: { toBe(v: unknown): void; toBeUndefined(): void };
  };
}

/** Options of `testHost`. */
export interface HostSuiteOptions {
  /** Shown in the suite's name. */
  name: string;
  /** A fresh host per test (each test disposes its own). */
  makeHost(): PluginHost | Promise<PluginHost>;
  /** Supplies config entries for probe plugins of this host. */
  probe: HostProbe;
  /** Per-test timeout in ms for hosts with slow start-up (default 20 000). */
  testTimeoutMs?: number;
}

const HOOK = 'tool_pre_invoke';
const UNIMPLEMENTED_HOOK = 'cpex_test.not_implemented';

const quietLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const suiteSettings: ResolvedSettings = { ...DEFAULT_SETTINGS };

function samplePayload() {
  return { name: 'probe_tool', args: { x: 1 } };
}

function directContext(pluginName: string): PluginContext {
  const state: Record<string, unknown> = {};
  const globalContext: GlobalContext = { requestId: 'host-suite-direct', state: {}, metadata: {} };
  return {
    state,
    metadata: {},
    globalContext,
    signal: new AbortController().signal,
    pluginName,
    hook: HOOK,
    phase: 'sequential',
    timeoutMs: 30_000,
    getState: <T>(key: string, fallback?: T) => (key in state ? (state[key] as T) : fallback),
    setState: (key: string, value: unknown) => {
      state[key] = value;
    },
  };
}

/**
 * Register the host behaviour suite with the test runner. Pass `api` (`{ describe, it, expect, afterEach }`)
 * or let it import vitest. Await it at the top level of a test file.
 *
 * @example
 * await testHost({ name: 'in-process', makeHost: () => createInProcessHost(), probe: inProcessProbe() });
 */
export async function testHost(options: HostSuiteOptions, api?: SuiteApi): Promise<void> {
  const t: SuiteApi = api ?? ((await import('vitest')) as unknown as SuiteApi);
  const { describe, it, expect, afterEach } = t;
  const timeout = options.testTimeoutMs ?? 20_000;
  const cleanups: Array<() => Promise<void>> = [];

  async function freshHost(): Promise<PluginHost> {
    const host = await options.makeHost();
    cleanups.push(() => host.dispose());
    return host;
  }

  function entry(name: string, behaviour: ProbeBehaviour, extra: Record<string, unknown> = {}) {
    const base = options.probe.entry(behaviour, [HOOK]);
    return { ...base, name, hooks: [HOOK], mode: 'sequential', ...extra };
  }

  function normalizedEntry(name: string, behaviour: ProbeBehaviour): PluginEntry {
    const raw = options.probe.entry(behaviour, [HOOK]);
    return {
      name,
      kind: raw.kind,
      hooks: [HOOK],
      mode: 'sequential',
      priority: 100,
      onError: 'fail',
      capabilities: [],
      conditions: [],
      config: raw.config ?? null,
      tags: [],
      extra: {},
    };
  }

  function factoryContext(): FactoryContext {
    return {
      baseDir: options.probe.baseDir ?? process.cwd(),
      pluginDirs: [],
      settings: suiteSettings,
      logger: quietLogger,
      hooks: new HookRegistry(),
    };
  }

  async function managerWith(host: PluginHost, plugins: Record<string, unknown>[], settings = {}) {
    const manager = new PluginManager({ hosts: [host], logger: quietLogger });
    cleanups.push(() => manager.shutdown());
    const text = JSON.stringify({ plugin_settings: settings, plugins });
    await manager.loadConfigText(text, { baseDir: options.probe.baseDir ?? process.cwd() });
    await manager.initialize();
    return manager;
  }

  const gc = (): GlobalContext => ({
    requestId: `host-suite-${Math.random().toString(36).slice(2)}`,
    state: {},
    metadata: {},
  });

  describe(`PluginHost behaviour suite: ${options.name}`, () => {
    afterEach(async () => {
      // Managers before hosts: cleanups run in reverse creation order.
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    it(
      'declares a name, kinds and well-formed capabilities',
      async () => {
        const host = await freshHost();
        expect(typeof host.name === 'string' && host.name.length > 0).toBe(true);
        expect(Array.isArray(host.kinds) && host.kinds.length > 0).toBe(true);
        expect(['cooperative', 'preemptive']).toContain(host.capabilities.supportsTimeouts);
        expect(host.capabilities.isolated).toBeTypeOf('boolean');
        expect(host.capabilities.copiesPayloads).toBeTypeOf('boolean');
        // Pre-emption means killing what runs the plugin, which only an isolated host can do.
        if (host.capabilities.supportsTimeouts === 'preemptive')
          expect(host.capabilities.isolated).toBe(true);
      },
      timeout,
    );

    it(
      'creates an instance for an entry; unknown hooks resolve to undefined',
      async () => {
        const host = await freshHost();
        const instance = await host.factory.create(
          normalizedEntry('probe_a', { kind: 'allow' }),
          factoryContext(),
        );
        await instance.initialize?.();
        expect(instance.handler(HOOK)).toBeTypeOf('function');
        expect(instance.handler(UNIMPLEMENTED_HOOK)).toBeUndefined();
        expect(instance.host).toEqual(host.capabilities);
        await instance.shutdown?.();
      },
      timeout,
    );

    it(
      'round-trips allow, deny and modify results through a direct handler call',
      async () => {
        const host = await freshHost();
        const ctx = factoryContext();
        const results: Record<string, unknown> = {};
        for (const [name, behaviour] of [
          ['probe_allow', { kind: 'allow', metadata: { seen: 'yes' } }],
          ['probe_deny', { kind: 'deny', code: 'probe_denied', reason: 'denied by probe' }],
          ['probe_modify', { kind: 'modify', set: { args: { x: 2 } } }],
        ] as const) {
          const instance = await host.factory.create(normalizedEntry(name, behaviour), ctx);
          await instance.initialize?.();
          const handler = instance.handler(HOOK)!;
          results[name] = await handler(samplePayload(), directContext(name), undefined);
          await instance.shutdown?.();
        }
        const allowed = results.probe_allow as {
          continueProcessing?: boolean;
          metadata?: Record<string, unknown>;
        };
        expect(allowed.continueProcessing ?? true).toBe(true);
        expect(allowed.metadata?.seen).toBe('yes');
        const denied = results.probe_deny as {
          continueProcessing?: boolean;
          violation?: Record<string, unknown>;
        };
        expect(denied.continueProcessing).toBe(false);
        expect(denied.violation?.code).toBe('probe_denied');
        expect(denied.violation?.reason).toBe('denied by probe');
        const modified = results.probe_modify as { modifiedPayload?: { name: string; args: { x: number } } };
        expect(modified.modifiedPayload?.args.x).toBe(2);
        expect(modified.modifiedPayload?.name).toBe('probe_tool');
      },
      timeout,
    );

    it(
      'through a manager: allow passes, metadata arrives',
      async () => {
        const host = await freshHost();
        const manager = await managerWith(host, [
          entry('probe_allow', { kind: 'allow', metadata: { seen: 1 } }),
        ]);
        const r = await manager.invoke(HOOK, samplePayload(), { globalContext: gc() });
        expect(r.continueProcessing).toBe(true);
        expect(r.violation).toBe(null);
        expect(r.payloadModified).toBe(false);
        expect(r.metadata.seen).toBe(1);
      },
      timeout,
    );

    it(
      "through a manager: deny halts with the plugin's violation, named after the entry",
      async () => {
        const host = await freshHost();
        const manager = await managerWith(host, [
          entry('probe_deny', { kind: 'deny', code: 'probe_denied', reason: 'no' }),
        ]);
        const r = await manager.invoke(HOOK, samplePayload(), { globalContext: gc() });
        expect(r.continueProcessing).toBe(false);
        expect(r.violation?.code).toBe('probe_denied');
        expect(r.violation?.reason).toBe('no');
        expect(r.violation?.pluginName).toBe('probe_deny');
      },
      timeout,
    );

    it(
      "through a manager: modify chains the payload and never changes the caller's",
      async () => {
        const host = await freshHost();
        const manager = await managerWith(host, [
          entry('probe_mod', { kind: 'modify', set: { args: { x: 2 } } }, { priority: 1 }),
          entry('probe_mod2', { kind: 'modify', set: { name: 'renamed' } }, { priority: 2 }),
        ]);
        const payload = samplePayload();
        const r = await manager.invoke(HOOK, payload, { globalContext: gc() });
        expect(r.continueProcessing).toBe(true);
        expect(r.payloadModified).toBe(true);
        expect(r.modifiedPayload).toEqual({ name: 'renamed', args: { x: 2 } });
        expect(payload).toEqual(samplePayload());
      },
      timeout,
    );

    it(
      'through a manager: a throwing plugin halts with plugin_error (on_error: fail)',
      async () => {
        const host = await freshHost();
        const manager = await managerWith(host, [
          entry('probe_throw', { kind: 'throw', message: 'probe exploded' }),
        ]);
        const r = await manager.invoke(HOOK, samplePayload(), { globalContext: gc() });
        expect(r.continueProcessing).toBe(false);
        expect(r.violation?.code).toBe('plugin_error');
        expect(r.violation?.pluginName).toBe('probe_throw');
      },
      timeout,
    );

    it(
      'through a manager: a throwing plugin is recorded in errors and skipped (on_error: ignore)',
      async () => {
        const host = await freshHost();
        const manager = await managerWith(host, [
          entry(
            'probe_throw',
            { kind: 'throw', message: 'probe exploded' },
            { on_error: 'ignore', priority: 1 },
          ),
          entry('probe_after', { kind: 'modify', set: { name: 'after' } }, { priority: 2 }),
        ]);
        const r = await manager.invoke(HOOK, samplePayload(), { globalContext: gc() });
        expect(r.continueProcessing).toBe(true);
        expect(r.errors.length).toBe(1);
        expect(r.errors[0]?.pluginName).toBe('probe_throw');
        expect(r.errors[0]?.code).toBe('plugin_error');
        expect(r.errors[0]?.message).toMatch('probe exploded');
        expect((r.modifiedPayload as { name?: string } | null)?.name).toBe('after');
      },
      timeout,
    );

    it(
      'through a manager: a plugin over its timeout fails with plugin_timeout and the host keeps serving',
      async () => {
        const host = await freshHost();
        const manager = await managerWith(host, [
          entry(
            'probe_slow',
            { kind: 'sleep', ms: 30_000 },
            { timeout: 0.3, priority: 1, on_error: 'ignore' },
          ),
          entry('probe_next', { kind: 'modify', set: { name: 'served' } }, { priority: 2 }),
        ]);
        const r = await manager.invoke(HOOK, samplePayload(), { globalContext: gc() });
        expect(r.continueProcessing).toBe(true);
        expect(r.errors[0]?.pluginName).toBe('probe_slow');
        expect(r.errors[0]?.code).toBe('plugin_timeout');
        expect((r.modifiedPayload as { name?: string } | null)?.name).toBe('served');
        // A second call on the same host still works: cooperative hosts stopped waiting,
        // pre-emptive hosts restarted whatever ran the plugin.
        const again = await manager.invoke(HOOK, samplePayload(), { globalContext: gc() });
        expect(again.errors[0]?.code).toBe('plugin_timeout');
        expect((again.modifiedPayload as { name?: string } | null)?.name).toBe('served');
      },
      timeout,
    );

    it(
      'through a manager: timeout with on_error fail halts with a plugin_timeout violation',
      async () => {
        const host = await freshHost();
        const manager = await managerWith(host, [
          entry('probe_slow', { kind: 'sleep', ms: 30_000 }, { timeout: 0.3 }),
        ]);
        const r = await manager.invoke(HOOK, samplePayload(), { globalContext: gc() });
        expect(r.continueProcessing).toBe(false);
        expect(r.violation?.code).toBe('plugin_timeout');
        expect(r.violation?.pluginName).toBe('probe_slow');
      },
      timeout,
    );

    it(
      'honours timeouts as its capabilities say: cooperative hosts abort the timed-out plugin',
      async () => {
        const host = await freshHost();
        const manager = await managerWith(host, [
          entry('probe_slow', { kind: 'sleep', ms: 30_000 }, { timeout: 0.3, on_error: 'ignore' }),
        ]);
        const r = await manager.invoke(HOOK, samplePayload(), { globalContext: gc() });
        expect(r.errors[0]?.code).toBe('plugin_timeout');
        if (host.capabilities.supportsTimeouts === 'preemptive') {
          // Pre-emption is the host's own business (kill + restart); the outcome was checked above.
          expect(host.capabilities.isolated).toBe(true);
          return;
        }
        // Cooperative: the manager stopped waiting and must have fired the plugin's signal.
        if (options.probe.events === undefined) {
          throw new Error(
            `${options.name}: a host with cooperative timeouts needs probe.events() for this check`,
          );
        }
        let seen: readonly string[] = [];
        for (let i = 0; i < 100 && !seen.includes('aborted'); i++) {
          seen = await options.probe.events('probe_slow');
          if (!seen.includes('aborted')) await new Promise((res) => setTimeout(res, 20));
        }
        expect(seen).toEqual(['sleep-start', 'aborted']);
      },
      timeout,
    );

    it(
      'describe() gives a well-formed PluginDescription that agrees with the host capabilities',
      async () => {
        const host = await freshHost();
        const manager = await managerWith(host, [entry('probe_described', { kind: 'allow' })]);
        const d = manager.describePlugin('probe_described');
        expect(d === undefined).toBe(false);
        // the shape `cpex plugins` relies on (docs/hosts/contract.md, "describe()")
        expect(descriptionProblem(d)).toBeUndefined();
        expect((d?.notes ?? []).some((n) => n.startsWith('the host gives no describe()'))).toBe(false);
        expect(d?.timeouts).toBe(host.capabilities.supportsTimeouts);
        expect(d?.isolation === 'none').toBe(!host.capabilities.isolated);
      },
      timeout,
    );

    it(
      'dispose() resolves and is idempotent',
      async () => {
        const host = await options.makeHost();
        const instance = await host.factory.create(
          normalizedEntry('probe_d', { kind: 'allow' }),
          factoryContext(),
        );
        await instance.initialize?.();
        await instance.shutdown?.();
        expect(await host.dispose()).toBeUndefined();
        expect(await host.dispose()).toBeUndefined();
      },
      timeout,
    );
  });
}
