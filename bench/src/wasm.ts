/**
 * `pnpm bench --only wasm`: @cpex/host-wasm against a bare jco call of the same no-op component
 * (the Rust `noop` fixture, built by scripts/setup.d/40-wasm.sh into .cache/host-wasm/fixtures).
 *
 * - in-thread (`isolation: none`) handler call vs the bare jco `handleHook` call with prebuilt
 *   WIT arguments (target ≤ 2×);
 * - through the worker (`isolation: worker`) vs the same bare call (reported);
 * - load (target cached ≤ 1/10 of cold), each in a fresh process (bench/src/wasm-load.ts) through
 *   the host's own path (factory.create + initialize), timed inside the process from before the
 *   load to the instantiated guest (node's own start-up excluded):
 *   - cold: the first start with this component: jco-transpile imported, the component
 *     transpiled into an empty cache, the glue and core modules compiled, instantiated; the child
 *     then makes one (untimed) call, which writes the glue's V8 code cache;
 *   - cached: a restart: the component read and checked, the transpile output and the glue's code
 *     cache read from disk, the core modules compiled, instantiated;
 *   - reported without a target: a second entry with the same file in the same process;
 * - throughput: 2 worker threads, 64 calls in flight;
 * - the absolute no-op figure next to PR #65's 4.8–5.1 µs (wasmtime, Apple M4 Max).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildImports, createWasmHost, loadComponent } from '@cpex/host-wasm';
import {
  benchContext,
  benchEntry,
  benchFactoryContext,
  compare,
  printTable,
  quietLogger,
  stats,
} from './harness.js';

const repo = path.resolve(import.meta.dirname, '..', '..');
const quiet = quietLogger;

function findNoop(): string {
  const dir = path.join(repo, '.cache', 'host-wasm', 'fixtures');
  const candidates = existsSync(dir)
    ? readdirSync(dir)
        .filter((d) => d.startsWith('rust-') && existsSync(path.join(dir, d, 'noop.wasm')))
        .map((d) => path.join(dir, d, 'noop.wasm'))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
    : [];
  if (!candidates[0]) throw new Error('no noop.wasm fixture: run `bash scripts/setup.d/40-wasm.sh` first');
  return candidates[0];
}

const context = () => benchContext('noop', 'tool_pre_invoke');
const entry = (file: string, isolation: 'none' | 'worker') =>
  benchEntry(`noop-${isolation}`, `wasm://${file}`, 'tool_pre_invoke', null, isolation);

type Instantiate = (
  get: (n: string) => Promise<unknown>,
  imports: Record<string, unknown>,
) => Promise<{ handleHook: (...a: unknown[]) => unknown }>;

async function instantiateFresh(dir: string, jsFile: string, coreFiles: string[], bust: string) {
  const mod = (await import(`${pathToFileURL(jsFile).href}?${bust}`)) as { instantiate: Instantiate };
  const compiled = new Map<string, Promise<unknown>>();
  for (const f of coreFiles)
    compiled.set(
      f,
      (
        globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<unknown> } }
      ).WebAssembly.compile(readFileSync(path.join(dir, f))),
    );
  return mod.instantiate(
    (n) => compiled.get(n)!,
    buildImports({
      policy: { allowedEnv: [], allowedFilesystem: [], allowedNetwork: [] },
      sink: () => {},
      httpTimeoutMs: 1000,
    }),
  );
}

export async function benchWasm({ quick = false } = {}): Promise<boolean> {
  const noop = findNoop();
  const cacheDir = path.join(repo, '.cache', 'host-wasm', 'bench-transpiled');
  const ctx = benchFactoryContext(repo);
  const payload = { name: 'search', args: { q: 'weather in Paris' } };
  const rounds = quick ? 6 : 20;
  const perRound = quick ? 500 : 2000;

  // Bare jco: the same component, our WASI, handleHook with prebuilt WIT values.
  const loaded = await loadComponent(noop, cacheDir, 'noop');
  const bare = await instantiateFresh(loaded.dir, loaded.jsFile, loaded.coreFiles, 'bare');
  const data = new TextEncoder().encode(
    JSON.stringify({ tool_name: 'search', user: '', arguments: '{"q":"weather in Paris"}', payload }),
  );
  const witArgs: unknown[] = [
    'tool_pre_invoke',
    { tag: 'custom', val: { payloadType: 'cpex.tool_invoke', payloadData: data } },
    {},
    {
      localState: [],
      globalState: [
        { key: 'cpex:config', value: '{}' },
        { key: 'cpex:plugin-name', value: '"noop"' },
      ],
    },
  ];
  const extNone = {
    request: undefined,
    security: undefined,
    http: undefined,
    meta: undefined,
    agent: undefined,
    mcp: undefined,
    completion: undefined,
    provenance: undefined,
    llm: undefined,
    framework: undefined,
    delegation: undefined,
    custom: undefined,
  };
  witArgs[2] = extNone;
  const bareCall = async () => bare.handleHook(...witArgs);

  const host = createWasmHost({ cacheDir, workers: 2 });
  const inThread = await host.factory.create(entry(noop, 'none'), ctx);
  await inThread.initialize?.();
  const inThreadHandler = inThread.handler('tool_pre_invoke')!;
  const worker = await host.factory.create(entry(noop, 'worker'), ctx);
  await worker.initialize?.();
  const workerHandler = worker.handler('tool_pre_invoke')!;
  const c = context();

  const a = await compare(async () => inThreadHandler(payload, c, undefined), bareCall, {
    rounds,
    perRound,
    warmup: 3000,
  });
  const w = await compare(async () => workerHandler(payload, c, undefined), bareCall, {
    rounds: Math.max(4, rounds / 4),
    perRound: Math.max(200, perRound / 4),
    warmup: 500,
  });

  // Loads, each in a fresh process (see the header): cold, then cached from what cold left.
  const self = fileURLToPath(import.meta.url);
  const ext = path.extname(self);
  const child = path.join(path.dirname(self), `wasm-load${ext}`);
  const nodeArgs = ext === '.ts' ? ['--conditions=@cpex/source', '--import', 'tsx'] : [];
  const loadOnce = (dir: string): { ms: number; again: number } =>
    JSON.parse(
      execFileSync(process.execPath, [...nodeArgs, child, noop, dir], { cwd: repo, encoding: 'utf8' })
        .trim()
        .split('\n')
        .at(-1)!,
    );
  const reps = quick ? 2 : 3;
  const cold: number[] = [];
  const cached: number[] = [];
  const again: number[] = [];
  for (let i = 0; i < reps; i++) {
    const dir = path.join(repo, '.cache', 'host-wasm', `bench-cold-${process.pid}-${i}`);
    rmSync(dir, { recursive: true, force: true });
    cold.push(loadOnce(dir).ms * 1e6);
    for (let j = 0; j < 2; j++) {
      const r = loadOnce(dir);
      cached.push(r.ms * 1e6);
      again.push(r.again * 1e6);
    }
    rmSync(dir, { recursive: true, force: true });
  }

  // Throughput: 2 worker threads, 64 calls in flight.
  const total = quick ? 4000 : 20_000;
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < total) {
        next++;
        await workerHandler(payload, c, undefined);
      }
    }),
  );
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;

  await inThread.shutdown?.();
  await worker.shutdown?.();
  await host.dispose();

  const ok = printTable('host-wasm: no-op component (Rust noop fixture), one call at a time', [
    {
      name: 'in-thread handler (isolation: none), incl. mapping',
      subject: a.subject,
      baseline: a.baseline,
      baselineName: 'bare jco handleHook',
      target: { ratio: 2, on: 'p50', text: '≤ 2×' },
    },
    {
      name: 'worker handler (isolation: worker)',
      subject: w.subject,
      baseline: w.baseline,
      baselineName: 'bare jco handleHook',
    },
  ]);
  const cs = stats(cold);
  const ks = stats(cached);
  const as = stats(again);
  const loadRatio = ks.p50 / cs.p50;
  const loadOk = loadRatio <= 0.1;
  console.log(
    [
      '',
      '| load (each in a fresh process; timed from before the load to the instantiated guest) | p50 ms | runs |',
      '|---|---|---|',
      `| cold: first start (jco-transpile imported, transpile into an empty cache, compile, instantiate) | ${(cs.p50 / 1000).toFixed(1)} | ${cs.n} |`,
      `| cached: a restart (transpile output + glue code cache from disk, compile, instantiate) | ${(ks.p50 / 1000).toFixed(1)} | ${ks.n} |`,
      `| (no target) a second entry, same file, same process (instantiate only) | ${(as.p50 / 1000).toFixed(1)} | ${as.n} |`,
      '',
      `cached/cold = ${loadRatio.toFixed(3)} (target ≤ 0.1: ${loadOk ? 'PASS' : 'FAIL'})`,
    ].join('\n'),
  );
  console.log(
    `\nthroughput, 2 worker threads, 64 in flight: ${Math.round(total / secs)} calls/s (${((secs * 1e6) / total).toFixed(1)} µs amortized)`,
  );
  console.log(
    `\nabsolute no-op: in-thread p50 ${a.subject.p50.toFixed(2)} µs (bare jco ${a.baseline.p50.toFixed(2)} µs), next to PR #65's 4.8–5.1 µs (wasmtime, Apple M4 Max; a different machine and engine: orientation only)`,
  );
  return ok && loadOk;
}
