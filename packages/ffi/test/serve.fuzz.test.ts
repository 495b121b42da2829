// A property test of a real `cpex serve` process over a real Unix socket: arbitrary sequences of
// requests (well-formed, half-formed and junk frames, JSON frames, oversize frames, `__proto__`
// keys, deep values, any handle), pipelined and split into arbitrary chunks. Whatever arrives:
// the sidecar never crashes or hangs, every request carrying an id gets an answer with a
// catalogued code, the connection keeps serving, and closing it leaves no handle behind (`stats`).
// The Go side has its own fuzz (FuzzFrames in packages/ffi/go).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ERROR_CATALOGUE } from '@cpex/core/host';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRAME_HEADER_BYTES, frame, packValue, RC } from '../src/wire.js';
import { type Answer, Client, spawnServe } from './client.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cpex-ffi-fuzz-'));
const sock = path.join(dir, 'fuzz.sock');
const MAX_FRAME = 65_536;
const RCS = new Set<number>(Object.values(RC));
/** Ids of the requests a run makes (junk cannot produce them by chance in practice). */
const ID_BASE = 7_000_000;

const YAML = `
plugin_settings:
  max_payload_depth: 16
plugins:
  - name: shape
    kind: node://./shape.mjs
    hooks: [tool_pre_invoke, tool_post_invoke, custom_hook]
  - name: later
    kind: node://./later.mjs
    hooks: [tool_post_invoke]
    mode: fire_and_forget
`;

let child: ChildProcess;
let stderr = '';

beforeAll(async () => {
  writeFileSync(
    path.join(dir, 'shape.mjs'),
    `export default { name: 'shape', hooks: {
      tool_pre_invoke: (p, ctx) => { ctx.state.n = (ctx.state.n ?? 0) + 1;
        if (p.name === 'deny') return { continueProcessing: false, violation: { code: 'NO', reason: 'no' } };
        if (p.name === 'boom') throw new Error('boom');
        return { continueProcessing: true, modifiedPayload: { ...p, name: String(p.name).toUpperCase() }, metadata: { n: ctx.state.n } }; },
      tool_post_invoke: () => ({ continueProcessing: true }),
      custom_hook: (p) => ({ continueProcessing: true, metadata: { seen: typeof p } }),
    } };`,
  );
  writeFileSync(
    path.join(dir, 'later.mjs'),
    `export default { name: 'later', hooks: { tool_post_invoke: async () => { await new Promise((r) => setTimeout(r, 1)); throw new Error('late'); } } };`,
  );
  child = spawnServe(
    ['--socket', sock, '--max-frame-bytes', String(MAX_FRAME)],
    ['ignore', 'ignore', 'pipe'],
  );
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  // the sidecar says so on stderr when it listens
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (stderr.includes('listening on')) resolve();
      else if (child.exitCode !== null) reject(new Error(`cpex serve exited: ${stderr}`));
      else setTimeout(check, 50);
    };
    check();
  });
}, 120_000);

afterAll(async () => {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- arbitraries

const key = fc.constantFrom('__proto__', 'name', 'args', 'q', 'labels', 'id', 'x', 'constructor');
/** Plain values, sometimes with a `__proto__` own key, sometimes deep. */
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: false }),
    fc.string({ maxLength: 20 }),
    fc.uint8Array({ maxLength: 16 }),
    fc.array(tie('v'), { maxLength: 4 }),
    fc
      .array(fc.tuple(key, tie('v')), { maxLength: 4 })
      .map((entries) => Object.fromEntries(entries) as unknown),
  ),
})).v;
const deep = fc.integer({ min: 10, max: 40 }).map((n) => {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = { d: v };
  return v;
});
const hook = fc.constantFrom(
  'tool_pre_invoke',
  'tool_post_invoke',
  'custom_hook',
  'cmf.tool_pre_invoke',
  'identity.resolve',
  '',
  'no_such_hook',
);
const ops = [
  'version',
  'load_config',
  'initialize',
  'shutdown',
  'is_initialized',
  'has_hooks_for',
  'plugin_count',
  'plugin_names',
  'invoke',
  'background_wait',
  'background_free',
  'context_table_free',
  'context_table_get',
  'free',
  'stats',
  'nope',
] as const;

