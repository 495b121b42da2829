package cpex

import "github.com/vmihailenco/msgpack/v5"

// Extensions are the typed, capability-gated context of an invocation, in the Rust cpex 0.2 wire
// shapes (the same msgpack field names as core's zod schemas, docs/extensions.md). Every slot is
// optional. The sidecar validates them at ingress; tiers and capabilities are enforced there.
type Extensions struct {
	Request             *RequestExtension             `msgpack:"request,omitempty"`
	Agent               *AgentExtension               `msgpack:"agent,omitempty"`
	HTTP                *HTTPExtension                `msgpack:"http,omitempty"`
	Security            *SecurityExtension            `msgpack:"security,omitempty"`
	Delegation          *DelegationExtension          `msgpack:"delegation,omitempty"`
	RawCredentials      *RawCredentialsExtension      `msgpack:"raw_credentials,omitempty"`
	CandidateConstraint *CandidateConstraintExtension `msgpack:"candidate_constraint,omitempty"`
	MCP                 *MCPExtension                 `msgpack:"mcp,omitempty"`
	Completion          *CompletionExtension          `msgpack:"completion,omitempty"`
	Provenance          *ProvenanceExtension          `msgpack:"provenance,omitempty"`
	LLM                 *LLMExtension                 `msgpack:"llm,omitempty"`
	Framework           *FrameworkExtension           `msgpack:"framework,omitempty"`
	Meta                *MetaExtension                `msgpack:"meta,omitempty"`
	Custom              map[string]any                `msgpack:"custom,omitempty"`
}

// RequestExtension: request identity and tracing (immutable).
type RequestExtension struct {
	Environment string `msgpack:"environment,omitempty"`
	RequestID   string `msgpack:"request_id,omitempty"`
	Timestamp   string `msgpack:"timestamp,omitempty"`
	TraceID     string `msgpack:"trace_id,omitempty"`
	SpanID      string `msgpack:"span_id,omitempty"`
}

// AgentExtension: the agent and conversation (immutable).
type AgentExtension struct {
	Input          string               `msgpack:"input,omitempty"`
	SessionID      string               `msgpack:"session_id,omitempty"`
	ConversationID string               `msgpack:"conversation_id,omitempty"`
	Turn           *uint32              `msgpack:"turn,omitempty"`
	AgentID        string               `msgpack:"agent_id,omitempty"`
	ParentAgentID  string               `msgpack:"parent_agent_id,omitempty"`
	Conversation   *ConversationContext `msgpack:"conversation,omitempty"`
}

// ConversationContext: history, summary and topics of a conversation.
type ConversationContext struct {
	History []any    `msgpack:"history,omitempty"`
	Summary string   `msgpack:"summary,omitempty"`
	Topics  []string `msgpack:"topics,omitempty"`
}

// HTTPExtension: request line and headers (headers are guarded: writable with write_headers).
type HTTPExtension struct {
	RequestHeaders  map[string]string `msgpack:"request_headers,omitempty"`
	ResponseHeaders map[string]string `msgpack:"response_headers,omitempty"`
	Method          string            `msgpack:"method,omitempty"`
	Path            string            `msgpack:"path,omitempty"`
	Host            string            `msgpack:"host,omitempty"`
	Scheme          string            `msgpack:"scheme,omitempty"`
}

// HttpExtension is the Rust Go SDK's name for HTTPExtension.
type HttpExtension = HTTPExtension

// SecurityExtension: labels (monotonic: add only), classification, subject, client, workloads,
// object profiles and data policies.
type SecurityExtension struct {
	Labels         []string                         `msgpack:"labels,omitempty"`
	Classification string                           `msgpack:"classification,omitempty"`
	Subject        *SubjectExtension                `msgpack:"subject,omitempty"`
	Client         *ClientExtension                 `msgpack:"client,omitempty"`
	CallerWorkload *WorkloadIdentity                `msgpack:"caller_workload,omitempty"`
	ThisWorkload   *WorkloadIdentity                `msgpack:"this_workload,omitempty"`
	AuthMethod     string                           `msgpack:"auth_method,omitempty"`
	Objects        map[string]ObjectSecurityProfile `msgpack:"objects,omitempty"`
	Data           map[string]DataPolicy            `msgpack:"data,omitempty"`
}

