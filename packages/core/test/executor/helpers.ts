/**
 * Shared helpers for the executor-rule suite (one test per rule of ARCHITECTURE.md sections 3–4).
 *
 * Everything here drives the real PluginManager with real in-process plugins; nothing is mocked.
 * The logger only captures what the manager logs so tests can assert on warnings.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { afterEach } from 'vitest';
import {
  CpexError,
  type GlobalContext,
  type Handler,
  type InvokeOptions,
  type Logger,
  type ManagerOptions,
  type PluginContext,
  type PipelineResult,
  type PluginEntry,
  type PluginFactory,
  PluginManager,
  type PluginResult,
  pluginToInstance,
} from '../../src/index.js';

export type LogLine = {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  fields?: Record<string, unknown>;
};

/** A logger that records every line (the default one writes warnings to stderr). */
export function captureLogger(): Logger & { lines: LogLine[]; warnings(): string[] } {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine['level']) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      lines.push(fields === undefined ? { level, msg } : { level, msg, fields });
    };
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    warnings: () => lines.filter((l) => l.level === 'warn').map((l) => l.msg),
  };
}

const open: PluginManager[] = [];

afterEach(async () => {
  const list = open.splice(0);
  await Promise.allSettled(list.map((m) => m.shutdown()));
});

/** A manager with a capturing logger and an empty environment, shut down after the test. */
export function newManager(
  options: ManagerOptions = {},
): PluginManager & { log: ReturnType<typeof captureLogger> } {
  const log = captureLogger();
  const m = new PluginManager({ env: {}, logger: log, ...options }) as PluginManager & {
    log: ReturnType<typeof captureLogger>;
  };
  m.log = log;
  open.push(m);
  return m;
}

/** Ordered event log shared by the plugins of one test. */
export class Trail {
  readonly events: string[] = [];
  add(e: string): void {
    this.events.push(e);
  }
  /** Names of plugins that ran (events of the form `<name>` only). */
  get ran(): string[] {
    return this.events.filter((e) => !e.includes(':'));
  }
  indexOf(e: string): number {
    const i = this.events.indexOf(e);
    if (i < 0) throw new Error(`event ${e} never happened; events: ${this.events.join(', ')}`);
    return i;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Wait for an event-like condition (a flag a plugin sets, an entry in a trail) instead of sleeping
 * a guessed time. Polls once per event-loop turn; the bound only limits a failing test, so it is
 * generous (a loaded 2-core CI machine must never reach it on a passing run).
 */
export async function until(cond: () => boolean, what = 'condition', boundMs = 20_000): Promise<void> {
  const end = Date.now() + boundMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not reached within ${boundMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Resolves when the signal aborts (or at once if it already has), with its reason. */
export function aborted(signal: AbortSignal): Promise<unknown> {
  if (signal.aborted) return Promise.resolve(signal.reason);
  return new Promise((r) => signal.addEventListener('abort', () => r(signal.reason), { once: true }));
}

/** A promise with its resolve function exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Busy-wait (a synchronous handler that overruns its timeout). */
export function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* burn */
  }
}

/** The longest an array can be. */
export const MAX_ARRAY_LENGTH = 2 ** 32 - 1;

/**
 * An array of the maximum length that holds only `held` (at indices 3, 4, ...): free to make, and
 * minutes for any walker that visits every index.
 */
export function holeBomb(...held: unknown[]): unknown[] {
  const a: unknown[] = [];
  a.length = MAX_ARRAY_LENGTH;
  held.forEach((v, i) => {
    a[3 + i] = v;
  });
  return a;
}

/** A caller GlobalContext. */
export function gctx(requestId: string, extra: Partial<GlobalContext> = {}): GlobalContext {
  return { requestId, state: {}, metadata: {}, ...extra };
}

/**
 * Register a hook handler that records its name in `trail` when it starts, then runs `body`.
 * Returns nothing the test needs; the handler result is whatever `body` returns.
 */
export function probe(
  manager: PluginManager,
  trail: Trail,
  name: string,
  entry: Partial<PluginEntry> & { hook?: string } = {},
  // biome-ignore lint/suspicious/noExplicitAny: test payloads are ad-hoc shapes
  body?: (payload: any, ctx: PluginContext) => PluginResult | undefined | Promise<PluginResult | undefined>,
): void {
  const { hook = 'tool_pre_invoke', ...rest } = entry;
  const handler: Handler = (payload, ctx) => {
    trail.add(name);
    return body ? body(payload, ctx) : undefined;
  };
  manager.registerHook(hook, handler, { name, ...rest });
}

/** Expect a promise to reject with a CpexError of `code`; returns the error. */
export async function rejectsWith(p: Promise<unknown> | (() => unknown), code: string): Promise<CpexError> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  if (!(err instanceof CpexError)) {
    throw new Error(`expected a CpexError ${code}, got ${err === undefined ? 'no error' : String(err)}`);
  }
  if (err.code !== code) throw new Error(`expected ${code}, got ${err.code}: ${err.message}`);
  return err;
}

/** Subscribe to the four cpex tracing channels; messages of other managers are filtered out. */
export function traceOf(
  manager: PluginManager,
  channels: ReadonlyArray<'cpex:hook:start' | 'cpex:hook:end' | 'cpex:plugin:start' | 'cpex:plugin:end'> = [
    'cpex:hook:start',
    'cpex:hook:end',
    'cpex:plugin:start',
    'cpex:plugin:end',
  ],
): { messages: Array<{ channel: string; msg: Record<string, unknown> }>; stop(): void } {
  const messages: Array<{ channel: string; msg: Record<string, unknown> }> = [];
  const subs = channels.map((name) => {
    const fn = (msg: unknown) => {
      if ((msg as { manager?: unknown }).manager === manager)
        messages.push({ channel: name, msg: msg as Record<string, unknown> });
    };
    diagnostics_channel.subscribe(name, fn);
    return () => diagnostics_channel.unsubscribe(name, fn);
  });
  return {
    messages,
    stop: () => {
      for (const s of subs) s();
    },
  };
}

/** A plain-data deep copy of a payload, to compare the caller's object after a call. */
export const snapshot = <T>(v: T): T => structuredClone(v);

/** A factory whose plugins record their name in the trail on every hook they list. */
export function recordingFactory(t: Trail): PluginFactory {
  return {
    async create(entry) {
      const hooks: Record<string, () => undefined> = {};
      for (const h of entry.hooks) hooks[h] = () => void t.add(entry.name);
      return pluginToInstance({ name: entry.name, hooks });
    },
  };
}

/**
 * `manager.invoke` with loose payload typing: these tests use ad-hoc payloads on built-in hooks
 * (the executor rules do not depend on payload schemas).
 */
export function run(
  manager: PluginManager,
  hook: string,
  payload: unknown,
  options?: InvokeOptions,
  // biome-ignore lint/suspicious/noExplicitAny: results of ad-hoc payloads
): Promise<PipelineResult<any>> {
  return (manager.invoke as (h: string, p: unknown, o?: InvokeOptions) => Promise<PipelineResult<unknown>>)(
    hook,
    payload,
    options,
  );
}
