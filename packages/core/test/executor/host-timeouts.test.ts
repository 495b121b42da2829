/**
 * The executor acts on HostCapabilities.supportsTimeouts (issue 10 point 4, the lead's contract):
 * a pre-emptive host gets `context.timeoutMs`, enforces it itself and rejects with a coded
 * timeout; the executor does not time it twice and keeps only a liveness backstop of
 * timeout + max(1 s, timeout), reported as plugin_timeout with a note.
 */
import { describe, expect, it } from 'vitest';
import { CpexError, type Handler, type HostCapabilities, type PluginFactory } from '../../src/index.js';
import { newManager, run, sleep } from './helpers.js';

const PREEMPTIVE: HostCapabilities = { supportsTimeouts: 'preemptive', isolated: true, copiesPayloads: true };

/** A factory whose plugins run `body` as their one handler, on a host with the given capabilities. */
function hostFactory(host: HostCapabilities, body: Handler): PluginFactory {
  return { create: async () => ({ handler: () => body, host }) };
}

describe('pre-emptive hosts are not timed twice (issue 10 point 4)', () => {
  it('a pre-emptive host that takes longer than the timeout but answers before the backstop is not cut off by the executor', async () => {
    const m = newManager();
    let given = 0;
    m.registerFactory(
      'pre',
      hostFactory(PREEMPTIVE, async (_p, ctx) => {
        given = ctx.timeoutMs;
        await sleep(90); // past its 40 ms timeout; the host chose to let it finish
        return { metadata: { answered: true } };
      }),
    );
    await m.loadConfig({ plugins: [{ name: 'py', kind: 'pre', hooks: ['tool_pre_invoke'], timeout: 0.04 }] });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { name: 'x', args: {} });
    expect(given).toBe(40);
    expect(r.continueProcessing).toBe(true);
    expect(r.metadata).toEqual({ answered: true });
  });

  it("the host's own coded timeout is recorded as plugin_timeout", async () => {
    const m = newManager();
    m.registerFactory(
      'pre',
      hostFactory(PREEMPTIVE, async (_p, ctx) => {
        await sleep(ctx.timeoutMs);
        throw new CpexError('CPEX_ERR_PLUGIN_TIMEOUT', 'worker killed after its timeout');
      }),
    );
    await m.loadConfig({ plugins: [{ name: 'py', kind: 'pre', hooks: ['tool_pre_invoke'], timeout: 0.03 }] });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { name: 'x', args: {} });
    expect(r.violation).toMatchObject({ code: 'plugin_timeout', pluginName: 'py' });
    expect(r.violation?.description).toContain('worker killed');
  });

  it('a pre-emptive host that never answers is ended by the liveness backstop: plugin_timeout with a note, the invoke settles', async () => {
    const m = newManager();
    m.registerFactory(
      'pre',
      hostFactory(PREEMPTIVE, () => new Promise(() => {})),
    );
    m.registerFactory(
      'coop',
      hostFactory(
        { supportsTimeouts: 'cooperative', isolated: false, copiesPayloads: false },
        () => new Promise(() => {}),
      ),
    );
    await m.loadConfig({
      plugins: [
        { name: 'hung', kind: 'pre', hooks: ['tool_pre_invoke'], timeout: 0.05, on_error: 'ignore' },
        { name: 'coop', kind: 'coop', hooks: ['tool_pre_invoke'], timeout: 0.05, on_error: 'ignore' },
      ],
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { name: 'x', args: {} });
    const hung = r.errors.find((e) => e.pluginName === 'hung');
    const coop = r.errors.find((e) => e.pluginName === 'coop');
    expect(hung).toMatchObject({ code: 'plugin_timeout', errorCode: 'CPEX_ERR_PLUGIN_TIMEOUT' });
    expect(hung?.message).toMatch(/liveness backstop/);
    expect(coop).toMatchObject({ code: 'plugin_timeout' });
    expect(coop?.message).not.toMatch(/backstop/);
    expect(m.lineup('tool_pre_invoke').sequential.map((e) => e.timeout)).toEqual([0.05, 0.05]);
  });
});
