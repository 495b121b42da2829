// Type tests: handler payloads come from the HookMap (declaration merging works), results are checked.
import { describe, expectTypeOf, it } from 'vitest';
import type { TestInvokeResult, TestManager, TestManagerOptions, TestPlugin } from './testing/index.js';
import type { HostProbe, HostSuiteOptions, ProbeBehaviour, SuiteApi } from './testing/index.js';
import {
  allow,
  type DefinedPlugin,
  definePlugin,
  type KnownHookName,
  type MaybePromise,
  type PluginDefinition,
  type PluginObject,
  type PluginSetMember,
  type ResultExtras,
  type TypedHooks,
  type ViolationExtras,
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

describe('the rest of the public types', () => {
  it('fit together', () => {
    expectTypeOf<KnownHookName>().toExtend<string>();
    expectTypeOf<'sdk_test.search'>().toExtend<KnownHookName>();
    expectTypeOf<MaybePromise<number>>().toEqualTypeOf<number | Promise<number>>();
    const def: PluginDefinition<'sdk_test.search'> = {
      name: 'd',
      hooks: { 'sdk_test.search': () => allow() },
    };
    const hooks: TypedHooks<'sdk_test.search'> = def.hooks;
    const made: DefinedPlugin<'sdk_test.search'> = definePlugin(def);
    expectTypeOf(made).toExtend<PluginObject>();
    expectTypeOf(hooks['sdk_test.search']).parameter(0).toEqualTypeOf<Readonly<SdkTestPayload>>();
    const member: PluginSetMember = { plugin: made, entry: { priority: 1 } };
    expectTypeOf(member).toExtend<PluginSetMember>();
    const extras: ResultExtras & ViolationExtras = { metadata: {}, retryDelayMs: 1, httpStatusCode: 429 };
    expectTypeOf(deny('c', 'r', extras)).toExtend<PluginResult<never>>();
    // @ts-expect-error -- the manager names the plugin, a violation cannot
    const bad: ViolationExtras = { pluginName: 'me' };
    expectTypeOf(bad).toExtend<ViolationExtras>();
  });

  it('testing types', () => {
    expectTypeOf<TestInvokeResult<{ a: 1 }>['backgroundErrors']>().toBeArray();
    expectTypeOf<TestManager['shutdown']>().returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf<TestManagerOptions['plugins']>().toEqualTypeOf<readonly TestPlugin[] | undefined>();
    const b: ProbeBehaviour = { kind: 'sleep', ms: 5 };
    const probe: HostProbe = { entry: (behaviour) => ({ kind: 'x', config: { behaviour } }) };
    expectTypeOf(probe.entry(b, [])).toHaveProperty('kind');
    expectTypeOf<HostSuiteOptions['probe']>().toEqualTypeOf<HostProbe>();
    expectTypeOf<SuiteApi['it']>().toBeFunction();
  });

  it('one Plugin story: the Plugin interface in core, the Plugin base class in the sdk implementing it', () => {
    class Tagger extends Plugin<{ tag: string }> {
      async tool_pre_invoke() {
        return allow();
      }
    }
    // An instance of the sdk's class, and a definePlugin object, are both core Plugin objects
    // (what manager.register accepts); the sdk exports core's interface as PluginObject.
    expectTypeOf(new Tagger({ tag: 'x' })).toExtend<PluginObject>();
    expectTypeOf(definePlugin({ name: 'p', hooks: {} })).toExtend<PluginObject>();
    expectTypeOf<PluginObject>().toEqualTypeOf<import('@cpex/core').Plugin>();
  });
});
