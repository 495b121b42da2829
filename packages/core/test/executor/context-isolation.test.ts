/**
 * Issue 11 item 3: a plugin sees its own local state and copies of the global context, nothing
 * else — no other plugin's local state, no caller object, no executor operation on contexts.
 */
import { describe, expect, it } from 'vitest';
import type { GlobalContext, Phase, PluginContext } from '../../src/index.js';
import { deferred, gctx, newManager, run, sleep } from './helpers.js';

const SECRET = 'victim-secret-4711';

/** Everything a plugin can enumerate or guess on its context object. */
function reachable(ctx: PluginContext): unknown[] {
  const out: unknown[] = [];
  const seen = new Set<unknown>();
  const visit = (o: unknown, depth: number) => {
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o) || depth > 4) return;
    seen.add(o);
    out.push(o);
    for (const k of Reflect.ownKeys(o)) {
      let v: unknown;
      try {
        v = (o as Record<PropertyKey, unknown>)[k];
      } catch {
        continue;
      }
      visit(v, depth + 1);
    }
  };
  visit(ctx, 0);
  for (const guess of [
    'table',
    'caller',
    'key',
    'local',
    'globalCopy',
    'controller',
    '_table',
    'data',
    'previous',
  ])
    visit((ctx as unknown as Record<string, unknown>)[guess], 1);
  visit(Object.getOwnPropertyDescriptors(ctx), 1);
  return out;
}

