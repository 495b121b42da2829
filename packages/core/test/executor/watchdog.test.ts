/**
 * The manager's one watchdog (executor/watchdog.ts): an intrusive list of calls in flight, one
 * timer. A serial phase's reused call stays linked from one call to the next (track only moves
 * its deadline); a settled call left linked is unlinked by the next tick, never expired.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CallPool, MAX_POOLED_CALLS, type PluginCall } from '../../src/executor/call.js';
import { type Deadline, Watchdog } from '../../src/executor/watchdog.js';
import { newManager, probe, run, sleep, Trail, until } from './helpers.js';

class FakeCall implements Deadline {
  deadline = 0;
  done = false;
  linked = false;
  prev: Deadline | undefined = undefined;
  next: Deadline | undefined = undefined;
  expired = 0;
  constructor(public spanMs: number) {}
  expire(): void {
    this.expired++;
    this.done = true;
  }
}

const dogs: Watchdog[] = [];
afterEach(() => {
  for (const d of dogs.splice(0)) d.dispose();
});
function watchdog(): Watchdog {
  const w = new Watchdog();
  dogs.push(w);
  return w;
}

describe('watchdog (executor/watchdog.ts)', () => {
  it('tracking a linked call again only moves its deadline: it is linked once', () => {
    const w = watchdog();
    const c = new FakeCall(10_000);
    w.track(c);
    const first = c.deadline;
    w.track(c);
    w.track(c);
    expect(w.size).toBe(1);
    expect(c.linked).toBe(true);
    expect(c.deadline).toBeGreaterThanOrEqual(first);
    w.untrack(c);
    expect(w.size).toBe(0);
    expect(c.linked).toBe(false);
    // untracking an unlinked call is a no-op, and leaves the others linked
    const d = new FakeCall(10_000);
    w.track(d);
    w.untrack(c);
    expect(w.size).toBe(1);
  });

  it('an overdue call is expired once and unlinked; a settled call left linked is unlinked without expiring', async () => {
    const w = watchdog();
    const overdue = new FakeCall(20);
    const settled = new FakeCall(20);
    const patient = new FakeCall(60_000);
    w.track(patient);
    w.track(settled);
    w.track(overdue);
    settled.done = true;
    await until(() => overdue.expired > 0, 'the overdue call expired');
    expect(overdue.expired).toBe(1);
    expect(settled.expired).toBe(0);
    expect(settled.linked).toBe(false);
    expect(overdue.linked).toBe(false);
    expect(patient.linked).toBe(true);
    expect(w.size).toBe(1);
    await sleep(60);
    expect(overdue.expired).toBe(1);
  });

  it('a call with a shorter span than any in flight makes the watchdog tick sooner', async () => {
    const w = watchdog();
    w.track(new FakeCall(60_000)); // ticks every 25 ms
    const short = new FakeCall(20); // needs a 1 ms tick
    w.track(short);
    await until(() => short.expired > 0, 'the short call expired');
    expect(short.expired).toBe(1);
  });

  it("a serial phase's later plugin times out on its own deadline after earlier plugins of the invocation settled on the same reused call", async () => {
    const m = newManager({ pluginTimeout: 30 });
    const t = new Trail();
    for (let i = 0; i < 3; i++)
      probe(m, t, `quick${i}`, { priority: 10 + i }, async () => {
        await sleep(1);
        return undefined;
      });
    probe(m, t, 'slow', { timeout: 0.03, onError: 'ignore', priority: 100 }, async () => {
      await sleep(400);
      return { metadata: { late: true } };
    });
    probe(m, t, 'last', { priority: 200 });
    await m.initialize();
    for (let k = 0; k < 3; k++) {
      const r = await run(m, 'tool_pre_invoke', {});
      expect(r.continueProcessing).toBe(true);
      expect(r.errors).toEqual([expect.objectContaining({ pluginName: 'slow', code: 'plugin_timeout' })]);
      expect(r.metadata).toEqual({});
    }
    expect(t.ran.filter((n) => n === 'last')).toHaveLength(3);
    await m.shutdown();
  });
});

describe('CallPool (executor/call.ts): the engine’s free calls', () => {
  it('is a bounded stack: empty gives undefined, a full pool refuses, calls come back last in first out', () => {
    const pool = new CallPool();
    expect(pool.take()).toBeUndefined();
    const calls = Array.from({ length: MAX_POOLED_CALLS + 1 }, () => ({}) as unknown as PluginCall);
    for (let i = 0; i < MAX_POOLED_CALLS; i++) expect(pool.put(calls[i]!)).toBe(true);
    expect(pool.put(calls[MAX_POOLED_CALLS]!)).toBe(false);
    expect(pool.size).toBe(MAX_POOLED_CALLS);
    expect(pool.take()).toBe(calls[MAX_POOLED_CALLS - 1]);
    expect(pool.take()).toBe(calls[MAX_POOLED_CALLS - 2]);
    expect(pool.size).toBe(MAX_POOLED_CALLS - 2);
    while (pool.take() !== undefined);
    expect(pool.size).toBe(0);
  });
});
