/**
 * zod schemas for every extension slot, in the Rust cpex 0.2 wire shapes. Hosts validate
 * extensions at ingress with `parseExtensions` (or `ExtensionsSchema.safeParse`).
 *
 * Schemas add no defaults, so JSON in the Rust shapes round-trips unchanged:
 * `JSON.stringify(ExtensionsSchema.parse(json))` equals the input (labels become a
 * {@link MonotonicSet}, which serializes back to the same array). Unknown keys are dropped.
 */
import { z } from 'zod';
import { CpexError } from '../errors/cpex-error.js';
import { summarizeZodError } from '../errors/issue-path.js';
import { MonotonicSet } from './monotonic-set.js';
import type { Extensions } from './types.js';

const str = z.string();
const optStr = str.nullish();
const optNum = z.number().nullish();
const strList = z.array(str);
const strMap = z.record(z.string(), z.string());
const jsonMap = z.record(z.string(), z.unknown());

export const RequestExtensionSchema = z.object({
  environment: optStr,
  request_id: optStr,
  timestamp: optStr,
  trace_id: optStr,
  span_id: optStr,
});

export const AgentExtensionSchema = z.object({
  input: optStr,
  session_id: optStr,
  conversation_id: optStr,
  turn: z.number().int().nonnegative().nullish(),
  agent_id: optStr,
  parent_agent_id: optStr,
  conversation: z
    .object({ history: z.array(z.unknown()).optional(), summary: optStr, topics: strList.optional() })
    .nullish(),
});

export const HttpExtensionSchema = z.object({
  request_headers: strMap.optional(),
  response_headers: strMap.optional(),
  method: optStr,
  path: optStr,
  host: optStr,
  scheme: optStr,
});

export const SubjectTypeSchema = z.enum(['user', 'agent', 'service', 'system']);

export const SubjectExtensionSchema = z.object({
  id: optStr,
  subject_type: SubjectTypeSchema.nullish(),
  roles: strList.optional(),
  permissions: strList.optional(),
  teams: strList.optional(),
  claims: strMap.optional(),
});

export const ClientExtensionSchema = z.object({
  client_id: str,
  client_name: optStr,
  trust_level: str.optional(),
  authorized_scopes: strList.optional(),
  authorized_audiences: strList.optional(),
  roles: strList.optional(),
  permissions: strList.optional(),
  teams: strList.optional(),
  claims: jsonMap.optional(),
});

export const WorkloadIdentitySchema = z.object({
  spiffe_id: optStr,
  trust_domain: optStr,
  attested_at: optStr,
  attestor: optStr,
  selectors: strList.optional(),
  client_id: optStr,
});

export const ObjectSecurityProfileSchema = z.object({
  managed_by: optStr,
  permissions: strList.optional(),
  trust_domain: optStr,
  data_scope: strList.optional(),
});

export const DataPolicySchema = z.object({
  apply_labels: strList.optional(),
  allowed_actions: strList.nullish(),
  denied_actions: strList.optional(),
  retention: z.object({ max_age_seconds: optNum, policy: str.optional(), delete_after: optStr }).nullish(),
});

/** Labels: a JSON array of strings (or a MonotonicSet in-process) → MonotonicSet. */
export const LabelsSchema = z.union([
  z.custom<MonotonicSet>((v) => v instanceof MonotonicSet, { message: 'expected a MonotonicSet' }),
  strList.transform((labels) => MonotonicSet.from(labels)),
]);

/** The longest label (UTF-16 code units) that may cross a store boundary (session labels). */
export const MAX_STORED_LABEL_CHARS = 1024;

/**
 * Labels crossing a store boundary (a session store's answer, or what is appended to it): a list
 * of non-empty strings of at most {@link MAX_STORED_LABEL_CHARS}. Stricter than {@link LabelsSchema}
 * on purpose: what another replica (or anything else with access to the store) wrote is untrusted.
 */
export const StoredLabelsSchema = z.array(
  str
    .min(1, 'a label must not be empty')
    .max(MAX_STORED_LABEL_CHARS, `a label must be at most ${MAX_STORED_LABEL_CHARS} characters`),
);

