/**
 * When fire_and_forget work starts: behind the continuation of a caller awaiting invoke(), on the
 * microtask queue (pipeline.ts afterCaller), and in the order the invocations finished.
 */
import { describe, expect, it } from 'vitest';
import { newManager } from './helpers.js';

async function order(asyncSerial: boolean): Promise<string[]> {
  const m = newManager();
  const seen: string[] = [];
  if (asyncSerial)
    m.registerHook('tool_pre_invoke', async () => ({ continueProcessing: true }), { name: 'seq' });
  m.registerHook(
    'tool_pre_invoke',
    (p: { n: number }) => {
      seen.push(`faf${p.n}`);
    },
    { name: 'bg', mode: 'fire_and_forget' },
  );
  await m.initialize();
  const results = [];
  for (let n = 0; n < 3; n++) {
    const r = await m.invoke('tool_pre_invoke', { n } as never);
    seen.push(`caller${n}`);
    results.push(r);
  }
  await Promise.all(results.map((r) => r.background.wait()));
  await m.shutdown();
  return seen;
}

describe('fire_and_forget starts behind the caller', () => {
  for (const [what, asyncSerial] of [
    ['settles synchronously', false],
    ['went async', true],
  ] as const) {
    it(`a pipeline that ${what}: each run starts after its caller resumed, runs in invocation order`, async () => {
      // Each caller resumes first; its run starts before the caller's next invoke settles.
      expect(await order(asyncSerial)).toEqual(['caller0', 'faf0', 'caller1', 'faf1', 'caller2', 'faf2']);
    });
  }
});
