// biome-ignore-all lint/suspicious/noThenProperty: thenables are what these tests are about
/**
 * Issue 11 item 6 (every call settles: uninspectable thrown values) and item 8 (nested thenables
 * never allow), property-tested with fast-check over every phase, sync and async delivery and
 * every hostile shape we know of.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CpexError, type Phase, type PluginResult } from '../../src/index.js';
import { describeCause } from '../../src/errors/cpex-error.js';
import { gctx, newManager, run } from './helpers.js';

const throwing = (what: string) => () => {
  throw new Error(`hostile ${what}`);
};

/** Values that break naive inspection: instanceof, property reads, String(), JSON, template strings. */
function hostile(kind: number): unknown {
  switch (kind) {
    case 0: {
      const traps: ProxyHandler<object> = {};
      for (const t of [
        'get',
        'has',
        'ownKeys',
        'getPrototypeOf',
        'getOwnPropertyDescriptor',
        'defineProperty',
        'set',
        'deleteProperty',
        'apply',
        'isExtensible',
        'preventExtensions',
        'setPrototypeOf',
      ] as const)
        (traps as Record<string, unknown>)[t] = throwing(t);
      return new Proxy({}, traps);
    }
    case 1: {
      const r = Proxy.revocable({}, {});
      r.revoke();
      return r.proxy;
    }
    case 2:
      return { toString: throwing('toString'), valueOf: throwing('valueOf'), toJSON: throwing('toJSON') };
    case 3:
      return { [Symbol.toPrimitive]: throwing('toPrimitive'), toJSON: throwing('toJSON') };
    case 4: {
      const e = new Error('x');
      Object.defineProperty(e, 'message', { get: throwing('message') });
      Object.defineProperty(e, 'name', { get: throwing('name') });
      return e;
    }
    case 5:
      return new Proxy(new Error('wrapped'), {
        getPrototypeOf: throwing('getPrototypeOf'),
        get: throwing('get'),
      });
    case 6: {
      const f = () => {};
      Object.defineProperty(f, 'toString', { value: throwing('fn toString') });
      return new Proxy(f, { get: throwing('fn get') });
    }
    case 7:
      return Symbol('s');
    case 8: {
      const r = Proxy.revocable(new Error('revoked error'), {});
      r.revoke();
      return r.proxy;
    }
    default: {
      const e = new CpexError('CPEX_ERR_PLUGIN_EXCEPTION', 'coded');
      return new Proxy(e, { get: throwing('coded get') });
    }
  }
}
const HOSTILE_KINDS = 10;

type Delivery =
  | 'throw'
  | 'reject'
  | 'thenable-reject'
  | 'thenable-throws'
  | 'then-getter'
  | 'nested-reject'
  | 'result';

function handlerFor(delivery: Delivery, value: () => unknown) {
  return (): unknown => {
    const v = value();
    switch (delivery) {
      case 'throw':
        throw v;
      case 'reject':
        return Promise.reject(v);
      case 'thenable-reject':
        return { then: (_res: unknown, rej: (e: unknown) => void) => rej(v) };
      case 'thenable-throws':
        return {
          then() {
            throw v;
          },
        };
      case 'then-getter':
        return Object.defineProperty({}, 'then', {
          get() {
            throw v;
          },
        });
      case 'nested-reject':
        return {
          then: (res: (x: unknown) => void) =>
            res({ then: (_r: unknown, rej: (e: unknown) => void) => rej(v) }),
        };
      case 'result':
        // the hostile value IS the result, or sits in its violation/metadata
        return [v, { continueProcessing: false, violation: { code: 'x', reason: v } }, { metadata: v }][
          Math.abs(String(typeof v).length) % 3
        ];
    }
  };
}

const PHASES: Phase[] = ['sequential', 'transform', 'audit', 'concurrent', 'fire_and_forget'];
const DELIVERIES: Delivery[] = [
  'throw',
  'reject',
  'thenable-reject',
  'thenable-throws',
  'then-getter',
  'nested-reject',
  'result',
];

describe('describeCause never throws (issue 11 item 6)', () => {
  it('describes every hostile value as a string', () => {
    for (let k = 0; k < HOSTILE_KINDS; k++) expect(typeof describeCause(hostile(k))).toBe('string');
  });
});