export const SecurityExtensionSchema = z.object({
  labels: LabelsSchema.optional(),
  classification: optStr,
  subject: SubjectExtensionSchema.nullish(),
  client: ClientExtensionSchema.nullish(),
  caller_workload: WorkloadIdentitySchema.nullish(),
  this_workload: WorkloadIdentitySchema.nullish(),
  auth_method: optStr,
  objects: z.record(z.string(), ObjectSecurityProfileSchema).optional(),
  data: z.record(z.string(), DataPolicySchema).optional(),
});

export const AuthorizationDetailSchema = z.looseObject({
  type: str,
  locations: strList.nullish(),
  actions: strList.nullish(),
  datatypes: strList.nullish(),
  identifier: optStr,
  privileges: strList.nullish(),
});

export const DelegationHopSchema = z.object({
  subject_id: str,
  subject_type: SubjectTypeSchema.nullish(),
  audience: optStr,
  scopes_granted: strList.optional(),
  authorization_details: z.array(AuthorizationDetailSchema).optional(),
  timestamp: optStr,
  ttl_seconds: optNum,
  strategy: optStr,
  from_cache: z.boolean().optional(),
});

export const DelegationExtensionSchema = z.object({
  chain: z.array(DelegationHopSchema).optional(),
  depth: z.number().int().nonnegative().optional(),
  origin_subject_id: optStr,
  actor_subject_id: optStr,
  delegated: z.boolean().optional(),
  age_seconds: z.number().optional(),
});

export const TokenKindSchema = z.enum(['jwt', 'opaque', 'spiffe_jwt', 'ucan', 'txn_token']);
export const DelegationModeSchema = z.enum([
  'on_behalf_of_user',
  'as_client',
  'as_caller_workload',
  'as_this_workload',
]);

export const DelegationKeySchema = z.object({
  subject_id: str,
  workload_id: optStr,
  client_id: optStr,
  audience: str,
  scopes: strList,
  mode: DelegationModeSchema,
});

export const RawCredentialsExtensionSchema = z.object({
  inbound_tokens: z
    .record(z.string(), z.object({ token: str.optional(), source_header: str, kind: TokenKindSchema }))
    .optional(),
  delegated_tokens: z
    .record(
      z.string(),
      z.object({
        token: str.optional(),
        outbound_header: str,
        audience: str,
        scopes: strList,
        expires_at: str,
        key: DelegationKeySchema.optional(),
      }),
    )
    .optional(),
});

export const CandidateConstraintExtensionSchema = z.object({
  allow_models: strList.nullish(),
  deny_models: strList.optional(),
  allow_regions: strList.nullish(),
  allow_sites: strList.nullish(),
  max_cost_tiers: strList.optional(),
  custom: strMap.optional(),
  on_empty: z.enum(['deny', 'fallback']).optional(),
});

const annotations = jsonMap.optional();

export const McpExtensionSchema = z.object({
  tool: z
    .object({
      name: str,
      title: optStr,
      description: optStr,
      input_schema: z.unknown().optional(),
      output_schema: z.unknown().optional(),
      server_id: optStr,
      namespace: optStr,
      annotations,
    })
    .nullish(),
  resource: z
    .object({
      uri: str,
      name: optStr,
      description: optStr,
      mime_type: optStr,
      server_id: optStr,
      annotations,
    })
    .nullish(),
  prompt: z
    .object({
      name: str,
      description: optStr,
      arguments: z.array(z.unknown()).nullish(),
      server_id: optStr,
      annotations,
    })
    .nullish(),
});

export const CompletionExtensionSchema = z.object({
  stop_reason: z.enum(['end', 'return', 'call', 'max_tokens', 'stop_sequence']).nullish(),
  tokens: z
    .object({
      input_tokens: z.number().optional(),
      output_tokens: z.number().optional(),
      total_tokens: z.number().optional(),
    })
    .nullish(),
  model: optStr,
  raw_format: optStr,
  created_at: optStr,
  latency_ms: optNum,
});

