/**
 * One `wasm://` plugin entry: maps each call to the WIT values, runs handle-hook in-thread or in
 * a worker, and decodes the hook-result into a PluginResult for core's one result rule.
 */
import {
  CpexError,
  checkPayloadBounds,
  DEFAULT_MAX_PAYLOAD_DEPTH,
  type FactoryContext,
  type Handler,
  type HostCapabilities,
  type Logger,
  type PluginContext,
  type PluginDescription,
  type PluginEntry,
  type PluginInstance,
  type PluginResult,
} from '@cpex/core/host';
import type { LoadedComponent } from './loader.js';
import {
  contextToWit,
  extensionsToWit,
  MappingError,
  type PayloadRoute,
  payloadToWit,
  resultFromWit,
  routeFor,
} from './mapping.js';
import type { Isolation, SandboxPolicy } from './policy.js';
import {
  CALL_RETURNED,
  type GuestFailure,
  GuestInstance,
  type GuestSpec,
  isGuestFailure,
  type LogLine,
  precompile,
} from './runtime.js';
import type { WorkerAnswer } from './worker.js';

export const WORKER_CAPABILITIES: HostCapabilities = Object.freeze({
  supportsTimeouts: 'preemptive',
  isolated: true,
  copiesPayloads: true,
});
export const IN_THREAD_CAPABILITIES: HostCapabilities = Object.freeze({
  supportsTimeouts: 'cooperative',
  isolated: false,
  copiesPayloads: true,
});

/** What the plugin needs from the host's worker pool. */
export interface WorkerRunner {
  run(
    task: {
      key: string;
      spec?: GuestSpec;
      args: [string, unknown, unknown, unknown];
      started?: SharedArrayBuffer;
    },
    signal: AbortSignal,
  ): Promise<WorkerAnswer>;
  drop(key: string): void;
  /** Instantiates the guest on every worker thread ahead of the first call. */
  warm(spec: GuestSpec): Promise<void>;
}

export interface WasmPluginSpec {
  entry: PluginEntry;
  file: string;
  policy: SandboxPolicy;
  isolation: Isolation;
  /** Per-call limit in worker mode (min of max_execution_time_ms, fuel time, entry timeout). */
  timeMs: number;
  maxPayloadBytes: number;
  /** `plugin_settings.max_payload_depth`: the wire's nesting bound, both ways. */
  maxPayloadDepth?: number;
  load: () => Promise<LoadedComponent>;
  workers: () => WorkerRunner;
  logger: Logger;
  hooks: FactoryContext['hooks'];
  key: string;
  fuelPerMs: number;
  /** Extra time a fresh worker may take to instantiate the guest before the limit starts. */
  startAllowanceMs: number;
}

type Rec = Record<string, unknown>;
type WaitAsync = {
  waitAsync(
    a: Int32Array,
    i: number,
    v: number,
    t?: number,
  ): { async: boolean; value: Promise<string> | string };
};

/** Rough byte size of a WIT value (strings, bytes, nested), stopping once above `limit`. */
function sizeOf(v: unknown, limit: number): number {
  let total = 0;
  const stack: unknown[] = [v];
  while (stack.length && total <= limit) {
    const x = stack.pop();
    if (typeof x === 'string') total += x.length;
    else if (x instanceof Uint8Array) total += x.length;
    else if (Array.isArray(x)) for (const e of x) stack.push(e);
    else if (x && typeof x === 'object') for (const e of Object.values(x)) stack.push(e);
    else total += 8;
  }
  return total;
}

export class WasmPlugin implements PluginInstance {
  readonly host: HostCapabilities;
  private loaded: LoadedComponent | undefined;
  private guest: GuestInstance | undefined;
  private spec: GuestSpec | undefined;
  private readonly routes = new Map<string, PayloadRoute>();
  private readonly handlers = new Map<string, Handler>();
  private readonly configJson: string;
  private readonly nameJson: string;
  private closed = false;

