/**
 * Session state in core: the session id (Rust cpex's resolver, byte for byte), the in-memory
 * store's sliding TTL, and the invoke integration (load before plugins, append only when labels
 * grew, fail closed on any store failure).
 */
import { describe, expect, it } from 'vitest';
import {
  type Extensions,
  hasLabel,
  MemorySessionStore,
  MonotonicSet,
  PluginViolationError,
  resolveSession,
  type SessionStore,
  withLabels,
} from '../../src/index.js';
import { rememberSession } from '../../src/session/resolve.js';
import { newManager } from '../executor/helpers.js';

const alice = (more: Partial<Extensions> = {}): Extensions => ({
  security: { subject: { id: 'alice' } },
  ...more,
});

describe('resolveSession (Rust cpex aed0f15 session_resolver)', () => {
  it('binds agent.session_id to the subject: sha256("alice:sess-upstream")[:16]', () => {
    const s = resolveSession(alice({ agent: { session_id: 'sess-upstream' } }));
    // Vector computed with Python hashlib, independent of this implementation.
    expect(s).toEqual({ id: '68755f41a98324d6', source: 'agent' });
  });

  it('uses the subject-bound session_id claim when no agent session id is given', () => {
    const ext: Extensions = {
      security: {
        subject: { id: 'alice', claims: { session_id: 'from-claim' } },
        caller_workload: { client_id: 'agent-007' },
      },
    };
    expect(resolveSession(ext)).toEqual({ id: '877456352b09e139', source: 'token_claim' });
  });

  it('derives subject:caller:this for the identity tier, "-" for an absent workload', () => {
    const ext: Extensions = {
      security: {
        subject: { id: 'alice@corp.com' },
        caller_workload: { client_id: 'agent-007' },
        this_workload: { client_id: 'praxis-gateway' },
      },
    };
    expect(resolveSession(ext)).toEqual({ id: 'a0cd6df24fe19df1', source: 'identity' });
    expect(resolveSession({ security: { subject: { id: 'bob' } } })).toEqual({
      id: '3a4139f197b81fc1',
      source: 'identity',
    });
  });

  it('agent beats claim beats identity; empty values fall through', () => {
    const both: Extensions = {
      agent: { session_id: 'from-agent' },
      security: { subject: { id: 'alice', claims: { session_id: 'from-claim' } } },
    };
    expect(resolveSession(both)?.source).toBe('agent');
    const emptyAgent: Extensions = { ...both, agent: { session_id: '' } };
    expect(resolveSession(emptyAgent)?.source).toBe('token_claim');
  });

  it('has no session without a subject id, and never reads a session header', () => {
    expect(resolveSession({ agent: { session_id: 'sess' } })).toBeUndefined();
    expect(resolveSession({})).toBeUndefined();
    expect(resolveSession(undefined)).toBeUndefined();
    const withHeader: Extensions = {
      security: { subject: { id: 'alice' } },
      http: { request_headers: { 'X-CPEX-Session-Id': 'sess-bob-stolen' } },
    };
    expect(resolveSession(withHeader)).toEqual(resolveSession({ security: { subject: { id: 'alice' } } }));
  });

  it('remembers the session of an extensions object only while nothing it reads can change', () => {
    const frozen = Object.freeze({
      agent: Object.freeze({ session_id: 'kept' }),
      security: Object.freeze({ subject: Object.freeze({ id: 'alice' }) }),
    }) as Extensions;
    const s = resolveSession(frozen)!;
    rememberSession(frozen, s);
    const again = resolveSession(frozen);
    expect(again).toEqual({ id: s.id, source: 'agent' });
    expect(again?.id).toBe(resolveSession(alice({ agent: { session_id: 'kept' } }))?.id);
    expect(again).not.toBe(resolveSession(frozen)); // each caller gets its own copy
    again!.id = 'tampered';
    expect(resolveSession(frozen)).toEqual(s); // …which cannot change what is remembered
    // A subject that is still mutable (frozen outer object only) is never remembered.
    const subject = { id: 'bob' };
    const half = Object.freeze({ security: Object.freeze({ subject }) }) as Extensions;
    rememberSession(half, resolveSession(half)!);
    subject.id = 'carol';
    expect(resolveSession(half)).toEqual(resolveSession({ security: { subject: { id: 'carol' } } }));
  });

  it('keeps the same client session id of two subjects apart', () => {
    const a = resolveSession(alice({ agent: { session_id: 'shared' } }));
    const b = resolveSession({ agent: { session_id: 'shared' }, security: { subject: { id: 'bob' } } });
    expect(a?.id).not.toBe(b?.id);
  });
});

