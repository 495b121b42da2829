/**
 * ARCHITECTURE.md section 3 rule "Payload isolation: a plugin never changes the caller's payload or
 * another plugin's view", "Further decisions" (`cow_validation: strict` refuses in-place writes
 * with a coded error naming the plugin; `disabled` hands plugins the raw object) and the section 4
 * row "payload isolation".
 */
import { types } from 'node:util';
import { describe, expect, it } from 'vitest';
import { newManager, probe, snapshot, Trail, run } from './helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: payloads in these tests are ad-hoc shapes
type Anyish = Record<string, any>;

describe('cow_validation: strict (default) (ARCH s3 "Further decisions"; s4 row "payload isolation")', () => {
  it('cow_validation defaults to strict (ARCH s3 settings table)', () => {
    expect(newManager().settings.cowValidation).toBe('strict');
  });

  it('strict: an in-place top-level write is refused with payload_mutation naming the plugin; the caller\'s payload is unchanged (ARCH s3 "in-place write is refused with a coded error naming the plugin")', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'mutator', {}, (p: Anyish) => {
      p.name = 'changed';
      return undefined;
    });
    probe(m, t, 'after', { priority: 200 });
    await m.initialize();
    const input = { name: 'orig', args: { q: 1 } };
    const r = await run(m, 'tool_pre_invoke', input);
    expect(input).toEqual({ name: 'orig', args: { q: 1 } });
    expect(r.continueProcessing).toBe(false);
    expect(r.violation).toMatchObject({ code: 'payload_mutation', pluginName: 'mutator' });
    expect(r.errors[0]).toMatchObject({
      pluginName: 'mutator',
      code: 'payload_mutation',
      errorCode: 'CPEX_ERR_PAYLOAD_MUTATION',
    });
    expect(t.ran).toEqual(['mutator']);
  });

  it('strict: nested writes, deletes, array pushes and defineProperty are refused too (ARCH s3 "in-place write is refused")', async () => {
    const attempts: Record<string, (p: Anyish) => void> = {
      nestedSet: (p) => {
        p.args.q = 2;
      },
      deepArrayPush: (p) => {
        p.args.list.push(3);
      },
      deleteKey: (p) => {
        delete p.args.q;
      },
      defineProperty: (p) => {
        Object.defineProperty(p, 'x', { value: 1 });
      },
      freeze: (p) => {
        Object.freeze(p.args);
      },
      setPrototype: (p) => {
        Object.setPrototypeOf(p.args, null);
      },
    };
    for (const [name, attempt] of Object.entries(attempts)) {
      const m = newManager();
      probe(m, new Trail(), name, { onError: 'ignore' }, (p) => {
        attempt(p);
        return undefined;
      });
      await m.initialize();
      const input = { name: 't', args: { q: 1, list: [1, 2] } };
      const before = snapshot(input);
      const r = await run(m, 'tool_pre_invoke', input);
      expect(input, name).toEqual(before);
      expect(Object.isFrozen(input.args), name).toBe(false);
      expect(Object.getPrototypeOf(input.args), name).toBe(Object.prototype);
      expect(
        r.errors.map((e) => [e.pluginName, e.code]),
        name,
      ).toEqual([[name, 'payload_mutation']]);
    }
  });

  it('strict: a caller\'s frozen (or sealed) payload is protected too — nested writes through its non-configurable properties are refused (DEVIATIONS "the caller\'s payload object is never changed, whatever a plugin does")', async () => {
    for (const seal of [Object.freeze, Object.seal] as Array<<T extends object>(o: T) => T>) {
      const m = newManager();
      probe(m, new Trail(), 'nested', { onError: 'ignore' }, (p: Anyish) => {
        p.args.q = 2;
        p.args.list.push(3);
        return undefined;
      });
      await m.initialize();
      const input = seal({ name: 't', args: { q: 1, list: [1, 2] } });
      const r = await run(m, 'tool_pre_invoke', input);
      expect(input, seal.name).toEqual({ name: 't', args: { q: 1, list: [1, 2] } });
      expect(
        r.errors.map((e) => [e.pluginName, e.code]),
        seal.name,
      ).toEqual([['nested', 'payload_mutation']]);
    }
  });

  it('strict: a refused write from an audit plugin is recorded and never halts (ARCH s3 "More decisions": audit errors never halt)', async () => {
    const m = newManager();
    probe(m, new Trail(), 'aud', { mode: 'audit' }, (p: Anyish) => {
      p.args.x = 1;
      return undefined;
    });
    await m.initialize();
    const input = { args: {} as Anyish };
    const r = await run(m, 'tool_pre_invoke', input);
    expect(r.continueProcessing).toBe(true);
    expect(r.errors).toEqual([expect.objectContaining({ pluginName: 'aud', code: 'payload_mutation' })]);
    expect(input.args).toEqual({});
  });

  it('strict: concurrent and fire_and_forget plugins cannot write into the shared snapshot (ARCH s3 "a plugin never changes ... another plugin\'s view")', async () => {
    const m = newManager();
    let seenBySibling: unknown;
    probe(m, new Trail(), 'writer', { mode: 'concurrent', priority: 1, onError: 'ignore' }, (p: Anyish) => {
      p.args.injected = true;
      return undefined;
    });
    probe(m, new Trail(), 'reader', { mode: 'concurrent', priority: 2 }, async (p: Anyish) => {
      seenBySibling = { ...p.args };
      return undefined;
    });
    probe(m, new Trail(), 'bgWriter', { mode: 'fire_and_forget' }, (p: Anyish) => {
      p.args.bg = true;
      return undefined;
    });
    await m.initialize();
    const input = { args: { q: 1 } };
    const r = await run(m, 'tool_pre_invoke', input);
    const bg = await r.background.wait();
    expect(seenBySibling).toEqual({ q: 1 });
    expect(input).toEqual({ args: { q: 1 } });
    expect(bg).toEqual([expect.objectContaining({ pluginName: 'bgWriter', code: 'payload_mutation' })]);
  });

  it('strict: a plugin cannot change the next plugin\'s view except by returning a modified payload (ARCH s3 "Payload isolation")', async () => {
    const m = newManager();
    const seen: unknown[] = [];
    probe(m, new Trail(), 'sneaky', { priority: 1, onError: 'ignore' }, (p: Anyish) => {
      try {
        p.args.q = 'sneaky';
      } catch {
        /* refused; swallowed by the plugin */
      }
      return undefined;
    });
    probe(m, new Trail(), 'next', { priority: 2 }, (p: Anyish) => {
      seen.push(p.args.q);
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { args: { q: 'orig' } });
    expect(seen).toEqual(['orig']);
    expect(r.continueProcessing).toBe(true);
  });

  it('strict: a modifiedPayload built from the view is a plain object for the caller and later plugins (ARCH s3 "Further decisions")', async () => {
    const m = newManager();
    let nextSawProxy: boolean | undefined;
    probe(m, new Trail(), 'builder', { priority: 1 }, (p: Anyish) => ({
      modifiedPayload: { ...p, args: { ...p.args, added: 1 } },
    }));
    probe(m, new Trail(), 'next', { priority: 2 }, (p: Anyish) => {
      nextSawProxy = types.isProxy(p);
      return undefined;
    });
    await m.initialize();
    const input = { name: 't', args: { q: 1 }, meta: { tags: ['a'] } };
    const r = await run(m, 'tool_pre_invoke', input);
    const out = r.modifiedPayload as Anyish;
    expect(out).toEqual({ name: 't', args: { q: 1, added: 1 }, meta: { tags: ['a'] } });
    expect(types.isProxy(out)).toBe(false);
    expect(types.isProxy(out.args)).toBe(false);
    expect(types.isProxy(out.meta)).toBe(false);
    expect(types.isProxy(out.meta.tags)).toBe(false);
    // The caller can work with the result normally.
    out.args.callerEdit = true;
    expect(out.args.callerEdit).toBe(true);
    expect(input).toEqual({ name: 't', args: { q: 1 }, meta: { tags: ['a'] } });
    // Later plugins still get a protected view of the chained payload.
    expect(nextSawProxy).toBe(true);
  });

  it('strict: the chained payload is protected too — a later plugin cannot write into what an earlier one returned (ARCH s3 "another plugin\'s view")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'builder', { priority: 1 }, (p: Anyish) => ({
      modifiedPayload: { ...p, extra: { n: 1 } },
    }));
    probe(m, new Trail(), 'mutator', { priority: 2 }, (p: Anyish) => {
      p.extra.n = 2;
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { q: 1 });
    expect(r.violation).toMatchObject({ code: 'payload_mutation', pluginName: 'mutator' });
    expect(r.modifiedPayload).toEqual({ q: 1, extra: { n: 1 } });
  });

  it('strict: structuredClone(payload) inside a plugin fails as a plugin_error whose message says how to take an editable copy (views are proxies) (ARCH s3 "Further decisions")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'cloner', {}, (p: Anyish) => {
      const c = structuredClone(p);
      c.args.x = 1;
      return { modifiedPayload: c };
    });
    await m.initialize();
    const input = { name: 't', args: { q: 1 } };
    const r = await run(m, 'tool_pre_invoke', input);
    expect(r.violation).toMatchObject({ code: 'plugin_error', pluginName: 'cloner' });
    expect(r.errors[0]?.message).toContain('toMutable');
    expect(input).toEqual({ name: 't', args: { q: 1 } });
  });

  it('strict: reading the payload works normally (iteration, JSON, spread, Array methods) (ARCH s3 "lazily created read-only views")', async () => {
    const m = newManager();
    let read: unknown;
    probe(m, new Trail(), 'reader', {}, (p: Anyish) => {
      read = {
        keys: Object.keys(p),
        json: JSON.parse(JSON.stringify(p)),
        mapped: p.args.list.map((x: number) => x * 2),
        isArray: Array.isArray(p.args.list),
        has: 'q' in p.args,
      };
      return undefined;
    });
    await m.initialize();
    await run(m, 'tool_pre_invoke', { name: 't', args: { q: 1, list: [1, 2] } });
    expect(read).toEqual({
      keys: ['name', 'args'],
      json: { name: 't', args: { q: 1, list: [1, 2] } },
      mapped: [2, 4],
      isArray: true,
      has: true,
    });
  });
});

