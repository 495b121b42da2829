/**
 * The `context` handed to one plugin call. Everything is lazy: the local entry of the context
 * table, the copy of the caller's GlobalContext and the AbortSignal are only created when the
 * plugin touches them, so a passthrough plugin costs one small object.
 *
 * Isolation: everything the executor holds for a call — the context table (every plugin's local
 * state), the caller's GlobalContext, the plugin's pending writes, the abort machinery — is in
 * `#private` fields, which no plugin can reach (TypeScript `private` is not a boundary). The
 * executor's operations on a context (commit, merge, abort) are module functions, not methods a
 * plugin could call on its own context. A plugin sees its own local state and copies of the
 * global context, nothing else.
 */
import type { GlobalContext, Phase, PluginContext, PluginContextData } from '../types.js';
import type { ContextTable, TableKey } from './context-table.js';
import { copyPlain, setOwn } from './copy.js';

/**
 * Where a call finds the caller's GlobalContext (the invocation, or the concurrent phase's run):
 * asked only when the plugin touches `globalContext`, so an invocation whose caller gave none
 * builds it only if a plugin looks.
 */
export interface CallerGlobal {
  /** The caller's GlobalContext: what the phase merges the plugin's writes into. */
  callerGlobal(): GlobalContext;
  /**
   * What the plugin's copy is made from: the caller's GlobalContext as it is now (the invocation),
   * or as the phase found it (concurrent plugins all start from one snapshot).
   */
  globalSource(): GlobalContext;
}

let commitOf: (c: CallContext) => void;
let mergeOf: (c: CallContext) => void;
let abortOf: (c: CallContext, reason: unknown) => void;
let copyEntryOf: (c: CallContext) => PluginContextData;
let globalOf: (c: CallContext) => GlobalContext | undefined;

/**
 * A call's abort machinery, made only when the plugin asks for its signal or an onAbort, or when
 * the call is aborted: most calls never need it, and a context stays one small object.
 */
class AbortState {
  controller: AbortController | undefined = undefined;
  /** Set when the call was aborted before the signal existed. */
  reason: unknown = undefined;
  aborted = false;
  /** `onAbort` listeners: none, one, or several. */
  listeners: ((reason: unknown) => void) | Array<(reason: unknown) => void> | undefined = undefined;
}

/** What a call's context needs to know of its plugin (the registration). */
export interface CallKey extends TableKey {
  /** The plugin's effective timeout (ms). */
  readonly timeoutMs: number;
}

export class CallContext implements PluginContext {
  readonly hook: string;
  readonly phase: Phase;
  readonly #table: ContextTable;
  readonly #key: CallKey;
  readonly #caller: CallerGlobal;
  #local: PluginContextData | undefined;
  /** The plugin's copy of the global context, if it asked for one. */
  #global: GlobalContext | undefined;
  #abort: AbortState | undefined;

  constructor(table: ContextTable, key: CallKey, caller: CallerGlobal, hook: string, phase: Phase) {
    this.#table = table;
    this.#key = key;
    this.#caller = caller;
    this.hook = hook;
    this.phase = phase;
  }

  // Read from the registration, not stored: a context is made per call, and every field costs.
  get pluginName(): string {
    return this.#key.name;
  }

  /** The plugin's effective timeout (ms) for this call; a pre-emptive host enforces it itself. */
  get timeoutMs(): number {
    return this.#key.timeoutMs;
  }