  constructor(
    private readonly s: WasmPluginSpec,
    configJson: string,
  ) {
    this.host = s.isolation === 'worker' ? WORKER_CAPABILITIES : IN_THREAD_CAPABILITIES;
    this.configJson = configJson;
    this.nameJson = JSON.stringify(s.entry.name);
  }

  async initialize(): Promise<void> {
    if (this.loaded) return;
    this.loaded = await this.s.load();
    this.spec = {
      key: this.s.key,
      plugin: this.s.entry.name,
      dir: this.loaded.dir,
      jsFile: this.loaded.jsFile,
      policy: this.s.policy,
      httpTimeoutMs: Math.max(1000, this.s.timeMs),
    };
    if (this.s.isolation === 'none') {
      try {
        this.guest = await GuestInstance.create(this.spec, (line) => this.log(line));
      } catch (e) {
        throw this.loadError(e);
      }
    } else {
      await precompile(this.spec, this.loaded.coreFiles).catch((e) => {
        throw this.loadError(e);
      });
      await this.s.workers().warm(this.spec);
    }
  }

  private loadError(e: unknown): CpexError {
    const f = isGuestFailure(e) ? e : undefined;
    const msg = f
      ? `${f.message}${f.stderr ? `; guest stderr: ${f.stderr}` : ''}`
      : e instanceof Error
        ? e.message
        : String(e);
    return new CpexError('CPEX_ERR_WASM_LOAD', `plugin "${this.s.entry.name}": cannot instantiate: ${msg}`, {
      plugin: this.s.entry.name,
      cause: e,
    });
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    this.guest = undefined;
    if (this.s.isolation === 'worker' && this.spec) this.s.workers().drop(this.spec.key);
  }

  handler(hook: string): Handler | undefined {
    if (!this.s.entry.hooks.includes(hook)) return undefined;
    let h = this.handlers.get(hook);
    if (!h) {
      const route = routeFor(hook, this.s.hooks.get(hook)?.family);
      this.routes.set(hook, route);
      h = (payload, context, extensions) => this.call(hook, route, payload, context, extensions);
      this.handlers.set(hook, h);
    }
    return h;
  }

  private log(line: LogLine): void {
    const fields = { plugin: this.s.entry.name, stream: line.stream };
    const text = line.text;
    switch (line.level) {
      case 'error':
        this.s.logger.error(text, fields);
        break;
      case 'warn':
        this.s.logger.warn(text, fields);
        break;
      case 'info':
        this.s.logger.info(text, fields);
        break;
      default:
        this.s.logger.debug(text, fields);
    }
  }

  private fail(
    code: 'CPEX_ERR_WASM_TRAP' | 'CPEX_ERR_WASM_OUTPUT' | 'CPEX_ERR_PAYLOAD_TOO_LARGE',
    hook: string,
    message: string,
    details?: Rec,
  ): never {
    throw new CpexError(code, `plugin "${this.s.entry.name}" (${hook}): ${message}`, {
      plugin: this.s.entry.name,
      hook,
      ...(details ? { details } : {}),
    });
  }