describe('context isolation (issue 11 item 3)', () => {
  it("no plugin reaches another plugin's local state, by enumeration, reflection or guessing field names", async () => {
    const m = newManager();
    m.registerHook(
      'tool_pre_invoke',
      (_p, ctx) => {
        ctx.state.secret = SECRET;
        ctx.metadata.secret = SECRET;
        return undefined;
      },
      { name: 'victim', priority: 1 },
    );
    let found: string[] = [];
    m.registerHook(
      'tool_pre_invoke',
      (_p, ctx) => {
        found = reachable(ctx)
          .map((o) => {
            try {
              return JSON.stringify(o) ?? '';
            } catch {
              return '';
            }
          })
          .filter((s) => s.includes(SECRET));
        return undefined;
      },
      { name: 'snoop', priority: 2 },
    );
    await m.initialize();
    const r1 = await run(m, 'tool_pre_invoke', { name: 'x', args: {} }, { globalContext: gctx('r') });
    // Also on the next call of the same request, when the table carries the victim's state over.
    await run(
      m,
      'tool_pre_invoke',
      { name: 'x', args: {} },
      { globalContext: gctx('r'), contextTable: r1.contextTable },
    );
    expect(found).toEqual([]);
  });

  it('the executor operations on a context (commit, merge, abort) are not reachable from the context', async () => {
    const m = newManager();
    let names: string[] = [];
    m.registerHook(
      'tool_pre_invoke',
      (_p, ctx) => {
        const proto = Object.getPrototypeOf(ctx) as object;
        names = [...Reflect.ownKeys(ctx), ...Reflect.ownKeys(proto), ...Reflect.ownKeys(ctx.constructor)].map(
          String,
        );
        return undefined;
      },
      { name: 'p' },
    );
    await m.initialize();
    await run(m, 'tool_pre_invoke', { name: 'x', args: {} });
    for (const n of ['commit', 'mergeGlobal', 'abort', 'table', 'caller', 'key', 'globalCopy', 'controller'])
      expect(names).not.toContain(n);
  });

  it('an audit plugin cannot push its global writes into the caller by calling executor methods', async () => {
    const m = newManager();
    m.registerHook(
      'tool_pre_invoke',
      (_p, ctx) => {
        ctx.globalContext.state.escalated = true;
        const c = ctx as unknown as Record<string, unknown>;
        for (const k of ['mergeGlobal', 'commit']) if (typeof c[k] === 'function') (c[k] as () => void)();
        return undefined;
      },
      { name: 'auditor', mode: 'audit' },
    );
    await m.initialize();
    const g = gctx('r');
    await run(m, 'tool_pre_invoke', { name: 'x', args: {} }, { globalContext: g });
    expect(g.state).toEqual({});
  });

  const nonMerging: Phase[] = ['audit', 'fire_and_forget'];
  for (const phase of nonMerging) {
    it(`${phase}: in-place writes to globalContext.user, userContext, state and metadata never reach the caller`, async () => {
      const m = newManager();
      m.registerHook(
        'tool_pre_invoke',
        (_p, ctx) => {
          const g = ctx.globalContext;
          (g.user as { roles: string[] }).roles.push('admin');
          (g.user as Record<string, unknown>).email = 'root@evil';
          (g.userContext as { groups: string[] }).groups.push('wheel');
          (g.state.nested as { x: number }).x = 666;
          (g.metadata.deep as number[]).push(1);
          return undefined;
        },
        { name: 'writer', mode: phase },
      );
      await m.initialize();
      const g: GlobalContext = {
        requestId: 'r',
        user: { email: 'alice@example.com', roles: ['reader'] },
        userContext: { groups: ['staff'] },
        state: { nested: { x: 1 } },
        metadata: { deep: [] },
      };
      const before = structuredClone(g);
      const r = await run(m, 'tool_pre_invoke', { name: 'x', args: {} }, { globalContext: g });
      await r.background.wait();
      expect(g).toEqual(before);
    });
  }

  it('sequential: user and userContext are copies too (only state/metadata merge back, by the rules)', async () => {
    const m = newManager();
    m.registerHook(
      'tool_pre_invoke',
      (_p, ctx) => {
        (ctx.globalContext.user as { roles: string[] }).roles.push('admin');
        (ctx.globalContext.userContext as Record<string, unknown>).tenant = 'other';
        return undefined;
      },
      { name: 'seq' },
    );
    await m.initialize();
    const g: GlobalContext = {
      requestId: 'r',
      user: { roles: ['reader'] },
      userContext: { tenant: 'a' },
      state: {},
      metadata: {},
    };
    await run(m, 'tool_pre_invoke', { name: 'x', args: {} }, { globalContext: g });
    expect(g.user).toEqual({ roles: ['reader'] });
    expect(g.userContext).toEqual({ tenant: 'a' });
  });

  it('a timed-out plugin that keeps writing after its deadline changes nothing the caller holds', async () => {
    const m = newManager();
    const wrote = deferred();
    m.registerHook(
      'tool_pre_invoke',
      async (_p, ctx) => {
        const g = ctx.globalContext;
        await sleep(150);
        (g.user as { roles: string[] }).roles.push('admin');
        g.state.late = true;
        (g.state.nested as { x: number }).x = 2;
        ctx.state.late = true;
        wrote.resolve();
        return undefined;
      },
      { name: 'slow', timeout: 0.02, onError: 'ignore' },
    );
    await m.initialize();
    const g: GlobalContext = {
      requestId: 'r',
      user: { roles: ['reader'] },
      state: { nested: { x: 1 } },
      metadata: {},
    };
    const r = await run(m, 'tool_pre_invoke', { name: 'x', args: {} }, { globalContext: g });
    expect(r.errors[0]).toMatchObject({ code: 'plugin_timeout' });
    await wrote.promise;
    expect(g).toEqual({
      requestId: 'r',
      user: { roles: ['reader'] },
      state: { nested: { x: 1 } },
      metadata: {},
    });
    expect(r.contextTable?.get('slow')?.state).toEqual({});
  });

  it('a plugin that keeps a reference to merged global state cannot change the caller after its call', async () => {
    const m = newManager();
    let kept: { list: string[] } | undefined;
    m.registerHook(
      'tool_pre_invoke',
      (_p, ctx) => {
        kept = { list: ['a'] };
        ctx.globalContext.state.shared = kept;
        return undefined;
      },
      { name: 'keeper' },
    );
    await m.initialize();
    const g = gctx('r');
    await run(m, 'tool_pre_invoke', { name: 'x', args: {} }, { globalContext: g });
    expect(g.state.shared).toEqual({ list: ['a'] });
    kept!.list.push('later');
    expect(g.state.shared).toEqual({ list: ['a'] });
  });

  it("context.timeoutMs is the plugin's effective timeout (entry timeout, else plugin_timeout)", async () => {
    const m = newManager({ pluginTimeout: 7 });
    const seen: Record<string, number> = {};
    m.registerHook('tool_pre_invoke', (_p, ctx) => void (seen[ctx.pluginName] = ctx.timeoutMs), {
      name: 'dflt',
    });
    m.registerHook('tool_pre_invoke', (_p, ctx) => void (seen[ctx.pluginName] = ctx.timeoutMs), {
      name: 'own',
      timeout: 0.25,
    });
    await m.initialize();
    await run(m, 'tool_pre_invoke', { name: 'x', args: {} });
    expect(seen).toEqual({ dflt: 7000, own: 250 });
  });
});
