/**
 * TypeScript probes: the config-driven probe plugins of the reference corpus
 * (`pyref.plugins.probe.*`, ../shared/conformance/python/pyref/plugins/probe.py) with the same
 * behaviour, registered under the same kind names so a scenario runs unchanged on the in-process
 * host. `cpex_conformance.probes.MessageProbe` (Probe on the CMF hooks) is the corpus's own.
 */
import {
  CpexError,
  type Extensions,
  type Handler,
  type HostCapabilities,
  type PluginContext,
  type PluginEntry,
  type PluginFactory,
  type PluginInstance,
  type PluginResult,
} from '@cpex/core';

/** The hooks `Probe` handles (its `@hook([...])` list in Python). */
export const PROBE_HOOKS = [
  'tool_pre_invoke',
  'tool_post_invoke',
  'prompt_pre_fetch',
  'prompt_post_fetch',
  'resource_pre_fetch',
  'resource_post_fetch',
  'agent_pre_invoke',
  'agent_post_invoke',
  'http_pre_request',
  'http_post_request',
  'http_auth_resolve_user',
  'http_auth_check_permission',
] as const;

/** The CMF hooks `MessageProbe` handles. */
export const MESSAGE_PROBE_HOOKS = [
  'cmf.tool_pre_invoke',
  'cmf.tool_post_invoke',
  'cmf.llm_input',
  'cmf.llm_output',
  'cmf.prompt_pre_fetch',
  'cmf.prompt_post_fetch',
  'cmf.resource_pre_fetch',
  'cmf.resource_post_fetch',
] as const;

/** Hooks whose Python payload class has an `args` field (the probe's `trail`/`set_args` target). */
const ARGS_HOOKS = new Set(['tool_pre_invoke', 'prompt_pre_fetch']);

/**
 * Hooks whose Python payload coerces a dict `result` into `StructuredData` (not a dict), so
 * probe.py's `trail` leaves their payload alone.
 */
const STRUCTURED_RESULT_HOOKS = new Set(['prompt_post_fetch']);

const IN_PROCESS: HostCapabilities = {
  supportsTimeouts: 'cooperative',
  isolated: false,
  copiesPayloads: false,
};

type Rec = Record<string, unknown>;

function isRec(v: unknown): v is Rec {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Python truthiness, so `{}`/`[]`/`0`/`""` switch a probe option off exactly as in probe.py. */
function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isRec(v)) return Object.keys(v).length > 0;
  return true;
}

function plain(v: unknown): unknown {
  return v === undefined ? null : JSON.parse(JSON.stringify(v));
}

