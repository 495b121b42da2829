/**
 * Issue 11 (nothing hostile can hang or fool the engine), property-tested over whole results:
 * 1–3 in-process plugins in random phases, with random on_error and capabilities, each return an
 * arbitrary result built from valid fields, wrong types, hostile values (throwing proxies, holes,
 * cycles, `__proto__` keys, NaN/Infinity) and extension edits that try to remove labels, write
 * immutable slots or add fields. Whatever they return:
 * - invoke settles (resolves, or rejects with a coded CpexError), and so do background work,
 *   drain and shutdown;
 * - the caller's payload and extensions are unchanged;
 * - the result is well-formed (boolean decision, finite retry delay, coded error records) and its
 *   labels still hold every label the caller passed (labels only grow).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CpexError, type Phase } from '../../src/index.js';
import { holeBomb, newManager, run } from './helpers.js';

const PHASES: Phase[] = ['sequential', 'transform', 'audit', 'concurrent', 'fire_and_forget'];

function throwingProxy(): object {
  const boom = () => {
    throw new Error('hostile trap');
  };
  return new Proxy(
    {},
    { get: boom, ownKeys: boom, getOwnPropertyDescriptor: boom, getPrototypeOf: boom, has: boom },
  );
}
function cycle(): object {
  const o: Record<string, unknown> = { a: 1 };
  o.self = o;
  return o;
}

/**
 * A hostile value made only when the plugin returns it: fast-check itself inspects what it
 * generates (a throwing proxy would break the generator, not the engine).
 */
class Lazy {
  constructor(readonly make: () => unknown) {}
}
const lazy = (make: () => unknown) => fc.constant(new Lazy(make));

/** The generated result with its Lazy members made (a fresh value per call). */
function materialize(v: unknown): unknown {
  if (v instanceof Lazy) return v.make();
  if (Array.isArray(v)) return v.map(materialize);
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
      Object.defineProperty(out, k, {
        value: materialize((v as Record<string, unknown>)[k]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return v;
}

/** Values no field should accept as they are (or that stress whoever reads them). */
const weird: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    undefined,
    0,
    1,
    -1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    1e300,
    '',
    'false',
    'true',
    true,
    false,
  ),
  fc.string({ maxLength: 8 }),
  fc.array(fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), { maxLength: 4 }),
  fc.dictionary(
    fc.constantFrom('a', 'code', 'reason', '__proto__', 'constructor', 'labels'),
    fc.jsonValue({ maxDepth: 2 }),
    {
      maxKeys: 3,
    },
  ),
  lazy(() => JSON.parse('{"__proto__": {"isAdmin": true}, "x": 1}')),
  lazy(throwingProxy),
  lazy(() => holeBomb('x')),
  lazy(cycle),
  lazy(() => Object.freeze({ frozen: [1] })),
  lazy(() => new Map([['k', 1]])),
  lazy(() => new Date(0)),
);

const labelsEdit = fc.oneof(
  fc.constant(['pii', 'added']), // grows: allowed with append_labels
  fc.constant([]), // drops the caller's label: refused
  fc.constant(['PII']), // same label, other case
  fc.constant('pii'),
  fc.constant([1, 2]),
  weird,
);
const extensionsEdit = fc.record(
  {
    security: fc.oneof(fc.record({ labels: labelsEdit }, { requiredKeys: [] }), weird),
    custom: fc.oneof(fc.record({ k: fc.jsonValue({ maxDepth: 2 }) }), weird),
    http: fc.oneof(fc.record({ headers: fc.oneof(fc.constant({ a: 'changed', b: 'new' }), weird) }), weird),
    agent: weird,
    delegation: weird,
    candidate_constraint: weird,
    raw_credentials: weird,
    nonsense_slot: weird,
  },
  { requiredKeys: [] },
);
const violation = fc.oneof(
  weird,
  fc.record(
    { code: fc.oneof(fc.string({ maxLength: 6 }), weird), reason: weird, description: weird, details: weird },
    { requiredKeys: [] },
  ),
);
const result = fc.oneof(
  { weight: 1, arbitrary: weird },
  {
    weight: 4,
    arbitrary: fc.record(
      {
        continueProcessing: fc.oneof(fc.boolean(), weird),
        modifiedPayload: fc.oneof(fc.constant({ name: 't', args: { changed: true } }), weird),
        modifiedExtensions: fc.oneof(extensionsEdit, weird),
        violation,
        metadata: weird,
        retryDelayMs: fc.oneof(fc.nat(), weird),
      },
      { requiredKeys: [] },
    ),
  },
);
const plugin = fc.record({
  phase: fc.constantFrom(...PHASES),
  onError: fc.constantFrom('fail' as const, 'ignore' as const, 'disable' as const),
  caps: fc.subarray(['read_labels', 'append_labels', 'read_headers', 'write_headers', 'read_agent'] as const),
  async: fc.boolean(),
  result,
});

const CALLER_PAYLOAD = () => ({ name: 't', args: { a: [1, 2], n: { x: 1 } } });
const CALLER_EXTENSIONS = () => ({
  security: { labels: ['pii'] },
  custom: { k: 1 },
  http: { headers: { a: 'b' } },
  agent: { input: 'hello' },
});

describe('hostile results (issue 11): settle, never mutate the caller, never shrink labels', () => {
  it('property: any results from 1–3 plugins in any phases', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(plugin, { minLength: 1, maxLength: 3 }), async (plugins) => {
        const m = newManager();
        plugins.forEach((p, i) => {
          m.registerHook(
            'tool_pre_invoke',
            (p.async ? async () => materialize(p.result) : () => materialize(p.result)) as never,
            {
              name: `p${i}`,
              mode: p.phase,
              onError: p.onError,
              capabilities: [...p.caps],
            },
          );
        });
        await m.initialize();
        const payload = CALLER_PAYLOAD();
        const extensions = CALLER_EXTENSIONS();
        let r: Awaited<ReturnType<typeof run>> | undefined;
        try {
          r = await run(m, 'tool_pre_invoke', payload, { extensions: extensions as never });
        } catch (e) {
          expect(e).toBeInstanceOf(CpexError);
          expect((e as CpexError).code).toMatch(/^CPEX_ERR_/);
        }
        expect(payload).toEqual(CALLER_PAYLOAD());
        expect(extensions).toEqual(CALLER_EXTENSIONS());
        if (r) {
          expect(typeof r.continueProcessing).toBe('boolean');
          expect(Number.isFinite(r.retryDelayMs) && r.retryDelayMs >= 0).toBe(true);
          expect(r.metadata !== null && typeof r.metadata === 'object').toBe(true);
          for (const e of r.errors) {
            expect(typeof e.message).toBe('string');
            expect(typeof e.code).toBe('string');
          }
          if (r.violation) expect(typeof r.violation.code).toBe('string');
          const labels = r.modifiedExtensions?.security?.labels;
          if (labels !== undefined) expect([...labels].map((l) => l.toLowerCase())).toContain('pii');
          if (r.modifiedExtensions) {
            expect(r.modifiedExtensions.agent).toEqual(CALLER_EXTENSIONS().agent);
            expect((r.modifiedExtensions as Record<string, unknown>).nonsense_slot).toBeUndefined();
          }
          await r.background.wait();
        }
        await m.drain();
        await m.shutdown();
      }),
      { numRuns: 200 },
    );
    // CPU-bound (a manager per run): generous for a loaded 2-core CI machine.
  }, 120_000);
});
