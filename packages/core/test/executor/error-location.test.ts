// Issue 11 item 18: a TS plugin's thrown error keeps its first stack frame (file:line) in the
// error record, in the halting violation's details, and through a coded error's `cause`.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CpexError, PluginManager, type PluginHost } from '../../src/index.js';
import { errorLocation } from '../../src/internal.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/throwing-plugins.mjs', import.meta.url));
const gc = { requestId: 'r', state: {}, metadata: {} };

async function managerWith(exportName: string, onError: 'fail' | 'ignore') {
  const m = new PluginManager();
  await m.loadConfig({
    plugins: [
      { name: 'p', kind: `node://${FIXTURE}#${exportName}`, hooks: ['tool_pre_invoke'], on_error: onError },
    ],
  });
  await m.initialize();
  return m;
}

describe('error location (first stack frame) of a TS plugin that throws', () => {
  it('a sync throw: errors[].location under on_error ignore names the file and line', async () => {
    const m = await managerWith('syncThrow', 'ignore');
    const r = await m.invoke('tool_pre_invoke', { name: 't', args: {} }, { globalContext: gc });
    expect(r.continueProcessing).toBe(true);
    expect(r.errors[0]).toMatchObject({ pluginName: 'p', errorCode: 'CPEX_ERR_PLUGIN_EXCEPTION' });
    expect(r.errors[0]?.location).toMatch(
      new RegExp(`^${FIXTURE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5:\\d+$`),
    );
    await m.shutdown();
  });

  it('an async rejection: the halting violation carries details.location (on_error fail)', async () => {
    const m = await managerWith('asyncThrow', 'fail');
    const r = await m.invoke('tool_pre_invoke', { name: 't', args: {} }, { globalContext: gc });
    expect(r.continueProcessing).toBe(false);
    expect(r.violation?.details?.location).toMatch(/throwing-plugins\.mjs:13:\d+$/);
    expect(r.errors[0]?.location).toBe(r.violation?.details?.location);
    await m.shutdown();
  });

  it('a thrown non-Error has no location, and nothing breaks', async () => {
    const m = await managerWith('throwString', 'ignore');
    const r = await m.invoke('tool_pre_invoke', { name: 't', args: {} }, { globalContext: gc });
    expect(r.errors[0]).toMatchObject({ message: 'just a string' });
    expect(r.errors[0]).not.toHaveProperty('location');
    await m.shutdown();
  });

  it("a host's coded error keeps the location of its cause", async () => {
    const cause = new Error('deep inside the host');
    const caps = { supportsTimeouts: 'cooperative', isolated: false, copiesPayloads: false } as const;
    const host: PluginHost = {
      name: 'h',
      capabilities: caps,
      kinds: ['h://'],
      factory: {
        async create() {
          return {
            host: caps,
            handler: () => () => {
              throw new CpexError('CPEX_ERR_PROTOCOL', 'undecodable answer', { cause });
            },
          };
        },
      },
      async dispose() {},
    };
    const m = new PluginManager({ hosts: [host] });
    await m.loadConfig({
      plugins: [{ name: 'p', kind: 'h://x', hooks: ['tool_pre_invoke'], on_error: 'ignore' }],
    });
    await m.initialize();
    const r = await m.invoke('tool_pre_invoke', { name: 't', args: {} }, { globalContext: gc });
    expect(r.errors[0]).toMatchObject({ errorCode: 'CPEX_ERR_PROTOCOL', location: errorLocation(cause) });
    expect(r.errors[0]?.location).toMatch(/error-location\.test\.ts:\d+:\d+$/);
    await m.shutdown();
  });

  it('a plugin whose initialize() throws: the load error keeps the location through its cause (toJSON)', async () => {
    const m = new PluginManager();
    m.register({
      name: 'init-fails',
      initialize() {
        throw new Error('no config');
      },
      tool_pre_invoke: () => undefined,
    });
    const err = (await m.initialize().catch((e: unknown) => e)) as CpexError;
    expect(err).toBeInstanceOf(CpexError);
    expect(err.toJSON().location).toMatch(/error-location\.test\.ts:\d+:\d+$/);
    await m.shutdown();
  });

  it('errorLocation never throws, whatever it is given', () => {
    const { proxy, revoke } = Proxy.revocable(new Error('x'), {});
    revoke();
    const hostile = new Proxy(new Error('y'), {
      get() {
        throw new Error('trap');
      },
      getPrototypeOf() {
        throw new Error('trap');
      },
    });
    const weird = new Error('z');
    Object.defineProperty(weird, 'stack', {
      get() {
        throw new Error('no stack for you');
      },
    });
    const noFrames = new Error('w');
    noFrames.stack = 'Error: w\n    at JSON.parse (<anonymous>)\n    at node:internal/x:1:1';
    for (const v of [proxy, hostile, weird, noFrames, null, undefined, 42, 'str', { stack: 'at a (b:1:2)' }])
      expect(errorLocation(v)).toBeUndefined();
    const e = new Error('ok');
    e.stack = 'Error: ok\n    at JSON.parse (<anonymous>)\n    at run (file:///srv/my%20plugins/p.mjs:7:3)';
    expect(errorLocation(e)).toBe('/srv/my plugins/p.mjs:7:3');
  });
});
