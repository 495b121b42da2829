/**
 * ARCHITECTURE.md section 3 rule "Context table: per request (request_id) and plugin: local state
 * survives across hooks (pre → post) when the caller passes the table back; global state writes
 * from sequential, transform and concurrent plugins merge into the caller's context", "Further
 * decisions" (table null without plugins; an entry for every plugin that ran or was scheduled),
 * and section 2 ContextTable.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ContextTable } from '../../src/index.js';
import { gctx, newManager, probe, run, sleep, Trail, until } from './helpers.js';

describe('context table (ARCH s3 rule "Context table")', () => {
  it('the returned context table is null when no plugin is registered for the hook (ARCH s3 "Further decisions")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'other', { hook: 'tool_post_invoke' });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { q: 1 });
    expect(r.contextTable).toBeNull();
    expect(r.continueProcessing).toBe(true);
    expect(r.modifiedPayload).toBeNull();
    expect(await r.background.wait()).toEqual([]);
  });

  it('the table holds an entry for every plugin that ran or was scheduled, and none for those that did not (ARCH s3 "Further decisions")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'ran', { priority: 1 });
    probe(m, new Trail(), 'erred', { priority: 2, onError: 'ignore' }, () => {
      throw new Error('x');
    });
    probe(m, new Trail(), 'halter', { priority: 3 }, () => ({ continueProcessing: false }));
    probe(m, new Trail(), 'skipped', { priority: 4 });
    probe(m, new Trail(), 'skippedTransform', { mode: 'transform' });
    probe(m, new Trail(), 'scheduled', { mode: 'fire_and_forget' });
    probe(m, new Trail(), 'notMatching', { priority: 0, conditions: [{ serverIds: ['elsewhere'] }] });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(Object.keys(r.contextTable?.toJSON() ?? {}).sort()).toEqual([
      'erred',
      'halter',
      'ran',
      'scheduled',
    ]);
    expect(r.contextTable?.size).toBe(4);
    expect(r.contextTable?.get('skipped')).toBeUndefined();
    await r.background.wait();
  });

  it('toJSON() has the shape { [pluginName]: { state, metadata } } (ARCH s2 ContextTable)', async () => {
    const m = newManager();
    probe(m, new Trail(), 'p', {}, (_p, ctx) => {
      ctx.state.s = 1;
      ctx.metadata.m = 2;
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {}, { globalContext: gctx('req-1') });
    expect(r.contextTable?.requestId).toBe('req-1');
    expect(r.contextTable?.toJSON()).toEqual({ p: { state: { s: 1 }, metadata: { m: 2 } } });
    expect(JSON.parse(JSON.stringify(r.contextTable))).toEqual({
      p: { state: { s: 1 }, metadata: { m: 2 } },
    });
  });

  it('local state survives pre → post when the caller passes the table back with the same requestId (ARCH s3 "local state survives across hooks")', async () => {
    const m = newManager();
    const seenInPost: unknown[] = [];
    m.register({
      name: 'stateful',
      tool_pre_invoke(_p: unknown, ctx: { state: Record<string, unknown> }) {
        ctx.state.started = 'pre';
        return undefined;
      },
      tool_post_invoke(
        _p: unknown,
        ctx: { state: Record<string, unknown>; getState: (k: string) => unknown },
      ) {
        seenInPost.push(ctx.getState('started'));
        return undefined;
      },
    });
    await m.initialize();
    const pre = await run(m, 'tool_pre_invoke', {}, { globalContext: gctx('req-7') });
    await run(m, 'tool_post_invoke', {}, { globalContext: gctx('req-7'), contextTable: pre.contextTable });
    expect(seenInPost).toEqual(['pre']);
  });

  it('local state is per plugin: two plugins with the same key do not see each other\'s state (ARCH s3 "per request and plugin")', async () => {
    const m = newManager();
    const seen: Record<string, unknown> = {};
    for (const n of ['a', 'b']) {
      probe(m, new Trail(), n, {}, (_p, ctx) => {
        seen[n] = ctx.state.key;
        ctx.state.key = n;
        return undefined;
      });
    }
    await m.initialize();
    const r1 = await run(m, 'tool_pre_invoke', {}, { globalContext: gctx('r') });
    await run(m, 'tool_pre_invoke', {}, { globalContext: gctx('r'), contextTable: r1.contextTable });
    expect(seen).toEqual({ a: 'a', b: 'b' });
    expect(r1.contextTable?.toJSON()).toEqual({
      a: { state: { key: 'a' }, metadata: {} },
      b: { state: { key: 'b' }, metadata: {} },
    });
  });

  it('a table passed back with a different requestId starts fresh (ARCH s3 "per request (request_id)")', async () => {
    const m = newManager();
    const seen: unknown[] = [];
    probe(m, new Trail(), 'p', {}, (_p, ctx) => {
      seen.push(ctx.state.n);
      ctx.state.n = 1;
      return undefined;
    });
    await m.initialize();
    const r1 = await run(m, 'tool_pre_invoke', {}, { globalContext: gctx('req-A') });
    const r2 = await run(
      m,
      'tool_pre_invoke',
      {},
      { globalContext: gctx('req-B'), contextTable: r1.contextTable },
    );
    expect(seen).toEqual([undefined, undefined]);
    expect(r2.contextTable?.requestId).toBe('req-B');
  });

  it('without the table passed back, local state starts fresh even for the same requestId (ARCH s3 "when the caller passes the table back")', async () => {
    const m = newManager();
    const seen: unknown[] = [];
    probe(m, new Trail(), 'p', {}, (_p, ctx) => {
      seen.push(ctx.state.n);
      ctx.state.n = 1;
      return undefined;
    });
    await m.initialize();
    await run(m, 'tool_pre_invoke', {}, { globalContext: gctx('req') });
    await run(m, 'tool_pre_invoke', {}, { globalContext: gctx('req') });
    expect(seen).toEqual([undefined, undefined]);
  });

  it('local state carries across three hooks in a row when each table is passed on (ARCH s3 "local state survives across hooks")', async () => {
    const m2 = newManager();
    const seen2: unknown[] = [];
    const bump = (_p: unknown, ctx: { state: Record<string, unknown> }) => {
      seen2.push(ctx.state.n);
      ctx.state.n = ((ctx.state.n as number | undefined) ?? 0) + 1;
      return undefined;
    };
    m2.register({
      name: 'counter',
      hooks: { tool_pre_invoke: bump, tool_post_invoke: bump, 'custom.after': bump },
    });
    await m2.initialize();
    let table = null as Awaited<ReturnType<typeof m2.invoke>>['contextTable'];
    for (const hook of ['tool_pre_invoke', 'tool_post_invoke', 'custom.after']) {
      table = (await run(m2, hook, {}, { globalContext: gctx('rq'), contextTable: table })).contextTable;
    }
    expect(seen2).toEqual([undefined, 1, 2]);
    expect(table?.toJSON().counter?.state).toEqual({ n: 3 });
  });

  it('a plugin disposed and registered again under the same name starts fresh even with the old table (entries are per registration, ref s7 "keyed by request_id + plugin uuid")', async () => {
    const m = newManager();
    const seen: unknown[] = [];
    const make = () => ({
      name: 'p',
      tool_pre_invoke(_p: unknown, ctx: { state: Record<string, unknown> }) {
        seen.push(ctx.state.n);
        ctx.state.n = 1;
        return undefined;
      },
    });
    const first = m.register(make());
    await m.initialize();
    const r1 = await run(m, 'tool_pre_invoke', {}, { globalContext: gctx('r') });
    await first.dispose();
    await m.register(make()).ready;
    await run(m, 'tool_pre_invoke', {}, { globalContext: gctx('r'), contextTable: r1.contextTable });
    expect(seen).toEqual([undefined, undefined]);
  });

  it('the table type is exported and its entries are reachable with get(pluginName) (ARCH s2 ContextTable)', async () => {
    const m = newManager();
    probe(m, new Trail(), 'p', {}, (_p, ctx) => {
      ctx.state.x = 'y';
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.contextTable).toBeInstanceOf(ContextTable);
    expect(r.contextTable?.get('p')?.state).toEqual({ x: 'y' });
  });
});

describe('global-state merge rules (ARCH s3 "global state writes ... merge into the caller\'s context"; "Further decisions")', () => {
  it('writes to the global state and metadata from sequential, transform and concurrent merge into the caller\'s context; audit and fire_and_forget writes are dropped (ARCH s3 "Further decisions")', async () => {
    const m = newManager();
    for (const phase of ['sequential', 'transform', 'audit', 'concurrent', 'fire_and_forget'] as const) {
      probe(m, new Trail(), phase, { mode: phase }, (_p, ctx) => {
        ctx.globalContext.state[phase] = true;
        ctx.globalContext.metadata[phase] = true;
        return undefined;
      });
    }
    await m.initialize();
    const g = gctx('r');
    const r = await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    await r.background.wait();
    expect(g.state).toEqual({ sequential: true, transform: true, concurrent: true });
    expect(g.metadata).toEqual({ sequential: true, transform: true, concurrent: true });
  });

  it('audit and fire_and_forget global writes are dropped, nested ones too: an audit plugin cannot change state.auth.roles in place (ARCH s3 "Further decisions": audit\'s and fire_and_forget\'s global writes are dropped)', async () => {
    const m = newManager();
    probe(m, new Trail(), 'aud', { mode: 'audit', onError: 'ignore' }, (_p, ctx) => {
      try {
        (ctx.globalContext.state.auth as { roles: string[] }).roles.push('admin');
        (ctx.globalContext.metadata.trace as Record<string, unknown>).audited = true;
      } catch {
        /* a refused write is fine; a leaked one is not */
      }
      return undefined;
    });
    probe(m, new Trail(), 'faf', { mode: 'fire_and_forget' }, (_p, ctx) => {
      try {
        (ctx.globalContext.state.auth as { user: string }).user = 'mallory';
      } catch {
        /* refused is fine */
      }
      return undefined;
    });
    await m.initialize();
    const g = gctx('r', { state: { auth: { user: 'alice', roles: ['reader'] } }, metadata: { trace: {} } });
    const r = await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    await r.background.wait();
    expect(g.state).toEqual({ auth: { user: 'alice', roles: ['reader'] } });
    expect(g.metadata).toEqual({ trace: {} });
  });

  it('an aborted concurrent sibling\'s nested global writes after the halt never reach the caller (DEVIATIONS "nothing they do after the halt reaches ... the caller\'s global context")', async () => {
    const m = newManager();
    let lateDone = false;
    probe(m, new Trail(), 'denier', { mode: 'concurrent' }, async () => {
      await sleep(2);
      return { continueProcessing: false };
    });
    probe(m, new Trail(), 'late', { mode: 'concurrent' }, async (_p, ctx) => {
      const auth = ctx.globalContext.state.auth as { roles: string[] };
      await sleep(30);
      try {
        auth.roles.push('admin');
      } catch {
        /* refused is fine */
      }
      lateDone = true;
      return undefined;
    });
    await m.initialize();
    const g = gctx('r', { state: { auth: { roles: ['reader'] } } });
    const r = await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    expect(r.continueProcessing).toBe(false);
    await until(() => lateDone, 'the late sibling finished');
    expect(g.state).toEqual({ auth: { roles: ['reader'] } });
  });

  it('sequential, transform and concurrent nested global writes are kept: the changed value is merged into the caller\'s context (ARCH s3 "global state writes from sequential, transform and concurrent plugins merge")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'seq', {}, (_p, ctx) => {
      (ctx.globalContext.state.auth as { roles: string[] }).roles.push('seq');
      return undefined;
    });
    probe(m, new Trail(), 'tra', { mode: 'transform' }, (_p, ctx) => {
      (ctx.globalContext.state.auth as { roles: string[] }).roles.push('tra');
      return undefined;
    });
    probe(m, new Trail(), 'con', { mode: 'concurrent' }, async (_p, ctx) => {
      (ctx.globalContext.metadata.trace as Record<string, unknown>).con = true;
      return undefined;
    });
    await m.initialize();
    const g = gctx('r', { state: { auth: { roles: ['reader'] } }, metadata: { trace: {} } });
    await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    expect(g.state).toEqual({ auth: { roles: ['reader', 'seq', 'tra'] } });
    expect(g.metadata).toEqual({ trace: { con: true } });
  });

  it('a plugin sees the global writes of the plugins that ran before it (ARCH s3 "merge into the caller\'s context")', async () => {
    const m = newManager();
    let seen: unknown;
    probe(m, new Trail(), 'writer', { priority: 1 }, (_p, ctx) => {
      ctx.globalContext.state.token = 'abc';
      return undefined;
    });
    probe(m, new Trail(), 'reader', { priority: 2 }, (_p, ctx) => {
      seen = ctx.globalContext.state.token;
      return undefined;
    });
    await m.initialize();
    await run(m, 'tool_pre_invoke', {});
    expect(seen).toBe('abc');
  });

  it("a plugin's global context is its own copy: writes reach the caller only through the merge, after the plugin returns (ARCH s2 PluginContext.globalContext)", async () => {
    const m = newManager();
    const g = gctx('r', { state: { a: 1 } });
    let duringCall: unknown;
    probe(m, new Trail(), 'p', {}, (_p, ctx) => {
      ctx.globalContext.state.b = 2;
      duringCall = { ...g.state };
      return undefined;
    });
    await m.initialize();
    await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    expect(duringCall).toEqual({ a: 1 });
    expect(g.state).toEqual({ a: 1, b: 2 });
  });

  it("the caller's scalar GlobalContext fields (requestId, user, tenantId, serverId) are visible to plugins and not changed by them (ARCH s2 GlobalContext)", async () => {
    const m = newManager();
    let seen: unknown;
    probe(m, new Trail(), 'p', {}, (_p, ctx) => {
      const gc = ctx.globalContext as {
        requestId: string;
        user?: unknown;
        tenantId?: string;
        serverId?: string;
      };
      seen = { requestId: gc.requestId, user: gc.user, tenantId: gc.tenantId, serverId: gc.serverId };
      gc.tenantId = 'hijacked';
      return undefined;
    });
    await m.initialize();
    const g = gctx('rid', { user: 'alice', tenantId: 't1', serverId: 's1' });
    await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    expect(seen).toEqual({ requestId: 'rid', user: 'alice', tenantId: 't1', serverId: 's1' });
    expect(g.tenantId).toBe('t1');
  });

  it('without a caller GlobalContext a requestId is generated and the table carries it (ARCH s2 InvokeOptions.globalContext optional)', async () => {
    const m = newManager();
    let rid: unknown;
    probe(m, new Trail(), 'p', {}, (_p, ctx) => {
      rid = ctx.globalContext.requestId;
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(typeof rid).toBe('string');
    expect((rid as string).length).toBeGreaterThan(0);
    expect(r.contextTable?.requestId).toBe(rid);
  });

  it('a plugin that does not take part in a hook is dropped from that call\'s table (Python semantics, ref s7 "Returned table")', async () => {
    const m = newManager();
    m.register({ name: 'preOnly', tool_pre_invoke: () => undefined });
    m.register({ name: 'both', tool_pre_invoke: () => undefined, tool_post_invoke: () => undefined });
    await m.initialize();
    const pre = await run(m, 'tool_pre_invoke', {}, { globalContext: gctx('r') });
    const post = await run(
      m,
      'tool_post_invoke',
      {},
      { globalContext: gctx('r'), contextTable: pre.contextTable },
    );
    expect(Object.keys(pre.contextTable?.toJSON() ?? {}).sort()).toEqual(['both', 'preOnly']);
    expect(Object.keys(post.contextTable?.toJSON() ?? {})).toEqual(['both']);
  });

  it('deletions from a plugin\'s global state copy are not propagated to the caller (Python semantics, ref s7 "Merge")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'deleter', {}, (_p, ctx) => {
      delete ctx.globalContext.state.keep;
      ctx.globalContext.state.added = 1;
      return undefined;
    });
    await m.initialize();
    const g = gctx('r', { state: { keep: 'me' } });
    await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    expect(g.state).toEqual({ keep: 'me', added: 1 });
  });

  it('context.getState / setState read and write the plugin\'s local state (ARCH s2 "context carries state (local)")', async () => {
    const m = newManager();
    let got: unknown[] = [];
    probe(m, new Trail(), 'p', {}, (_p, ctx) => {
      got = [ctx.getState('missing'), ctx.getState('missing', 'fallback')];
      ctx.setState('k', 'v');
      got.push(ctx.getState('k'), ctx.state.k, ctx.pluginName, ctx.hook, ctx.phase);
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(got).toEqual([undefined, 'fallback', 'v', 'v', 'p', 'tool_pre_invoke', 'sequential']);
    expect(r.contextTable?.toJSON().p?.state).toEqual({ k: 'v' });
  });
});

