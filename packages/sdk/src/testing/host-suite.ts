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
import type { HostileKind, HostProbe, ProbeBehaviour } from './probe.js';

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
  /**
   * The repository root: when given, each limit the probe declares (`HostProbe.limits`) must be
   * stated in its document (`limit.doc` under this root contains `limit.says`).
   */
  docsRoot?: string;
  /**
   * Child processes the host shares across hosts on purpose and that never keep the process alive
   * (host-python's fork server), by command line: not counted as left running after `dispose()`.
   */
  sharedProcess?(commandLine: string): boolean;
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
    const base = options.probe.entry(behaviour, [HOOK], name);
    return { ...base, name, hooks: [HOOK], mode: 'sequential', ...extra };
  }

  function normalizedEntry(name: string, behaviour: ProbeBehaviour): PluginEntry {
    const raw = options.probe.entry(behaviour, [HOOK], name);
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

  async function loadInto(manager: PluginManager, plugins: Record<string, unknown>[], settings = {}) {
    const text = JSON.stringify({ plugin_settings: settings, plugins });
    await manager.loadConfigText(text, { baseDir: options.probe.baseDir ?? process.cwd() });
    await manager.initialize();
  }

  async function managerWith(host: PluginHost, plugins: Record<string, unknown>[], settings = {}) {
    const manager = new PluginManager({ hosts: [host], logger: quietLogger });
    cleanups.push(() => manager.shutdown());
    await loadInto(manager, plugins, settings);
    return manager;
  }

  /** What keeps this process alive now (handles and requests), as a sorted list. */
  function activeResources(): string[] {
    return process.getActiveResourcesInfo().sort();
  }

  /** Live (not zombie) child processes of this process, by pid (Linux /proc; empty elsewhere). */
  async function liveChildren(): Promise<Set<number>> {
    const out = new Set<number>();
    if (process.platform !== 'linux') return out;
    const { readdirSync, readFileSync } = await import('node:fs');
    try {
      for (const tid of readdirSync('/proc/self/task'))
        for (const pid of readFileSync(`/proc/self/task/${tid}/children`, 'utf8')
          .split(/\s+/)
          .filter(Boolean)) {
          try {
            const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
            if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z')
              out.add(Number(pid));
          } catch {
            // gone meanwhile
          }
        }
    } catch {
      // no /proc: nothing to check
    }
    return out;
  }

  /**
   * The child processes started since `before` that still run once `dispose()` resolved: a host's
   * dispose kills what is left and resolves after it exited (a few ticks let the exit be reaped).
   */
  async function processesLeft(before: ReadonlySet<number>): Promise<number[]> {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    const { readFileSync } = await import('node:fs');
    const shared = options.sharedProcess;
    return [...(await liveChildren())].filter((pid) => {
      if (before.has(pid)) return false;
      if (shared === undefined) return true;
      try {
        return !shared(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim());
      } catch {
        return false; // exited meanwhile
      }
    });
  }

  /** Waits (up to the test's bound) until nothing beyond `baseline` keeps the process alive. */
  async function settlesTo(baseline: readonly string[]): Promise<string[]> {
    const within = (now: string[]) => {
      const left = [...baseline];
      return now.every((r) => {
        const i = left.indexOf(r);
        if (i < 0) return false;
        left.splice(i, 1);
        return true;
      });
    };
    let now = activeResources();
    for (let i = 0; i < 400 && !within(now); i++) {
      await new Promise((r) => setTimeout(r, 25).unref());
      now = activeResources();
    }
    return within(now) ? [...baseline] : now;
  }

  /**
   * Runs `step` again and again until the `late` probe reports its late answer (with no event log:
   * for its delay and a margin), then once more so a call is in flight as the answer travels.
   */
  async function untilLateAnswer(pluginName: string, ms: number, step: () => Promise<void>): Promise<void> {
    const events = options.probe.events;
    const start = Date.now();
    for (let i = 0; i < 400; i++) {
      await step();
      await new Promise((r) => setTimeout(r, 25));
      const done =
        events === undefined
          ? Date.now() - start > ms + 1_000
          : (await events(pluginName)).includes('late-sent');
      if (done) {
        await step();
        return;
      }
    }
    throw new Error(`${options.name}: the late probe never reported its late answer`);
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

    // ---- hostile plugins: each behaviour is contained, or declared (and documented) as a limit ----

    /**
     * A plugin `name` doing `behaviour` (on_error: ignore) before a modifying one, invoked twice:
     * each time only its own call fails, with one of `codes`, and the next plugin runs. Returns the host.
     */
    async function failsAlone(
      name: string,
      behaviour: ProbeBehaviour,
      codes: readonly string[],
      message?: RegExp,
    ): Promise<PluginHost> {
      const host = await freshHost();
      const manager = await managerWith(host, [
        entry(name, behaviour, { priority: 1, on_error: 'ignore' }),
        entry('probe_next', { kind: 'modify', set: { name: 'served' } }, { priority: 2 }),
      ]);
      for (let i = 0; i < 2; i++) {
        const r = await manager.invoke(HOOK, samplePayload(), { globalContext: gc() });
        expect(r.errors.length).toBe(1);
        expect(r.errors[0]?.pluginName).toBe(name);
        expect(codes).toContain(r.errors[0]?.errorCode);
        if (message) expect(r.errors[0]?.message).toMatch(message);
        expect((r.modifiedPayload as { name?: string } | null)?.name).toBe('served');
      }
      return host;
    }

    /** Each hostile behaviour: what a host that contains it must show. */
    const HOSTILE: Partial<Record<HostileKind, () => Promise<void>>> = {
      async hang() {
        const baseline = activeResources();
        const children = await liveChildren();
        const host = await options.makeHost();
        const manager = new PluginManager({ hosts: [host], logger: quietLogger });
        try {
          await loadInto(manager, [
            entry('probe_hang', { kind: 'hang' }, { timeout: 0.3, priority: 1, on_error: 'ignore' }),
            entry('probe_next', { kind: 'modify', set: { name: 'served' } }, { priority: 2 }),
          ]);
          for (let i = 0; i < 2; i++) {
            const r = await manager.invoke(HOOK, samplePayload(), { globalContext: gc() });
            expect(r.continueProcessing).toBe(true);
            expect(r.errors.length).toBe(1);
            expect(r.errors[0]?.pluginName).toBe('probe_hang');
            expect(r.errors[0]?.code).toBe('plugin_timeout');
            expect(r.errors[0]?.errorCode).toBe('CPEX_ERR_PLUGIN_TIMEOUT');
            expect(r.errors[0]?.message).toMatch('probe_hang');
            expect((r.modifiedPayload as { name?: string } | null)?.name).toBe('served');
          }
          // on_error fail: the halt names the plugin; nothing after it ran.
          const failing = await managerWith(host, [
            entry('probe_hang', { kind: 'hang' }, { timeout: 0.3, priority: 1 }),
            entry('probe_next', { kind: 'modify', set: { name: 'served' } }, { priority: 2 }),
          ]);
          const halted = await failing.invoke(HOOK, samplePayload(), { globalContext: gc() });
          expect(halted.continueProcessing).toBe(false);
          expect(halted.violation?.code).toBe('plugin_timeout');
          expect(halted.violation?.pluginName).toBe('probe_hang');
          expect(halted.modifiedPayload).toBe(null);
          await failing.shutdown();
        } finally {
          await manager.shutdown();
          await host.dispose();
        }
        // Shutdown completed with calls that never settle; nothing the host started is left to
        // keep the process alive (it can exit). Waits for the host's own cleanup, never a timing.
        expect(await processesLeft(children)).toEqual([]);
        expect(await settlesTo(baseline)).toEqual(baseline);
      },

      async late() {
        const host = await freshHost();
        const late = { kind: 'late', ms: 1_200, set: { name: 'late_value' } } as const;
        const manager = await managerWith(host, [
          entry('probe_late', late, { timeout: 0.3, priority: 1, on_error: 'ignore' }),
          entry('probe_next', { kind: 'allow', metadata: { next: 'ran' } }, { priority: 2 }),
        ]);
        const seen: unknown[] = [];
        const first = await manager.invoke(HOOK, samplePayload(), { globalContext: gc() });
        seen.push(first);
        expect(first.errors[0]?.pluginName).toBe('probe_late');
        expect(first.errors[0]?.code).toBe('plugin_timeout');
        // Invocations in flight while the late answer comes back, then more after it.
        await untilLateAnswer('probe_late', late.ms, async () => {
          seen.push(await manager.invoke(HOOK, samplePayload(), { globalContext: gc() }));
        });
        for (let i = 0; i < 3; i++)
          seen.push(await manager.invoke(HOOK, samplePayload(), { globalContext: gc() }));
        for (const r of seen as Awaited<ReturnType<typeof manager.invoke>>[]) {
          expect(JSON.stringify(r.modifiedPayload ?? null).includes('late_value')).toBe(false);
          expect(r.payloadModified).toBe(false);
          expect(r.continueProcessing).toBe(true);
          expect(r.metadata.next).toBe('ran');
          for (const e of r.errors) expect(`${e.pluginName} ${e.code}`).toBe('probe_late plugin_timeout');
        }
        // The host still answers: the last invocation's probe_late call is no longer the late one,
        // or (a restarted process) is late again and timed out — never the late value.
      },

      async grow() {
        await failsAlone(
          'probe_grow',
          { kind: 'grow', limitMb: 256 },
          ['CPEX_ERR_WORKER_MEMORY', 'CPEX_ERR_WASM_TRAP'],
          /memory/i,
        );
      },

      async garbage() {
        const host = await freshHost();
        const manager = await managerWith(host, [
          entry('probe_first', { kind: 'modify', set: { name: 'first' } }, { priority: 1 }),
          entry('probe_garbage', { kind: 'garbage', code: 'garbage_deny', reason: 'no' }, { priority: 2 }),
          entry('probe_after', { kind: 'modify', set: { name: 'after' } }, { priority: 3 }),
        ]);
        for (let i = 0; i < 2; i++) {
          const r = await manager.invoke(HOOK, samplePayload(), { globalContext: gc() });
          // The deny arrived, or the garbage failed the call (on_error: fail): never an allow.
          expect(r.continueProcessing).toBe(false);
          expect(r.violation?.pluginName).toBe('probe_garbage');
          expect(['garbage_deny', 'plugin_error']).toContain(r.violation?.code);
          expect((r.modifiedPayload as { name?: string } | null)?.name).toBe('first');
        }
      },

      async crash() {
        const host = await failsAlone('probe_crash', { kind: 'crash' }, [
          'CPEX_ERR_WORKER_DIED',
          'CPEX_ERR_WASM_TRAP',
        ]);
        const failing = await managerWith(host, [entry('probe_crash', { kind: 'crash' })]);
        const halted = await failing.invoke(HOOK, samplePayload(), { globalContext: gc() });
        expect(halted.continueProcessing).toBe(false);
        expect(halted.violation?.code).toBe('plugin_error');
        expect(halted.violation?.pluginName).toBe('probe_crash');
      },
    };

    /** A manager with one probe whose lifecycle hangs, bounded by 1 s lifecycle timeouts. */
    async function lifecycleHang(kind: 'hang_init' | 'hang_shutdown'): Promise<void> {
      const baseline = activeResources();
      const children = await liveChildren();
      const host = await options.makeHost();
      const manager = new PluginManager({ hosts: [host], logger: quietLogger });
      const settings = { plugin_init_timeout: 1, plugin_shutdown_timeout: 1 };
      try {
        const load = loadInto(manager, [entry(`probe_${kind}`, { kind })], settings);
        if (kind === 'hang_init') {
          const err = await load.then(
            () => undefined,
            (e: unknown) => e as { code?: string; message?: string },
          );
          expect(err === undefined).toBe(false);
          expect(['CPEX_ERR_LIFECYCLE_TIMEOUT', 'CPEX_ERR_PLUGIN_LOAD']).toContain(err?.code);
          expect(err?.message).toMatch(`probe_${kind}`);
        } else {
          await load;
          const r = await manager.invoke(HOOK, samplePayload(), { globalContext: gc() });
          expect(r.continueProcessing).toBe(true);
          expect(r.errors.length).toBe(0);
        }
      } finally {
        // Both complete although the plugin's own lifecycle never does.
        await manager.shutdown();
        await host.dispose();
      }
      expect(await processesLeft(children)).toEqual([]);
      expect(await settlesTo(baseline)).toEqual(baseline);
    }

    HOSTILE.hang_init = () => lifecycleHang('hang_init');
    HOSTILE.hang_shutdown = () => lifecycleHang('hang_shutdown');

    const HOSTILE_NAMES: Record<HostileKind, string> = {
      hang: 'a plugin that never settles times out with plugin_timeout naming it; other plugins and later invokes are unaffected; shutdown completes and leaves nothing running',
      late: 'a plugin that answers late, twice, after its timeout: the late value never reaches any invocation',
      grow: 'a plugin that grows memory without bound is stopped at its limit with a coded memory error; the host keeps serving',
      garbage:
        'a plugin that writes garbage to its stdout and channel: its deny arrives or the call fails, never an allow',
      crash: 'a plugin that crashes mid-call fails only its own call (coded), and the host restarts it',
      hang_init:
        'a plugin whose initialization never completes fails the load at plugin_init_timeout, naming it; shutdown and dispose complete and leave nothing running',
      hang_shutdown:
        'a plugin whose shutdown never completes: shutdown and dispose still complete (plugin_shutdown_timeout) and leave nothing running',
    };

    for (const kind of Object.keys(HOSTILE_NAMES) as HostileKind[]) {
      const limit = options.probe.limits?.[kind];
      if (limit === undefined) {
        it(`hostile: ${HOSTILE_NAMES[kind]}`, HOSTILE[kind]!, timeout);
        continue;
      }
      it(
        `hostile: ${kind} is a declared limit of this host (${limit.reason}; ${limit.doc})`,
        async () => {
          expect(limit.reason.length > 0 && limit.doc.length > 0 && limit.says.length > 0).toBe(true);
          if (options.docsRoot !== undefined) {
            const { readFileSync } = await import('node:fs');
            const { join } = await import('node:path');
            const text = readFileSync(join(options.docsRoot, limit.doc), 'utf8').replace(/\s+/g, ' ');
            const said = text.includes(limit.says) ? limit.says : `${limit.doc} does not say "${limit.says}"`;
            expect(said).toBe(limit.says);
          }
        },
        timeout,
      );
    }

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
