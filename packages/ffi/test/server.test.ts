// The sidecar in-process over a real Unix socket: operations, return codes, ingress validation,
// handles per connection, malformed frames.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SidecarServer } from '../src/server.js';
import { frame, packValue, RC, unpackValue } from '../src/wire.js';
import { Client as SocketClient } from './client.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cpex-ffi-'));
const sock = path.join(dir, 's.sock');
const server = new SidecarServer({ cwd: dir, callTimeoutMs: 5000 });
class Client extends SocketClient {
  constructor() {
    super(sock);
  }
}

const YAML = `
plugins:
  - name: upper
    kind: node://./upper.mjs
    hooks: [tool_pre_invoke, tool_post_invoke]
`;

beforeAll(async () => {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    path.join(dir, 'upper.mjs'),
    `export default { name: 'upper', hooks: {
      tool_pre_invoke: (p, ctx) => { ctx.state.n = (ctx.state.n ?? 0) + 1; return { continueProcessing: true, modifiedPayload: { ...p, name: p.name.toUpperCase() }, metadata: { n: ctx.state.n } }; },
      tool_post_invoke: (_p, ctx) => { ctx.state.n = (ctx.state.n ?? 0) + 1; return { continueProcessing: true, metadata: { n: ctx.state.n } }; },
    } };`,
  );
  await server.listen(sock);
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('cpex serve (in-process)', () => {
  it('creates the socket 0600', () => {
    expect(statSync(sock).mode & 0o777).toBe(0o600);
  });

  it('runs the lifecycle and threads the context table pre → post', async () => {
    const c = new Client();
    const v = await c.call({ op: 'version' });
    expect(v).toMatchObject({ rc: 0, protocol: 1, rust_abi: 2, shared_manager: null });
    const loaded = await c.call({ op: 'load_config', yaml: YAML });
    expect(loaded.rc).toBe(RC.OK);
    const manager = loaded.manager as number;
    expect(await c.call({ op: 'plugin_count', manager })).toMatchObject({ rc: 0, value: 1 });
    expect(await c.call({ op: 'has_hooks_for', manager, hook: 'tool_pre_invoke' })).toMatchObject({
      value: true,
    });
    expect(
      (await c.call({ op: 'invoke', manager, hook: 'tool_pre_invoke', payload: packValue({ name: 'x' }) }))
        .rc,
    ).toBe(RC.PIPELINE_ERROR);
    expect((await c.call({ op: 'initialize', manager })).rc).toBe(0);
    const pre = await c.call({
      op: 'invoke',
      manager,
      hook: 'tool_pre_invoke',
      payload: packValue({ name: 'search', args: {} }),
      context: { request_id: 'r1', user: 'alice' },
    });
    expect(pre.rc).toBe(0);
    const env = pre.result as Record<string, unknown>;
    expect(env).toMatchObject({
      continue_processing: true,
      payload_type: 0,
      payload_modified: true,
      metadata: { n: 1 },
    });
    expect(unpackValue(env.modified_payload as Uint8Array)).toEqual({ name: 'SEARCH', args: {} });
    const post = await c.call({
      op: 'invoke',
      manager,
      hook: 'tool_post_invoke',
      payload: packValue({ name: 'search', result: 1 }),
      context_table: pre.context_table,
    });
    expect(post.result).toMatchObject({ metadata: { n: 2 } });
    // the input table was consumed
    const again = await c.call({
      op: 'invoke',
      manager,
      hook: 'tool_post_invoke',
      payload: packValue({ name: 's', result: 1 }),
      context_table: pre.context_table,
    });
    expect(again).toMatchObject({ rc: RC.INVALID_HANDLE, error: { code: 'CPEX_ERR_FFI_INVALID_HANDLE' } });
    // ingress validation
    expect(
      await c.call({ op: 'invoke', manager, hook: 'tool_pre_invoke', payload: packValue({ name: 7 }) }),
    ).toMatchObject({ rc: RC.PARSE_ERROR, error: { code: 'CPEX_ERR_INVALID_PAYLOAD' } });
    expect(
      await c.call({
        op: 'invoke',
        manager,
        hook: 'tool_pre_invoke',
        payload_type: 7,
        payload: packValue({ name: 'x' }),
      }),
    ).toMatchObject({ rc: RC.PARSE_ERROR });
    expect(
      await c.call({
        op: 'invoke',
        manager,
        hook: 'tool_pre_invoke',
        payload: packValue({ name: 'x' }),
        extensions: packValue({ security: { labels: 'nope' } }),
      }),
    ).toMatchObject({ rc: RC.PARSE_ERROR });
    expect(
      await c.call({ op: 'invoke', manager, hook: 'tool_pre_invoke', payload: new Uint8Array([0xc1]) }),
    ).toMatchObject({ rc: RC.PARSE_ERROR });
    expect(await c.call({ op: 'shutdown', manager })).toMatchObject({ rc: 0 });
    expect(await c.call({ op: 'plugin_count', manager })).toMatchObject({ rc: RC.INVALID_HANDLE });
    c.close();
  });

  it('answers malformed frames with -2 and keeps serving; handles die with their connection', async () => {
    const a = new Client();
    const b = new Client();
    const loaded = await a.call({ op: 'load_config', yaml: YAML });
    a.raw(new Uint8Array([0xc1]));
    a.raw(packValue([1, 2]));
    expect(await a.call({ op: 'no_such_op' })).toMatchObject({
      rc: RC.INVALID_INPUT,
      error: { code: 'CPEX_ERR_FFI_UNKNOWN_OP' },
    });
    expect(a.unmatched.every((x) => x.rc === RC.INVALID_INPUT && x.id === 0)).toBe(true);
    expect(a.unmatched).toHaveLength(2);
    // another connection cannot use a's handle
    expect(await b.call({ op: 'plugin_count', manager: loaded.manager })).toMatchObject({
      rc: RC.INVALID_HANDLE,
    });
    expect(((await b.call({ op: 'stats' })) as Record<string, unknown>).handles).toBe(1);
    a.close();
    await expect
      .poll(async () => ((await b.call({ op: 'stats' })) as Record<string, unknown>).handles)
      .toBe(0);
    b.close();
  });

  it('answers every request of a pipelined chunk once, MessagePack and JSON mixed, in few writes', async () => {
    const c = new Client();
    const { manager } = await c.call({ op: 'load_config', yaml: YAML });
    await c.call({ op: 'initialize', manager });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      path.join(dir, 'big.mjs'),
      `export default { name: 'big', hooks: {
        tool_pre_invoke: (p) => ({ continueProcessing: true, metadata: { big: p.name.repeat(50_000) } }),
      } };`,
    );
    const big = await c.call({
      op: 'load_config',
      yaml: 'plugins:\n  - name: big\n    kind: node://./big.mjs\n    hooks: [tool_pre_invoke]\n',
    });
    await c.call({ op: 'initialize', manager: big.manager });
    // Requests in one write: their answers are held per tick and leave together: neighbours in
    // the encoder's slab as one view ('slab'), with JSON answers in between copied into one
    // buffer ('mixed'), large answers in buffers of their own written as they are ('large').
    for (const mode of ['slab', 'mixed', 'large'] as const) {
      const ids: number[] = [];
      const frames: Buffer[] = [];
      const n = mode === 'large' ? 6 : 40;
      const name = (i: number) => `n${i}`;
      for (let i = 0; i < n; i++) {
        const id = c.id();
        ids.push(id);
        // no plugin on custom_hook: the common answer, encoded end to end in the slab
        const hook = mode === 'slab' ? 'custom_hook' : 'tool_pre_invoke';
        const m = mode === 'large' ? big.manager : manager; // 'big' answers ~100 KB of metadata
        const req = { id, op: 'invoke', manager: m, hook, payload: { name: name(i) } };
        const json = mode === 'mixed' && i % 7 === 3;
        frames.push(frame(json ? Buffer.from(JSON.stringify(req)) : packValue(req)));
      }
      const answers = ids.map((id) => c.expect(id, () => {}));
      c.bytes(Buffer.concat(frames));
      const got = await Promise.all(answers);
      got.forEach((a, i) => {
        expect(a).toMatchObject({ id: ids[i], rc: RC.OK, result: { continue_processing: true } });
        if (mode === 'slab') {
          expect(a.result).toEqual({ continue_processing: true, payload_type: 0, payload_modified: false });
          return;
        }
        if (mode === 'large') {
          expect((a.result as Record<string, unknown>).metadata).toEqual({ big: name(i).repeat(50_000) });
          return;
        }
        const modified = (a.result as Record<string, unknown>).modified_payload;
        const json = mode === 'mixed' && i % 7 === 3;
        expect(json ? modified : unpackValue(modified as Uint8Array)).toEqual({
          name: name(i).toUpperCase(),
        });
      });
    }
    expect(c.unmatched).toHaveLength(0);
    c.close();
  });
});

