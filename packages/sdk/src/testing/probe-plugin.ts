/**
 * The in-process probe plugin: a `node://` factory export that behaves as its config says
 * (`{ behaviour, hooks }`), used by `inProcessProbe` to run the host suite against in-process hosts.
 */
import { CpexError, type Handler, type PluginEntry } from '@cpex/core';
import { definePlugin } from '../define.js';
import { allow, deny, modify } from '../results.js';
import type { ProbeBehaviour } from './probe.js';

function behaviourOf(config: Record<string, unknown> | null, where: string): ProbeBehaviour {
  const b = config?.behaviour as ProbeBehaviour | undefined;
  if (b === undefined || b === null || typeof b !== 'object' || typeof b.kind !== 'string') {
    throw new CpexError('CPEX_ERR_INVALID_ARGUMENT', `${where}: config.behaviour must be { kind, ... }`);
  }
  return b;
}

function handlerFor(b: ProbeBehaviour): Handler {
  switch (b.kind) {
    case 'allow':
      return () => allow(b.metadata);
    case 'deny':
      return () => deny(b.code, b.reason);
    case 'modify':
      return (payload: Record<string, unknown>) => modify({ ...payload, ...b.set });
    case 'throw':
      return () => {
        throw new Error(b.message);
      };
    case 'sleep':
      return (_payload, context) =>
        new Promise((resolve) => {
          record(context.pluginName, 'sleep-start');
          const timer = setTimeout(() => {
            record(context.pluginName, 'slept');
            resolve(allow());
          }, b.ms);
          // Cooperative cancellation: stop sleeping when the manager gives up on us.
          context.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            record(context.pluginName, 'aborted');
            resolve(allow({ aborted: true }));
          });
        });
    case 'hang':
      // Never settles, and ignores its signal: the executor's timeout is all that ends the call.
      return () => new Promise<never>(() => {});
    case 'late': {
      let calls = 0;
      return (payload: Record<string, unknown>, context) => {
        if (calls++ > 0) return allow();
        // Built now: the payload view is not the plugin's to read after the call ended.
        const value = modify({ ...payload, ...b.set });
        // A thenable, not a promise: it calls back late, twice, and once more with a rejection.
        return {
          // biome-ignore lint/suspicious/noThenProperty: a hostile thenable is the point of this probe
          then(onFulfilled: (v: unknown) => void, onRejected: (e: unknown) => void) {
            setTimeout(() => {
              record(context.pluginName, 'late-sent');
              onFulfilled(value);
              onFulfilled(value);
              onRejected(new Error('late rejection'));
            }, b.ms);
          },
        } as unknown as Promise<never>;
      };
    }
    case 'hang_init':
    case 'hang_shutdown':
      return () => allow();
    case 'grow':
    case 'garbage':
    case 'crash':
      // In the gateway's own process these cannot be contained (inProcessProbe declares them as limits).
      return () => {
        throw new Error(`the in-process probe does not run the hostile behaviour ${b.kind}`);
      };
  }
}

// Shared through globalThis: the probe module may be loaded twice (directly and via node://).
const EVENTS_KEY = Symbol.for('cpex.testing.probe-events');
function eventLog(): Map<string, string[]> {
  const g = globalThis as { [EVENTS_KEY]?: Map<string, string[]> };
  g[EVENTS_KEY] ??= new Map();
  return g[EVENTS_KEY];
}

function record(pluginName: string, event: string): void {
  const log = eventLog();
  const list = log.get(pluginName) ?? [];
  list.push(event);
  log.set(pluginName, list);
}

/**
 * What in-process probe plugins named `pluginName` observed (`sleep-start`, `slept`, `aborted`),
 * since the last probe of that name was created.
 *
 * @example
 * expect(probeEvents('probe_slow')).toContain('aborted');
 */
export function probeEvents(pluginName: string): readonly string[] {
  return [...(eventLog().get(pluginName) ?? [])];
}

/**
 * A probe plugin for the host suite: implements `config.hooks` (default: the entry's hooks), each
 * doing `config.behaviour` (allow / deny / modify / throw / sleep). Also the `node://` factory export.
 *
 * @example
 * const host = createInProcessHost((entry) => probePlugin(entry.config, entry));
 */
export default function probePlugin(config: Record<string, unknown> | null, entry: Partial<PluginEntry>) {
  const where = `probe plugin ${entry?.name ?? '?'}`;
  const behaviour = behaviourOf(config, where);
  const hooks = Array.isArray(config?.hooks) ? (config.hooks as string[]) : (entry?.hooks ?? []);
  if (entry?.name) eventLog().delete(entry.name);
  const handler = handlerFor(behaviour);
  const map: Record<string, Handler> = {};
  for (const h of hooks) map[h] = handler;
  const never = () => new Promise<void>(() => {});
  return definePlugin({
    name: entry?.name ?? 'probe',
    hooks: map,
    ...(behaviour.kind === 'hang_init' ? { initialize: never } : {}),
    ...(behaviour.kind === 'hang_shutdown' ? { shutdown: never } : {}),
  });
}
