/**
 * Runs one scenario through a real cpex-ts PluginManager and produces the README output record.
 * `executed` comes from the manager's own diagnostics_channel tracing, never from the plugins.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import {
  type ContextTableLike,
  CpexError,
  type GlobalContext,
  type InvokeOptions,
  type ManagerOptions,
  type PipelineResult,
  type PluginErrorRecord,
  type PluginFactory,
  PluginManager,
  type PluginViolation,
} from '@cpex/core';
import { evaluateExpect } from './match.js';
import {
  type ErrorRecordOut,
  type ExecutedOut,
  type LoadOut,
  plainCopy,
  type ResultOut,
  type ScenarioOutput,
  type StepErrorOut,
  type StepOutput,
  type ViolationOut,
} from './output.js';
import { registerNativeProbes } from './probes/native-probe.js';
import { loadHostExemptions } from './compare.js';
import { registerTsProbes } from './probes/ts-probe.js';
import { registerWasmProbes } from './probes/wasm-probe.js';
import { MANAGER_KEYS, type Scenario, type ScenarioGlobalContext } from './scenario.js';

/** The PluginManager surface the runner uses (ARCHITECTURE section 2). */
export interface ManagerLike {
  loadConfigText(yaml: string, options?: { baseDir?: string }): Promise<void>;
  registerFactory(kind: string, factory: PluginFactory): void;
  initialize(): Promise<void>;
  invoke(hook: string, payload: unknown, options?: InvokeOptions): Promise<PipelineResult<unknown>>;
  shutdown(): Promise<void>;
  hasHooksFor(hook: string): boolean;
  pluginNames(): string[];
  hookOrder?(hook: string): string[];
  runtimeDisabled?(): string[];
  readonly initialized?: boolean;
}

export type HostName = 'ts' | 'python' | 'native' | 'wasm';

export interface RunOptions {
  host: HostName;
  /** Import roots for the Python host. */
  pythonPath: string[];
  /** Python interpreter for the Python host. */
  python: string;
  /** Per-scenario watchdog, ms. */
  scenarioTimeoutMs?: number;
}

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
/** Import root of the corpus's own Python probes (`cpex_conformance.probes`). */
export const OWN_PYTHON_ROOT = path.join(REPO_ROOT, 'conformance', 'python-harness');
/** Import root of the reference probes (`pyref.plugins.probe`), beside the repo as ../shared. */
export const SHARED_PYTHON_ROOT = path.resolve(REPO_ROOT, '..', 'shared', 'conformance', 'python');

/** Import roots always given to Python: the corpus's own probes, and the reference probes if present. */
export function extraPythonRoots(): string[] {
  return [OWN_PYTHON_ROOT, ...(existsSync(SHARED_PYTHON_ROOT) ? [SHARED_PYTHON_ROOT] : [])];
}

type RegisterPythonHost = (
  manager: unknown,
  options: { pythonPath: string[]; python: string; env?: Record<string, string> },
) => unknown;

/** `registerPythonHost` from @cpex/host-python, or null when that package does not provide it yet. */
export async function loadPythonHost(): Promise<RegisterPythonHost | null> {
  try {
    const mod = (await import('@cpex/host-python')) as Record<string, unknown>;
    return typeof mod.registerPythonHost === 'function'
      ? (mod.registerPythonHost as RegisterPythonHost)
      : null;
  } catch {
    return null;
  }
}

function toGlobalContext(g: ScenarioGlobalContext | undefined): GlobalContext {
  const gc: GlobalContext = {
    requestId: g?.request_id === undefined ? '1' : String(g.request_id),
    state: { ...(g?.state ?? {}) },
    metadata: { ...(g?.metadata ?? {}) },
  };
  if (g?.user != null) gc.user = g.user;
  if (g?.user_context != null) gc.userContext = g.user_context;
  if (g?.tenant_id != null) gc.tenantId = g.tenant_id;
  if (g?.server_id != null) gc.serverId = g.server_id;
  if (g?.content_type != null) gc.contentType = g.content_type;
  return gc;
}

/** `manager:` + `env:` blocks -> constructor options (env is passed, never written to process.env). */
export function managerOptions(sc: Scenario): ManagerOptions {
  const opts: Record<string, unknown> = { env: { ...sc.env } };
  for (const [k, v] of Object.entries(sc.manager)) {
    if (v !== undefined) opts[MANAGER_KEYS[k as keyof typeof MANAGER_KEYS]] = v;
  }
  return opts as ManagerOptions;
}

