/**
 * Payload and result types (with zod schemas) of the built-in hooks of both references.
 * Field names are the references' snake_case names:
 * - legacy hooks (`tool_pre_invoke`, `http_pre_request`, `identity_resolve`, `token_delegate`, ...)
 *   use the Python cpex 0.1.x payload classes' fields;
 * - the Rust hook families (`identity.resolve`, `token.delegate`, `elicit`) use Rust cpex 0.2's;
 * - CMF hooks (`cmf.*`, `evaluate`) use `MessagePayload` (cmf/types.ts).
 * Schemas add no defaults: what a host sends is what a plugin sees.
 */
import { z } from 'zod';
import {
  ClientExtensionSchema,
  DelegationExtensionSchema,
  DelegationModeSchema,
  RawCredentialsExtensionSchema,
  SubjectExtensionSchema,
  WorkloadIdentitySchema,
} from '../extensions/schemas.js';
import type {
  ClientExtension,
  DelegationExtension,
  DelegationMode,
  RawCredentialsExtension,
  RawDelegatedToken,
  SubjectExtension,
  WorkloadIdentity,
} from '../extensions/types.js';

type Opt<T> = T | null | undefined;
type Json = Readonly<Record<string, unknown>>;
type Headers = Readonly<Record<string, string>>;

const str = z.string();
const optStr = str.nullish();
const port = z.number().int().min(0).max(65_535).nullish();
const jsonMap = z.record(z.string(), z.unknown());
const headers = z.record(z.string(), z.string());

// ---------------------------------------------------------------- tools, prompts, resources (Python)

/** `tool_pre_invoke`. `headers` is deprecated in Python but still carried. */
export interface ToolPreInvokePayload {
  readonly name: string;
  readonly args?: Opt<Json>;
  readonly headers?: Opt<Headers>;
}
export const ToolPreInvokePayloadSchema = z.object({
  name: str,
  args: jsonMap.nullish(),
  headers: headers.nullish(),
});

/** `tool_post_invoke`. */
export interface ToolPostInvokePayload {
  readonly name: string;
  readonly result: unknown;
}
export const ToolPostInvokePayloadSchema = z.object({ name: str, result: z.unknown() });

/** `prompt_pre_fetch` (Python keys prompts by `prompt_id`). */
export interface PromptPrehookPayload {
  readonly prompt_id: string;
  readonly args?: Opt<Readonly<Record<string, string>>>;
}
export const PromptPrehookPayloadSchema = z.object({
  prompt_id: str,
  args: z.record(z.string(), z.string()).nullish(),
});

/** `prompt_post_fetch`. */
export interface PromptPosthookPayload {
  readonly prompt_id: string;
  readonly result: unknown;
}
export const PromptPosthookPayloadSchema = z.object({ prompt_id: str, result: z.unknown() });

/** `resource_pre_fetch`. */
export interface ResourcePreFetchPayload {
  readonly uri: string;
  readonly metadata?: Opt<Json>;
}
export const ResourcePreFetchPayloadSchema = z.object({ uri: str, metadata: jsonMap.nullish() });

/** `resource_post_fetch`. */
export interface ResourcePostFetchPayload {
  readonly uri: string;
  readonly content: unknown;
}
export const ResourcePostFetchPayloadSchema = z.object({ uri: str, content: z.unknown() });

// ---------------------------------------------------------------- agents (Python)

/** `agent_pre_invoke`. */
export interface AgentPreInvokePayload {
  readonly agent_id: string;
  readonly messages: readonly unknown[];
  readonly tools?: Opt<readonly string[]>;
  readonly headers?: Opt<Headers>;
  readonly model?: Opt<string>;
  readonly system_prompt?: Opt<string>;
  readonly parameters?: Opt<Json>;
}
export const AgentPreInvokePayloadSchema = z.object({
  agent_id: str,
  messages: z.array(z.unknown()),
  tools: z.array(str).nullish(),
  headers: headers.nullish(),
  model: optStr,
  system_prompt: optStr,
  parameters: jsonMap.nullish(),
});