// SubjectExtension: the authenticated subject (user, agent, service or system).
type SubjectExtension struct {
	ID          string            `msgpack:"id,omitempty"`
	SubjectType string            `msgpack:"subject_type,omitempty"`
	Roles       []string          `msgpack:"roles,omitempty"`
	Permissions []string          `msgpack:"permissions,omitempty"`
	Teams       []string          `msgpack:"teams,omitempty"`
	Claims      map[string]string `msgpack:"claims,omitempty"`
}

// ClientExtension: the OAuth client the request came through.
type ClientExtension struct {
	ClientID            string         `msgpack:"client_id"`
	ClientName          string         `msgpack:"client_name,omitempty"`
	TrustLevel          string         `msgpack:"trust_level,omitempty"`
	AuthorizedScopes    []string       `msgpack:"authorized_scopes,omitempty"`
	AuthorizedAudiences []string       `msgpack:"authorized_audiences,omitempty"`
	Roles               []string       `msgpack:"roles,omitempty"`
	Permissions         []string       `msgpack:"permissions,omitempty"`
	Teams               []string       `msgpack:"teams,omitempty"`
	Claims              map[string]any `msgpack:"claims,omitempty"`
}

// WorkloadIdentity: a SPIFFE-style workload identity.
type WorkloadIdentity struct {
	SpiffeID    string   `msgpack:"spiffe_id,omitempty"`
	TrustDomain string   `msgpack:"trust_domain,omitempty"`
	AttestedAt  string   `msgpack:"attested_at,omitempty"`
	Attestor    string   `msgpack:"attestor,omitempty"`
	Selectors   []string `msgpack:"selectors,omitempty"`
	ClientID    string   `msgpack:"client_id,omitempty"`
}

// ObjectSecurityProfile: who manages an object and what it may touch.
type ObjectSecurityProfile struct {
	ManagedBy   string   `msgpack:"managed_by,omitempty"`
	Permissions []string `msgpack:"permissions,omitempty"`
	TrustDomain string   `msgpack:"trust_domain,omitempty"`
	DataScope   []string `msgpack:"data_scope,omitempty"`
}

// DataPolicy: labels to apply, allowed/denied actions and retention for a data class.
type DataPolicy struct {
	ApplyLabels    []string         `msgpack:"apply_labels,omitempty"`
	AllowedActions []string         `msgpack:"allowed_actions,omitempty"`
	DeniedActions  []string         `msgpack:"denied_actions,omitempty"`
	Retention      *RetentionPolicy `msgpack:"retention,omitempty"`
}

// RetentionPolicy of a DataPolicy.
type RetentionPolicy struct {
	MaxAgeSeconds *uint64 `msgpack:"max_age_seconds,omitempty"`
	Policy        string  `msgpack:"policy,omitempty"`
	DeleteAfter   string  `msgpack:"delete_after,omitempty"`
}

// DelegationExtension: the delegation chain (append-only; each hop's scopes within the previous).
type DelegationExtension struct {
	Chain           []DelegationHop `msgpack:"chain,omitempty"`
	Depth           int             `msgpack:"depth,omitempty"`
	OriginSubjectID string          `msgpack:"origin_subject_id,omitempty"`
	ActorSubjectID  string          `msgpack:"actor_subject_id,omitempty"`
	Delegated       bool            `msgpack:"delegated,omitempty"`
	AgeSeconds      float64         `msgpack:"age_seconds,omitempty"`
}