function violationOut(v: PluginViolation | null | undefined): ViolationOut | null {
  if (!v) return null;
  // code, reason, description, details and plugin_name are always present (README output contract).
  const out: ViolationOut = {
    code: v.code,
    reason: v.reason,
    description: v.description ?? null,
    details: v.details === undefined ? {} : plainCopy(v.details),
    plugin_name: v.pluginName ?? null,
  };
  if (v.mcpErrorCode !== undefined) out.mcp_error_code = v.mcpErrorCode;
  if (v.httpStatusCode !== undefined) out.http_status_code = v.httpStatusCode;
  if (v.httpHeaders !== undefined) out.http_headers = { ...v.httpHeaders };
  return out;
}

function errorRecords(list: readonly PluginErrorRecord[] | undefined): ErrorRecordOut[] {
  return (list ?? []).map((e) => ({ plugin_name: e.pluginName, code: e.code, message: e.message }));
}

function dropNulls(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = x;
  return out;
}

function resultOut(r: PipelineResult<unknown>): ResultOut {
  return {
    continue_processing: r.continueProcessing,
    modified_payload: r.modifiedPayload === undefined ? null : plainCopy(r.modifiedPayload),
    payload_modified: r.payloadModified,
    modified_extensions: r.modifiedExtensions == null ? null : dropNulls(plainCopy(r.modifiedExtensions)),
    violation: violationOut(r.violation),
    metadata: plainCopy(r.metadata ?? {}),
    retry_delay_ms: r.retryDelayMs,
    errors: errorRecords(r.errors),
  };
}

function errorOut(e: unknown): StepErrorOut {
  if (e instanceof Error) {
    const out: StepErrorOut = { type: e.name || 'Error', message: e.message };
    const ce = e as Partial<CpexError> & { violation?: PluginViolation };
    if (typeof ce.code === 'string') out.code = ce.code;
    if (typeof ce.plugin === 'string') out.plugin_name = ce.plugin;
    const v = violationOut(ce.violation);
    if (v) out.violation = v;
    return out;
  }
  return { type: 'NonError', message: String(e) };
}

interface Tracer {
  records: Array<{ key: string; rec: ExecutedOut }>;
  hooks: Map<number, { ended: boolean; executed: number; stoppedBy: string | null }>;
  reset(): void;
  dispose(): void;
}

const OUTCOME_END: Record<string, ExecutedOut['end']> = {
  allow: 'ok',
  modify: 'ok',
  deny: 'ok',
  error: 'error',
  timeout: 'error',
  aborted: 'unfinished',
  skipped: 'unfinished',
};

interface TraceMsg {
  manager?: object;
  invocationId?: number;
  plugin?: string;
  phase?: string;
  outcome?: string;
  executed?: number;
  stoppedBy?: string | null;
}

/** Subscribes to the manager's own plugin/hook channels, filtered by manager identity. */
function traceManager(manager: object): Tracer {
  const t: Tracer = {
    records: [],
    hooks: new Map(),
    reset() {
      t.records = [];
      t.hooks = new Map();
    },
    dispose() {
      diagnostics_channel.unsubscribe('cpex:plugin:start', onStart);
      diagnostics_channel.unsubscribe('cpex:plugin:end', onEnd);
      diagnostics_channel.unsubscribe('cpex:hook:start', onHookStart);
      diagnostics_channel.unsubscribe('cpex:hook:end', onHookEnd);
    },
  };
  const keyOf = (m: TraceMsg) => `${m.invocationId}\u0000${m.plugin}\u0000${m.phase}`;
  const onStart = (msg: unknown) => {
    const m = msg as TraceMsg;
    if (m.manager !== manager) return;
    t.records.push({
      key: keyOf(m),
      rec: { plugin: String(m.plugin), mode: String(m.phase), end: 'unfinished' },
    });
  };
  const onEnd = (msg: unknown) => {
    const m = msg as TraceMsg;
    if (m.manager !== manager) return;
    const k = keyOf(m);
    const entry = t.records.find((r) => r.key === k && r.rec.end === 'unfinished');
    if (entry) entry.rec.end = OUTCOME_END[String(m.outcome)] ?? 'unfinished';
  };
  const onHookStart = (msg: unknown) => {
    const m = msg as TraceMsg;
    if (m.manager !== manager || m.invocationId === undefined) return;
    t.hooks.set(m.invocationId, { ended: false, executed: 0, stoppedBy: null });
  };
  const onHookEnd = (msg: unknown) => {
    const m = msg as TraceMsg;
    if (m.manager !== manager || m.invocationId === undefined) return;
    t.hooks.set(m.invocationId, { ended: true, executed: m.executed ?? 0, stoppedBy: m.stoppedBy ?? null });
  };
  diagnostics_channel.subscribe('cpex:plugin:start', onStart);
  diagnostics_channel.subscribe('cpex:plugin:end', onEnd);
  diagnostics_channel.subscribe('cpex:hook:start', onHookStart);
  diagnostics_channel.subscribe('cpex:hook:end', onHookEnd);
  return t;
}