describe('every invoke settles, whatever a plugin throws (issue 11 item 6)', () => {
  it('property: any hostile value, any phase, any delivery, any on_error: invoke resolves or rejects with a coded error; background.wait() and shutdown() settle', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: HOSTILE_KINDS - 1 }),
        fc.constantFrom(...PHASES),
        fc.constantFrom(...DELIVERIES),
        fc.constantFrom('fail' as const, 'ignore' as const, 'disable' as const),
        fc.boolean(),
        async (kind, phase, delivery, onError, sibling) => {
          const m = newManager();
          m.registerHook('tool_pre_invoke', handlerFor(delivery, () => hostile(kind)) as never, {
            name: 'hostile',
            mode: phase,
            onError,
          });
          if (sibling)
            m.registerHook('tool_pre_invoke', async () => undefined, { name: 'sibling', mode: phase });
          await m.initialize();
          let result: Awaited<ReturnType<typeof run>> | undefined;
          try {
            result = await run(m, 'tool_pre_invoke', { name: 'x', args: {} }, { globalContext: gctx('h') });
          } catch (e) {
            expect(e).toBeInstanceOf(CpexError);
            expect(typeof (e as CpexError).code).toBe('string');
            expect((e as CpexError).code).toMatch(/^CPEX_ERR_/);
          }
          if (result) {
            for (const err of result.errors) {
              expect(typeof err.message).toBe('string');
              expect(err.errorCode ?? err.code).toBeTruthy();
            }
            const bg = await result.background.wait();
            for (const err of bg) expect(typeof err.message).toBe('string');
            if (
              phase !== 'fire_and_forget' &&
              phase !== 'audit' &&
              onError === 'fail' &&
              delivery !== 'result'
            ) {
              expect(result.continueProcessing).toBe(false);
              expect(result.violation?.pluginName).toBe('hostile');
            }
          }
          await m.drain();
          await m.shutdown();
        },
      ),
      { numRuns: 150 },
    );
  }, 60_000);

  it('a violationsAsExceptions caller gets a PluginViolationError (coded), never a raw hostile value', async () => {
    for (let k = 0; k < HOSTILE_KINDS; k++) {
      const m = newManager();
      m.registerHook('tool_pre_invoke', handlerFor('throw', () => hostile(k)) as never, { name: 'h' });
      await m.initialize();
      const err = await run(
        m,
        'tool_pre_invoke',
        { name: 'x', args: {} },
        { violationsAsExceptions: true },
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CpexError);
      expect((err as CpexError).code).toBe('CPEX_ERR_PLUGIN_VIOLATION');
    }
  });
});

describe('nested thenables never allow (issue 11 item 8)', () => {
  const deny: PluginResult = {
    continueProcessing: false,
    violation: { code: 'nope', reason: 'denied deep' },
  };
  /** A custom thenable that fulfils with `inner` (sync or on a later tick). */
  const thenable = (inner: unknown, later: boolean) => ({
    then(res: (v: unknown) => void) {
      if (later) setTimeout(() => res(inner), 0);
      else res(inner);
    },
  });
  const shapes: Array<[string, () => unknown]> = [
    ['thenable -> Promise<deny>', () => thenable(Promise.resolve(deny), false)],
    ['thenable -> thenable -> deny', () => thenable(thenable(deny, false), false)],
    [
      'thenable (later) -> Promise -> thenable (later) -> deny',
      () => thenable(Promise.resolve(thenable(deny, true)), true),
    ],
    ['Promise -> thenable -> Promise<deny>', () => Promise.resolve(thenable(Promise.resolve(deny), true))],
    [
      'thenable calling res twice (deny first, allow second)',
      () => ({ then: (res: (v: unknown) => void) => (res(deny), res({})) }),
    ],
    [
      'thenable -> 10 nested thenables -> deny',
      () => {
        let v: unknown = deny;
        for (let i = 0; i < 10; i++) v = thenable(v, i % 2 === 0);
        return v;
      },
    ],
  ];
  for (const [name, make] of shapes) {
    for (const phase of ['sequential', 'concurrent'] as const) {
      it(`${phase}: ${name} denies`, async () => {
        const m = newManager();
        m.registerHook('tool_pre_invoke', (() => make()) as never, { name: 'deep', mode: phase });
        await m.initialize();
        const r = await run(m, 'tool_pre_invoke', { name: 'x', args: {} });
        expect(r.continueProcessing).toBe(false);
        expect(r.violation).toMatchObject({ code: 'nope', pluginName: 'deep' });
      });
    }
  }

  it('a chain deeper than the bound is refused with a coded error, never an allow', async () => {
    const m = newManager();
    m.registerHook(
      'tool_pre_invoke',
      (() => {
        let v: unknown = {};
        for (let i = 0; i < 100; i++) v = thenable(v, false);
        return v;
      }) as never,
      { name: 'abyss' },
    );
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { name: 'x', args: {} });
    expect(r.continueProcessing).toBe(false);
    expect(r.violation?.details).toMatchObject({ error_code: 'CPEX_ERR_INVALID_RESULT' });
  });

  it('a thenable that fulfils with a thenable and then rejects keeps the first settlement', async () => {
    const m = newManager();
    m.registerHook(
      'tool_pre_invoke',
      (() => ({
        then(res: (v: unknown) => void, rej: (e: unknown) => void) {
          res(thenable(deny, true));
          rej(new Error('too late'));
        },
      })) as never,
      { name: 'p' },
    );
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { name: 'x', args: {} });
    expect(r.violation).toMatchObject({ code: 'nope' });
  });
});
