// Ingress through core's rules: every invoke's payload, extensions and context are judged by
// checkPayloadBounds (the manager's max_payload_depth / max_payload_bytes) and core's ingress
// schemas (ingressExtensions), over a real socket; the codes map onto -2/-3 as docs/ffi/protocol.md says.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SidecarServer } from '../src/server.js';
import { frame, packValue, RC } from '../src/wire.js';
import { Client } from './client.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cpex-ffi-ingress-'));
const sock = path.join(dir, 's.sock');
const server = new SidecarServer({ cwd: dir, callTimeoutMs: 30_000 });

const YAML = `
plugin_settings:
  max_payload_depth: 8
  max_payload_bytes: 2000
plugins:
  - name: echo
    kind: node://./echo.mjs
    hooks: [tool_pre_invoke, generic_hook]
`;

let c: Client;
let manager: number;
const invoke = (fields: Record<string, unknown>) =>
  c.call({ op: 'invoke', manager, hook: 'tool_pre_invoke', ...fields });
const nest = (depth: number): unknown => {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = { n: v };
  return v;
};
/** MessagePack bytes of `depth` nested one-element arrays around 1 (no encoder depth limit). */
const deepBytes = (depth: number) => {
  const b = new Uint8Array(depth + 1).fill(0x91);
  b[depth] = 0x01;
  return b;
};
/** A request map written by hand: `fields` encoded, plus one key whose value is raw MessagePack bytes. */
const handMade = (fields: Record<string, unknown>, key: string, raw: Uint8Array) => {
  const head = packValue(fields);
  const n = Object.keys(fields).length;
  if (n > 14) throw new Error('fixmap only');
  const keyBytes = packValue(key);
  const out = new Uint8Array(head.length + keyBytes.length + raw.length);
  out.set(head);
  out[0] = 0x80 | (n + 1);
  out.set(keyBytes, head.length);
  out.set(raw, head.length + keyBytes.length);
  return out;
};
/** `{"__proto__": {"polluted": true}}` as an own key (an object literal would set the prototype). */
const protoMap = () => JSON.parse('{"name":"t","args":{"__proto__":{"polluted":true}}}') as unknown;