/** A handle reference: the run's manager, one of the run's tables/background handles, or anything. */
type HandleRef = { kind: 'manager' } | { kind: 'returned'; index: number } | { kind: 'raw'; value: unknown };
const handleRef: fc.Arbitrary<HandleRef> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'manager' } as const) },
  fc.nat({ max: 20 }).map((index) => ({ kind: 'returned', index }) as const),
  fc
    .oneof(fc.integer(), fc.constant(0), fc.string({ maxLength: 3 }))
    .map((v) => ({ kind: 'raw', value: v }) as const),
);

type Step =
  | {
      kind: 'request';
      op: string;
      fields: Record<string, unknown>;
      handles: Partial<Record<'manager' | 'context_table' | 'background', HandleRef>>;
      json: boolean;
    }
  | { kind: 'junk'; body: Uint8Array }
  | { kind: 'oversize'; extra: number };

const request: fc.Arbitrary<Step> = fc.record({
  kind: fc.constant('request' as const),
  op: fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(...ops) },
    { weight: 2, arbitrary: fc.constant('invoke') },
  ),
  fields: fc.record(
    {
      hook,
      payload: fc.oneof(
        fc.record({
          name: fc.constantFrom('x', 'deny', 'boom'),
          args: fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 5 })),
        }),
        value,
        value.map((v) => packValue(v)),
        deep,
        fc.constant(new Uint8Array([0xc1])),
      ),
      payload_type: fc.oneof(fc.constantFrom(0, 1, 2, 3), value),
      extensions: fc.oneof(
        fc.constant({ security: { labels: ['pii'] } }),
        fc.constant({ security: { labels: 'pii' } }),
        fc.constant({ security: { labels: ['a', 1] } }),
        value,
        deep.map((d) => ({ custom: d })),
      ),
      context: fc.oneof(fc.record({ request_id: fc.string({ maxLength: 5 }), state: value }), value),
      yaml: fc.oneof(fc.constant(YAML), fc.constant('plugins: ['), fc.string({ maxLength: 10 })),
      free_context_tables: fc.array(fc.integer(), { maxLength: 2 }),
    },
    { requiredKeys: [] },
  ),
  handles: fc.record(
    { manager: handleRef, context_table: handleRef, background: handleRef },
    { requiredKeys: [] },
  ),
  json: fc.boolean(),
});
const junk: fc.Arbitrary<Step> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((body) => ({ kind: 'junk', body }) as const),
  fc.string({ maxLength: 40 }).map((s) => ({ kind: 'junk', body: Buffer.from(`{${s}`) }) as const),
  fc.nat({ max: 1000 }).map((extra) => ({ kind: 'oversize', extra }) as const),
);
const steps = fc.array(fc.oneof({ weight: 4, arbitrary: request }, { weight: 1, arbitrary: junk }), {
  minLength: 1,
  maxLength: 25,
});
/** Where the run's bytes are cut into writes (fractions of the total). */
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 });

// ---------------------------------------------------------------- the property

function checkAnswer(a: Answer): void {
  expect(Number.isSafeInteger(a.id)).toBe(true);
  expect(RCS.has(a.rc)).toBe(true);
  if (a.rc !== RC.OK) {
    const error = a.error as { code?: unknown; message?: unknown } | undefined;
    expect(typeof error?.message).toBe('string');
    expect(Object.hasOwn(ERROR_CATALOGUE, String(error?.code))).toBe(true);
  }
}

/** Send `body` as one frame on `c` and wait for the answer with `id`. */
const ask = (c: Client, id: number, body: Record<string, unknown>) =>
  c.expect(id, () => c.raw(packValue({ id, ...body })));

async function stats(c: Client): Promise<Record<string, unknown>> {
  return ask(c, c.id(), { op: 'stats' });
}

