/**
 * The `context` handed to one plugin call. Everything is lazy: the local entry of the context
 * table, the copy of the caller's GlobalContext and the AbortSignal are only created when the
 * plugin touches them, so a passthrough plugin costs one small object.
 */
import type { GlobalContext, Phase, PluginContext, PluginContextData } from '../types.js';
import { copyPlain } from './copy.js';
import type { ContextTable, TableKey } from './context-table.js';

export class CallContext implements PluginContext {
  readonly pluginName: string;
  readonly hook: string;
  readonly phase: Phase;
  private readonly table: ContextTable;
  private readonly key: TableKey;
  private readonly caller: GlobalContext;
  private local: PluginContextData | undefined;
  /** The plugin's copy of the global context, if it asked for one. */
  globalCopy: GlobalContext | undefined;
  controller: AbortController | undefined;
  /** Set when the call was aborted before the signal existed. */
  abortReason: unknown;
  private aborted = false;
  /** `onAbort` listeners: none, one, or several. */
  private abortListeners: ((reason: unknown) => void) | Array<(reason: unknown) => void> | undefined;

  constructor(table: ContextTable, key: TableKey, caller: GlobalContext, hook: string, phase: Phase) {
    this.table = table;
    this.key = key;
    this.caller = caller;
    this.pluginName = key.name;
    this.hook = hook;
    this.phase = phase;
  }

  /**
   * Local state is transactional: the plugin works on a shallow copy that the executor commits when
   * the call settles normally (result or thrown error). A timed-out or abandoned call (a sibling's
   * deny, the caller's abort) keeps running in JS, but nothing it writes reaches the table.
   */
  get state(): Record<string, unknown> {
    this.local ??= this.copyEntry();
    return this.local.state;
  }

  get metadata(): Record<string, unknown> {
    this.local ??= this.copyEntry();
    return this.local.metadata;
  }

  private copyEntry(): PluginContextData {
    const e = this.table.entry(this.key);
    return { state: { ...e.state }, metadata: { ...e.metadata } };
  }

  /** Write this call's local state back into the context table (called when the call settled normally). */
  commit(): void {
    const l = this.local;
    if (l === undefined) return;
    const e = this.table.entry(this.key);
    e.state = l.state;
    e.metadata = l.metadata;
  }

  /**
   * This plugin's copy of the caller's GlobalContext, made on first access. `state` and `metadata`
   * are deep copies of their plain data (objects and arrays; other values are shared), so a nested
   * in-place write reaches the caller only through the phase's merge — never from audit,
   * fire_and_forget, a timed-out or an aborted call.
   */
  get globalContext(): GlobalContext {
    if (this.globalCopy === undefined) {
      const c = this.caller;
      this.globalCopy = {
        ...c,
        state: copyPlain(c.state) as Record<string, unknown>,
        metadata: copyPlain(c.metadata) as Record<string, unknown>,
      };
    }
    return this.globalCopy;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  onAbort(listener: (reason: unknown) => void): boolean {
    if (this.aborted) return false;
    const l = this.abortListeners;
    if (l === undefined) this.abortListeners = listener;
    else if (typeof l === 'function') this.abortListeners = [l, listener];
    else l.push(listener);
    return true;
  }

  offAbort(listener: (reason: unknown) => void): void {
    const l = this.abortListeners;
    if (l === listener) this.abortListeners = undefined;
    else if (Array.isArray(l)) {
      const i = l.indexOf(listener);
      if (i >= 0) l.splice(i, 1);
    }
  }

  /** Abort this call: its signal (created or not yet) and its `onAbort` listeners, once. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    if (this.controller) {
      if (!this.controller.signal.aborted) this.controller.abort(reason);
    } else this.abortReason ??= reason;
    const l = this.abortListeners;
    if (l === undefined) return;
    this.abortListeners = undefined;
    for (const fn of typeof l === 'function' ? [l] : l) {
      try {
        fn(reason);
      } catch {
        // A listener's failure must not stop the others (as with an AbortSignal's listeners).
      }
    }
  }

  getState<T = unknown>(key: string, fallback?: T): T | undefined {
    const v = this.state[key];
    return v === undefined ? fallback : (v as T);
  }

  setState(key: string, value: unknown): void {
    this.state[key] = value;
  }

  /** Merge this plugin's global-context writes into the caller's (sequential/transform/concurrent). */
  mergeGlobal(): void {
    const g = this.globalCopy;
    if (g === undefined) return;
    Object.assign(this.caller.state, g.state);
    Object.assign(this.caller.metadata, g.metadata);
  }
}
