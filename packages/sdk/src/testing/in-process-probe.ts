/**
 * Probes for in-process hosts: behaviour travels in the entry's `config`, the plugin comes from
 * `probePlugin` (directly, or as the default export of the `node://` probe module).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HostLimit, HostProbe, HostileKind } from './probe.js';
import { probeEvents } from './probe-plugin.js';

/** What no in-process host can contain: the plugin runs in the gateway's own process and heap. */
const IN_PROCESS_LIMITS: Partial<Record<HostileKind, HostLimit>> = {
  grow: {
    reason: "an in-process plugin allocates from the gateway's own heap",
    doc: 'docs/security.md',
    says: 'allocates without bound',
  },
  garbage: {
    reason: "an in-process plugin writes to the gateway's own stdout",
    doc: 'docs/security.md',
    says: "writes to the gateway's stdout",
  },
  crash: {
    reason: 'an in-process plugin that exits or aborts takes the gateway down',
    doc: 'docs/security.md',
    says: 'takes the gateway down',
  },
};

/**
 * Probe entries `{ kind, config: { behaviour, hooks } }` for an in-process host: `kind` defaults to
 * `in-process` (core's `createInProcessHost(resolve)` with `probePlugin` as resolver); pass
 * `'node://'` to get entries that import the probe module through the `node://` factory.
 *
 * @example
 * await testHost({ name: 'in-process', makeHost: () => createInProcessHost((e) => probePlugin(e.config, e)), probe: inProcessProbe() });
 */
export function inProcessProbe(kind: 'in-process' | 'node://' = 'in-process'): HostProbe {
  if (kind === 'in-process') {
    return {
      entry: (behaviour, hooks) => ({ kind: 'in-process', config: { behaviour, hooks: [...hooks] } }),
      events: probeEvents,
      limits: IN_PROCESS_LIMITS,
    };
  }
  const here = fileURLToPath(import.meta.url);
  // .ts when run from source, .js from dist.
  const modulePath = path.join(path.dirname(here), `probe-plugin${path.extname(here)}`);
  return {
    entry: (behaviour, hooks) => ({ kind: `node://${modulePath}`, config: { behaviour, hooks: [...hooks] } }),
    events: probeEvents,
    limits: IN_PROCESS_LIMITS,
  };
}