describe('cpex serve under arbitrary frames (fast-check, real process, real socket)', () => {
  it('answers every request, never crashes or hangs, and leaks no handle', { timeout: 600_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(steps, cuts, async (run, cutAt) => {
        const c = new Client(sock);
        // each run starts from a manager of its own
        const loaded = await ask(c, c.id(), { op: 'load_config', yaml: YAML, base_dir: dir });
        expect(loaded.rc).toBe(RC.OK);
        const manager = loaded.manager as number;
        expect((await ask(c, c.id(), { op: 'initialize', manager })).rc).toBe(RC.OK);
        // handles the run's requests may use (or consume, free, misuse)
        const returned: number[] = [];
        for (const h of ['tool_pre_invoke', 'tool_post_invoke']) {
          const a = await ask(c, c.id(), {
            op: 'invoke',
            manager,
            hook: h,
            payload: { name: 'x', result: 1 },
          });
          expect(a.rc).toBe(RC.OK);
          for (const k of ['context_table', 'background'] as const)
            if (typeof a[k] === 'number') returned.push(a[k] as number);
        }
        expect(returned.length).toBe(3);
        const resolve = (ref: HandleRef | undefined): unknown =>
          ref === undefined
            ? undefined
            : ref.kind === 'manager'
              ? manager
              : ref.kind === 'returned'
                ? (returned[ref.index % Math.max(1, returned.length)] ?? 0)
                : ref.value;
        const expected = new Map<number, Promise<Answer>>();
        const chunks: Buffer[] = [];
        let id = ID_BASE;
        for (const step of run) {
          if (step.kind === 'junk') {
            chunks.push(frame(step.body));
          } else if (step.kind === 'oversize') {
            const head = Buffer.alloc(FRAME_HEADER_BYTES);
            head.writeUInt32BE(MAX_FRAME + 1 + step.extra);
            chunks.push(head, Buffer.alloc(MAX_FRAME + 1 + step.extra, 0x61));
          } else {
            const reqId = ++id;
            const body: Record<string, unknown> = { id: reqId, op: step.op, ...step.fields };
            for (const [k, ref] of Object.entries(step.handles)) body[k] = resolve(ref);
            let bytes: Uint8Array;
            try {
              bytes = step.json ? Buffer.from(JSON.stringify(body)) : packValue(body);
            } catch {
              continue; // not encodable by this client (JSON of a bigint-like value): nothing sent
            }
            if (bytes.length > MAX_FRAME) continue;
            expected.set(
              reqId,
              c.expect(reqId, () => {}),
            );
            chunks.push(frame(bytes));
          }
        }
        // the whole run as one byte stream, cut into arbitrary writes
        const all = Buffer.concat(chunks);
        const points = [...new Set(cutAt.map((f) => Math.floor(f * all.length)))].sort((a, b) => a - b);
        let from = 0;
        for (const p of [...points, all.length]) {
          if (p > from) c.bytes(all.subarray(from, p));
          from = Math.max(from, p);
        }
        // every request is answered (a hang fails the test by its timeout), with a catalogued code
        for (const a of await Promise.all(expected.values())) checkAnswer(a);
        for (const a of c.unmatched) checkAnswer(a);
        // the connection still serves, and the process is alive
        const after = await stats(c);
        expect(after.rc).toBe(RC.OK);
        expect(child.exitCode).toBeNull();
        // closing it frees everything it held
        c.close();
        await c.ended;
        const probe = new Client(sock);
        try {
          for (;;) {
            const s = await stats(probe);
            if (s.handles === 0 && s.connections === 1) break;
            await new Promise((r) => setTimeout(r, 20));
          }
        } finally {
          probe.close();
        }
      }),
      { numRuns: process.env.CPEX_FFI_FUZZ_RUNS ? Number(process.env.CPEX_FFI_FUZZ_RUNS) : 40 },
    );
    expect(child.exitCode).toBeNull();
  });
});