describe('MemorySessionStore', () => {
  it('unions labels, returns [] for an unknown session, and slides its TTL on load and append', async () => {
    let now = 1_000;
    const store = new MemorySessionStore({ ttlSeconds: 10, now: () => now });
    expect(await store.load('s')).toEqual([]);
    await store.append('s', ['a', 'b']);
    await store.append('s', ['b', 'c']);
    expect([...(await store.load('s'))].sort()).toEqual(['a', 'b', 'c']);
    now += 9_000;
    await store.load('s'); // refreshes
    now += 9_000;
    expect((await store.load('s')).length).toBe(3);
    now += 10_001;
    expect(await store.load('s')).toEqual([]);
    expect(store.size).toBe(0);
  });

  it('rejects a nonsensical TTL with a coded error', () => {
    expect(() => new MemorySessionStore({ ttlSeconds: -1 })).toThrow(
      expect.objectContaining({ code: 'CPEX_ERR_INVALID_ARGUMENT' }),
    );
  });
});

/** A store that counts calls and can be told to fail. */
function spyStore(inner: SessionStore = new MemorySessionStore()) {
  const calls = { load: 0, append: [] as string[][] };
  const fail = { load: false, append: false };
  const store: SessionStore = {
    load(id) {
      calls.load++;
      return fail.load ? Promise.reject(new Error('connection refused')) : inner.load(id);
    },
    append(id, labels) {
      calls.append.push([...labels]);
      return fail.append ? Promise.reject(new Error('READONLY replica')) : inner.append(id, labels);
    },
  };
  return { store, calls, fail };
}

/** A lineup where reading a secret taints the session, and a tainted session may not send mail. */
async function taintManager(store: SessionStore) {
  const m = newManager({ sessionStore: store });
  m.registerHook(
    'tool_pre_invoke',
    (payload: { name: string }, _ctx, ext) => {
      if (payload.name === 'read_secret') return { modifiedExtensions: withLabels(ext, 'SECRET') };
      if (payload.name === 'send_mail' && hasLabel(ext, 'secret')) {
        return { continueProcessing: false, violation: { code: 'tainted', reason: 'session read a secret' } };
      }
      return {};
    },
    { name: 'taint', capabilities: ['read_labels', 'append_labels'] },
  );
  await m.initialize();
  return m;
}

