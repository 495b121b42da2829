/**
 * @cpex/session-redis against a real redis-server: Rust cpex's key schema, two gateway processes
 * sharing labels, concurrent writers losing nothing, and fail-closed behaviour through an outage.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Extensions, PluginManager, resolveSession } from '@cpex/core';
import { withLabels } from '@cpex/core/extensions';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisSessionStore, redactEndpoint, resolveEndpoint } from '../src/index.js';
import { RedisServer } from '../src/testing.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');

describe('endpoint rules (as Rust cpex)', () => {
  const err = (o: Parameters<typeof resolveEndpoint>[0]) => {
    try {
      resolveEndpoint(o);
    } catch (e) {
      return e as { code: string; message: string };
    }
    throw new Error('expected a config error');
  };

  it('allows plaintext only on localhost; rediss:// or tls: true elsewhere', () => {
    expect(resolveEndpoint({ endpoint: 'localhost:6379' })).toMatchObject({ host: 'localhost', tls: false });
    expect(resolveEndpoint({ endpoint: '[::1]:6380' })).toMatchObject({
      host: '::1',
      port: 6380,
      tls: false,
    });
    expect(resolveEndpoint({ endpoint: 'redis://127.0.0.1:7000/2' })).toMatchObject({ port: 7000, db: 2 });
    expect(err({ endpoint: 'redis.prod.internal:6379' })).toMatchObject({
      code: 'CPEX_ERR_SESSION_STORE_CONFIG',
    });
    expect(err({ endpoint: 'redis://10.0.0.5:6379' }).message).toContain('TLS is required');
    expect(resolveEndpoint({ endpoint: 'redis.prod.internal:6379', tls: true })).toMatchObject({ tls: true });
    expect(resolveEndpoint({ endpoint: 'rediss://redis.prod.internal:6380' })).toMatchObject({
      tls: true,
      port: 6380,
    });
    expect(err({ endpoint: 'redis://redis.prod.internal:6379', tls: true }).message).toContain('conflicts');
    expect(err({ endpoint: 'http://localhost:6379' }).code).toBe('CPEX_ERR_SESSION_STORE_CONFIG');
    expect(err({ endpoint: '' }).code).toBe('CPEX_ERR_SESSION_STORE_CONFIG');
  });

  it('takes credentials from the URL or from username/password, never both, and never leaks them', () => {
    expect(resolveEndpoint({ endpoint: 'rediss://gw:p%40ss@redis.internal:6380' })).toMatchObject({
      username: 'gw',
      password: 'p@ss',
    });
    expect(resolveEndpoint({ endpoint: 'localhost:6379', password: 's3cret' })).toMatchObject({
      password: 's3cret',
    });
    expect(resolveEndpoint({ endpoint: 'localhost:6379', password: 's3cret' }).username).toBeUndefined();
    expect(
      err({ endpoint: 'rediss://redis.internal:6380', username: 'gw', password: 'x' }).message,
    ).toContain('userinfo');
    expect(err({ endpoint: 'localhost:6379', username: 'gw' }).message).toContain('without a password');
    const leak = err({ endpoint: 'redis://user:topsecret@prod.host:6379' });
    expect(leak.message).not.toContain('topsecret');
    expect(redactEndpoint('rediss://user:secret@host:6379')).toBe('rediss://***@host:6379');
  });

  it('rejects bad timeouts, TTLs and prefixes', () => {
    expect(err({ endpoint: 'localhost:1', commandTimeoutMs: 0 }).code).toBe('CPEX_ERR_SESSION_STORE_CONFIG');
    expect(() => new RedisSessionStore({ endpoint: 'localhost:1', ttlSeconds: 1.5 })).toThrow(
      expect.objectContaining({ code: 'CPEX_ERR_SESSION_STORE_CONFIG' }),
    );
    expect(() => new RedisSessionStore({ endpoint: 'localhost:1', keyPrefix: '' })).toThrow(
      expect.objectContaining({ code: 'CPEX_ERR_SESSION_STORE_CONFIG' }),
    );
  });
});

describe('RedisSessionStore on a real redis-server', () => {
  let server: RedisServer;
  let raw: Redis;
  const stores: RedisSessionStore[] = [];
  const store = (o: Partial<ConstructorParameters<typeof RedisSessionStore>[0]> = {}) => {
    const s = new RedisSessionStore({ endpoint: server.url, ...o });
    stores.push(s);
    return s;
  };

  beforeAll(async () => {
    server = await RedisServer.start();
    raw = new Redis(server.port, '127.0.0.1');
    raw.on('error', () => {}); // reconnect noise while the server is stopped on purpose
  });
  afterAll(async () => {
    await Promise.allSettled(stores.map((s) => s.close()));
    raw?.disconnect();
    await server?.stop();
  });

  it('writes Rust cpex keys: taint:v1:<hex sha256(session id)> holding a SET, with a sliding TTL', async () => {
    const s = store({ ttlSeconds: 600 });
    await s.ready();
    const sid = resolveSession({ security: { subject: { id: 'alice' } } })!.id;
    const key = `taint:v1:${createHash('sha256').update(sid).digest('hex')}`;
    expect(s.key(sid)).toBe(key);
    await s.append(sid, ['PII', 'secret']);
    await s.append(sid, ['PII']);
    expect(await raw.type(key)).toBe('set');
    expect((await raw.smembers(key)).sort()).toEqual(['PII', 'secret']);
    expect(await raw.ttl(key)).toBeGreaterThan(500); // append set it
    // Exactly as Rust (refresh on every load): a load slides a TTL shortened behind its back.
    const exact = store({ ttlSeconds: 600, ttlRefreshIntervalMs: 0 });
    await raw.expire(key, 5);
    expect([...(await exact.load(sid))].sort()).toEqual(['PII', 'secret']);
    expect(await raw.ttl(key)).toBeGreaterThan(500); // load refreshed it
    // Default: at most one refresh per second per session and replica. The first load of a
    // session on this replica refreshes; a load within the interval is a plain SMEMBERS…
    await raw.expire(key, 5);
    const hot = store({ ttlSeconds: 600 });
    await hot.load(sid);
    expect(await raw.ttl(key)).toBeGreaterThan(500);
    await raw.expire(key, 5);
    expect([...(await hot.load(sid))].sort()).toEqual(['PII', 'secret']);
    expect(await raw.ttl(key)).toBeLessThanOrEqual(5);
    // …and the first load after it slides the TTL again.
    await new Promise((r) => setTimeout(r, 1_100));
    await hot.load(sid);
    expect(await raw.ttl(key)).toBeGreaterThan(500);
    expect(await s.load('unknown-session')).toEqual([]);
    const custom = store({ keyPrefix: 'tenant-a:taint' });
    await custom.append('s', ['x']);
    expect(await raw.smembers(`tenant-a:taint:${createHash('sha256').update('s').digest('hex')}`)).toEqual([
      'x',
    ]);
    expect(await raw.ttl(custom.key('s'))).toBe(-1); // no TTL configured: no expiry
  });

  it('reads labels a Rust gateway wrote (same key, plain SADD)', async () => {
    const s = store();
    const sid = 'feedfacecafebeef';
    await raw.sadd(`taint:v1:${createHash('sha256').update(sid).digest('hex')}`, 'from-rust');
    expect(await s.load(sid)).toEqual(['from-rust']);
  });

  it("reuses a hot session's decoded labels only while its members are byte for byte the same", async () => {
    const s = store();
    const sid = 'decodedcache0001';
    const key = s.key(sid);
    await raw.sadd(key, 'aa', 'bb');
    const first = await s.load(sid);
    expect([...first].sort()).toEqual(['aa', 'bb']);
    expect(Object.isFrozen(first)).toBe(true);
    expect(await s.load(sid)).toBe(first); // unchanged members: the same frozen answer
    // Same count and lengths, other bytes: decoded again.
    await raw.del(key);
    await raw.sadd(key, 'aa', 'cc');
    expect([...(await s.load(sid))].sort()).toEqual(['aa', 'cc']);
    // A member replaced by bytes that are not UTF-8 (same length) still fails closed.
    await raw.del(key);
    await raw.sadd(key, Buffer.from('aa'), Buffer.from([0xff, 0xfe]));
    await expect(s.load(sid)).rejects.toMatchObject({ code: 'CPEX_ERR_SESSION_LABELS' });
    // A large set (over 1 KB of members) is decoded on every load, never remembered.
    await raw.del(key);
    await raw.sadd(key, ...Array.from({ length: 40 }, (_, i) => `label-${i}-${'x'.repeat(40)}`));
    const big = await s.load(sid);
    const again = await s.load(sid);
    expect(again).not.toBe(big);
    expect([...again].sort()).toEqual([...big].sort());
  });

  const gateway = async (cmd: {
    subject: string;
    session: string;
    tools: string[];
    commandTimeoutMs?: number;
  }) => {
    const { stdout } = await run(
      process.execPath,
      [
        '--conditions=@cpex/source',
        '--import',
        'tsx',
        path.join(here, 'fixtures/gateway.ts'),
        JSON.stringify({ url: server.url, ...cmd }),
      ],
      { cwd: root, maxBuffer: 16 << 20, timeout: 110_000 },
    );
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      pid: number;
      allowed: number;
      violations: string[];
    };
  };

  it('two gateway processes sharing one Redis see each other’s labels', async () => {
    const [a, b] = await Promise.all([
      gateway({ subject: 'carol', session: 'chat-1', tools: ['read_secret', 'tag:from-a'] }),
      gateway({ subject: 'carol', session: 'chat-1', tools: ['tag:from-b'] }),
    ]);
    expect(a.pid).not.toBe(b.pid);
    expect(a.allowed + b.allowed).toBe(3);
    // A third process (a different replica) is denied: the session is tainted by the first.
    const c = await gateway({ subject: 'carol', session: 'chat-1', tools: ['send_mail'] });
    expect(c.violations).toEqual(['tainted']);
    // The same client session id under another subject is a different session.
    const d = await gateway({ subject: 'dave', session: 'chat-1', tools: ['send_mail'] });
    expect(d.violations).toEqual([]);
    const sid = resolveSession({
      agent: { session_id: 'chat-1' },
      security: { subject: { id: 'carol' } },
    })!.id;
    expect((await raw.smembers(store().key(sid))).sort()).toEqual(['SECRET', 'from-a', 'from-b']);
  });

  it('2 processes × 1,000 concurrent appends lose no label', async () => {
    const tools = (p: string) => Array.from({ length: 1_000 }, (_, i) => `tag:${p}-${i}`);
    const [a, b] = await Promise.all([
      // Every invoke loads the whole (growing) set: ~10^6 labels cross the wire in all, so the
      // command timeout is generous — this test is about lost updates, not latency.
      gateway({ subject: 'erin', session: 'flood', tools: tools('a'), commandTimeoutMs: 60_000 }),
      gateway({ subject: 'erin', session: 'flood', tools: tools('b'), commandTimeoutMs: 60_000 }),
    ]);
    expect(a.allowed).toBe(1_000);
    expect(b.allowed).toBe(1_000);
    const sid = resolveSession({ agent: { session_id: 'flood' }, security: { subject: { id: 'erin' } } })!.id;
    const members = new Set(await raw.smembers(store().key(sid)));
    expect(members.size).toBe(2_000);
    for (const t of [...tools('a'), ...tools('b')]) expect(members.has(t.slice(4))).toBe(true);
  });

  it('fails closed while Redis is down (coded violation), and recovers when it returns', async () => {
    const s = store({ commandTimeoutMs: 300, connectTimeoutMs: 200 });
    const m = new PluginManager({
      sessionStore: s,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    m.registerHook('tool_pre_invoke', (_p, _c, ext) => ({ modifiedExtensions: withLabels(ext, 'seen') }), {
      name: 'labeler',
      capabilities: ['append_labels'],
    });
    await m.initialize();
    const extensions: Extensions = { security: { subject: { id: 'frank' } } };
    const call = () => m.invoke('tool_pre_invoke', { name: 't', args: {} }, { extensions });
    try {
      expect((await call()).continueProcessing).toBe(true);

      await server.stop();
      for (let i = 0; i < 3; i++) {
        const r = await call();
        expect(r.continueProcessing).toBe(false);
        expect(r.violation).toMatchObject({ code: 'session_store_error', details: { operation: 'load' } });
      }
      // Requests without a session do not depend on the store.
      expect((await m.invoke('tool_pre_invoke', { name: 't', args: {} })).continueProcessing).toBe(true);

      await server.up();
      let recovered = false;
      for (let i = 0; i < 100 && !recovered; i++) {
        recovered = (await call()).continueProcessing;
        if (!recovered) await new Promise((r) => setTimeout(r, 100));
      }
      expect(recovered).toBe(true);
      // The server restarted empty (no persistence); the append after recovery wrote the label again.
      expect(await raw.smembers(s.key(resolveSession(extensions)!.id))).toEqual(['seen']);
    } finally {
      await m.shutdown();
      if (!server.running) await server.up();
    }
  });
});