describe('caller state that is not a tree (bad input never crashes or hangs)', () => {
  it('a GlobalContext whose state holds a cyclic plain object (two back-references) does not hang a plugin that reads its global context; writes still merge (ARCH s3 "global state writes ... merge")', async () => {
    // Run in a child process: a hang must fail this test, not freeze the test worker.
    const core = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/index.ts');
    const dir = await mkdtemp(path.join(tmpdir(), 'cpex-cycle-'));
    const script = path.join(dir, 'cycle.mts');
    await writeFile(
      script,
      [
        `import { PluginManager } from ${JSON.stringify(core)};`,
        'const m = new PluginManager({ env: {} });',
        "m.registerHook('tool_pre_invoke', (_p, ctx) => {",
        '  const node = ctx.globalContext.state.node as Record<string, unknown>;',
        '  ctx.globalContext.state.sawCycle = node.x === node || (node.x as Record<string, unknown>).y !== undefined;',
        '  return undefined;',
        "}, { name: 'reader' });",
        'await m.initialize();',
        'const node: Record<string, unknown> = { label: "n" };',
        'node.x = node;',
        'node.y = node;',
        "const g = { requestId: 'r', state: { node } as Record<string, unknown>, metadata: {} };",
        "await m.invoke('my.hook', {});",
        "await m.invoke('tool_pre_invoke', { name: 't', args: {} } as never, { globalContext: g });",
        'process.stdout.write(JSON.stringify({ sawCycle: g.state.sawCycle, label: (g.state.node as { label: string }).label }));',
        'await m.shutdown();',
      ].join('\n'),
    );
    try {
      const out = await new Promise<{ code: number | null; killed: boolean; stdout: string; stderr: string }>(
        (resolve) => {
          execFile(
            process.execPath,
            ['--conditions=@cpex/source', '--import', 'tsx', script],
            { cwd: path.resolve(path.dirname(core), '../../..'), timeout: 10_000 },
            (err, stdout, stderr) =>
              resolve({
                code: err ? ((err as { code?: number }).code ?? 1) : 0,
                killed: err?.killed === true,
                stdout,
                stderr,
              }),
          );
        },
      );
      expect(out.killed, 'the child process hung and was killed after 10 s').toBe(false);
      expect(out.stderr, out.stderr).toBe('');
      expect(out.code).toBe(0);
      expect(JSON.parse(out.stdout)).toEqual({ sawCycle: true, label: 'n' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