  private async call(
    hook: string,
    route: PayloadRoute,
    payload: unknown,
    context: PluginContext,
    extensions: unknown,
  ): Promise<PluginResult> {
    if (this.closed || !this.spec)
      throw new CpexError('CPEX_ERR_SHUT_DOWN', `plugin "${this.s.entry.name}" is shut down`);
    let args: [string, unknown, unknown, unknown];
    let sent: ReturnType<typeof payloadToWit>['sent'];
    let extWit: Rec;
    // The wire's depth bound (max_payload_depth), before anything is serialized: a coded
    // CPEX_ERR_PAYLOAD_TOO_DEEP, never a RangeError from the JSON encoding of a deep payload.
    const bounds = { maxDepth: this.s.maxPayloadDepth ?? DEFAULT_MAX_PAYLOAD_DEPTH };
    const where = `WASM plugin "${this.s.entry.name}" on ${hook}`;
    checkPayloadBounds(payload, bounds, `${where}: payload`);
    if (extensions != null) checkPayloadBounds(extensions, bounds, `${where}: extensions`);
    try {
      const p = payloadToWit(route, payload, context.globalContext);
      sent = p.sent;
      extWit = extensionsToWit(extensions as Parameters<typeof extensionsToWit>[0]).wit;
      args = [hook, p.wit, extWit, contextToWit(context, this.configJson, this.nameJson)];
    } catch (e) {
      if (e instanceof MappingError) {
        throw new CpexError(
          'CPEX_ERR_INVALID_PAYLOAD',
          `plugin "${this.s.entry.name}" (${hook}): cannot map the payload to WIT: ${e.message}`,
          {
            plugin: this.s.entry.name,
            hook,
          },
        );
      }
      throw e;
    }
    const limit = this.s.maxPayloadBytes;
    const inSize = sizeOf(args, limit);
    if (inSize > limit)
      this.fail(
        'CPEX_ERR_PAYLOAD_TOO_LARGE',
        hook,
        `input of ~${inSize} bytes exceeds max_payload_bytes ${limit}`,
      );

    let raw: unknown;
    if (this.guest) {
      try {
        raw = await this.guest.call(args);
      } catch (e) {
        this.trap(hook, e);
      }
    } else {
      raw = await this.viaWorker(hook, args, context);
    }
    const outSize = sizeOf(raw, limit);
    if (outSize > limit)
      this.fail(
        'CPEX_ERR_WASM_OUTPUT',
        hook,
        `output of ~${outSize} bytes exceeds max_payload_bytes ${limit}`,
      );
    let result: PluginResult;
    try {
      result = resultFromWit(raw, sent, extWit, context);
    } catch (e) {
      if (e instanceof MappingError)
        this.fail('CPEX_ERR_WASM_OUTPUT', hook, `undecodable hook-result: ${e.message}`);
      throw e;
    }
    // What the guest sends back crosses the same boundary: the same depth bound.
    if (result.modifiedPayload !== undefined)
      checkPayloadBounds(result.modifiedPayload, bounds, `${where}: modified payload`);
    if (result.modifiedExtensions !== undefined)
      checkPayloadBounds(result.modifiedExtensions, bounds, `${where}: modified extensions`);
    return result;
  }

  private trap(hook: string, e: unknown): never {
    const f: GuestFailure = isGuestFailure(e) ? e : { kind: 'trap', message: String(e), stderr: '' };
    const panic = /panicked at[^\n]*\n?([^\n]*)/.exec(f.stderr);
    const why = panic ? `${f.message} (${(panic[1] || panic[0]).trim()})` : f.message;
    const tail = f.stderr && !panic ? `; guest stderr: ${f.stderr.slice(-500)}` : '';
    this.fail(
      'CPEX_ERR_WASM_TRAP',
      hook,
      `${f.kind === 'exit' ? 'guest exited' : 'guest trapped'}: ${why}${tail}`,
      {
        kind: f.kind,
        stderr: f.stderr.slice(-2000),
      },
    );
  }

