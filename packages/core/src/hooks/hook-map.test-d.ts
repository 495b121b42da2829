import { describe, expectTypeOf, it } from 'vitest';
import type { MessagePayload } from '../cmf/types.js';
import type { PluginResult } from '../types.js';
import type { BuiltinHookMap } from './hook-map.js';
import type { HttpHeaderPayload, ToolPreInvokePayload } from './payloads.js';
import type { PayloadOf, ResultOf } from './types.js';

// A custom hook added by declaration merging (a name nobody else uses).
declare module './types.js' {
  interface HookMap {
    'ext.typetest.hook': { payload: { q: string }; result: PluginResult<{ q: string }> };
  }
}

describe('typed hooks', () => {
  it('built-in hooks carry their payload and result types', () => {
    expectTypeOf<BuiltinHookMap['tool_pre_invoke']['payload']>().toEqualTypeOf<ToolPreInvokePayload>();
    expectTypeOf<BuiltinHookMap['http_pre_request']['result']>().toEqualTypeOf<
      PluginResult<HttpHeaderPayload>
    >();
    expectTypeOf<BuiltinHookMap['cmf.llm_input']['payload']>().toEqualTypeOf<MessagePayload>();
    expectTypeOf<BuiltinHookMap['evaluate']['payload']>().toEqualTypeOf<MessagePayload>();
    expectTypeOf<keyof BuiltinHookMap>().toExtend<string>();
  });
  it('payload fields keep the snake_case names and are read-only', () => {
    const p = {} as ToolPreInvokePayload;
    // @ts-expect-error payloads are read-only
    p.name = 'x';
    // @ts-expect-error camelCase does not exist
    p.toolName;
  });
  it('HookMap types the CMF and Rust-family hooks', () => {
    expectTypeOf<PayloadOf<'cmf.llm_input'>>().toEqualTypeOf<MessagePayload>();
    expectTypeOf<PayloadOf<'evaluate'>>().toEqualTypeOf<MessagePayload>();
    expectTypeOf<ResultOf<'cmf.tool_post_invoke'>>().toEqualTypeOf<PluginResult<MessagePayload>>();
    expectTypeOf<PayloadOf<'identity.resolve'>>().toEqualTypeOf<
      BuiltinHookMap['identity.resolve']['payload']
    >();
    expectTypeOf<PayloadOf<'elicit'>['operation']>().toEqualTypeOf<'dispatch' | 'check' | 'validate'>();
  });
  it('custom hooks added to HookMap are typed; unknown hooks are generic', () => {
    expectTypeOf<PayloadOf<'ext.typetest.hook'>>().toEqualTypeOf<{ q: string }>();
    expectTypeOf<ResultOf<'ext.typetest.hook'>>().toEqualTypeOf<PluginResult<{ q: string }>>();
    expectTypeOf<PayloadOf<'no.such.hook'>>().toEqualTypeOf<Record<string, unknown>>();
  });
});