function sleep(seconds: number, ctx: PluginContext): Promise<void> {
  const signal = ctx.signal;
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, seconds * 1000);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason ?? new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** probe.py `Probe.handle`, option for option and in the same order. */
async function probeHandle(
  name: string,
  cfg: Rec,
  payload: unknown,
  ctx: PluginContext,
): Promise<PluginResult> {
  const hook = ctx.hook;
  const p = (isRec(payload) ? payload : {}) as Rec;

  if (truthy(cfg.sleep)) await sleep(Number(cfg.sleep), ctx);
  if (truthy(cfg.raise)) throw new Error(String(cfg.raise));

  const state = ctx.state as Rec;
  if (truthy(cfg.record)) state.calls = [...((state.calls as unknown[] | undefined) ?? []), hook];
  for (const [k, v] of Object.entries(isRec(cfg.state) ? cfg.state : {})) state[k] = v;
  for (const [k, v] of Object.entries(isRec(cfg.global_state) ? cfg.global_state : {})) {
    ctx.globalContext.state[k] = v;
  }
  for (const [k, v] of Object.entries(isRec(cfg.global_metadata) ? cfg.global_metadata : {})) {
    ctx.globalContext.metadata[k] = v;
  }

  const metadata: Rec = { ...(isRec(cfg.metadata) ? cfg.metadata : {}) };
  if (truthy(cfg.read_state)) {
    metadata[`${name}.local`] = Object.fromEntries(
      (cfg.read_state as string[]).map((k) => [k, plain(state[k])]),
    );
  }
  if (truthy(cfg.read_global)) {
    metadata[`${name}.global`] = Object.fromEntries(
      (cfg.read_global as string[]).map((k) => [k, plain(ctx.globalContext.state[k])]),
    );
  }
  if (truthy(cfg.echo)) {
    const seen = plain(payload);
    state.saw = seen;
    metadata[`${name}.saw`] = plain(seen);
  }

  if (truthy(cfg.mutate_in_place) && isRec(p.args)) {
    // Deliberately writes into the object the plugin was given (exposes payload aliasing).
    const args = p.args as Rec;
    for (const [k, v] of Object.entries(cfg.mutate_in_place as Rec)) args[k] = v;
  }

  let modified: Rec | undefined;
  if (truthy(cfg.trail)) {
    if (ARGS_HOOKS.has(hook) || isRec(p.args)) {
      const args: Rec = { ...((p.args as Rec | undefined) ?? {}) };
      args.trail = truthy(args.trail) ? `${String(args.trail)}>${name}` : name;
      modified = { ...p, args };
    } else if (isRec(p.result) && !STRUCTURED_RESULT_HOOKS.has(hook)) {
      const res: Rec = { ...p.result };
      res.trail = truthy(res.trail) ? `${String(res.trail)}>${name}` : name;
      modified = { ...p, result: res };
    }
  }
  if (truthy(cfg.set_args)) {
    const base = modified ?? p;
    modified = { ...base, args: { ...((base.args as Rec | undefined) ?? {}), ...(cfg.set_args as Rec) } };
  }
  if (truthy(cfg.set_fields)) modified = { ...(modified ?? p), ...(cfg.set_fields as Rec) };
  if (truthy(cfg.return_same) && modified === undefined) modified = p;

  const result: PluginResult = { metadata };
  if (modified !== undefined) result.modifiedPayload = modified;
  if (truthy(cfg.retry_delay_ms)) result.retryDelayMs = Math.trunc(Number(cfg.retry_delay_ms));
  if (truthy(cfg.deny)) {
    const d = isRec(cfg.deny) ? cfg.deny : {};
    result.continueProcessing = false;
    result.violation = {
      code: String(d.code ?? 'DENIED'),
      reason: String(d.reason ?? `denied by ${name}`),
      description: String(d.description ?? 'probe deny'),
      details: isRec(d.details) ? d.details : {},
    };
  } else if (truthy(cfg.block_silently)) {
    result.continueProcessing = false;
  }
  return result;
}

/** Labels arrive as an array (wire) or a MonotonicSet (in-process): anything iterable but a string. */
function sortedStrings(v: unknown): string[] {
  if (v === null || v === undefined || typeof v === 'string') return [];
  const it = (v as { [Symbol.iterator]?: unknown })[Symbol.iterator];
  return typeof it === 'function' ? Array.from(v as Iterable<unknown>, String).sort() : [];
}

