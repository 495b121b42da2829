/** HostProbe for the WASM host: the Rust probe component, behaviour in its config. */
import type { HostProbe, ProbeBehaviour } from '@cpex/sdk/testing';

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
  }
}

export function wasmProbe(probeWasm: string): HostProbe {
  return {
    entry: (behaviour) => ({ kind: `wasm://${probeWasm}`, config: probeConfig(behaviour) }),
  };
}
