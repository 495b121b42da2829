// Type tests: handler payloads come from the HookMap (declaration merging works), results are checked.
import { describe, expectTypeOf, it } from 'vitest';
import {
  allow,
  definePlugin,
  deny,
  type GenericPayload,
  hook,
  hookHandler,
  modify,
  Plugin,
  type PayloadOf,
  type PluginResult,
  type TypedHandler,
} from './index.js';

interface SdkTestPayload {
  query: string;
  limit: number;
}

declare module '@cpex/core' {
  interface HookMap {
    'sdk_test.search': { payload: SdkTestPayload; result: PluginResult<SdkTestPayload> };
  }
}

describe('typed hooks', () => {
  it('a declaration-merged hook types the payload of definePlugin handlers', () => {
    definePlugin({
      name: 'typed',
      hooks: {
        'sdk_test.search'(payload) {
          expectTypeOf(payload.query).toEqualTypeOf<string>();
          expectTypeOf(payload.limit).toEqualTypeOf<number>();
          // @ts-expect-error -- not a field of SdkTestPayload
          payload.nope;
          return modify({ ...payload, limit: 10 });
        },
        'sdk_test.unknown_hook'(payload) {
          expectTypeOf(payload).toEqualTypeOf<Readonly<GenericPayload>>();
          return allow();
        },
      },
    });
  });

  it('a modify() of the wrong payload shape does not compile', () => {
    definePlugin({
      name: 'typed-bad',
      hooks: {
        // @ts-expect-error -- limit must be a number
        'sdk_test.search': (payload) => modify({ ...payload, limit: 'ten' }),
      },
    });
  });

  it('payloads are read-only', () => {
    const h: TypedHandler<'sdk_test.search'> = (payload) => {
      // @ts-expect-error -- handlers return modify(newPayload) instead of writing
      payload.limit = 3;
      return deny('x', 'y');
    };
    expectTypeOf(h).parameter(0).toEqualTypeOf<Readonly<SdkTestPayload>>();
  });

  it('hookHandler and @hook check the payload type', () => {
    hookHandler('sdk_test.search', (p) => {
      expectTypeOf(p).toEqualTypeOf<Readonly<PayloadOf<'sdk_test.search'>>>();
    });
    class P extends Plugin {
      @hook('sdk_test.search')
      search(payload: SdkTestPayload) {
        return allow({ q: payload.query });
      }
    }
    expectTypeOf(new P().config).toEqualTypeOf<Record<string, unknown>>();
  });
});