/** `load.hook_order` when the manager has no `hookOrder()`: by priority, ties in config order. */
function hookOrderFromConfig(sc: Scenario, registered: readonly string[]): Record<string, string[]> {
  const plugins = Array.isArray(sc.config.plugins)
    ? (sc.config.plugins as Array<Record<string, unknown>>)
    : [];
  const byHook: Record<string, Array<{ name: string; priority: number; idx: number }>> = {};
  plugins.forEach((p, idx) => {
    const name = String(p.name);
    if (!registered.includes(name)) return;
    for (const h of Array.isArray(p.hooks) ? p.hooks : []) {
      const list = (byHook[String(h)] ??= []);
      list.push({ name, priority: typeof p.priority === 'number' ? p.priority : 100, idx });
    }
  });
  const out: Record<string, string[]> = {};
  for (const [h, list] of Object.entries(byHook)) {
    out[h] = list.sort((a, b) => a.priority - b.priority || a.idx - b.idx).map((x) => x.name);
  }
  return out;
}

function configHooks(sc: Scenario): string[] {
  const plugins = Array.isArray(sc.config.plugins)
    ? (sc.config.plugins as Array<Record<string, unknown>>)
    : [];
  const hooks = new Set<string>();
  for (const p of plugins) for (const h of Array.isArray(p.hooks) ? p.hooks : []) hooks.add(String(h));
  for (const st of sc.steps) hooks.add(st.hook);
  return [...hooks];
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new CpexError('CPEX_ERR_PLUGIN_TIMEOUT', `${what} did not finish in ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * Registers the plugin kinds of the chosen host on a fresh manager. The scenario's `env:` also
 * reaches the Python workers, as it reaches plugin code in the Python reference (where it is the
 * harness process's environment); `process.env` itself is never changed.
 */
async function setupHost(
  manager: ManagerLike,
  opts: RunOptions,
  env: Record<string, string>,
): Promise<{ dispose(): Promise<void> } | undefined> {
  const register = await loadPythonHost();
  const pythonHost = { pythonPath: [...opts.pythonPath, ...extraPythonRoots()], python: opts.python, env };
  if (opts.host === 'wasm') {
    // The reference Probe / MessageProbe kinds run as the WASM probe component; the other kinds
    // (Python-API edge cases) stay on the TS probes.
    registerTsProbes(manager);
    await registerWasmProbes(manager);
    return undefined;
  }
  if (opts.host === 'native') {
    // The probe kinds run as the C probe library through the native host; other kinds (Python
    // cpex's own fixture plugins) still run through host-python, as for --host ts.
    const native = await registerNativeProbes(manager);
    if (register) await register(manager, pythonHost);
    return native;
  }
  if (opts.host === 'ts') {
    registerTsProbes(manager);
    // Kinds without a TS probe (Python cpex's own fixture plugins, any other dotted class path)
    // still run, through host-python: exact probe names win over the bare dotted-path route.
    if (register) await register(manager, pythonHost);
    return;
  }
  if (!register) {
    throw new CpexError(
      'CPEX_ERR_HOST_UNAVAILABLE',
      '--host python needs @cpex/host-python with registerPythonHost(); it is not available in this checkout',
    );
  }
  await register(manager, pythonHost);
}

/** Runs one scenario; never throws for scenario-level failures (they land in the output). */
export async function runScenario(sc: Scenario, opts: RunOptions): Promise<ScenarioOutput> {
  const out: ScenarioOutput = {
    scenario: sc.name,
    file: sc.file,
    host: opts.host,
    init_error: null,
    load: { initialized: false, plugin_count: 0, registered: [], hook_order: {}, has_hooks_for: {} },
    steps: [],
    runtime_disabled: [],
    expect_ok: true,
  };
  let manager: ManagerLike;
  let hostToDispose: { dispose(): Promise<void> } | undefined;
  try {
    manager = new PluginManager(managerOptions(sc));
    hostToDispose = await setupHost(manager, opts, sc.env);
  } catch (e) {
    out.runner_error = { code: (e as CpexError).code ?? 'ERROR', message: (e as Error).message };
    out.expect_ok = false;
    return out;
  }
  const tracer = traceManager(manager);
  try {
    await withTimeout(
      runSteps(sc, manager, tracer, out),
      opts.scenarioTimeoutMs ?? 60_000,
      `scenario ${sc.name}`,
    );
  } catch (e) {
    out.runner_error = { code: (e as CpexError).code ?? 'ERROR', message: (e as Error).message };
    out.expect_ok = false;
  } finally {
    tracer.dispose();
    await withTimeout(manager.shutdown(), 10_000, 'shutdown').catch(() => {});
    await hostToDispose?.dispose().catch(() => {});
  }
  return out;
}

async function runSteps(
  sc: Scenario,
  manager: ManagerLike,
  tracer: Tracer,
  out: ScenarioOutput,
): Promise<void> {
  try {
    await manager.loadConfigText(stringifyYaml(sc.config), { baseDir: path.dirname(sc.file) });
    await manager.initialize();
  } catch (e) {
    const err = errorOut(e);
    out.init_error = { type: err.type, message: err.message, ...(err.code ? { code: err.code } : {}) };
  }
  const registered = safe(() => manager.pluginNames(), []);
  const hooks = configHooks(sc);
  const fallbackOrder = hookOrderFromConfig(sc, registered);
  const load: LoadOut = {
    initialized: manager.initialized ?? out.init_error === null,
    plugin_count: registered.length,
    registered,
    hook_order: {},
    has_hooks_for: {},
  };
  for (const h of hooks) {
    const order = manager.hookOrder ? safe(() => manager.hookOrder!(h), []) : (fallbackOrder[h] ?? []);
    if (order.length > 0) load.hook_order[h] = order;
    load.has_hooks_for[h] = safe(() => manager.hasHooksFor(h), false);
  }
  out.load = load;

  let prevGc: GlobalContext | undefined;
  let prevTable: ContextTableLike | null = null;
  for (const [i, st] of sc.steps.entries()) {
    const gc =
      st.globalContext === 'previous' && prevGc
        ? prevGc
        : toGlobalContext(st.globalContext === 'previous' ? undefined : st.globalContext);
    const payload = plainCopy(st.payload);
    const inv: InvokeOptions = { globalContext: gc, violationsAsExceptions: st.violationsAsExceptions };
    if (st.localContexts === 'previous') inv.contextTable = prevTable;
    if (st.extensions) inv.extensions = plainCopy(st.extensions);

    tracer.reset();
    let result: PipelineResult<unknown> | null = null;
    let error: StepErrorOut | null = null;
    try {
      result = await manager.invoke(st.hook, payload, inv);
    } catch (e) {
      error = errorOut(e);
      const carried = (e as { result?: PipelineResult<unknown> }).result;
      if (carried && typeof carried === 'object') result = carried;
    }
    let backgroundErrors: ErrorRecordOut[] = [];
    if (result?.background) {
      try {
        backgroundErrors = errorRecords(await result.background.wait());
      } catch (e) {
        backgroundErrors = [
          { plugin_name: '<background>', code: 'wait_failed', message: (e as Error).message },
        ];
      }
    }
    const table = result?.contextTable ?? null;
    const hookRuns = [...tracer.hooks.values()];
    const lastRun = hookRuns[hookRuns.length - 1];
    const step: StepOutput = {
      step: i,
      hook: st.hook,
      result: result ? resultOut(result) : null,
      error,
      background_errors: backgroundErrors,
      executed: tracer.records.map((r) => ({ ...r.rec })),
      chain:
        lastRun === undefined
          ? null
          : lastRun.ended
            ? { executed_count: lastRun.executed, stopped_by: lastRun.stoppedBy }
            : 'unfinished',
      contexts: table ? plainCopy(table.toJSON()) : null,
      global_context: { state: plainCopy(gc.state), metadata: plainCopy(gc.metadata) },
      payload_after: plainCopy(payload),
    };
    out.steps.push(step);
    prevGc = gc;
    prevTable = table;
  }
  out.runtime_disabled = manager.runtimeDisabled ? safe(() => manager.runtimeDisabled!(), []) : [];
}

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}

/** Evaluates every step's `expect:` block and sets `expect_ok` / `expect_mismatches` / `expect_unknown`. */
export function applyExpectations(sc: Scenario, out: ScenarioOutput): ScenarioOutput {
  let ok = out.runner_error === undefined;
  const exempt = new Map<string, string>();
  for (const e of loadHostExemptions())
    if (e.host === out.host && e.scenario === sc.name) for (const k of e.expect) exempt.set(k, e.reason);
  for (const [i, st] of sc.steps.entries()) {
    const step = out.steps[i] ?? null;
    const r = st.expect ? evaluateExpect(st.expect, step, out) : { ok: true, mismatches: [], unknown: [] };
    if (exempt.size && !r.ok) {
      const kept = r.mismatches.filter((m) => !exempt.has(m.key));
      if (step && kept.length < r.mismatches.length)
        step.expect_exempt = r.mismatches
          .filter((m) => exempt.has(m.key))
          .map((m) => ({ ...m, reason: `exempt on ${out.host}: ${exempt.get(m.key)}` }));
      r.mismatches = kept;
      r.ok = kept.length === 0;
    }
    if (step) {
      step.expect_ok = r.ok;
      step.expect_mismatches = r.mismatches;
      if (r.unknown.length > 0) step.expect_unknown = r.unknown;
    }
    if (!r.ok) ok = false;
  }
  out.expect_ok = ok;
  return out;
}
