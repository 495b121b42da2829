/**
 * Tracing through node:diagnostics_channel (STYLE 13; ARCHITECTURE section 1 "tracing"): hook
 * start/end and plugin start/end with phase and outcome, published only when someone subscribes.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { CHANNEL_NAMES } from '../../src/index.js';
import { aborted, newManager, probe, run, sleep, traceOf, Trail } from './helpers.js';

describe('tracing channels (cpex:hook:start/end, cpex:plugin:start/end)', () => {
  it('the four channel names are exported (tracing contract)', () => {
    expect(CHANNEL_NAMES).toEqual({
      hookStart: 'cpex:hook:start',
      hookEnd: 'cpex:hook:end',
      pluginStart: 'cpex:plugin:start',
      pluginEnd: 'cpex:plugin:end',
    });
  });

  it('one invoke publishes hook start, a start/end pair per plugin with its phase, then hook end (tracing contract)', async () => {
    const m = newManager();
    probe(m, new Trail(), 'seq', {}, (p) => ({ modifiedPayload: { ...p, x: 1 } }));
    probe(m, new Trail(), 'aud', { mode: 'audit' });
    const trace = traceOf(m);
    try {
      await m.initialize();
      await run(m, 'tool_pre_invoke', {}, { globalContext: { requestId: 'rq-1', state: {}, metadata: {} } });
    } finally {
      trace.stop();
    }
    const seq = trace.messages.map(({ channel, msg }) => [
      channel,
      msg.plugin ?? msg.hook,
      msg.phase ?? null,
    ]);
    expect(seq).toEqual([
      ['cpex:hook:start', 'tool_pre_invoke', null],
      ['cpex:plugin:start', 'seq', 'sequential'],
      ['cpex:plugin:end', 'seq', 'sequential'],
      ['cpex:plugin:start', 'aud', 'audit'],
      ['cpex:plugin:end', 'aud', 'audit'],
      ['cpex:hook:end', 'tool_pre_invoke', null],
    ]);
    const start = trace.messages[0]?.msg;
    expect(start).toMatchObject({ hook: 'tool_pre_invoke', requestId: 'rq-1', plugins: 2 });
    const end = trace.messages.at(-1)?.msg;
    expect(end).toMatchObject({
      hook: 'tool_pre_invoke',
      continueProcessing: true,
      stoppedBy: null,
      executed: 2,
    });
    expect(typeof end?.durationMs).toBe('number');
    expect(trace.messages[2]?.msg).toMatchObject({ outcome: 'modify' });
    expect(trace.messages[4]?.msg).toMatchObject({ outcome: 'allow' });
    const ids = new Set(trace.messages.map((x) => x.msg.invocationId));
    expect(ids.size).toBe(1);
  });

  it('plugin:end carries the outcome: deny, error (with code), timeout, aborted (tracing contract)', async () => {
    const m = newManager();
    probe(m, new Trail(), 'thrower', { onError: 'ignore', priority: 1 }, () => {
      throw new Error('x');
    });
    probe(m, new Trail(), 'sleeper', { onError: 'ignore', timeout: 0.02, priority: 2 }, async () => {
      await sleep(200);
      return undefined;
    });
    probe(m, new Trail(), 'slowSibling', { mode: 'concurrent', priority: 1 }, async () => {
      await sleep(100);
      return undefined;
    });
    probe(m, new Trail(), 'denier', { mode: 'concurrent', priority: 2 }, async () => ({
      continueProcessing: false,
    }));
    const trace = traceOf(m);
    try {
      await m.initialize();
      await run(m, 'tool_pre_invoke', {});
    } finally {
      trace.stop();
    }
    const outcomes = Object.fromEntries(
      trace.messages.filter((x) => x.channel === 'cpex:plugin:end').map((x) => [x.msg.plugin, x.msg.outcome]),
    );
    expect(outcomes).toEqual({
      thrower: 'error',
      sleeper: 'timeout',
      denier: 'deny',
      slowSibling: 'aborted',
    });
    const ends = trace.messages.filter((x) => x.channel === 'cpex:plugin:end');
    const errMsg = ends.find((x) => x.msg.plugin === 'thrower')?.msg;
    expect(errMsg?.code).toBe('plugin_error');
    const timeoutMsg = ends.find((x) => x.msg.plugin === 'sleeper')?.msg;
    expect(timeoutMsg?.code).toBe('plugin_timeout');
    const hookEnd = trace.messages.find((x) => x.channel === 'cpex:hook:end')?.msg;
    expect(hookEnd).toMatchObject({ continueProcessing: false, stoppedBy: 'denier' });
  });

  it('each channel works on its own: subscribing only to plugin:end (or hook:end) still receives messages (tracing contract)', async () => {
    const m = newManager();
    probe(m, new Trail(), 'p');
    await m.initialize();
    const onlyPluginEnd = traceOf(m, ['cpex:plugin:end']);
    try {
      await run(m, 'tool_pre_invoke', {});
    } finally {
      onlyPluginEnd.stop();
    }
    expect(onlyPluginEnd.messages.map((x) => x.msg.plugin)).toEqual(['p']);
    const onlyHookEnd = traceOf(m, ['cpex:hook:end']);
    try {
      await run(m, 'tool_pre_invoke', {});
    } finally {
      onlyHookEnd.stop();
    }
    expect(onlyHookEnd.messages.map((x) => x.msg.hook)).toEqual(['tool_pre_invoke']);
  });

  it('fire_and_forget plugins publish plugin start/end with phase fire_and_forget (tracing contract)', async () => {
    const m = newManager();
    probe(m, new Trail(), 'bg', { mode: 'fire_and_forget' });
    const trace = traceOf(m, ['cpex:plugin:start', 'cpex:plugin:end']);
    try {
      await m.initialize();
      const r = await run(m, 'tool_pre_invoke', {});
      await r.background.wait();
    } finally {
      trace.stop();
    }
    expect(trace.messages.map((x) => [x.channel, x.msg.plugin, x.msg.phase])).toEqual([
      ['cpex:plugin:start', 'bg', 'fire_and_forget'],
      ['cpex:plugin:end', 'bg', 'fire_and_forget'],
    ]);
  });

  it('nothing is published when nobody subscribes: after unsubscribing, channels report no subscribers and the handler gets nothing (STYLE 13 "gated on hasSubscribers")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'p');
    await m.initialize();
    const trace = traceOf(m);
    await run(m, 'tool_pre_invoke', {});
    const whileSubscribed = trace.messages.length;
    trace.stop();
    for (const name of Object.values(CHANNEL_NAMES)) {
      expect(diagnostics_channel.channel(name).hasSubscribers, name).toBe(false);
    }
    await run(m, 'tool_pre_invoke', {});
    expect(whileSubscribed).toBe(4);
    expect(trace.messages.length).toBe(4);
  });

  it('messages say which manager published them, so two managers can be told apart (tracing contract)', async () => {
    const a = newManager();
    const b = newManager();
    probe(a, new Trail(), 'pa');
    probe(b, new Trail(), 'pb');
    await a.initialize();
    await b.initialize();
    const ta = traceOf(a, ['cpex:plugin:start']);
    const tb = traceOf(b, ['cpex:plugin:start']);
    try {
      await run(a, 'tool_pre_invoke', {});
      await run(b, 'tool_pre_invoke', {});
    } finally {
      ta.stop();
      tb.stop();
    }
    expect(ta.messages.map((x) => x.msg.plugin)).toEqual(['pa']);
    expect(tb.messages.map((x) => x.msg.plugin)).toEqual(['pb']);
  });

  it('every hook:start is matched by a hook:end — also when the caller aborts or violationsAsExceptions throws (tracing contract: spans always close)', async () => {
    const m = newManager();
    probe(m, new Trail(), 'slow', {}, async (_p, ctx) => {
      await aborted(ctx.signal);
      return undefined;
    });
    probe(m, new Trail(), 'denier', { hook: 'tool_post_invoke' }, () => ({ continueProcessing: false }));
    await m.initialize();
    const trace = traceOf(m, ['cpex:hook:start', 'cpex:hook:end']);
    try {
      const ac = new AbortController();
      const p = run(m, 'tool_pre_invoke', {}, { signal: ac.signal });
      await sleep(5);
      ac.abort();
      await p.catch(() => undefined);
      await run(m, 'tool_post_invoke', {}, { violationsAsExceptions: true }).catch(() => undefined);
    } finally {
      trace.stop();
    }
    const pairs = trace.messages.map((x) => [x.channel, x.msg.hook]);
    expect(pairs).toEqual([
      ['cpex:hook:start', 'tool_pre_invoke'],
      ['cpex:hook:end', 'tool_pre_invoke'],
      ['cpex:hook:start', 'tool_post_invoke'],
      ['cpex:hook:end', 'tool_post_invoke'],
    ]);
    expect(trace.messages[1]?.msg.continueProcessing).toBe(false);
  });
});
