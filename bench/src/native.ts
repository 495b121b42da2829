// Native host per-call cost, same run, same library (the C probe, allowing with metadata):
// - koffi sync call of cpex_plugin_invoke (reference: on the event loop, what we never do),
// - bare koffi async call of the same function (the baseline: one pool-thread round trip),
// - @cpex/host-native in-process (isolation: none) through its handler: encode, lane, async call, decode,
// - the same through PluginManager.invoke,
// - @cpex/host-native isolation: process through its handler (child process round trip).
// Target (issue 13): in-process handler <= 2x the bare async koffi call.
//
//   pnpm bench --only native        (built packages, plain node)
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { PluginManager } from '@cpex/core';
import { createNativeHost, registerNativeHost } from '@cpex/host-native';
import { buildProbeLibraries } from '@cpex/host-native/testing';
import { encode } from '@msgpack/msgpack';
import { benchContext, benchEntry, benchFactoryContext, quietLogger } from './harness.js';

const { values: args } = parseArgs({
  options: { calls: { type: 'string', default: '3000' }, json: { type: 'boolean', default: false } },
});
const CALLS = Number(args.calls);
const lib = buildProbeLibraries()['libcpex_probe.so'];
const config = { metadata: { ok: 1 } };
const payload = { name: 'search', args: { q: 'weather in Paris', limit: 5 } };
const HOOK = 'tool_pre_invoke';

interface Row {
  name: string;
  p50_us: number;
  mean_us: number;
  p99_us: number;
}

const context = () => benchContext('bench', HOOK);
const entry = (isolation: 'none' | 'process') =>
  benchEntry('bench', `native://${lib}`, HOOK, config, isolation);
const factoryCtx = benchFactoryContext(process.cwd());

// Bare koffi: the same library, the same request bytes the host would send.
const require = createRequire(import.meta.url);
const koffi = require('koffi');
const k = koffi.load(lib);
const init = k.func(
  'int32_t cpex_plugin_init(const uint8_t *config, size_t config_len, _Out_ void **state, _Out_ void **err, _Out_ size_t *err_len)',
);
const invoke = k.func(
  'int32_t cpex_plugin_invoke(void *state, const uint8_t *request, size_t request_len, void *cancel, _Out_ void **out, _Out_ size_t *out_len)',
);
const free = k.func('void cpex_plugin_free(void *ptr, size_t len)');
const cfg = encode(config);
const st: unknown[] = [null];
init(cfg, cfg.length, st, [null], [0]);
const request = encode({
  hook: HOOK,
  plugin_name: 'bench',
  payload_type: 0,
  payload,
  extensions: null,
  context: { state: {}, metadata: {}, global_context: { request_id: 'bench', state: {}, metadata: {} } },
});
const cancel = koffi.alloc('int32_t', 1);
const out: unknown[] = [null];
const outLen: number[] = [0];
const take = () => {
  const bytes = new Uint8Array(koffi.view(out[0], outLen[0])).slice();
  free(out[0], outLen[0]);
  return bytes;
};

const inHost = createNativeHost();
const inInst = await inHost.factory.create(entry('none'), factoryCtx);
await inInst.initialize?.();
const inHandler = inInst.handler(HOOK)!;
const manager = new PluginManager({ logger: quietLogger });
registerNativeHost(manager);
await manager.loadConfig({ plugins: [{ name: 'bench', kind: `native://${lib}`, hooks: [HOOK], config }] });
await manager.initialize();
const gc = { requestId: 'bench', state: {}, metadata: {} };
const procHost = createNativeHost({ isolation: 'process' });
const procInst = await procHost.factory.create(entry('process'), factoryCtx);
await procInst.initialize?.();
const procHandler = procInst.handler(HOOK)!;

const cases: Array<[string, () => unknown]> = [
  [
    'koffi sync call (reference, blocks the event loop)',
    () => {
      invoke(st[0], request, request.length, cancel, out, outLen);
      return take();
    },
  ],
  [
    'bare koffi async call (baseline)',
    () =>
      new Promise<Uint8Array>((resolve, reject) =>
        invoke.async(st[0], request, request.length, cancel, out, outLen, (e: Error | null) =>
          e ? reject(e) : resolve(take()),
        ),
      ),
  ],
  ['host-native isolation: none, handler', () => inHandler(payload, context(), undefined)],
  [
    'host-native isolation: none, PluginManager.invoke',
    () => manager.invoke(HOOK, payload, { globalContext: gc }),
  ],
  ['host-native isolation: process, handler', () => procHandler(payload, context(), undefined)],
];
// Interleaved rounds: every path sees the same machine weather (this VM is noisy and bimodal).
const ROUNDS = 5;
const samples = new Map<string, number[]>(cases.map(([n]) => [n, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, once] of cases) {
    for (let i = 0; i < 50; i++) await once();
    const t = samples.get(name)!;
    for (let i = 0; i < CALLS / ROUNDS; i++) {
      const s0 = process.hrtime.bigint();
      await once();
      t.push(Number(process.hrtime.bigint() - s0) / 1000);
    }
  }
}
const rows: Row[] = cases.map(([name]) => {
  const t = samples.get(name)!.sort((a, b) => a - b);
  const q = (p: number) => t[Math.min(t.length - 1, Math.floor(p * t.length))] ?? 0;
  return { name, p50_us: q(0.5), mean_us: t.reduce((a, b) => a + b, 0) / t.length, p99_us: q(0.99) };
});
const bareAsync = rows[1]!;
const inProc = rows[2]!;
await manager.shutdown();
await inInst.shutdown?.();
await procInst.shutdown?.();
await inHost.dispose();
await procHost.dispose();

const ratio = inProc.p50_us / bareAsync.p50_us;
const ok = ratio <= 2;
if (args.json) console.log(JSON.stringify({ rows, ratio_in_process_vs_bare_async_p50: ratio, ok }));
else {
  console.log(
    `\nnative host: ${CALLS} sequential calls per row, ${payload ? 'a 60-byte tool call' : ''}; µs (noisy machine: compare within this run)`,
  );
  console.log(`${'path'.padEnd(52)} ${'p50'.padStart(8)} ${'mean'.padStart(8)} ${'p99'.padStart(8)}`);
  for (const r of rows)
    console.log(
      `${r.name.padEnd(52)} ${r.p50_us.toFixed(1).padStart(8)} ${r.mean_us.toFixed(1).padStart(8)} ${r.p99_us.toFixed(1).padStart(8)}`,
    );
  console.log(
    `\nin-process handler p50 / bare async koffi p50 = ${ratio.toFixed(2)}x (target <= 2x): ${ok ? 'met' : 'MISSED'}`,
  );
}
process.exitCode = ok ? 0 : 1;
