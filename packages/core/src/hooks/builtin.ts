/**
 * The built-in hooks of both references: name → family, payload schema, result schema (the
 * schema of the hook's modified payload), and the wire payload-type id.
 */
import type { z } from 'zod';
import { MessagePayloadSchema } from '../cmf/schemas.js';
import * as P from './payloads.js';

export type HookFamily = 'legacy' | 'cmf' | 'identity' | 'delegation' | 'elicitation' | 'custom';

/** Wire payload-type registry (Rust cpex-ffi): 0 generic, 1 CMF message, 2 identity. */
export const PAYLOAD_TYPE_GENERIC = 0;
export const PAYLOAD_TYPE_CMF_MESSAGE = 1;
export const PAYLOAD_TYPE_IDENTITY = 2;
export type PayloadTypeId =
  | typeof PAYLOAD_TYPE_GENERIC
  | typeof PAYLOAD_TYPE_CMF_MESSAGE
  | typeof PAYLOAD_TYPE_IDENTITY;

/** Legacy (Python 0.1.x) hook names. */
export const LEGACY_HOOKS = {
  TOOL_PRE_INVOKE: 'tool_pre_invoke',
  TOOL_POST_INVOKE: 'tool_post_invoke',
  PROMPT_PRE_FETCH: 'prompt_pre_fetch',
  PROMPT_POST_FETCH: 'prompt_post_fetch',
  RESOURCE_PRE_FETCH: 'resource_pre_fetch',
  RESOURCE_POST_FETCH: 'resource_post_fetch',
  AGENT_PRE_INVOKE: 'agent_pre_invoke',
  AGENT_POST_INVOKE: 'agent_post_invoke',
  HTTP_PRE_REQUEST: 'http_pre_request',
  HTTP_POST_REQUEST: 'http_post_request',
  HTTP_AUTH_RESOLVE_USER: 'http_auth_resolve_user',
  HTTP_AUTH_CHECK_PERMISSION: 'http_auth_check_permission',
  IDENTITY_RESOLVE: 'identity_resolve',
  TOKEN_DELEGATE: 'token_delegate',
} as const;

/** CMF hook names (payload `MessagePayload`); none is an alias of another. */
export const CMF_HOOKS = {
  TOOL_PRE_INVOKE: 'cmf.tool_pre_invoke',
  TOOL_POST_INVOKE: 'cmf.tool_post_invoke',
  LLM_INPUT: 'cmf.llm_input',
  LLM_OUTPUT: 'cmf.llm_output',
  PROMPT_PRE_FETCH: 'cmf.prompt_pre_fetch',
  PROMPT_POST_FETCH: 'cmf.prompt_post_fetch',
  RESOURCE_PRE_FETCH: 'cmf.resource_pre_fetch',
  RESOURCE_POST_FETCH: 'cmf.resource_post_fetch',
  PROMPT_PRE_INVOKE: 'cmf.prompt_pre_invoke',
  PROMPT_POST_INVOKE: 'cmf.prompt_post_invoke',
  HTTP_REQUEST: 'cmf.http_request',
  /** Python's generic message evaluation hook. */
  EVALUATE: 'evaluate',
} as const;

/** Rust hook families. */
export const FAMILY_HOOKS = {
  IDENTITY_RESOLVE: 'identity.resolve',
  TOKEN_DELEGATE: 'token.delegate',
  ELICIT: 'elicit',
} as const;

export interface HookDefinition {
  readonly name: string;
  readonly family: HookFamily;
  /** Validates the payload at ingress (absent: any value). */
  readonly payloadSchema?: z.ZodType;
  /** Validates a plugin's modified payload (absent: any value). */
  readonly resultSchema?: z.ZodType;
  /** Wire payload-type id. */
  readonly payloadType: PayloadTypeId;
  readonly builtin: boolean;
}

function def(
  name: string,
  family: HookFamily,
  payloadSchema: z.ZodType,
  resultSchema: z.ZodType = payloadSchema,
  payloadType: PayloadTypeId = PAYLOAD_TYPE_GENERIC,
): HookDefinition {
  return Object.freeze({ name, family, payloadSchema, resultSchema, payloadType, builtin: true });
}

/** Every built-in hook, in a stable order. */
export const BUILTIN_HOOK_DEFINITIONS: readonly HookDefinition[] = Object.freeze([
  def(LEGACY_HOOKS.TOOL_PRE_INVOKE, 'legacy', P.ToolPreInvokePayloadSchema),
  def(LEGACY_HOOKS.TOOL_POST_INVOKE, 'legacy', P.ToolPostInvokePayloadSchema),
  def(LEGACY_HOOKS.PROMPT_PRE_FETCH, 'legacy', P.PromptPrehookPayloadSchema),
  def(LEGACY_HOOKS.PROMPT_POST_FETCH, 'legacy', P.PromptPosthookPayloadSchema),
  def(LEGACY_HOOKS.RESOURCE_PRE_FETCH, 'legacy', P.ResourcePreFetchPayloadSchema),
  def(LEGACY_HOOKS.RESOURCE_POST_FETCH, 'legacy', P.ResourcePostFetchPayloadSchema),
  def(LEGACY_HOOKS.AGENT_PRE_INVOKE, 'legacy', P.AgentPreInvokePayloadSchema),
  def(LEGACY_HOOKS.AGENT_POST_INVOKE, 'legacy', P.AgentPostInvokePayloadSchema),
  def(LEGACY_HOOKS.HTTP_PRE_REQUEST, 'legacy', P.HttpPreRequestPayloadSchema, P.HttpHeaderPayloadSchema),
  def(LEGACY_HOOKS.HTTP_POST_REQUEST, 'legacy', P.HttpPostRequestPayloadSchema, P.HttpHeaderPayloadSchema),
  def(
    LEGACY_HOOKS.HTTP_AUTH_RESOLVE_USER,
    'legacy',
    P.HttpAuthResolveUserPayloadSchema,
    P.HttpAuthResolveUserResultSchema,
  ),
  def(
    LEGACY_HOOKS.HTTP_AUTH_CHECK_PERMISSION,
    'legacy',
    P.HttpAuthCheckPermissionPayloadSchema,
    P.HttpAuthCheckPermissionResultPayloadSchema,
  ),
  def(LEGACY_HOOKS.IDENTITY_RESOLVE, 'identity', P.IdentityResolvePayloadSchema, P.IdentityResultSchema),
  def(LEGACY_HOOKS.TOKEN_DELEGATE, 'delegation', P.TokenDelegatePayloadSchema, P.DelegationResultSchema),
  ...Object.values(CMF_HOOKS).map((name) =>
    def(name, 'cmf', MessagePayloadSchema, MessagePayloadSchema, PAYLOAD_TYPE_CMF_MESSAGE),
  ),
  def(
    FAMILY_HOOKS.IDENTITY_RESOLVE,
    'identity',
    P.IdentityPayloadSchema,
    P.IdentityPayloadSchema,
    PAYLOAD_TYPE_IDENTITY,
  ),
  def(FAMILY_HOOKS.TOKEN_DELEGATE, 'delegation', P.DelegationPayloadSchema),
  def(FAMILY_HOOKS.ELICIT, 'elicitation', P.ElicitationPayloadSchema),
]);

/** All built-in hook names. */
export const BUILTIN_HOOK_NAMES: readonly string[] = Object.freeze(
  BUILTIN_HOOK_DEFINITIONS.map((d) => d.name),
);
