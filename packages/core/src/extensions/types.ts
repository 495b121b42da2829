/**
 * Extension slots in the Rust cpex 0.2 field shapes (snake_case: they are wire data).
 *
 * Every field is `readonly`: extensions are values. Plugins change them only by returning a new
 * object (built with the helpers in `builders.ts`) that the executor merges field by field.
 *
 * Tier per slot (see `SLOT_TIERS` and docs/extensions.md):
 * - immutable: request, agent, mcp, completion, provenance, llm, framework, meta, raw_credentials,
 *   and every security field except labels;
 * - monotonic: security.labels (a {@link MonotonicSet}), delegation (append-only chain);
 * - guarded: http request/response headers (`write_headers`), candidate_constraint
 *   (`write_candidate_constraint`);
 * - mutable: custom.
 *
 * Optional fields accept `null` as well as absence, because Python dumps `None` as `null`.
 */
import type { MonotonicSet } from './monotonic-set.js';

type Opt<T> = T | null | undefined;
export type JsonValue = unknown;

export interface RequestExtension {
  readonly environment?: Opt<string>;
  readonly request_id?: Opt<string>;
  readonly timestamp?: Opt<string>;
  readonly trace_id?: Opt<string>;
  readonly span_id?: Opt<string>;
}

export interface ConversationContext {
  readonly history?: readonly JsonValue[];
  readonly summary?: Opt<string>;
  readonly topics?: readonly string[];
}

export interface AgentExtension {
  readonly input?: Opt<string>;
  readonly session_id?: Opt<string>;
  readonly conversation_id?: Opt<string>;
  readonly turn?: Opt<number>;
  readonly agent_id?: Opt<string>;
  readonly parent_agent_id?: Opt<string>;
  readonly conversation?: Opt<ConversationContext>;
}

/** HTTP context. Headers are guarded (`write_headers`); the request line never changes. */
export interface HttpExtension {
  readonly request_headers?: Readonly<Record<string, string>>;
  readonly response_headers?: Readonly<Record<string, string>>;
  readonly method?: Opt<string>;
  readonly path?: Opt<string>;
  readonly host?: Opt<string>;
  readonly scheme?: Opt<string>;
}

export type SubjectType = 'user' | 'agent' | 'service' | 'system';

export interface SubjectExtension {
  readonly id?: Opt<string>;
  readonly subject_type?: Opt<SubjectType>;
  readonly roles?: readonly string[];
  readonly permissions?: readonly string[];
  readonly teams?: readonly string[];
  readonly claims?: Readonly<Record<string, string>>;
}

/** `first_party` | `third_party` | `internal` | any custom string. */
export type ClientTrustLevel = string;

export interface ClientExtension {
  readonly client_id: string;
  readonly client_name?: Opt<string>;
  readonly trust_level?: ClientTrustLevel;
  readonly authorized_scopes?: readonly string[];
  readonly authorized_audiences?: readonly string[];
  readonly roles?: readonly string[];
  readonly permissions?: readonly string[];
  readonly teams?: readonly string[];
  readonly claims?: Readonly<Record<string, JsonValue>>;
}

export interface WorkloadIdentity {
  readonly spiffe_id?: Opt<string>;
  readonly trust_domain?: Opt<string>;
  readonly attested_at?: Opt<string>;
  readonly attestor?: Opt<string>;
  readonly selectors?: readonly string[];
  readonly client_id?: Opt<string>;
}

export interface ObjectSecurityProfile {
  readonly managed_by?: Opt<string>;
  readonly permissions?: readonly string[];
  readonly trust_domain?: Opt<string>;
  readonly data_scope?: readonly string[];
}

export interface RetentionPolicy {
  readonly max_age_seconds?: Opt<number>;
  readonly policy?: string;
  readonly delete_after?: Opt<string>;
}

export interface DataPolicy {
  readonly apply_labels?: readonly string[];
  readonly allowed_actions?: Opt<readonly string[]>;
  readonly denied_actions?: readonly string[];
  readonly retention?: Opt<RetentionPolicy>;
}