/** probe.py `ExtensionsProbe.tool_pre_invoke`, on the Rust-shaped extensions cpex-ts passes. */
function extensionsHandle(name: string, cfg: Rec, extensions: Extensions | undefined): PluginResult {
  const seen: Rec = { extensions_is_none: extensions === undefined || extensions === null };
  let modified: Extensions | undefined;
  if (extensions) {
    const ext = extensions as Rec;
    seen.slots = Object.keys(ext)
      .filter((k) => ext[k] !== null && ext[k] !== undefined)
      .sort();
    const sec = isRec(ext.security) ? ext.security : undefined;
    if (sec) {
      seen.labels = sortedStrings(sec.labels);
      const subj = isRec(sec.subject) ? sec.subject : undefined;
      seen.subject = subj
        ? {
            id: subj.id ?? null,
            roles: sortedStrings(subj.roles),
            teams: sortedStrings(subj.teams),
            permissions: sortedStrings(subj.permissions),
            claims: { ...(isRec(subj.claims) ? subj.claims : {}) },
          }
        : null;
    }
    const http = isRec(ext.http) ? ext.http : undefined;
    if (http) seen.headers = { ...((http.request_headers ?? http.headers ?? {}) as Rec) };
    if (isRec(ext.custom)) seen.custom = { ...ext.custom };

    let next: Rec = ext;
    if (truthy(cfg.add_label) && sec) {
      const labels: unknown[] = sortedStrings(sec.labels);
      if (!labels.includes(cfg.add_label)) labels.push(cfg.add_label);
      next = { ...next, security: { ...sec, labels } };
    }
    if (truthy(cfg.drop_labels) && sec) {
      next = { ...next, security: { ...(next.security as Rec), labels: [] } };
    }
    if (truthy(cfg.set_custom)) {
      next = { ...next, custom: { ...(isRec(next.custom) ? next.custom : {}), ...(cfg.set_custom as Rec) } };
    }
    if (truthy(cfg.set_header) && http) {
      const headers = { ...((http.request_headers ?? {}) as Rec), ...(cfg.set_header as Rec) };
      next = { ...next, http: { ...http, request_headers: headers } };
    }
    if (next !== ext) modified = next as Extensions;
  }
  const result: PluginResult = { metadata: { [`${name}.ext`]: seen } };
  if (modified) result.modifiedExtensions = modified;
  return result;
}

function instance(handlers: Record<string, Handler>): PluginInstance {
  return { handler: (hook) => handlers[hook], host: IN_PROCESS };
}

function configOf(entry: PluginEntry): Rec {
  return { ...(entry.config ?? {}) };
}

const probeFactory = (hooks: readonly string[]): PluginFactory => ({
  async create(entry) {
    const cfg = configOf(entry);
    const handle: Handler = (payload, ctx) => probeHandle(entry.name, cfg, payload, ctx);
    return instance(Object.fromEntries(hooks.map((h) => [h, handle])));
  },
});

/** Kind name -> factory, for `manager.registerFactory`. */
export const TS_PROBE_FACTORIES: Readonly<Record<string, PluginFactory>> = {
  'pyref.plugins.probe.Probe': probeFactory(PROBE_HOOKS),
  'cpex_conformance.probes.MessageProbe': probeFactory(MESSAGE_PROBE_HOOKS),
  'pyref.plugins.probe.ExtensionsProbe': {
    async create(entry) {
      const cfg = configOf(entry);
      return instance({ tool_pre_invoke: (_p, _c, ext) => extensionsHandle(entry.name, cfg, ext) });
    },
  },
  // Python rejects a non-async hook method when it registers the plugin; the TS stand-in fails to
  // load the same way so the scenario outcome is host-independent.
  'pyref.plugins.probe.SyncHookPlugin': {
    async create(entry) {
      throw new CpexError(
        'CPEX_ERR_PLUGIN_LOAD',
        `plugin ${entry.name}: hook tool_pre_invoke must be async`,
        {
          plugin: entry.name,
          hook: 'tool_pre_invoke',
        },
      );
    },
  },
  'pyref.plugins.probe.PartialPlugin': {
    async create(entry) {
      return instance({ tool_pre_invoke: () => ({ metadata: { [`${entry.name}.ran`]: true } }) });
    },
  },
  'pyref.plugins.probe.CtorFailPlugin': {
    async create() {
      throw new Error('constructor failure');
    },
  },
};

/** The minimal slice of PluginManager the probes need. */
export interface FactoryRegistry {
  registerFactory(kind: string, factory: PluginFactory): void;
}

/**
 * Registers every TS probe kind on a manager.
 * @example registerTsProbes(manager); await manager.loadConfig({ plugins: [{ name: 'p', kind: 'pyref.plugins.probe.Probe', hooks: ['tool_pre_invoke'] }] });
 */
export function registerTsProbes(manager: FactoryRegistry): void {
  for (const [kind, factory] of Object.entries(TS_PROBE_FACTORIES)) manager.registerFactory(kind, factory);
}