/** `agent_post_invoke`. */
export interface AgentPostInvokePayload {
  readonly agent_id: string;
  readonly messages: readonly unknown[];
  readonly tool_calls?: Opt<readonly Json[]>;
}
export const AgentPostInvokePayloadSchema = z.object({
  agent_id: str,
  messages: z.array(z.unknown()),
  tool_calls: z.array(jsonMap).nullish(),
});

// ---------------------------------------------------------------- http (Python)

/** `HttpHeaderPayload`: a header map; the modified payload of `http_pre_request` / `http_post_request`. */
export type HttpHeaderPayload = Headers;
export const HttpHeaderPayloadSchema = headers;

/** `http_pre_request`. */
export interface HttpPreRequestPayload {
  readonly path: string;
  readonly method: string;
  readonly client_host?: Opt<string>;
  readonly client_port?: Opt<number>;
  readonly headers: Headers;
}
const httpPre = { path: str, method: str, client_host: optStr, client_port: port, headers };
export const HttpPreRequestPayloadSchema = z.object(httpPre);

/** `http_post_request`. */
export interface HttpPostRequestPayload extends HttpPreRequestPayload {
  readonly response_headers?: Opt<Headers>;
  readonly status_code?: Opt<number>;
}
export const HttpPostRequestPayloadSchema = z.object({
  ...httpPre,
  response_headers: headers.nullish(),
  status_code: z.number().int().nullish(),
});

/** `http_auth_resolve_user`; its modified payload is the resolved user (a JSON object). */
export interface HttpAuthResolveUserPayload {
  readonly credentials?: Opt<Json>;
  readonly headers: Headers;
  readonly client_host?: Opt<string>;
  readonly client_port?: Opt<number>;
}
export const HttpAuthResolveUserPayloadSchema = z.object({
  credentials: jsonMap.nullish(),
  headers,
  client_host: optStr,
  client_port: port,
});
export const HttpAuthResolveUserResultSchema = jsonMap;

/** `http_auth_check_permission`. */
export interface HttpAuthCheckPermissionPayload {
  readonly user_email: string;
  readonly permission: string;
  readonly resource_type?: Opt<string>;
  readonly team_id?: Opt<string>;
  readonly is_admin?: boolean;
  readonly auth_method?: Opt<string>;
  readonly client_host?: Opt<string>;
  readonly user_agent?: Opt<string>;
}
export const HttpAuthCheckPermissionPayloadSchema = z.object({
  user_email: str,
  permission: str,
  resource_type: optStr,
  team_id: optStr,
  is_admin: z.boolean().optional(),
  auth_method: optStr,
  client_host: optStr,
  user_agent: optStr,
});

/** The modified payload of `http_auth_check_permission`. */
export interface HttpAuthCheckPermissionResultPayload {
  readonly granted: boolean;
  readonly reason?: Opt<string>;
}
export const HttpAuthCheckPermissionResultPayloadSchema = z.object({ granted: z.boolean(), reason: optStr });

// ---------------------------------------------------------------- identity (Python legacy `identity_resolve`)

/** Python's SubjectExtension shape (`type`, not `subject_type`), used by the legacy identity hooks. */
export interface PythonSubject {
  readonly id: string;
  readonly type: 'user' | 'agent' | 'service' | 'system';
  readonly roles?: readonly string[];
  readonly permissions?: readonly string[];
  readonly teams?: readonly string[];
  readonly claims?: Readonly<Record<string, string>>;
}
export const PythonSubjectSchema = z.object({
  id: str,
  type: z.enum(['user', 'agent', 'service', 'system']),
  roles: z.array(str).optional(),
  permissions: z.array(str).optional(),
  teams: z.array(str).optional(),
  claims: z.record(z.string(), z.string()).optional(),
});