  static {
    // Local state is transactional: the plugin works on a shallow copy that the executor commits
    // when the call settles normally (result or thrown error). A timed-out or abandoned call keeps
    // running in JS, but nothing it writes reaches the table.
    commitOf = (c) => {
      const l = c.#local;
      if (l === undefined) return;
      const e = c.#table.entry(c.#key);
      e.state = l.state;
      e.metadata = l.metadata;
    };
    // Global-context writes merge into the caller's (sequential, transform, concurrent). The merged
    // values are copied again, so a plugin that keeps a reference after its call cannot reach the
    // caller's objects through them.
    // Everything is read (and may throw, on hostile values) before anything is written: the merge
    // is whole or not at all.
    mergeOf = (c) => {
      const g = c.#global;
      if (g === undefined) return;
      const state = copyEntries(g.state);
      const metadata = copyEntries(g.metadata);
      const caller = c.#caller.callerGlobal();
      // setOwn: a key "__proto__" (JSON.parse, defineProperty) stays data, never re-parents the caller's objects
      for (let i = 0; i < state.length; i += 2) setOwn(caller.state, state[i] as string, state[i + 1]);
      for (let i = 0; i < metadata.length; i += 2)
        setOwn(caller.metadata, metadata[i] as string, metadata[i + 1]);
    };
    globalOf = (c) => c.#global;
    // A module function, not a private method: a private method brands every instance (one more field).
    copyEntryOf = (c) => {
      const e = c.#table.entry(c.#key);
      return { state: { ...e.state }, metadata: { ...e.metadata } };
    };
    abortOf = (c, reason) => {
      const a = (c.#abort ??= new AbortState());
      if (a.aborted) return;
      a.aborted = true;
      const ctl = a.controller;
      if (ctl) {
        if (!ctl.signal.aborted) ctl.abort(reason);
      } else a.reason ??= reason;
      const l = a.listeners;
      if (l === undefined) return;
      a.listeners = undefined;
      for (const fn of typeof l === 'function' ? [l] : l) {
        try {
          fn(reason);
        } catch {
          // A listener's failure must not stop the others (as with an AbortSignal's listeners).
        }
      }
    };
  }

  get state(): Record<string, unknown> {
    this.#local ??= copyEntryOf(this);
    return this.#local.state;
  }

  get metadata(): Record<string, unknown> {
    this.#local ??= copyEntryOf(this);
    return this.#local.metadata;
  }

  /**
   * This plugin's copy of the caller's GlobalContext, made on first access (from the phase's
   * snapshot in the concurrent phase: every concurrent plugin starts from the state the phase
   * started with, whenever it looks, as in Python cpex). `state`, `metadata`,
   * `user` and `userContext` are deep copies of their plain data (objects and arrays; other
   * values are shared), so an in-place write reaches the caller only through the phase's merge
   * of state/metadata — never from audit, fire_and_forget, a timed-out or an aborted call.
   */
  get globalContext(): GlobalContext {
    return (this.#global ??= copyGlobalContext(this.#caller.globalSource()));
  }

  get signal(): AbortSignal {
    const a = (this.#abort ??= new AbortState());
    if (a.controller === undefined) {
      a.controller = new AbortController();
      if (a.aborted) a.controller.abort(a.reason);
    }
    return a.controller.signal;
  }

  onAbort(listener: (reason: unknown) => void): boolean {
    const a = (this.#abort ??= new AbortState());
    if (a.aborted) return false;
    const l = a.listeners;
    if (l === undefined) a.listeners = listener;
    else if (typeof l === 'function') a.listeners = [l, listener];
    else l.push(listener);
    return true;
  }

  offAbort(listener: (reason: unknown) => void): void {
    const a = this.#abort;
    if (a === undefined) return;
    const l = a.listeners;
    if (l === listener) a.listeners = undefined;
    else if (Array.isArray(l)) {
      const i = l.indexOf(listener);
      if (i >= 0) l.splice(i, 1);
    }
  }

  getState<T = unknown>(key: string, fallback?: T): T | undefined {
    const v = this.state[key];
    return v === undefined ? fallback : (v as T);
  }

  setState(key: string, value: unknown): void {
    setOwn(this.state, key, value);
  }
}

/**
 * A copy of a GlobalContext: `state`, `metadata`, `user` and `userContext` deep-copied as plain
 * data (other fields and values shared). A plugin's own copy, and the snapshots the concurrent
 * and fire_and_forget phases take, are made by this one function.
 */
export function copyGlobalContext(c: GlobalContext): GlobalContext {
  const g: GlobalContext = { ...c, state: copyRecord(c.state), metadata: copyRecord(c.metadata) };
  if (c.user !== undefined && typeof c.user === 'object')
    g.user = copyPlain(c.user) as Record<string, unknown>;
  if (c.userContext !== undefined) g.userContext = copyPlain(c.userContext) as Record<string, unknown>;
  return g;
}

/** A record copied as plain data; an empty one is not walked. */
function copyRecord(o: Record<string, unknown>): Record<string, unknown> {
  for (const _ in o) return copyPlain(o) as Record<string, unknown>;
  return {};
}

/** [key, copy, key, copy, ...] of a plugin-written record (empty when it is not an object). */
function copyEntries(o: unknown): unknown[] {
  if (o === null || typeof o !== 'object') return [];
  const out: unknown[] = [];
  for (const k of Object.keys(o)) out.push(k, copyPlain((o as Record<string, unknown>)[k]));
  return out;
}

/** Write a call's local state back into the context table (the call settled normally). */
export function commitContext(c: CallContext): void {
  commitOf(c);
}

/** True when the plugin asked for its copy of the global context (so it may have written to it). */
export function wroteGlobal(c: CallContext): boolean {
  return globalOf(c) !== undefined;
}

/** Merge a call's global-context writes into the caller's (sequential/transform/concurrent only). */
export function mergeGlobalContext(c: CallContext): void {
  mergeOf(c);
}

/** Abort a call: its signal (created or not yet) and its `onAbort` listeners, once. */
export function abortContext(c: CallContext, reason: unknown): void {
  abortOf(c, reason);
}
