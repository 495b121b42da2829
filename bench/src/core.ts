/**
 * @cpex/core hot-path benchmark: PluginManager.invoke() against a bare loop awaiting the same
 * async functions, measured in the same run.
 *
 * Targets (issue "Foundation"): 5 sequential passthrough plugins p50 ≤ 8× the bare loop;
 * 0 plugins ≤ 2× an empty async call; a 1 MB passthrough payload within 10% of a 200 B one;
 * 20 plugins ≤ 4.5× the cost of 5.
 */
import { type Mode, type PluginResult, PluginManager } from '@cpex/core';
import { MonotonicSet } from '@cpex/core/extensions';
import { type AsyncFn, compare, printTable, type Row } from './harness.js';

const ALLOW: PluginResult = { continueProcessing: true };

function fns(n: number) {
  return Array.from(
    { length: n },
    () =>
      async (_p: unknown, _c: unknown): Promise<PluginResult> =>
        ALLOW,
  );
}

async function managerWith(
  handlers: Array<(p: unknown, c: unknown) => Promise<PluginResult>>,
  modes?: Mode[],
) {
  const m = new PluginManager({ logger: { debug() {}, info() {}, warn() {}, error() {} } });
  for (const [i, h] of handlers.entries()) {
    m.registerHook('tool_pre_invoke', h, { name: `p${i}`, mode: modes?.[i] ?? 'sequential' });
  }
  await m.initialize();
  return m;
}

function loop(handlers: Array<(p: unknown, c: unknown) => Promise<PluginResult>>, payload: unknown): AsyncFn {
  return async () => {
    for (let i = 0; i < handlers.length; i++) await handlers[i]!(payload, undefined);
  };
}

export function nested(bytes: number): { name: string; args: Record<string, unknown> } {
  // A realistic nested tool result: rows of records, ~bytes of JSON.
  const rows: unknown[] = [];
  let size = 0;
  let i = 0;
  while (size < bytes) {
    const row = {
      id: i,
      title: `result number ${i}`,
      url: `https://example.com/doc/${i}`,
      tags: ['a', 'b', 'c'],
      score: i / 7,
      meta: { owner: 'u', depth: { x: i } },
    };
    size += JSON.stringify(row).length + 1;
    rows.push(row);
    i++;
  }
  return { name: 'search', args: { query: 'x', results: rows } };
}

