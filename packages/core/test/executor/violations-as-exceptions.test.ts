/**
 * ARCHITECTURE.md section 2: "Under violationsAsExceptions, every halt (a deny, plugin_error,
 * plugin_timeout, extension_violation) throws PluginViolationError with .violation and .result
 * (the full PipelineResult, background handle and context table included)"; section 3 "Further
 * decisions" (fire_and_forget still scheduled); section 4 row "on_error fail: halting violation;
 * option to throw".
 */
import { describe, expect, it } from 'vitest';
import { CpexError, PluginViolationError } from '../../src/index.js';
import { newManager, probe, sleep, Trail, run } from './helpers.js';

async function thrown(p: Promise<unknown>): Promise<PluginViolationError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(PluginViolationError);
  return e as PluginViolationError;
}

describe('violationsAsExceptions (ARCH s2; s4 row "on_error fail")', () => {
  it('a deny throws PluginViolationError (a CpexError, CPEX_ERR_PLUGIN_VIOLATION) with .violation and the full .result (ARCH s2 "every halt ... throws")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'first', { priority: 1 }, (p) => ({
      modifiedPayload: { ...p, first: true },
      metadata: { a: 1 },
    }));
    probe(m, new Trail(), 'denier', { priority: 2 }, (_p, ctx) => {
      ctx.state.why = 'logged';
      return {
        continueProcessing: false,
        violation: { code: 'FORBIDDEN', reason: 'not allowed', description: 'policy 7' },
        retryDelayMs: 12,
      };
    });
    await m.initialize();
    const err = await thrown(run(m, 'tool_pre_invoke', { q: 1 }, { violationsAsExceptions: true }));
    expect(err).toBeInstanceOf(CpexError);
    expect(err.code).toBe('CPEX_ERR_PLUGIN_VIOLATION');
    expect(err.violation).toMatchObject({ code: 'FORBIDDEN', reason: 'not allowed', pluginName: 'denier' });
    expect(err.message).toContain('tool_pre_invoke');
    expect(err.message).toContain('denier');
    expect(err.message).toContain('FORBIDDEN');
    expect(err.result.continueProcessing).toBe(false);
    expect(err.result.violation).toBe(err.violation);
    expect(err.result.modifiedPayload).toEqual({ q: 1, first: true });
    expect(err.result.metadata).toEqual({ a: 1 });
    expect(err.result.retryDelayMs).toBe(12);
    expect(err.result.contextTable?.toJSON().denier?.state).toEqual({ why: 'logged' });
    expect(await err.result.background.wait()).toEqual([]);
  });

  it('a synthesized `denied` halt throws too (ARCH s2 "every halt")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'silent', {}, () => ({ continueProcessing: false }));
    await m.initialize();
    const err = await thrown(run(m, 'tool_pre_invoke', {}, { violationsAsExceptions: true }));
    expect(err.violation).toMatchObject({ code: 'denied', pluginName: 'silent' });
  });

  it('a plugin_error halt throws PluginViolationError with code plugin_error (ARCH s2 "every halt ... plugin_error")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'broken', {}, () => {
      throw new Error('kaboom');
    });
    await m.initialize();
    const err = await thrown(run(m, 'tool_pre_invoke', {}, { violationsAsExceptions: true }));
    expect(err.violation).toMatchObject({ code: 'plugin_error', pluginName: 'broken' });
    expect(err.result.errors[0]).toMatchObject({ pluginName: 'broken', code: 'plugin_error' });
  });

  it('a plugin_timeout halt throws PluginViolationError with code plugin_timeout (ARCH s2 "every halt ... plugin_timeout")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'slow', { timeout: 0.02 }, async () => {
      await sleep(300);
      return undefined;
    });
    await m.initialize();
    const err = await thrown(run(m, 'tool_pre_invoke', {}, { violationsAsExceptions: true }));
    expect(err.violation).toMatchObject({ code: 'plugin_timeout', pluginName: 'slow' });
  });

  it('a concurrent deny throws and the siblings are aborted (ARCH s2 "every halt")', async () => {
    const m = newManager();
    let siblingSignal: AbortSignal | undefined;
    probe(m, new Trail(), 'denier', { mode: 'concurrent' }, async () => ({ continueProcessing: false }));
    probe(m, new Trail(), 'sibling', { mode: 'concurrent' }, async (_p, ctx) => {
      siblingSignal = ctx.signal;
      await sleep(50);
      return undefined;
    });
    await m.initialize();
    const err = await thrown(run(m, 'tool_pre_invoke', {}, { violationsAsExceptions: true }));
    expect(err.violation.pluginName).toBe('denier');
    expect(siblingSignal?.aborted).toBe(true);
  });

  it('fire_and_forget is still scheduled before the error is thrown, and its work is on err.result.background (ARCH s3 "Further decisions")', async () => {
    const m = newManager();
    let saw: unknown;
    probe(m, new Trail(), 'first', { priority: 1 }, (p) => ({ modifiedPayload: { ...p, trail: 'first' } }));
    probe(m, new Trail(), 'denier', { priority: 2 }, () => ({ continueProcessing: false }));
    probe(m, new Trail(), 'audit-log', { mode: 'fire_and_forget' }, async (p) => {
      await sleep(5);
      saw = JSON.parse(JSON.stringify(p));
      throw new Error('log sink down');
    });
    await m.initialize();
    const err = await thrown(run(m, 'tool_pre_invoke', { q: 1 }, { violationsAsExceptions: true }));
    expect(Object.keys(err.result.contextTable?.toJSON() ?? {}).sort()).toEqual([
      'audit-log',
      'denier',
      'first',
    ]);
    const bg = await err.result.background.wait();
    expect(saw).toEqual({ q: 1, trail: 'first' });
    expect(bg).toEqual([expect.objectContaining({ pluginName: 'audit-log', code: 'plugin_error' })]);
  });

  it('no halt, no throw: transform and audit denies stay suppressed under violationsAsExceptions (ARCH s3 phase table)', async () => {
    const m = newManager();
    probe(m, new Trail(), 'tra', { mode: 'transform' }, () => ({ continueProcessing: false }));
    probe(m, new Trail(), 'aud', { mode: 'audit' }, () => ({ continueProcessing: false }));
    probe(m, new Trail(), 'ignored', { onError: 'ignore' }, () => {
      throw new Error('ignored');
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {}, { violationsAsExceptions: true });
    expect(r.continueProcessing).toBe(true);
    expect(r.errors).toHaveLength(1);
  });

  it('without violationsAsExceptions the same halt is returned, not thrown (ARCH s4 row "on_error fail: halting violation")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'broken', {}, () => {
      throw new Error('kaboom');
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.continueProcessing).toBe(false);
    expect(r.violation?.code).toBe('plugin_error');
  });
});
