/**
 * ARCHITECTURE.md section 3 "Rules decided here" (deny without violation, on_error fail / ignore /
 * disable) and "More decisions" (on_error per phase), plus the section 4 rows "deny without
 * violation", "on_error fail" and "concurrent error with fail".
 */
import { describe, expect, it } from 'vitest';
import type { Phase } from '../../src/index.js';
import { gctx, newManager, probe, sleep, Trail, run, until } from './helpers.js';

const boom = (): never => {
  throw new TypeError('kaboom');
};

describe('deny without violation (ARCH s3 "halts even without a violation"; s4 row 1)', () => {
  it('sequential: continueProcessing false without a violation halts with a synthesized `denied` violation naming the plugin (ARCH s3 rule 1)', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'silent', {}, () => ({ continueProcessing: false }));
    probe(m, t, 'after', { priority: 200 });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.continueProcessing).toBe(false);
    expect(r.violation?.code).toBe('denied');
    expect(r.violation?.pluginName).toBe('silent');
    expect(typeof r.violation?.reason).toBe('string');
    expect(r.violation?.reason).toContain('silent');
    expect(t.ran).toEqual(['silent']);
  });

  it('concurrent: continueProcessing false without a violation halts with a synthesized `denied` violation (ARCH s3 rule 1; DEVIATIONS general rules)', async () => {
    const m = newManager();
    probe(m, new Trail(), 'silentC', { mode: 'concurrent' }, async () => ({ continueProcessing: false }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.continueProcessing).toBe(false);
    expect(r.violation).toMatchObject({ code: 'denied', pluginName: 'silentC' });
  });

  it('a plugin cannot forge pluginName: the manager sets it to the plugin that produced the violation (ARCH s2 PluginViolation "set by the manager")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'real', {}, () => ({
      continueProcessing: false,
      violation: { code: 'X', reason: 'x', pluginName: 'someone-else' },
    }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.violation?.pluginName).toBe('real');
  });
});

describe('on_error fail (default) halts with plugin_error naming the plugin (ARCH s3 rule 2; s4 row 2)', () => {
  for (const phase of ['sequential', 'transform', 'concurrent'] as const) {
    it(`${phase}: a thrown error under on_error fail (the default) halts with violation plugin_error naming the plugin (ARCH s3 "on_error fail (default)")`, async () => {
      const m = newManager();
      const t = new Trail();
      probe(m, t, 'broken', { mode: phase }, boom);
      probe(m, t, 'later', { mode: 'concurrent' });
      await m.initialize();
      const r = await run(m, 'tool_pre_invoke', { q: 1 });
      expect(r.continueProcessing).toBe(false);
      expect(r.violation?.code).toBe('plugin_error');
      expect(r.violation?.pluginName).toBe('broken');
      // The thrown message survives in description or details (DEVIATIONS scenario 08).
      expect(JSON.stringify([r.violation?.description, r.violation?.details])).toContain('kaboom');
      expect(r.contextTable).not.toBeNull();
      if (phase !== 'concurrent') expect(t.ran).toEqual(['broken']);
    });
  }

  it('sequential: a rejected promise is a failure like a throw (ARCH s3 "on_error fail")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'rejects', {}, async () => {
      await sleep(1);
      throw new Error('async kaboom');
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.violation).toMatchObject({ code: 'plugin_error', pluginName: 'rejects' });
    expect(JSON.stringify(r.violation)).toContain('async kaboom');
  });

  it('a failure under on_error fail is also recorded in errors[] as {pluginName, code, message} (ARCH s3 "result.errors[] entries")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'broken', {}, boom);
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ pluginName: 'broken', code: 'plugin_error' });
    expect(r.errors[0]?.message).toContain('kaboom');
  });

  it('concurrent: on_error fail halts and aborts the siblings; nothing they do later reaches the result or the caller (ARCH s4 row "concurrent error with fail")', async () => {
    const m = newManager();
    let siblingSignal: AbortSignal | undefined;
    let siblingFinished = false;
    probe(m, new Trail(), 'broken', { mode: 'concurrent', priority: 2 }, async () => {
      await sleep(5);
      throw new Error('fails first');
    });
    probe(m, new Trail(), 'slow', { mode: 'concurrent', priority: 1 }, async (_p, ctx) => {
      siblingSignal = ctx.signal;
      await sleep(60);
      ctx.globalContext.state.late = true;
      siblingFinished = true;
      return { metadata: { late: true } };
    });
    await m.initialize();
    const g = gctx('r');
    const r = await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    expect(r.continueProcessing).toBe(false);
    expect(r.violation).toMatchObject({ code: 'plugin_error', pluginName: 'broken' });
    expect(siblingSignal?.aborted).toBe(true);
    await until(() => siblingFinished, 'the aborted sibling finished');
    expect(r.metadata).toEqual({});
    expect(g.state).toEqual({});
  });
});