describe('cpex serve: exact 64-bit integers a plugin keeps', () => {
  it("context_table_get carries a plugin's BigInt state exactly (uint64/int64, or its literal in JSON), never an internal error", async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      path.join(dir, 'hash.mjs'),
      'export default { name: "hash", hooks: { tool_pre_invoke: (_p, ctx) => { ctx.state.hash = 14695981039346656037n; ctx.state.neg = -9223372036854775808n; return {}; } } };',
    );
    const c = new Client();
    const loaded = await c.call({
      op: 'load_config',
      yaml: 'plugins:\n  - {name: hash, kind: node://./hash.mjs, hooks: [tool_pre_invoke]}\n',
    });
    const manager = loaded.manager as number;
    expect((await c.call({ op: 'initialize', manager })).rc).toBe(0);
    const r = await c.call({
      op: 'invoke',
      manager,
      hook: 'tool_pre_invoke',
      payload: packValue({ name: 'x' }),
    });
    expect(r.rc).toBe(RC.OK);
    const got = await c.call({ op: 'context_table_get', context_table: r.context_table });
    expect(got.rc).toBe(RC.OK);
    expect(Object.keys((got.table as Record<string, { state: object }>).hash?.state ?? {}).sort()).toEqual([
      'hash',
      'neg',
    ]);
    // What a Go client reads: int64/uint64, exactly (this test client's decoder would round them).
    const { Decoder } = await import('@msgpack/msgpack');
    const direct = new Decoder({ useBigInt64: true }).decode(
      packValue({ hash: 14695981039346656037n, neg: -9223372036854775808n }),
    );
    expect(direct).toEqual({ hash: 14695981039346656037n, neg: -9223372036854775808n });
    const { encodeBody } = await import('../src/wire.js');
    expect(Buffer.from(encodeBody({ state: { hash: 14695981039346656037n } }, 'json')).toString()).toBe(
      '{"state":{"hash":14695981039346656037}}',
    );
    c.close();
  });
});