export const ProvenanceExtensionSchema = z.object({ source: optStr, message_id: optStr, parent_id: optStr });

export const LlmExtensionSchema = z.object({
  model_id: optStr,
  provider: optStr,
  capabilities: strList.optional(),
});

export const FrameworkExtensionSchema = z.object({
  framework: optStr,
  framework_version: optStr,
  node_id: optStr,
  graph_id: optStr,
  metadata: jsonMap.optional(),
});

export const MetaExtensionSchema = z.object({
  entity_type: optStr,
  entity_name: optStr,
  tags: strList.optional(),
  scope: optStr,
  properties: strMap.optional(),
});

export const CustomExtensionSchema = jsonMap;

/** Schema per slot (the executor validates accepted edits of changeable slots with these). */
export const SLOT_SCHEMAS = {
  request: RequestExtensionSchema,
  agent: AgentExtensionSchema,
  http: HttpExtensionSchema,
  security: SecurityExtensionSchema,
  delegation: DelegationExtensionSchema,
  raw_credentials: RawCredentialsExtensionSchema,
  candidate_constraint: CandidateConstraintExtensionSchema,
  mcp: McpExtensionSchema,
  completion: CompletionExtensionSchema,
  provenance: ProvenanceExtensionSchema,
  llm: LlmExtensionSchema,
  framework: FrameworkExtensionSchema,
  meta: MetaExtensionSchema,
  custom: CustomExtensionSchema,
} as const;

export const ExtensionsSchema = z.object({
  request: RequestExtensionSchema.nullish(),
  agent: AgentExtensionSchema.nullish(),
  http: HttpExtensionSchema.nullish(),
  security: SecurityExtensionSchema.nullish(),
  delegation: DelegationExtensionSchema.nullish(),
  raw_credentials: RawCredentialsExtensionSchema.nullish(),
  candidate_constraint: CandidateConstraintExtensionSchema.nullish(),
  mcp: McpExtensionSchema.nullish(),
  completion: CompletionExtensionSchema.nullish(),
  provenance: ProvenanceExtensionSchema.nullish(),
  llm: LlmExtensionSchema.nullish(),
  framework: FrameworkExtensionSchema.nullish(),
  meta: MetaExtensionSchema.nullish(),
  custom: CustomExtensionSchema.nullish(),
});

/**
 * Validates extensions in the Rust wire shapes at ingress. Throws CpexError
 * CPEX_ERR_INVALID_PAYLOAD naming the field path (and `where`, e.g. the hook) on bad input.
 * @example const ext = parseExtensions(JSON.parse(body).extensions, 'tool_pre_invoke');
 */
export function parseExtensions(value: unknown, where?: string): Extensions {
  const parsed = ExtensionsSchema.safeParse(value);
  if (!parsed.success) {
    const { path, message } = summarizeZodError(parsed.error, 'extensions');
    throw new CpexError(
      'CPEX_ERR_INVALID_PAYLOAD',
      `invalid extensions${where ? ` for ${where}` : ''} at ${path}: ${message}`,
      { ...(where ? { hook: where } : {}), path, details: { issues: parsed.error.issues.length } },
    );
  }
  return parsed.data as Extensions;
}

/**
 * Plain JSON data for extensions (labels as an array), e.g. for MessagePack encoders that do
 * not honour `toJSON`. Raw credential `token` strings are left out (as Rust never serializes
 * them) unless `includeTokens` is set for an in-process hand-off.
 * @example encode(extensionsToJSON(result.modifiedExtensions))
 */
export function extensionsToJSON(
  ext: Extensions,
  options: { includeTokens?: boolean } = {},
): Record<string, unknown> {
  const out = JSON.parse(JSON.stringify(ext)) as Record<string, unknown>;
  const rc = out.raw_credentials as
    | Record<string, Record<string, Record<string, unknown>> | undefined>
    | undefined;
  if (rc && !options.includeTokens) {
    for (const map of [rc.inbound_tokens, rc.delegated_tokens]) {
      for (const entry of Object.values(map ?? {}))
        if (entry && typeof entry === 'object') delete entry.token;
    }
  }
  return out;
}