describe('on_error ignore: recorded in errors, continue (ARCH s3 rule 2)', () => {
  for (const phase of ['sequential', 'transform', 'concurrent'] as const) {
    it(`${phase}: on_error ignore records {pluginName, code: plugin_error, message} and the pipeline continues (ARCH s3 "ignore: recorded in errors, continue")`, async () => {
      const m = newManager();
      const t = new Trail();
      probe(m, t, 'broken', { mode: phase, onError: 'ignore', priority: 1 }, boom);
      probe(m, t, 'next', { mode: phase, priority: 2 }, () => ({ metadata: { next: true } }));
      await m.initialize();
      const r = await run(m, 'tool_pre_invoke', {});
      expect(r.continueProcessing).toBe(true);
      expect(r.violation).toBeNull();
      expect(r.errors).toEqual([expect.objectContaining({ pluginName: 'broken', code: 'plugin_error' })]);
      expect(r.errors[0]?.message).toContain('kaboom');
      expect(r.metadata).toEqual({ next: true });
      expect(t.ran.sort()).toEqual(['broken', 'next']);
    });
  }

  it('on_error ignore: a failed plugin\'s global writes are not merged (Python semantics: treated as an empty allow) (ARCH s3 "context writes")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'broken', { onError: 'ignore' }, (_p, ctx) => {
      ctx.globalContext.state.partial = true;
      throw new Error('after writing');
    });
    await m.initialize();
    const g = gctx('r');
    const r = await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    expect(r.continueProcessing).toBe(true);
    expect(g.state).toEqual({});
  });

  it('on_error ignore: the plugin keeps running on later invocations (ARCH s3 "ignore")', async () => {
    const m = newManager();
    let calls = 0;
    probe(m, new Trail(), 'flaky', { onError: 'ignore' }, () => {
      calls++;
      throw new Error('again');
    });
    await m.initialize();
    await run(m, 'tool_pre_invoke', {});
    await run(m, 'tool_pre_invoke', {});
    expect(calls).toBe(2);
  });
});