/**
 * Security context. `labels` is monotonic (read_labels / append_labels); subject needs
 * read_subject (its roles/teams/claims/permissions their own caps), client read_client, the
 * workloads read_workload; classification, auth_method, objects and data are visible to all.
 * Everything but labels is immutable.
 */
export interface SecurityExtension {
  readonly labels?: MonotonicSet;
  readonly classification?: Opt<string>;
  readonly subject?: Opt<SubjectExtension>;
  readonly client?: Opt<ClientExtension>;
  readonly caller_workload?: Opt<WorkloadIdentity>;
  readonly this_workload?: Opt<WorkloadIdentity>;
  readonly auth_method?: Opt<string>;
  readonly objects?: Readonly<Record<string, ObjectSecurityProfile>>;
  readonly data?: Readonly<Record<string, DataPolicy>>;
}

/** RFC 9396 authorization detail; extra keys are kept. */
export interface AuthorizationDetail {
  readonly type: string;
  readonly locations?: Opt<readonly string[]>;
  readonly actions?: Opt<readonly string[]>;
  readonly datatypes?: Opt<readonly string[]>;
  readonly identifier?: Opt<string>;
  readonly privileges?: Opt<readonly string[]>;
  readonly [extra: string]: unknown;
}

/** `token_exchange` | `client_credentials` | `spiffe_svid` | `passthrough` | `ucan` | `transaction_token` | custom. */
export type DelegationStrategy = string;

export interface DelegationHop {
  readonly subject_id: string;
  readonly subject_type?: Opt<SubjectType>;
  readonly audience?: Opt<string>;
  readonly scopes_granted?: readonly string[];
  readonly authorization_details?: readonly AuthorizationDetail[];
  readonly timestamp?: Opt<string>;
  readonly ttl_seconds?: Opt<number>;
  readonly strategy?: Opt<DelegationStrategy>;
  readonly from_cache?: boolean;
}

/** Delegation chain: append-only, each new hop's scopes ⊆ the previous hop's. */
export interface DelegationExtension {
  readonly chain?: readonly DelegationHop[];
  readonly depth?: number;
  readonly origin_subject_id?: Opt<string>;
  readonly actor_subject_id?: Opt<string>;
  readonly delegated?: boolean;
  readonly age_seconds?: number;
}

export type TokenKind = 'jwt' | 'opaque' | 'spiffe_jwt' | 'ucan' | 'txn_token';
export type DelegationMode = 'on_behalf_of_user' | 'as_client' | 'as_caller_workload' | 'as_this_workload';

/** The token bytes never appear in wire data (Rust `#[serde(skip)]`); only in-process. */
export interface RawInboundToken {
  readonly token?: string;
  readonly source_header: string;
  readonly kind: TokenKind;
}

export interface DelegationKey {
  readonly subject_id: string;
  readonly workload_id?: Opt<string>;
  readonly client_id?: Opt<string>;
  readonly audience: string;
  readonly scopes: readonly string[];
  readonly mode: DelegationMode;
}

export interface RawDelegatedToken {
  readonly token?: string;
  readonly outbound_header: string;
  readonly audience: string;
  readonly scopes: readonly string[];
  readonly expires_at: string;
  /** cpex-ts: the structured key, because JSON object keys must be strings (see docs/extensions.md). */
  readonly key?: DelegationKey;
}

/** Raw credentials: each sub-map visible only with its capability; immutable for plugins. */
export interface RawCredentialsExtension {
  /** Keyed by token role: `user` | `client` | `caller_workload` | custom. */
  readonly inbound_tokens?: Readonly<Record<string, RawInboundToken>>;
  /** Keyed by `delegationKeyId(key)`. */
  readonly delegated_tokens?: Readonly<Record<string, RawDelegatedToken>>;
}

