/**
 * The per-request table of plugin contexts (Python `PluginContextTable`): each plugin's local
 * state and metadata for one `requestId`. Pass the returned table back to the next `invoke` of
 * the same request (pre → post) and every plugin gets its own local state back.
 *
 * Entries are keyed by plugin registration (not just name), so a plugin re-registered under the
 * same name starts fresh. They are materialized lazily: a plugin that never touches its context
 * costs no allocation until someone reads the table.
 */
import type { ContextTableLike, PluginContextData } from '../types.js';

/** What the table needs to know about a plugin registration. */
export interface TableKey {
  readonly name: string;
}

let anonymousRequests = 0;

export class ContextTable implements ContextTableLike {
  /** The request id; for an invocation whose caller gave none, made from #anon on first read. */
  #requestId: string | undefined;
  readonly #anon: number;
  /** Plugins that ran or were scheduled in the call that produced this table, in that order. */
  private readonly keys: TableKey[] = [];
  /** Materialized entries; created on the first one (a passthrough invocation never needs it). */
  private data: Map<TableKey, PluginContextData> | undefined;
  private previous: ContextTable | undefined;

  /**
   * `requestId` undefined: the caller gave no GlobalContext, so this request has an id of its own,
   * `cpex-<invocation>-<n>`, unique in the process (and nothing to carry over: no previous table
   * can have it). The string is only built when someone reads it.
   */
  constructor(requestId: string | undefined, previous?: ContextTableLike | null, invocation = 0) {
    this.#requestId = requestId;
    this.#anon = invocation;
    if (requestId !== undefined && previous instanceof ContextTable && previous.requestId === requestId) {
      previous.detach();
      this.previous = previous;
    }
  }

  get requestId(): string {
    return (this.#requestId ??= `cpex-${this.#anon}-${++anonymousRequests}`);
  }

  /** Materialize what this table carries over and drop its own link back, so tables never chain. */
  private detach(): void {
    if (this.previous === undefined) return;
    for (const k of this.keys) this.entry(k);
    this.previous = undefined;
  }

  /** Record that a plugin participates; `fresh` (fire_and_forget) never reuses previous state. */
  participate(key: TableKey, fresh: boolean): void {
    // A plugin runs at most once per invocation (one phase), so no duplicate check is needed.
    this.keys.push(key);
    if (fresh) (this.data ??= new Map()).set(key, { state: {}, metadata: {} });
  }

  /** The context data of a participant, created (or carried over from the previous table) on first use. */
  entry(key: TableKey): PluginContextData {
    const data = (this.data ??= new Map());
    let d = data.get(key);
    if (d === undefined) {
      d = this.previous?.peek(key) ?? { state: {}, metadata: {} };
      data.set(key, d);
    }
    return d;
  }

  /** @internal */
  peek(key: TableKey): PluginContextData | undefined {
    const d = this.data?.get(key);
    if (d !== undefined) return d;
    // A participant of that call that never touched its context: carry forward from further back.
    return this.keys.includes(key) ? this.previous?.peek(key) : undefined;
  }

  get size(): number {
    return this.keys.length;
  }

  get(pluginName: string): PluginContextData | undefined {
    const k = this.keys.find((x) => x.name === pluginName);
    return k ? this.entry(k) : undefined;
  }

  /** Plugin names in this table, in participation order. */
  names(): string[] {
    return this.keys.map((k) => k.name);
  }

  toJSON(): Record<string, PluginContextData> {
    const out: Record<string, PluginContextData> = {};
    for (const k of this.keys) {
      const d = this.entry(k);
      out[k.name] = { state: d.state, metadata: d.metadata };
    }
    return out;
  }
}