// DelegationHop: one hop of a delegation chain.
type DelegationHop struct {
	SubjectID            string                `msgpack:"subject_id"`
	SubjectType          string                `msgpack:"subject_type,omitempty"`
	Audience             string                `msgpack:"audience,omitempty"`
	ScopesGranted        []string              `msgpack:"scopes_granted,omitempty"`
	AuthorizationDetails []AuthorizationDetail `msgpack:"authorization_details,omitempty"`
	Timestamp            string                `msgpack:"timestamp,omitempty"`
	TTLSeconds           *uint64               `msgpack:"ttl_seconds,omitempty"`
	Strategy             string                `msgpack:"strategy,omitempty"`
	FromCache            bool                  `msgpack:"from_cache,omitempty"`
}

// AuthorizationDetail (RFC 9396).
type AuthorizationDetail struct {
	Type       string   `msgpack:"type"`
	Locations  []string `msgpack:"locations,omitempty"`
	Actions    []string `msgpack:"actions,omitempty"`
	Datatypes  []string `msgpack:"datatypes,omitempty"`
	Identifier string   `msgpack:"identifier,omitempty"`
	Privileges []string `msgpack:"privileges,omitempty"`
}

// RawCredentialsExtension: credentials by name. Token values never cross the process boundary
// (as in Rust, which never serializes them): pass tokens in headers instead.
type RawCredentialsExtension struct {
	InboundTokens   map[string]InboundToken   `msgpack:"inbound_tokens,omitempty"`
	DelegatedTokens map[string]DelegatedToken `msgpack:"delegated_tokens,omitempty"`
}

// InboundToken: where an inbound credential came from (its value stays in the gateway).
type InboundToken struct {
	SourceHeader string `msgpack:"source_header"`
	Kind         string `msgpack:"kind"` // jwt | opaque | spiffe_jwt | ucan | txn_token
}

// DelegatedToken: a minted outbound credential (its value stays in the gateway).
type DelegatedToken struct {
	OutboundHeader string         `msgpack:"outbound_header"`
	Audience       string         `msgpack:"audience"`
	Scopes         []string       `msgpack:"scopes"`
	ExpiresAt      string         `msgpack:"expires_at"`
	Key            *DelegationKey `msgpack:"key,omitempty"`
}

// DelegationKey: the cache key of a delegated token.
type DelegationKey struct {
	SubjectID  string   `msgpack:"subject_id"`
	WorkloadID string   `msgpack:"workload_id,omitempty"`
	ClientID   string   `msgpack:"client_id,omitempty"`
	Audience   string   `msgpack:"audience"`
	Scopes     []string `msgpack:"scopes"`
	Mode       string   `msgpack:"mode"` // on_behalf_of_user | as_client | as_caller_workload | as_this_workload
}

// CandidateConstraintExtension: model/region/site constraints for routing.
type CandidateConstraintExtension struct {
	AllowModels  []string          `msgpack:"allow_models,omitempty"`
	DenyModels   []string          `msgpack:"deny_models,omitempty"`
	AllowRegions []string          `msgpack:"allow_regions,omitempty"`
	AllowSites   []string          `msgpack:"allow_sites,omitempty"`
	MaxCostTiers []string          `msgpack:"max_cost_tiers,omitempty"`
	Custom       map[string]string `msgpack:"custom,omitempty"`
	OnEmpty      string            `msgpack:"on_empty,omitempty"` // deny | fallback
}

// MCPExtension: the MCP tool, resource or prompt being called.
type MCPExtension struct {
	Tool     *ToolMetadata     `msgpack:"tool,omitempty"`
	Resource *ResourceMetadata `msgpack:"resource,omitempty"`
	Prompt   *PromptMetadata   `msgpack:"prompt,omitempty"`
}

// ToolMetadata of an MCP tool.
type ToolMetadata struct {
	Name         string         `msgpack:"name"`
	Title        string         `msgpack:"title,omitempty"`
	Description  string         `msgpack:"description,omitempty"`
	InputSchema  map[string]any `msgpack:"input_schema,omitempty"`
	OutputSchema map[string]any `msgpack:"output_schema,omitempty"`
	ServerID     string         `msgpack:"server_id,omitempty"`
	Namespace    string         `msgpack:"namespace,omitempty"`
	Annotations  map[string]any `msgpack:"annotations,omitempty"`
}