export async function benchCore(opts: { quick?: boolean } = {}): Promise<{ ok: boolean; rows: Row[] }> {
  const cfg = opts.quick
    ? { rounds: 6, perRound: 1000, warmup: 2000 }
    : { rounds: 20, perRound: 2000, warmup: 5000 };
  const small = {
    name: 'calc',
    args: {
      x: 1,
      y: 2,
      note: 'a short tool call payload of about two hundred bytes',
      user: 'alice@example.com',
      flags: [1, 2, 3],
    },
  };
  const rows: Row[] = [];

  // 0 plugins vs an empty async call.
  {
    const m = await managerWith([]);
    const empty = async () => {};
    const r = await compare(() => m.invoke('tool_pre_invoke', small), empty, cfg);
    rows.push({
      name: '0 plugins',
      ...r,
      baselineName: 'empty async call',
      target: { ratio: 2, on: 'p50', text: '≤ 2×' },
    });
  }
  // 1 sequential passthrough.
  {
    const hs = fns(1);
    const m = await managerWith(hs);
    const r = await compare(() => m.invoke('tool_pre_invoke', small), loop(hs, small), cfg);
    rows.push({ name: '1 sequential passthrough', ...r, baselineName: 'loop of 1' });
  }
  // 5 sequential passthrough.
  {
    const hs = fns(5);
    const m = await managerWith(hs);
    const r = await compare(() => m.invoke('tool_pre_invoke', small), loop(hs, small), cfg);
    rows.push({
      name: '5 sequential passthrough',
      ...r,
      baselineName: 'loop of 5',
      target: { ratio: 8, on: 'p50', text: '≤ 8×' },
    });
  }
  // 5 sequential passthrough, a fresh payload object per call (as a gateway has): the read-only
  // view is made per payload, so this is the cost a real request pays; the baseline builds the
  // same fresh object.
  {
    const hs = fns(5);
    const m = await managerWith(hs);
    const fresh = () => ({ name: 'calc', args: { ...small.args } });
    const r = await compare(
      () => m.invoke('tool_pre_invoke', fresh()),
      async () => {
        const p = fresh();
        for (let i = 0; i < hs.length; i++) await hs[i]!(p, undefined);
      },
      cfg,
    );
    rows.push({
      name: '5 sequential, fresh payload per call',
      ...r,
      baselineName: 'loop of 5, fresh payload',
      target: { ratio: 8, on: 'p50', text: '≤ 8×' },
    });
  }
  // 5 mixed modes (one per phase).
  {
    const hs = fns(5);
    const m = await managerWith(hs, ['sequential', 'transform', 'audit', 'concurrent', 'fire_and_forget']);
    const r = await compare(() => m.invoke('tool_pre_invoke', small), loop(hs, small), cfg);
    rows.push({ name: '5 mixed modes (1 per phase)', ...r, baselineName: 'loop of 5' });
    await m.drain();
  }
  // Sustained loop: 5 mixed modes (a fire_and_forget plugin in the lineup) against 5 sequential,
  // means over back-to-back calls (issue 10: no throughput cliff, ≤ 2×).
  {
    const mixed = await managerWith(fns(5), [
      'sequential',
      'transform',
      'audit',
      'concurrent',
      'fire_and_forget',
    ]);
    const seq = await managerWith(fns(5));
    const r = await compare(
      () => mixed.invoke('tool_pre_invoke', small),
      () => seq.invoke('tool_pre_invoke', small),
      { ...cfg, perRound: cfg.perRound * 5 },
    );
    rows.push({
      name: 'sustained loop: 5 mixed modes (mean)',
      ...r,
      baselineName: '5 sequential (same run)',
      target: { ratio: 2, on: 'mean', text: '≤ 2× (mean)' },
    });
    await mixed.drain();
  }
  // The one result rule: a passthrough never reaches it; a modifying plugin pays one check per
  // distinct object (here a fresh object per call, the worst case).
  {
    const passthrough = await managerWith(fns(5));
    const modifying = fns(4);
    const m = await managerWith([
      ...modifying,
      async (p: unknown): Promise<PluginResult> => ({
        modifiedPayload: { ...(p as { name: string; args: object }), args: { x: 2 } },
      }),
    ]);
    const r = await compare(
      () => m.invoke('tool_pre_invoke', small),
      () => passthrough.invoke('tool_pre_invoke', small),
      cfg,
    );
    rows.push({
      name: '5 sequential, 1 modifies (result rule checks it)',
      ...r,
      baselineName: '5 sequential passthrough',
    });
  }
  // 20 sequential passthrough (target: ≤ 4.5× the cost of 5).
  {
    const hs = fns(20);
    const m = await managerWith(hs);
    const m5 = await managerWith(fns(5));
    const r = await compare(
      () => m.invoke('tool_pre_invoke', small),
      () => m5.invoke('tool_pre_invoke', small),
      cfg,
    );
    rows.push({
      name: '20 sequential passthrough',
      ...r,
      baselineName: '5 plugins (same run)',
      target: { ratio: 4.5, on: 'p50', text: '≤ 4.5× of 5' },
    });
  }
  // Extensions passed, nobody edits them: capability views are cached, nothing is copied.
  {
    const hs = fns(5);
    const m = await managerWith(hs);
    const ext = {
      request: { request_id: 'r-1', environment: 'prod' },
      security: {
        labels: MonotonicSet.of('PII'),
        subject: { id: 'alice', subject_type: 'user' as const, roles: ['admin'] },
      },
      http: { request_headers: { 'x-tenant': 'a' } },
      custom: { k: 1 },
    };
    const r = await compare(
      () => m.invoke('tool_pre_invoke', small, { extensions: ext }),
      () => m.invoke('tool_pre_invoke', small),
      cfg,
    );
    rows.push({ name: '5 plugins + extensions (read-only)', ...r, baselineName: '5 plugins, no extensions' });
  }
  // 1 MB nested payload vs 200 B, both through 5 sequential passthrough plugins.
  {
    const big = nested(1_000_000);
    const m = await managerWith(fns(5));
    const r = await compare(
      () => m.invoke('tool_pre_invoke', big),
      () => m.invoke('tool_pre_invoke', small),
      cfg,
    );
    rows.push({
      name: '1 MB nested payload, 5 plugins',
      ...r,
      baselineName: '200 B payload, 5 plugins',
      target: { ratio: 1.1, on: 'p50', text: 'within 10%' },
    });
  }
  const ok = printTable('@cpex/core invoke() vs baselines (µs per call, same run)', rows);
  return { ok, rows };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  benchCore({ quick }).then(({ ok }) => {
    console.log(ok ? '\nall core targets met' : '\nsome core targets missed');
  });
}
