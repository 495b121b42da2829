/**
 * Memory soak: a long-running gateway must not grow. Invokes a 5-phase lineup (with extensions,
 * context tables passed pre → post, fire-and-forget work) many times and compares the heap after
 * a full GC at checkpoints. Run with `node --expose-gc`.
 */
import { PluginManager, type PluginResult } from '@cpex/core';

export async function soak(total = 500_000): Promise<boolean> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    console.log('\n(soak skipped: run node with --expose-gc)');
    return true;
  }
  const m = new PluginManager();
  const ALLOW: PluginResult = { continueProcessing: true };
  const modes = ['sequential', 'transform', 'audit', 'concurrent', 'fire_and_forget'] as const;
  for (const [i, mode] of modes.entries()) {
    m.registerHook(
      'tool_pre_invoke',
      async (_p, ctx) => {
        ctx.state.n = ((ctx.state.n as number | undefined) ?? 0) + 1;
        return mode === 'transform' ? { modifiedPayload: { name: 'calc', args: { i } } } : ALLOW;
      },
      { name: `p${i}`, mode },
    );
    m.registerHook('tool_post_invoke', async () => ALLOW, { name: `q${i}`, mode });
  }
  await m.initialize();
  const ext = { custom: { tenant: 'a' } };
  const checkpoints: Array<{ at: number; heapMb: number }> = [];
  const measure = async (at: number) => {
    await m.drain();
    gc();
    gc();
    checkpoints.push({ at, heapMb: process.memoryUsage().heapUsed / 1e6 });
  };
  const step = total / 5;
  for (let i = 1; i <= total; i++) {
    const globalContext = { requestId: `r${i}`, state: {}, metadata: {} };
    const pre = await m.invoke(
      'tool_pre_invoke',
      { name: 'calc', args: { x: i } },
      { globalContext, extensions: ext },
    );
    await m.invoke(
      'tool_post_invoke',
      { name: 'calc', result: { v: i } },
      { globalContext, contextTable: pre.contextTable },
    );
    if (i % 1000 === 0) await m.drain();
    if (i % step === 0) await measure(i);
  }
  await m.shutdown();
  const first = checkpoints[0]!;
  const last = checkpoints[checkpoints.length - 1]!;
  const growth = last.heapMb - first.heapMb;
  console.log(
    `\n## Memory soak: ${total} invocations × 2 hooks (5 phases, extensions, context tables, background work)\n`,
  );
  console.log('| after invocations | heap used after GC (MB) |');
  console.log('|---|---|');
  for (const c of checkpoints) console.log(`| ${c.at} | ${c.heapMb.toFixed(1)} |`);
  const ok = growth < 5;
  console.log(
    `\nheap growth from the first to the last checkpoint: ${growth.toFixed(2)} MB (target < 5 MB) ${ok ? 'PASS' : 'FAIL'}`,
  );
  return ok;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = process.argv.includes('--quick') ? 100_000 : 500_000;
  process.exitCode = (await soak(n)) ? 0 : 1;
}