// ResourceMetadata of an MCP resource.
type ResourceMetadata struct {
	URI         string         `msgpack:"uri"`
	Name        string         `msgpack:"name,omitempty"`
	Description string         `msgpack:"description,omitempty"`
	MimeType    string         `msgpack:"mime_type,omitempty"`
	ServerID    string         `msgpack:"server_id,omitempty"`
	Annotations map[string]any `msgpack:"annotations,omitempty"`
}

// PromptMetadata of an MCP prompt.
type PromptMetadata struct {
	Name        string         `msgpack:"name"`
	Description string         `msgpack:"description,omitempty"`
	Arguments   []any          `msgpack:"arguments,omitempty"`
	ServerID    string         `msgpack:"server_id,omitempty"`
	Annotations map[string]any `msgpack:"annotations,omitempty"`
}

// CompletionExtension: how an LLM completion ended and what it cost.
type CompletionExtension struct {
	StopReason string      `msgpack:"stop_reason,omitempty"` // end | return | call | max_tokens | stop_sequence
	Tokens     *TokenUsage `msgpack:"tokens,omitempty"`
	Model      string      `msgpack:"model,omitempty"`
	RawFormat  string      `msgpack:"raw_format,omitempty"`
	CreatedAt  string      `msgpack:"created_at,omitempty"`
	LatencyMs  *uint64     `msgpack:"latency_ms,omitempty"`
}

// TokenUsage of a completion.
type TokenUsage struct {
	InputTokens  int `msgpack:"input_tokens,omitempty"`
	OutputTokens int `msgpack:"output_tokens,omitempty"`
	TotalTokens  int `msgpack:"total_tokens,omitempty"`
}

// ProvenanceExtension: where a message came from.
type ProvenanceExtension struct {
	Source    string `msgpack:"source,omitempty"`
	MessageID string `msgpack:"message_id,omitempty"`
	ParentID  string `msgpack:"parent_id,omitempty"`
}

// LLMExtension: the model being called.
type LLMExtension struct {
	ModelID      string   `msgpack:"model_id,omitempty"`
	Provider     string   `msgpack:"provider,omitempty"`
	Capabilities []string `msgpack:"capabilities,omitempty"`
}

// FrameworkExtension: the agent framework and graph node.
type FrameworkExtension struct {
	Framework        string         `msgpack:"framework,omitempty"`
	FrameworkVersion string         `msgpack:"framework_version,omitempty"`
	NodeID           string         `msgpack:"node_id,omitempty"`
	GraphID          string         `msgpack:"graph_id,omitempty"`
	Metadata         map[string]any `msgpack:"metadata,omitempty"`
}

// MetaExtension: entity type/name, tags and scope (what routes match on).
type MetaExtension struct {
	EntityType string            `msgpack:"entity_type,omitempty"`
	EntityName string            `msgpack:"entity_name,omitempty"`
	Tags       []string          `msgpack:"tags,omitempty"`
	Scope      string            `msgpack:"scope,omitempty"`
	Properties map[string]string `msgpack:"properties,omitempty"`
}

// PluginViolation: why a plugin halted the pipeline.
type PluginViolation struct {
	Code           string            `msgpack:"code"`
	Reason         string            `msgpack:"reason"`
	Description    string            `msgpack:"description,omitempty"`
	Details        map[string]any    `msgpack:"details,omitempty"`
	PluginName     string            `msgpack:"plugin_name,omitempty"`
	MCPErrorCode   *int64            `msgpack:"mcp_error_code,omitempty"`
	HTTPStatusCode *int              `msgpack:"http_status_code,omitempty"`
	HTTPHeaders    map[string]string `msgpack:"http_headers,omitempty"`
	// ProtoErrorCode is kept for source compatibility with the Rust Go SDK; the sidecar sends MCPErrorCode.
	ProtoErrorCode *int64 `msgpack:"proto_error_code,omitempty"`
}

