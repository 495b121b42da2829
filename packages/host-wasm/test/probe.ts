/**
 * HostProbe for the WASM host: the Rust probe component, behaviour in its config. The hostile
 * behaviours map onto the probe's sandbox tests: hang = a spinning guest, late = a guest that
 * sleeps past its timeout and then modifies, grow = unbounded `memory.grow` under
 * `max_memory_bytes`, garbage = undecodable output (its deny never leaves the guest), crash = a trap.
 */
import type { HostileKind, HostLimit, HostProbe, ProbeBehaviour } from '@cpex/sdk/testing';

export function probeConfig(b: ProbeBehaviour): Record<string, unknown> {
  switch (b.kind) {
    case 'allow':
      return b.metadata ? { metadata: b.metadata } : {};
    case 'deny':
      return { deny: { code: b.code, reason: b.reason } };
    case 'modify':
      return { set_fields: b.set };
    case 'throw':
      return { raise: b.message };
    case 'sleep':
      return { sleep: b.ms / 1000 };
    case 'hang':
      return { spin: true };
    case 'late':
      return { sleep: b.ms / 1000, set_fields: b.set };
    case 'grow':
      return {
        alloc_unbounded: true,
        sandbox_policy: { resources: { max_memory_bytes: b.limitMb * 1024 * 1024 } },
      };
    case 'garbage':
      return { garbage: 'metadata', deny: { code: b.code, reason: b.reason } };
    case 'crash':
      return { trap: true };
    case 'hang_init':
    case 'hang_shutdown':
      return {}; // never run: declared in WASM_LIFECYCLE_LIMITS
  }
}

/** The cpex:plugin world has no lifecycle exports: a guest runs no code at initialize or shutdown. */
const WASM_LIFECYCLE_LIMITS: Partial<Record<HostileKind, HostLimit>> = {
  hang_init: {
    reason: 'not applicable: the cpex:plugin world has no initialize export, so no guest code runs there',
    doc: 'docs/hosts/wasm.md',
    says: 'the world has no init or config export',
  },
  hang_shutdown: {
    reason: 'not applicable: the cpex:plugin world has no shutdown export, so no guest code runs there',
    doc: 'docs/hosts/wasm.md',
    says: 'the world has no init or config export',
  },
};

/** What `isolation: none` cannot contain: the guest runs on the gateway's thread. */
export const WASM_IN_THREAD_LIMITS: Partial<Record<HostileKind, HostLimit>> = {
  ...WASM_LIFECYCLE_LIMITS,
  hang: {
    reason: 'a guest on the gateway thread cannot be pre-empted: a spinning guest blocks the gateway',
    doc: 'docs/security.md',
    says: 'a spinning guest blocks the gateway',
  },
  late: {
    reason: 'a guest on the gateway thread cannot be timed out (explicit timeouts are a config error)',
    doc: 'docs/security.md',
    says: 'the host refuses explicit time limits there',
  },
};

export function wasmProbe(probeWasm: string, isolation: 'worker' | 'none' = 'worker'): HostProbe {
  return {
    entry: (behaviour) => ({ kind: `wasm://${probeWasm}`, config: probeConfig(behaviour) }),
    limits: isolation === 'none' ? WASM_IN_THREAD_LIMITS : WASM_LIFECYCLE_LIMITS,
  };
}