/** `identity_resolve` (Python): the raw token is a secret; never log it. */
export interface IdentityResolvePayload {
  readonly raw_token: string;
  readonly source?: string;
  readonly headers?: Headers;
  readonly client_host?: Opt<string>;
  readonly client_port?: Opt<number>;
}
export const IdentityResolvePayloadSchema = z.object({
  raw_token: str,
  source: str.optional(),
  headers: headers.optional(),
  client_host: optStr,
  client_port: port,
});

/** The modified payload of `identity_resolve` (Python `IdentityResult`). */
export interface IdentityResult {
  readonly subject?: Opt<PythonSubject>;
  readonly delegation?: Opt<Json>;
  readonly rejected?: boolean;
  readonly reject_status?: number;
  readonly reject_reason?: string;
  readonly raw_claims?: Json;
}
export const IdentityResultSchema = z.object({
  subject: PythonSubjectSchema.nullish(),
  delegation: jsonMap.nullish(),
  rejected: z.boolean().optional(),
  reject_status: z.number().int().optional(),
  reject_reason: str.optional(),
  raw_claims: jsonMap.optional(),
});

// ---------------------------------------------------------------- delegation (Python legacy `token_delegate`)

export interface AttenuationConfig {
  readonly capabilities?: readonly string[];
  readonly resource_template?: Opt<string>;
  readonly actions?: readonly string[];
  readonly ttl_seconds?: Opt<number>;
}
export const AttenuationConfigSchema = z.object({
  capabilities: z.array(str).optional(),
  resource_template: optStr,
  actions: z.array(str).optional(),
  ttl_seconds: z.number().int().nonnegative().nullish(),
});

/** `token_delegate` (Python). */
export interface TokenDelegatePayload {
  readonly target_name: string;
  readonly target_type?: string;
  readonly target_audience?: Opt<string>;
  readonly required_permissions?: readonly string[];
  readonly trust_domain?: Opt<string>;
  readonly auth_enforced_by?: 'caller' | 'target' | 'both' | string;
  readonly route_attenuation?: Opt<AttenuationConfig>;
  readonly bearer_token?: Opt<string>;
}
export const TokenDelegatePayloadSchema = z.object({
  target_name: str,
  target_type: str.optional(),
  target_audience: optStr,
  required_permissions: z.array(str).optional(),
  trust_domain: optStr,
  auth_enforced_by: str.optional(),
  route_attenuation: AttenuationConfigSchema.nullish(),
  bearer_token: optStr,
});

/** The modified payload of `token_delegate` (Python `DelegationResult`). */
export interface DelegationResult {
  readonly delegated_token?: Opt<string>;
  readonly delegation_update?: Json;
  readonly forwarded_headers?: Headers;
  readonly cache_key?: Opt<string>;
  readonly cache_ttl?: Opt<number>;
}
export const DelegationResultSchema = z.object({
  delegated_token: optStr,
  delegation_update: jsonMap.optional(),
  forwarded_headers: headers.optional(),
  cache_key: optStr,
  cache_ttl: z.number().int().nullish(),
});

// ---------------------------------------------------------------- Rust hook families

/** `bearer` | `user_token` | `mtls` | `spiffe_jwt_svid` | `api_key` | custom. */
export type TokenSource = string;

/**
 * `identity.resolve` (Rust `IdentityPayload`). `raw_token` exists in-process only (Rust skips
 * it on the wire); resolvers fill the output fields.
 */
export interface IdentityPayload {
  readonly raw_token?: string;
  readonly source: TokenSource;
  readonly source_header?: Opt<string>;
  readonly headers?: Headers;
  readonly client_host?: Opt<string>;
  readonly client_port?: Opt<number>;
  readonly subject?: Opt<SubjectExtension>;
  readonly client?: Opt<ClientExtension>;
  readonly caller_workload?: Opt<WorkloadIdentity>;
  readonly delegation?: Opt<DelegationExtension>;
  readonly raw_credentials?: Opt<RawCredentialsExtension>;
  readonly resolved_at?: Opt<string>;
  readonly raw_claims?: Json;
}
export const IdentityPayloadSchema = z.object({
  raw_token: str.optional(),
  source: str,
  source_header: optStr,
  headers: headers.optional(),
  client_host: optStr,
  client_port: port,
  subject: SubjectExtensionSchema.nullish(),
  client: ClientExtensionSchema.nullish(),
  caller_workload: WorkloadIdentitySchema.nullish(),
  delegation: DelegationExtensionSchema.nullish(),
  raw_credentials: RawCredentialsExtensionSchema.nullish(),
  resolved_at: optStr,
  raw_claims: jsonMap.optional(),
});