describe("on_error disable: recorded, switched off for the manager's lifetime (ARCH s3 rule 2)", () => {
  for (const phase of ['sequential', 'transform', 'audit', 'concurrent'] as Phase[]) {
    it(`${phase}: on_error disable records the failure, continues, and the plugin never runs again (ARCH s3 "disable: recorded, and the plugin is switched off")`, async () => {
      const m = newManager();
      let calls = 0;
      probe(m, new Trail(), 'fragile', { mode: phase, onError: 'disable' }, () => {
        calls++;
        throw new Error('once');
      });
      await m.initialize();
      const r1 = await run(m, 'tool_pre_invoke', {});
      expect(r1.continueProcessing).toBe(true);
      expect(r1.errors).toEqual([expect.objectContaining({ pluginName: 'fragile', code: 'plugin_error' })]);
      const r2 = await run(m, 'tool_pre_invoke', {});
      expect(r2.errors).toEqual([]);
      expect(calls).toBe(1);
      expect(m.runtimeDisabled()).toEqual(['fragile']);
    });
  }

  it('disable persists across hooks: a plugin disabled on one hook does not run on its other hooks (ARCH s3 "switched off for the manager\'s lifetime")', async () => {
    const m = newManager();
    const calls: string[] = [];
    m.register(
      {
        name: 'multi',
        tool_pre_invoke() {
          calls.push('pre');
          throw new Error('pre fails');
        },
        tool_post_invoke() {
          calls.push('post');
          return undefined;
        },
      },
      { onError: 'disable' },
    );
    await m.initialize();
    await run(m, 'tool_pre_invoke', {});
    const r = await run(m, 'tool_post_invoke', {});
    expect(calls).toEqual(['pre']);
    expect(r.contextTable?.toJSON()).toEqual({});
  });

  it('fire_and_forget: on_error disable switches the plugin off after its background failure (ARCH s3 "disable")', async () => {
    const m = newManager();
    let calls = 0;
    probe(m, new Trail(), 'bg', { mode: 'fire_and_forget', onError: 'disable' }, () => {
      calls++;
      throw new Error('bg fails');
    });
    await m.initialize();
    const r1 = await run(m, 'tool_pre_invoke', {});
    expect(await r1.background.wait()).toEqual([
      expect.objectContaining({ pluginName: 'bg', code: 'plugin_error' }),
    ]);
    const r2 = await run(m, 'tool_pre_invoke', {});
    expect(await r2.background.wait()).toEqual([]);
    expect(calls).toBe(1);
  });

  it('disable is per manager: another manager running the same plugin object is unaffected (ARCH s3 "for the manager\'s lifetime")', async () => {
    let calls = 0;
    const plugin = {
      name: 'shared',
      tool_pre_invoke() {
        calls++;
        throw new Error('fails');
      },
    };
    const a = newManager();
    const b = newManager();
    a.register(plugin, { onError: 'disable' });
    b.register(plugin, { onError: 'ignore' });
    await a.initialize();
    await b.initialize();
    await run(a, 'tool_pre_invoke', {});
    await run(a, 'tool_pre_invoke', {});
    await run(b, 'tool_pre_invoke', {});
    await run(b, 'tool_pre_invoke', {});
    expect(calls).toBe(3);
    expect(a.runtimeDisabled()).toEqual(['shared']);
    expect(b.runtimeDisabled()).toEqual([]);
  });
});

describe('on_error per phase (ARCH s3 "More decisions")', () => {
  it('audit: errors are always recorded and never halt, even under on_error fail (ARCH s3 "Audit errors are always recorded in errors and never halt")', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'aud', { mode: 'audit', onError: 'fail', priority: 1 }, boom);
    probe(m, t, 'aud2', { mode: 'audit', priority: 2 });
    probe(m, t, 'con', { mode: 'concurrent' });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.continueProcessing).toBe(true);
    expect(r.violation).toBeNull();
    expect(r.errors).toEqual([expect.objectContaining({ pluginName: 'aud', code: 'plugin_error' })]);
    expect(t.ran).toEqual(['aud', 'aud2', 'con']);
  });

  it('fire_and_forget: errors are reported only by background.wait(), never in result.errors or as a halt (ARCH s3 "fire_and_forget errors are reported by background.wait()")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'bg', { mode: 'fire_and_forget', onError: 'fail' }, async () => {
      await sleep(1);
      throw new Error('background kaboom');
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.continueProcessing).toBe(true);
    expect(r.errors).toEqual([]);
    const errors = await r.background.wait();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ pluginName: 'bg', code: 'plugin_error' });
    expect(errors[0]?.message).toContain('background kaboom');
    expect(r.errors).toEqual([]);
  });

  for (const [what, value] of [
    ['undefined', undefined],
    ['null', null],
    ['a string', 'a string'],
    ['a number', 42],
    ['a plain object', { odd: true }],
  ] as const) {
    for (const style of ['sync', 'async'] as const) {
      it(`a plugin that ${style === 'sync' ? 'throws' : 'rejects with'} ${what} (not an Error) is a plugin_error naming it, never a crash (ARCH s3 "on_error fail")`, async () => {
        const m = newManager();
        probe(
          m,
          new Trail(),
          'odd',
          {},
          style === 'sync'
            ? () => {
                throw value;
              }
            : async () => {
                await null;
                throw value;
              },
        );
        await m.initialize();
        const r = await run(m, 'tool_pre_invoke', {});
        expect(r.continueProcessing).toBe(false);
        expect(r.violation).toMatchObject({ code: 'plugin_error', pluginName: 'odd' });
        expect(r.errors).toEqual([expect.objectContaining({ pluginName: 'odd', code: 'plugin_error' })]);
        expect(typeof r.errors[0]?.message).toBe('string');
      });
    }
  }
});