  private async viaWorker(
    hook: string,
    args: [string, unknown, unknown, unknown],
    context: PluginContext,
  ): Promise<unknown> {
    const ctl = new AbortController();
    const external = (context as { timeoutMs?: number }).timeoutMs;
    const ms =
      typeof external === 'number' && external > 0 ? Math.min(external, this.s.timeMs) : this.s.timeMs;
    let timedOut = false;
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // The limit counts from the moment the guest runs, not while a fresh worker instantiates it
    // (that has its own, generous backstop). A limit expiring after the guest has returned (its
    // answer queued behind a busy event loop) does not stop the call.
    const started = new SharedArrayBuffer(4);
    const flag = new Int32Array(started);
    const expire = () => {
      if (Atomics.load(flag, 0) === CALL_RETURNED) return;
      timedOut = true;
      ctl.abort();
    };
    const waited = (Atomics as unknown as WaitAsync).waitAsync(flag, 0, 0, this.s.startAllowanceMs);
    const startTimer = () => {
      if (!settled && timer === undefined) timer = setTimeout(expire, ms);
    };
    const backstop = setTimeout(expire, ms + this.s.startAllowanceMs);
    if (waited.async) void (waited.value as Promise<string>).then(startTimer);
    else startTimer();
    const onAbort = () => ctl.abort();
    const watching = context.onAbort
      ? context.onAbort(onAbort)
      : (context.signal.addEventListener('abort', onAbort), true);
    if (!watching) ctl.abort();
    try {
      let answer = await this.s.workers().run({ key: this.spec!.key, args, started }, ctl.signal);
      // A thread that has not heard of this plugin yet (its announcement still on the way).
      if ('needSpec' in answer)
        answer = await this.s
          .workers()
          .run({ key: this.spec!.key, spec: this.spec!, args, started }, ctl.signal);
      if ('needSpec' in answer) throw new Error('the worker thread did not take the plugin spec');
      for (const line of answer.logs) this.log(line);
      if (answer.cold)
        this.s.logger.debug(
          `plugin "${this.s.entry.name}" (${hook}): a worker thread instantiated the guest on a call (it was not warmed ahead)`,
          { plugin: this.s.entry.name, cold: true },
        );
      if (!answer.ok) this.trap(hook, answer.failure);
      return answer.result;
    } catch (e) {
      if (ctl.signal.aborted) {
        if (timedOut) {
          throw new CpexError(
            'CPEX_ERR_PLUGIN_TIMEOUT',
            `plugin "${this.s.entry.name}" (${hook}) exceeded ${ms} ms; its worker was terminated`,
            {
              plugin: this.s.entry.name,
              hook,
              details: { limitMs: ms },
            },
          );
        }
        throw new CpexError(
          'CPEX_ERR_ABORTED',
          `plugin "${this.s.entry.name}" (${hook}) was aborted; its worker was terminated`,
          {
            plugin: this.s.entry.name,
            hook,
          },
        );
      }
      throw e;
    } finally {
      settled = true;
      clearTimeout(timer);
      clearTimeout(backstop);
      context.offAbort?.(onAbort);
    }
  }

  describe(): PluginDescription {
    const p = this.s.policy;
    const grants: Rec = {};
    if (p.allowedEnv.length) grants.env = [...p.allowedEnv];
    if (p.allowedFilesystem.length)
      grants.filesystem = p.allowedFilesystem.map((g) => ({
        path: g.guestPath,
        host_path: g.hostPath,
        permission: g.permission,
      }));
    if (p.allowedNetwork.length) grants.network = p.allowedNetwork.map((r) => ({ ...r }));
    const limits: Rec = { max_execution_time_ms: this.s.isolation === 'worker' ? this.s.timeMs : null };
    if (p.maxMemoryBytes !== undefined) limits.max_memory_bytes = p.maxMemoryBytes;
    if (p.maxFuel !== undefined)
      limits.max_fuel = `${p.maxFuel} (mapped to ${Math.ceil(p.maxFuel / this.s.fuelPerMs)} ms)`;
    if (p.maxInstances !== undefined) limits.max_instances = p.maxInstances;
    if (p.maxTables !== undefined) limits.max_tables = p.maxTables;
    grants.limits = limits;
    const notes: string[] = ['deny-by-default WASI: no env, files, sockets or HTTP beyond the grants'];
    if (this.s.isolation === 'none')
      notes.push(
        'isolation: none — runs in the gateway thread; the timeout is not pre-emptive (a late result is discarded)',
      );
    if (p.maxFuel !== undefined) notes.push('max_fuel has no V8 counterpart: enforced as time');
    return {
      host: 'wasm',
      isolation: this.s.isolation === 'worker' ? 'worker' : 'none',
      timeouts: this.host.supportsTimeouts,
      grants,
      details: {
        file: this.s.file,
        ...(this.loaded
          ? {
              sha256: this.loaded.hash,
              bytes: this.loaded.bytes,
              imports: this.loaded.imports,
              cache: this.loaded.dir,
            }
          : {}),
      },
      notes,
    };
  }
}