describe('invoke with a session store', () => {
  it('labels added in one request reach the next request of the session, not another session', async () => {
    const { store, calls } = spyStore();
    const m = await taintManager(store);
    const ext = alice({ agent: { session_id: 's1' } });
    const r1 = await m.invoke('tool_pre_invoke', { name: 'read_secret', args: {} }, { extensions: ext });
    expect(r1.continueProcessing).toBe(true);
    expect(calls.append).toEqual([['SECRET']]);
    const r2 = await m.invoke('tool_pre_invoke', { name: 'send_mail', args: {} }, { extensions: ext });
    expect(r2.continueProcessing).toBe(false);
    expect(r2.violation?.code).toBe('tainted');
    // No label grew in r2: no append.
    expect(calls.append.length).toBe(1);
    // Another session of the same subject, and the same session id under another subject, are clean.
    const other = await m.invoke(
      'tool_pre_invoke',
      { name: 'send_mail', args: {} },
      { extensions: alice({ agent: { session_id: 's2' } }) },
    );
    expect(other.continueProcessing).toBe(true);
    const bob = await m.invoke(
      'tool_pre_invoke',
      { name: 'send_mail', args: {} },
      { extensions: { agent: { session_id: 's1' }, security: { subject: { id: 'bob' } } } },
    );
    expect(bob.continueProcessing).toBe(true);
  });

  it('hands the hydrated labels back in modifiedExtensions even when no plugin changed them', async () => {
    const { store } = spyStore();
    await store.append(resolveSession(alice())!.id, ['PII']);
    const m = await taintManager(store);
    const r = await m.invoke('tool_pre_invoke', { name: 'noop', args: {} }, { extensions: alice() });
    expect(r.continueProcessing).toBe(true);
    expect([...(r.modifiedExtensions?.security?.labels ?? [])]).toEqual(['PII']);
  });

  it('a failing load halts with session_store_error before any plugin runs', async () => {
    const { store, fail } = spyStore();
    fail.load = true;
    const m = await taintManager(store);
    let ran = 0;
    m.registerHook('tool_pre_invoke', () => {
      ran++;
      return {};
    });
    const r = await m.invoke('tool_pre_invoke', { name: 'x', args: {} }, { extensions: alice() });
    expect(r.continueProcessing).toBe(false);
    expect(r.violation).toMatchObject({
      code: 'session_store_error',
      details: { operation: 'load', session_source: 'identity' },
    });
    expect(r.violation?.description).toContain('connection refused');
    expect(ran).toBe(0);
    expect(m.log.lines.some((l) => l.level === 'error' && l.msg.includes('session store load failed'))).toBe(
      true,
    );
    // Recovers as soon as the store does.
    fail.load = false;
    expect(
      (await m.invoke('tool_pre_invoke', { name: 'x', args: {} }, { extensions: alice() }))
        .continueProcessing,
    ).toBe(true);
  });

  it('a failing append turns an allow into a halt (the taint must not be lost silently)', async () => {
    const { store, fail } = spyStore();
    fail.append = true;
    const m = await taintManager(store);
    const r = await m.invoke('tool_pre_invoke', { name: 'read_secret', args: {} }, { extensions: alice() });
    expect(r.continueProcessing).toBe(false);
    expect(r.violation).toMatchObject({ code: 'session_store_error', details: { operation: 'append' } });
    expect(r.errors).toContainEqual(
      expect.objectContaining({ pluginName: 'session_store', code: 'session_store_error' }),
    );
  });

  it('a store returning garbage fails closed too', async () => {
    const bad: SessionStore = { load: async () => [1, 2] as unknown as string[], append: async () => {} };
    const m = await taintManager(bad);
    const r = await m.invoke('tool_pre_invoke', { name: 'x', args: {} }, { extensions: alice() });
    expect(r.violation?.code).toBe('session_store_error');
  });

  it('labels from the store are validated at ingress: empty, over-long or non-string labels fail closed, coded', async () => {
    for (const labels of [[''], ['x'.repeat(1025)], ['ok', 7]] as unknown[][]) {
      const bad: SessionStore = { load: async () => labels as string[], append: async () => {} };
      const m = await taintManager(bad);
      const r = await m.invoke('tool_pre_invoke', { name: 'x', args: {} }, { extensions: alice() });
      expect(r.continueProcessing).toBe(false);
      expect(r.violation).toMatchObject({
        code: 'session_store_error',
        details: { operation: 'load', error_code: 'CPEX_ERR_SESSION_LABELS' },
      });
      expect(r.violation?.description).toMatch(/labels\[\d\]/);
    }
    // At the cap is fine (1,024 labels, each of 1,024 characters).
    const full = Array.from({ length: 1024 }, (_, i) => `${i}`.padEnd(1024, 'x'));
    const ok = await taintManager({ load: async () => full, append: async () => {} });
    const r = await ok.invoke('tool_pre_invoke', { name: 'x', args: {} }, { extensions: alice() });
    expect(r.continueProcessing).toBe(true);
    expect(r.modifiedExtensions?.security?.labels?.size).toBe(1024);
  });

  it("a session over the store's label cap fails closed on load, and an append past it writes nothing", async () => {
    const inner = new MemorySessionStore();
    const capped: SessionStore = {
      maxLabels: 2,
      load: (id) => inner.load(id),
      append: (id, l) => inner.append(id, l),
    };
    const sid = resolveSession(alice())!.id;
    await inner.append(sid, ['a', 'b', 'c']);
    const m = await taintManager(capped);
    const r = await m.invoke('tool_pre_invoke', { name: 'x', args: {} }, { extensions: alice() });
    expect(r.violation).toMatchObject({
      code: 'session_store_error',
      details: { operation: 'load', error_code: 'CPEX_ERR_SESSION_LABELS' },
    });
    expect(r.violation?.description).toContain('3 labels, over the store');
    // Two labels stored; a request adding a third is halted and the store keeps two.
    const bob = { security: { subject: { id: 'bob' } } };
    await inner.append(resolveSession(bob)!.id, ['a', 'b']);
    const grown = await m.invoke('tool_pre_invoke', { name: 'read_secret', args: {} }, { extensions: bob });
    expect(grown.continueProcessing).toBe(false);
    expect(grown.violation).toMatchObject({
      details: { operation: 'append', error_code: 'CPEX_ERR_SESSION_LABELS' },
    });
    expect(await inner.load(resolveSession(bob)!.id)).toEqual(['a', 'b']);
  });

  it('a reused extensions object follows its session: new stored labels show up, the object is frozen', async () => {
    const { store } = spyStore();
    const m = await taintManager(store);
    const ext = alice({ agent: { session_id: 'reuse' } });
    const sid = resolveSession(ext)!.id;
    await store.append(sid, ['PII']);
    const r1 = await m.invoke('tool_pre_invoke', { name: 'noop', args: {} }, { extensions: ext });
    expect([...(r1.modifiedExtensions?.security?.labels ?? [])]).toEqual(['PII']);
    const r2 = await m.invoke('tool_pre_invoke', { name: 'noop', args: {} }, { extensions: ext });
    expect(r2.modifiedExtensions).toBe(r1.modifiedExtensions); // same session state: same object
    await store.append(sid, ['internal']); // another replica adds a label
    const r3 = await m.invoke('tool_pre_invoke', { name: 'noop', args: {} }, { extensions: ext });
    expect([...(r3.modifiedExtensions?.security?.labels ?? [])].sort()).toEqual(['PII', 'internal']);
    expect(Object.isFrozen(ext.security)).toBe(true);
    expect(ext.security?.labels).toBeUndefined(); // the caller's object itself is never hydrated
    expect(resolveSession(ext)?.id).toBe(sid); // resolved again from the (now frozen) object
  });

  it('violationsAsExceptions throws PluginViolationError for a store failure, after appending on a deny', async () => {
    const { store, fail, calls } = spyStore();
    const m = await taintManager(store);
    const ext = alice();
    await store.append(resolveSession(ext)!.id, ['secret']);
    m.registerHook(
      'tool_pre_invoke',
      (_p, _c, e) => ({
        modifiedExtensions: withLabels(e, 'AUDITED'),
      }),
      { name: 'auditor', capabilities: ['append_labels'], priority: 1 },
    );
    await m
      .invoke(
        'tool_pre_invoke',
        { name: 'send_mail', args: {} },
        { extensions: ext, violationsAsExceptions: true },
      )
      .then(
        () => expect.unreachable(),
        (e) => {
          expect(e).toBeInstanceOf(PluginViolationError);
          expect((e as PluginViolationError).violation.code).toBe('tainted');
        },
      );
    // The label added before the deny was persisted.
    expect(calls.append.at(-1)).toEqual(['AUDITED']);
    fail.load = true;
    await expect(
      m.invoke('tool_pre_invoke', { name: 'x', args: {} }, { extensions: ext, violationsAsExceptions: true }),
    ).rejects.toMatchObject({ violation: { code: 'session_store_error' } });
  });

  it('requests without a session, and managers without a store, never touch a store', async () => {
    const { store, calls } = spyStore();
    const m = await taintManager(store);
    await m.invoke(
      'tool_pre_invoke',
      { name: 'read_secret', args: {} },
      { extensions: { agent: { session_id: 'x' } } },
    );
    await m.invoke('tool_pre_invoke', { name: 'read_secret', args: {} });
    expect(calls).toEqual({ load: 0, append: [] });
    const labels = MonotonicSet.of('given');
    const r = await m.invoke(
      'tool_pre_invoke',
      { name: 'noop', args: {} },
      { extensions: { security: { labels } } },
    );
    expect(r.continueProcessing).toBe(true);
  });
});