describe('strict isolation costs nothing for plugins that do not touch the payload (ARCH s3 "without per-invoke O(payload) work")', () => {
  it('strict: passthrough plugins in every phase never read the payload — no copy, freeze or walk per invoke (ARCH s3 "lazily created read-only views")', async () => {
    const m = newManager();
    for (const phase of ['sequential', 'transform', 'audit', 'concurrent', 'fire_and_forget'] as const) {
      probe(m, new Trail(), phase, { mode: phase }, () => ({ metadata: { [phase]: true } }));
    }
    await m.initialize();
    let reads = 0;
    const input = {
      name: 't',
      get args() {
        reads++;
        return { q: 1 };
      },
    };
    const r = await run(m, 'tool_pre_invoke', input);
    await r.background.wait();
    expect(reads).toBe(0);
    expect(Object.keys(r.metadata).sort()).toEqual(['audit', 'concurrent', 'sequential', 'transform']);
  });
});

describe('hosts across a boundary (ARCH s3 "hosts across a boundary get copies by construction")', () => {
  it('strict: a view is stable (view.args === view.args) and shared by every plugin of the invocation; a fresh payload per request gets a fresh view (ARCH s3 "lazily created read-only views")', async () => {
    const m = newManager();
    const seen: Array<{ top: unknown; args: unknown; same: boolean }> = [];
    for (const name of ['a', 'b']) {
      probe(m, new Trail(), name, {}, (p: Anyish) => {
        const [a1, a2] = [p.args, p.args];
        const [l1, l2] = [a1.list, a2.list];
        seen.push({ top: p, args: a1, same: a1 === a2 && l1 === l2 });
        return undefined;
      });
    }
    await m.initialize();
    await run(m, 'tool_pre_invoke', { name: 'x', args: { list: [1, 2] } });
    await run(m, 'tool_pre_invoke', { name: 'x', args: { list: [1, 2] } });
    expect(seen.map((s) => s.same)).toEqual([true, true, true, true]);
    expect(seen[0]!.top).toBe(seen[1]!.top); // both plugins of one invoke share the view
    expect(seen[0]!.args).toBe(seen[1]!.args);
    expect(seen[2]!.top).not.toBe(seen[0]!.top); // a new payload object, a new view
    expect(types.isProxy(seen[0]!.args)).toBe(true);
  });

  it('strict: a returned payload holding views of the input, or a foreign Proxy, comes back as plain objects: views as the caller\'s own objects, a foreign Proxy copied as plain data (ARCH s3 "Further decisions")', async () => {
    const m = newManager();
    const hostile = new Proxy(
      { k: 1 },
      {
        get: (t, key) =>
          typeof key === 'symbol'
            ? (() => {
                throw new Error('trap');
              })()
            : Reflect.get(t, key),
      },
    );
    probe(m, new Trail(), 'builder', {}, (p: Anyish) => ({
      modifiedPayload: { ...p, args: { kept: p.args, foreign: hostile } },
    }));
    await m.initialize();
    const input = { name: 'x', args: { q: { deep: 1 } } };
    const r = await run(m, 'tool_pre_invoke', input);
    expect(r.errors).toEqual([]);
    expect(types.isProxy(r.modifiedPayload.args.kept)).toBe(false);
    expect(r.modifiedPayload.args.kept).toBe(input.args);
    // The plugin's own objects are copied (adoptReturned): the foreign Proxy's traps stay behind.
    expect(types.isProxy(r.modifiedPayload.args.foreign)).toBe(false);
    expect({ ...r.modifiedPayload.args.foreign }).toEqual({ k: 1 });
  });

  it('a host that copies payloads by construction gets the payload without an in-process read-only view (the executor consults host.copiesPayloads) (ARCH s3 "Payload isolation"; STYLE 4)', async () => {
    const m = newManager();
    let sawProxy: boolean | undefined;
    let sawProxyInProcess: boolean | undefined;
    m.registerFactory('copying-host', {
      async create(entry) {
        return {
          host: { supportsTimeouts: 'preemptive', isolated: true, copiesPayloads: true },
          handler: (hook: string) =>
            hook === 'tool_pre_invoke'
              ? (p: unknown) => {
                  // A real boundary host serializes; this one clones to keep the caller's object intact.
                  const copy = structuredClone(p as object);
                  sawProxy = types.isProxy(p);
                  return { modifiedPayload: { ...copy, via: entry.name } };
                }
              : undefined,
        };
      },
    });
    await m.loadConfig({ plugins: [{ name: 'remote', kind: 'copying-host', hooks: ['tool_pre_invoke'] }] });
    probe(m, new Trail(), 'local', { priority: 200 }, (p) => {
      sawProxyInProcess = types.isProxy(p);
      return undefined;
    });
    await m.initialize();
    const input = { q: 1 };
    const r = await run(m, 'tool_pre_invoke', input);
    expect(sawProxy).toBe(false);
    expect(sawProxyInProcess).toBe(true);
    expect(r.modifiedPayload).toEqual({ q: 1, via: 'remote' });
    expect(input).toEqual({ q: 1 });
  });
});

describe('cow_validation: disabled (ARCH s3 "Further decisions")', () => {
  it('disabled: plugins get the raw caller object, so in-place writes go through (trusted, speed-critical setups) (ARCH s3 "cow_validation: disabled hands plugins the raw object")', async () => {
    const m = newManager({ cowValidation: 'disabled' });
    let sameObject: boolean | undefined;
    const input = { args: { q: 1 } as Anyish };
    probe(m, new Trail(), 'trusted', {}, (p: Anyish) => {
      sameObject = p === input;
      p.args.written = true;
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', input);
    expect(sameObject).toBe(true);
    expect(r.errors).toEqual([]);
    expect(input.args.written).toBe(true);
  });

  it('cow_validation is read from YAML plugin_settings (ARCH s3 settings table)', async () => {
    const m = newManager();
    await m.loadConfig({ plugin_settings: { cow_validation: 'disabled' } });
    const input = { a: 1 } as Anyish;
    probe(m, new Trail(), 'trusted', {}, (p: Anyish) => {
      p.b = 2;
      return undefined;
    });
    await m.initialize();
    await run(m, 'tool_pre_invoke', input);
    expect(input).toEqual({ a: 1, b: 2 });
  });
});
