/**
 * `BuiltinHookMap`: every built-in hook's payload and result types. `HookMap` (hooks/types.ts)
 * extends all of it, so every built-in hook is typed (docs/hooks.md lists them; a docs test keeps
 * the list in step with this interface). Custom hooks are added to `HookMap` by declaration merging:
 *
 * ```ts
 * declare module '@cpex/core' {
 *   interface HookMap { 'generation_pre_call': { payload: { prompt: string }; result: PluginResult<{ prompt: string }> } }
 * }
 * ```
 */
import type { MessagePayload } from '../cmf/types.js';
import type { PluginResult } from '../types.js';
import type * as P from './payloads.js';

type Same<T> = { payload: T; result: PluginResult<T> };
type Returns<T, R> = { payload: T; result: PluginResult<R> };

export interface BuiltinHookMap {
  tool_pre_invoke: Same<P.ToolPreInvokePayload>;
  tool_post_invoke: Same<P.ToolPostInvokePayload>;
  prompt_pre_fetch: Same<P.PromptPrehookPayload>;
  prompt_post_fetch: Same<P.PromptPosthookPayload>;
  resource_pre_fetch: Same<P.ResourcePreFetchPayload>;
  resource_post_fetch: Same<P.ResourcePostFetchPayload>;
  agent_pre_invoke: Same<P.AgentPreInvokePayload>;
  agent_post_invoke: Same<P.AgentPostInvokePayload>;
  http_pre_request: Returns<P.HttpPreRequestPayload, P.HttpHeaderPayload>;
  http_post_request: Returns<P.HttpPostRequestPayload, P.HttpHeaderPayload>;
  http_auth_resolve_user: Returns<P.HttpAuthResolveUserPayload, Readonly<Record<string, unknown>>>;
  http_auth_check_permission: Returns<
    P.HttpAuthCheckPermissionPayload,
    P.HttpAuthCheckPermissionResultPayload
  >;
  identity_resolve: Returns<P.IdentityResolvePayload, P.IdentityResult>;
  token_delegate: Returns<P.TokenDelegatePayload, P.DelegationResult>;
  'identity.resolve': Same<P.IdentityPayload>;
  'token.delegate': Same<P.DelegationPayload>;
  elicit: Same<P.ElicitationPayload>;
  evaluate: Same<MessagePayload>;
  'cmf.tool_pre_invoke': Same<MessagePayload>;
  'cmf.tool_post_invoke': Same<MessagePayload>;
  'cmf.llm_input': Same<MessagePayload>;
  'cmf.llm_output': Same<MessagePayload>;
  'cmf.prompt_pre_fetch': Same<MessagePayload>;
  'cmf.prompt_post_fetch': Same<MessagePayload>;
  'cmf.resource_pre_fetch': Same<MessagePayload>;
  'cmf.resource_post_fetch': Same<MessagePayload>;
  'cmf.prompt_pre_invoke': Same<MessagePayload>;
  'cmf.prompt_post_invoke': Same<MessagePayload>;
  'cmf.http_request': Same<MessagePayload>;
}