// PluginError: a non-halting plugin failure (on_error ignore/disable, audit, fire-and-forget).
type PluginError struct {
	PluginName     string         `msgpack:"plugin_name"`
	Message        string         `msgpack:"message"`
	Code           string         `msgpack:"code,omitempty"`
	Phase          string         `msgpack:"phase,omitempty"`
	ErrorCode      string         `msgpack:"error_code,omitempty"` // the CPEX_ERR_* behind it, when coded
	Details        map[string]any `msgpack:"details,omitempty"`
	ProtoErrorCode *int64         `msgpack:"proto_error_code,omitempty"`
}

// PipelineResult is the result envelope, as Rust cpex-ffi sends it: ModifiedPayload and
// ModifiedExtensions are MessagePack documents (decode with DeserializePayload / DeserializeExtensions).
type PipelineResult struct {
	ContinueProcessing bool             `msgpack:"continue_processing"`
	Violation          *PluginViolation `msgpack:"violation,omitempty"`
	Errors             []PluginError    `msgpack:"errors,omitempty"`
	Metadata           map[string]any   `msgpack:"metadata,omitempty"`
	PayloadType        uint8            `msgpack:"payload_type"`
	ModifiedPayload    []byte           `msgpack:"modified_payload,omitempty"`
	PayloadModified    bool             `msgpack:"payload_modified"`
	ModifiedExtensions []byte           `msgpack:"modified_extensions,omitempty"`
	RetryDelayMs       int64            `msgpack:"retry_delay_ms,omitempty"`
}

// TypedPipelineResult is a PipelineResult with the modified payload and extensions decoded:
// ModifiedPayload and ModifiedExtensions here are the decoded values (the MessagePack documents
// stay in the embedded PipelineResult); every other field is the PipelineResult's.
type TypedPipelineResult[P any] struct {
	PipelineResult
	ModifiedPayload    *P
	ModifiedExtensions *Extensions
}

// IsDenied reports whether the pipeline halted.
func (r *PipelineResult) IsDenied() bool { return !r.ContinueProcessing }

// DeserializePayload decodes the modified payload into T (nil when no plugin modified it).
func DeserializePayload[T any](result *PipelineResult) (*T, error) {
	if len(result.ModifiedPayload) == 0 {
		return nil, nil
	}
	var v T
	if err := msgpack.Unmarshal(result.ModifiedPayload, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// DeserializeExtensions decodes the modified extensions (nil when no plugin changed them).
func (r *PipelineResult) DeserializeExtensions() (*Extensions, error) {
	if len(r.ModifiedExtensions) == 0 {
		return nil, nil
	}
	var ext Extensions
	if err := msgpack.Unmarshal(r.ModifiedExtensions, &ext); err != nil {
		return nil, err
	}
	return &ext, nil
}

// GlobalContext is the request context plugins see (TS GlobalContext). State and Metadata writes
// of sequential, transform and concurrent plugins are merged back into it by the Invoke*WithContext calls.
type GlobalContext struct {
	RequestID   string         `msgpack:"request_id,omitempty"`
	User        any            `msgpack:"user,omitempty"` // a string, or a map
	UserContext map[string]any `msgpack:"user_context,omitempty"`
	TenantID    string         `msgpack:"tenant_id,omitempty"`
	ServerID    string         `msgpack:"server_id,omitempty"`
	ContentType string         `msgpack:"content_type,omitempty"`
	State       map[string]any `msgpack:"state,omitempty"`
	Metadata    map[string]any `msgpack:"metadata,omitempty"`
}

// Payload types of the wire registry.
const (
	PayloadGeneric    uint8 = 0
	PayloadCMFMessage uint8 = 1
	PayloadIdentity   uint8 = 2
)

// ProtocolVersion is the sidecar protocol this client speaks (docs/ffi/protocol.md).
const ProtocolVersion = 1