export interface CandidateConstraintExtension {
  readonly allow_models?: Opt<readonly string[]>;
  readonly deny_models?: readonly string[];
  readonly allow_regions?: Opt<readonly string[]>;
  readonly allow_sites?: Opt<readonly string[]>;
  readonly max_cost_tiers?: readonly string[];
  readonly custom?: Readonly<Record<string, string>>;
  readonly on_empty?: 'deny' | 'fallback';
}

export interface ToolMetadata {
  readonly name: string;
  readonly title?: Opt<string>;
  readonly description?: Opt<string>;
  readonly input_schema?: JsonValue;
  readonly output_schema?: JsonValue;
  readonly server_id?: Opt<string>;
  readonly namespace?: Opt<string>;
  readonly annotations?: Readonly<Record<string, JsonValue>>;
}

export interface ResourceMetadata {
  readonly uri: string;
  readonly name?: Opt<string>;
  readonly description?: Opt<string>;
  readonly mime_type?: Opt<string>;
  readonly server_id?: Opt<string>;
  readonly annotations?: Readonly<Record<string, JsonValue>>;
}

export interface PromptMetadata {
  readonly name: string;
  readonly description?: Opt<string>;
  readonly arguments?: Opt<readonly JsonValue[]>;
  readonly server_id?: Opt<string>;
  readonly annotations?: Readonly<Record<string, JsonValue>>;
}

export interface McpExtension {
  readonly tool?: Opt<ToolMetadata>;
  readonly resource?: Opt<ResourceMetadata>;
  readonly prompt?: Opt<PromptMetadata>;
}

export type StopReason = 'end' | 'return' | 'call' | 'max_tokens' | 'stop_sequence';

export interface TokenUsage {
  readonly input_tokens?: number;
  readonly output_tokens?: number;
  readonly total_tokens?: number;
}

export interface CompletionExtension {
  readonly stop_reason?: Opt<StopReason>;
  readonly tokens?: Opt<TokenUsage>;
  readonly model?: Opt<string>;
  readonly raw_format?: Opt<string>;
  readonly created_at?: Opt<string>;
  readonly latency_ms?: Opt<number>;
}

export interface ProvenanceExtension {
  readonly source?: Opt<string>;
  readonly message_id?: Opt<string>;
  readonly parent_id?: Opt<string>;
}

export interface LlmExtension {
  readonly model_id?: Opt<string>;
  readonly provider?: Opt<string>;
  readonly capabilities?: readonly string[];
}

export interface FrameworkExtension {
  readonly framework?: Opt<string>;
  readonly framework_version?: Opt<string>;
  readonly node_id?: Opt<string>;
  readonly graph_id?: Opt<string>;
  readonly metadata?: Readonly<Record<string, JsonValue>>;
}

export interface MetaExtension {
  readonly entity_type?: Opt<string>;
  readonly entity_name?: Opt<string>;
  readonly tags?: readonly string[];
  readonly scope?: Opt<string>;
  readonly properties?: Readonly<Record<string, string>>;
}

/**
 * The extensions that travel beside a payload (never inside it). Every slot is optional; `null`
 * and absence mean the same. Plugins receive a capability-filtered, frozen view.
 */
export interface Extensions {
  readonly request?: Opt<RequestExtension>;
  readonly agent?: Opt<AgentExtension>;
  readonly http?: Opt<HttpExtension>;
  readonly security?: Opt<SecurityExtension>;
  readonly delegation?: Opt<DelegationExtension>;
  readonly raw_credentials?: Opt<RawCredentialsExtension>;
  readonly candidate_constraint?: Opt<CandidateConstraintExtension>;
  readonly mcp?: Opt<McpExtension>;
  readonly completion?: Opt<CompletionExtension>;
  readonly provenance?: Opt<ProvenanceExtension>;
  readonly llm?: Opt<LlmExtension>;
  readonly framework?: Opt<FrameworkExtension>;
  readonly meta?: Opt<MetaExtension>;
  readonly custom?: Opt<Readonly<Record<string, JsonValue>>>;
}

/** The slot names, in wire order. */
export type ExtensionSlot = keyof Extensions;