beforeAll(async () => {
  writeFileSync(
    path.join(dir, 'echo.mjs'),
    `export default { name: 'echo', hooks: {
      tool_pre_invoke: (p) => ({ continueProcessing: true, metadata: { keys: Object.keys(p.args ?? {}) } }),
      generic_hook: () => ({ continueProcessing: true }),
    } };`,
  );
  await server.listen(sock);
  c = new Client(sock);
  const loaded = await c.call({ op: 'load_config', yaml: YAML });
  manager = loaded.manager as number;
  expect((await c.call({ op: 'initialize', manager })).rc).toBe(RC.OK);
});
afterAll(async () => {
  c.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('cpex serve ingress: core rules, FFI codes', () => {
  it('depth: max_payload_depth of the manager, for payload, extensions and context, inline or bin', async () => {
    const ok = { name: 't', args: nest(6) };
    expect((await invoke({ payload: ok })).rc).toBe(RC.OK);
    expect((await invoke({ payload: packValue(ok) })).rc).toBe(RC.OK);
    for (const payload of [{ name: 't', args: nest(9) }, packValue({ name: 't', args: nest(9) })]) {
      expect(await invoke({ payload })).toMatchObject({
        rc: RC.PARSE_ERROR,
        error: { code: 'CPEX_ERR_PAYLOAD_TOO_DEEP', message: expect.stringMatching(/max_payload_depth 8/) },
      });
    }
    expect(
      await invoke({ payload: { name: 't' }, extensions: { custom: nest(9) as Record<string, unknown> } }),
    ).toMatchObject({ rc: RC.PARSE_ERROR, error: { code: 'CPEX_ERR_PAYLOAD_TOO_DEEP' } });
    expect(await invoke({ payload: { name: 't' }, context: { state: nest(9) } })).toMatchObject({
      rc: RC.PARSE_ERROR,
      error: { code: 'CPEX_ERR_PAYLOAD_TOO_DEEP', message: expect.stringMatching(/context/) },
    });
  });

  it('depth: 100 000 levels inline or in a bin get -3 on their own id, never a crash', async () => {
    const fields = { id: c.id(), op: 'invoke', manager, hook: 'generic_hook' };
    const inline = await c.expect(fields.id, () => c.raw(handMade(fields, 'payload', deepBytes(100_000))));
    expect(inline).toMatchObject({ rc: RC.PARSE_ERROR, error: { code: 'CPEX_ERR_PAYLOAD_TOO_DEEP' } });
    expect(await invoke({ hook: 'generic_hook', payload: deepBytes(100_000) })).toMatchObject({
      rc: RC.PARSE_ERROR,
      error: { code: 'CPEX_ERR_PAYLOAD_TOO_DEEP' },
    });
    expect((await c.call({ op: 'version' })).rc).toBe(RC.OK);
  });

  it('size: max_payload_bytes (JSON bytes, as every boundary measures) is -2', async () => {
    const big = { name: 't', args: { q: 'x'.repeat(2100) } };
    for (const payload of [big, packValue(big)])
      expect(await invoke({ payload })).toMatchObject({
        rc: RC.INVALID_INPUT,
        error: {
          code: 'CPEX_ERR_PAYLOAD_TOO_LARGE',
          message: expect.stringMatching(/max_payload_bytes 2000/),
        },
      });
    expect((await invoke({ payload: { name: 't', args: { q: 'x'.repeat(1800) } } })).rc).toBe(RC.OK);
  });

  it('malformed extensions: labels as a string, a mixed list, not a map — -3 naming the field', async () => {
    for (const extensions of [
      { security: { labels: 'pii' } },
      { security: { labels: ['pii', 7] } },
      packValue({ security: { labels: 'pii' } }),
    ])
      expect(await invoke({ payload: { name: 't' }, extensions })).toMatchObject({
        rc: RC.PARSE_ERROR,
        error: { code: 'CPEX_ERR_INVALID_PAYLOAD', message: expect.stringMatching(/security\.labels/) },
      });
    expect(await invoke({ payload: { name: 't' }, extensions: [1, 2] })).toMatchObject({
      rc: RC.PARSE_ERROR,
      error: { code: 'CPEX_ERR_INVALID_PAYLOAD', message: expect.stringMatching(/expected an object/) },
    });
    const good = await invoke({ payload: { name: 't' }, extensions: { security: { labels: ['pii'] } } });
    expect(good.rc).toBe(RC.OK);
  });

  it('a __proto__ map key is -3 on its own id (inline, bin or JSON) and pollutes nothing', async () => {
    const bin = await invoke({ payload: packValue(protoMap()) });
    expect(bin).toMatchObject({
      rc: RC.PARSE_ERROR,
      error: { code: 'CPEX_ERR_INVALID_PAYLOAD', message: expect.stringMatching(/__proto__/) },
    });
    const id = c.id();
    const inline = await c.expect(id, () =>
      c.raw(packValue({ id, op: 'invoke', manager, hook: 'tool_pre_invoke', payload: protoMap() })),
    );
    expect(inline).toMatchObject({ rc: RC.PARSE_ERROR, error: { code: 'CPEX_ERR_INVALID_PAYLOAD' } });
    const jid = c.id();
    const json = await c.expect(jid, () =>
      c.bytes(
        frame(
          Buffer.from(
            `{"id":${jid},"op":"invoke","manager":${manager},"hook":"generic_hook","payload":{"a":{"__proto__":{"polluted":true}}}}`,
          ),
        ),
      ),
    );
    expect(json).toMatchObject({ rc: RC.PARSE_ERROR, error: { code: 'CPEX_ERR_INVALID_PAYLOAD' } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // the connection keeps serving
    expect((await invoke({ payload: { name: 't', args: { proto: 1 } } })).result).toMatchObject({
      metadata: { keys: ['proto'] },
    });
  });
});