/** `token.delegate` (Rust `DelegationPayload`). Tokens exist in-process only. */
export interface DelegationPayload {
  readonly bearer_token?: string;
  readonly actor_token?: string;
  readonly actor_role?: Opt<string>;
  readonly subject?: 'user' | 'client' | 'caller_workload' | 'this_workload';
  readonly target_name: string;
  readonly target_type?: string;
  readonly target_audience?: Opt<string>;
  readonly required_permissions?: readonly string[];
  readonly trust_domain?: Opt<string>;
  readonly auth_enforced_by?: 'caller' | 'target' | 'both';
  readonly route_attenuation?: Opt<AttenuationConfig>;
  readonly delegated_token?: Opt<RawDelegatedToken>;
  readonly delegation_update?: Opt<DelegationExtension>;
  readonly delegation_mode?: Opt<DelegationMode>;
  readonly minted_at?: Opt<string>;
  readonly metadata?: Json;
}
export const DelegationPayloadSchema = z.object({
  bearer_token: str.optional(),
  actor_token: str.optional(),
  actor_role: optStr,
  subject: z.enum(['user', 'client', 'caller_workload', 'this_workload']).optional(),
  target_name: str,
  target_type: str.optional(),
  target_audience: optStr,
  required_permissions: z.array(str).optional(),
  trust_domain: optStr,
  auth_enforced_by: z.enum(['caller', 'target', 'both']).optional(),
  route_attenuation: AttenuationConfigSchema.nullish(),
  delegated_token: z
    .object({
      token: str.optional(),
      outbound_header: str,
      audience: str,
      scopes: z.array(str),
      expires_at: str,
    })
    .nullish(),
  delegation_update: DelegationExtensionSchema.nullish(),
  delegation_mode: DelegationModeSchema.nullish(),
  minted_at: optStr,
  metadata: jsonMap.optional(),
});

/** `elicit` (Rust `ElicitationPayload`): one payload for dispatch / check / validate. */
export interface ElicitationPayload {
  readonly operation: 'dispatch' | 'check' | 'validate';
  readonly elicitation_id?: Opt<string>;
  readonly kind: string;
  readonly from: string;
  readonly purpose?: Opt<string>;
  readonly scope?: Opt<string>;
  readonly timeout?: Opt<string>;
  readonly channel?: Opt<string>;
  readonly id?: Opt<string>;
  readonly status?: Opt<'pending' | 'resolved' | 'expired'>;
  readonly outcome?: Opt<'approved' | 'denied'>;
  readonly approver?: Opt<string>;
  readonly intent_id?: Opt<string>;
  readonly expires_at?: Opt<string>;
  readonly valid?: Opt<boolean>;
  readonly reason?: Opt<string>;
  readonly metadata?: Json;
}
export const ElicitationPayloadSchema = z.object({
  operation: z.enum(['dispatch', 'check', 'validate']),
  elicitation_id: optStr,
  kind: str,
  from: str,
  purpose: optStr,
  scope: optStr,
  timeout: optStr,
  channel: optStr,
  id: optStr,
  status: z.enum(['pending', 'resolved', 'expired']).nullish(),
  outcome: z.enum(['approved', 'denied']).nullish(),
  approver: optStr,
  intent_id: optStr,
  expires_at: optStr,
  valid: z.boolean().nullish(),
  reason: optStr,
  metadata: jsonMap.optional(),
});

/** Any JSON value, for hooks without a declared type (payload-type registry id 0). */
export const GenericPayloadSchema = z.unknown();
