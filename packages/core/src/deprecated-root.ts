/**
 * Names that moved off the `@cpex/core` root into a subpath in 0.2. They stay exported from the
 * root, marked `@deprecated` (editors strike them through), until 0.3. New code imports the subpath;
 * docs/api.md has the "Which import" table. The export-map test pins this list.
 */

// → @cpex/core/extensions
export {
  /** @deprecated Import from `@cpex/core/extensions`. */
  AgentExtensionSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  AuthorizationDetailSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  CAPABILITY_IMPLICATIONS,
  /** @deprecated Import from `@cpex/core/extensions`. */
  CAPABILITY_NAMES,
  /** @deprecated Import from `@cpex/core/extensions`. */
  CandidateConstraintExtensionSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  ClientExtensionSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  CompletionExtensionSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  CustomExtensionSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  DataPolicySchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  DelegationExtensionSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  DelegationHopSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  DelegationKeySchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  DelegationModeSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  EXTENSION_SLOTS,
  /** @deprecated Import from `@cpex/core/extensions`. */
  ExtensionsSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  FrameworkExtensionSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  HttpExtensionSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  LabelsSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  LlmExtensionSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  McpExtensionSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  MetaExtensionSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  MonotonicSet,
  /** @deprecated Import from `@cpex/core/extensions`. */
  ObjectSecurityProfileSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  ProvenanceExtensionSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  RawCredentialsExtensionSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  RequestExtensionSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  SECURITY_FIELD_READ,
  /** @deprecated Import from `@cpex/core/extensions`. */
  SLOT_POLICIES,
  /** @deprecated Import from `@cpex/core/extensions`. */
  SLOT_SCHEMAS,
  /** @deprecated Import from `@cpex/core/extensions`. */
  SUBJECT_FIELD_READ,
  /** @deprecated Import from `@cpex/core/extensions`. */
  SecurityExtensionSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  SubjectExtensionSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  SubjectTypeSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  TokenKindSchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  WorkloadIdentitySchema,
  /** @deprecated Import from `@cpex/core/extensions`. */
  appendDelegationHop,
  /** @deprecated Import from `@cpex/core/extensions`. */
  compileCapabilities,
  /** @deprecated Import from `@cpex/core/extensions`. */
  extensionsToJSON,
  /** @deprecated Import from `@cpex/core/extensions`. */
  extensionsView,
  /** @deprecated Import from `@cpex/core/extensions`. */
  getHeader,
  /** @deprecated Import from `@cpex/core/extensions`. */
  hasLabel,
  /** @deprecated Import from `@cpex/core/extensions`. */
  labelsOf,
  /** @deprecated Import from `@cpex/core/extensions`. */
  mergeExtensions,
  /** @deprecated Import from `@cpex/core/extensions`. */
  parseExtensions,
  /** @deprecated Import from `@cpex/core/extensions`. */
  setHeaders,
  /** @deprecated Import from `@cpex/core/extensions`. */
  withCandidateConstraint,
  /** @deprecated Import from `@cpex/core/extensions`. */
  withCustom,
  /** @deprecated Import from `@cpex/core/extensions`. */
  withLabels,
} from './extensions-api.js';
export type {
  /** @deprecated Import from `@cpex/core/extensions`. */
  AgentExtension,
  /** @deprecated Import from `@cpex/core/extensions`. */
  AuthorizationDetail,
  /** @deprecated Import from `@cpex/core/extensions`. */
  CandidateConstraintExtension,
  /** @deprecated Import from `@cpex/core/extensions`. */
  CapabilityName,
  /** @deprecated Import from `@cpex/core/extensions`. */
  ClientExtension,
  /** @deprecated Import from `@cpex/core/extensions`. */
  ClientTrustLevel,
  /** @deprecated Import from `@cpex/core/extensions`. */
  CompiledCapabilities,
  /** @deprecated Import from `@cpex/core/extensions`. */
  CompletionExtension,
  /** @deprecated Import from `@cpex/core/extensions`. */
  ConversationContext,
  /** @deprecated Import from `@cpex/core/extensions`. */
  DataPolicy,
  /** @deprecated Import from `@cpex/core/extensions`. */
  DelegationExtension,
  /** @deprecated Import from `@cpex/core/extensions`. */
  DelegationHop,
  /** @deprecated Import from `@cpex/core/extensions`. */
  DelegationKey,
  /** @deprecated Import from `@cpex/core/extensions`. */
  DelegationMode,
  /** @deprecated Import from `@cpex/core/extensions`. */
  DelegationStrategy,
  /** @deprecated Import from `@cpex/core/extensions`. */
  ExtensionSlot,
  /** @deprecated Import from `@cpex/core/extensions`. */
  FrameworkExtension,
  /** @deprecated Import from `@cpex/core/extensions`. */
  HttpExtension,
  /** @deprecated Import from `@cpex/core/extensions`. */
  JsonValue,
  /** @deprecated Import from `@cpex/core/extensions`. */
  LlmExtension,
  /** @deprecated Import from `@cpex/core/extensions`. */
  McpExtension,
  /** @deprecated Import from `@cpex/core/extensions`. */
  MergeOutcome,
  /** @deprecated Import from `@cpex/core/extensions`. */
  MetaExtension,
  /** @deprecated Import from `@cpex/core/extensions`. */
  MutabilityTier,
  /** @deprecated Import from `@cpex/core/extensions`. */
  ObjectSecurityProfile,
  /** @deprecated Import from `@cpex/core/extensions`. */
  PromptMetadata,
  /** @deprecated Import from `@cpex/core/extensions`. */
  ProvenanceExtension,
  /** @deprecated Import from `@cpex/core/extensions`. */
  RawCredentialsExtension,
  /** @deprecated Import from `@cpex/core/extensions`. */
  RawDelegatedToken,
  /** @deprecated Import from `@cpex/core/extensions`. */
  RawInboundToken,
  /** @deprecated Import from `@cpex/core/extensions`. */
  RequestExtension,
  /** @deprecated Import from `@cpex/core/extensions`. */
  ResourceMetadata,
  /** @deprecated Import from `@cpex/core/extensions`. */
  RetentionPolicy,
  /** @deprecated Import from `@cpex/core/extensions`. */
  SecurityExtension,
  /** @deprecated Import from `@cpex/core/extensions`. */
  SetHeadersOptions,
  /** @deprecated Import from `@cpex/core/extensions`. */
  SlotPolicy,
  /** @deprecated Import from `@cpex/core/extensions`. */
  StopReason,
  /** @deprecated Import from `@cpex/core/extensions`. */
  SubjectExtension,
  /** @deprecated Import from `@cpex/core/extensions`. */
  SubjectType,
  /** @deprecated Import from `@cpex/core/extensions`. */
  TokenKind,
  /** @deprecated Import from `@cpex/core/extensions`. */
  TokenUsage,
  /** @deprecated Import from `@cpex/core/extensions`. */
  ToolMetadata,
  /** @deprecated Import from `@cpex/core/extensions`. */
  WorkloadIdentity,
} from './extensions-api.js';

// → @cpex/core/cmf
export {
  /** @deprecated Import from `@cpex/core/cmf`. */
  AudioSourceSchema,
  /** @deprecated Import from `@cpex/core/cmf`. */
  CHANNELS,
  /** @deprecated Import from `@cpex/core/cmf`. */
  CONTENT_TYPES,
  /** @deprecated Import from `@cpex/core/cmf`. */
  ChannelSchema,
  /** @deprecated Import from `@cpex/core/cmf`. */
  ContentPartSchema,
  /** @deprecated Import from `@cpex/core/cmf`. */
  DocumentSourceSchema,
  /** @deprecated Import from `@cpex/core/cmf`. */
  ImageSourceSchema,
  /** @deprecated Import from `@cpex/core/cmf`. */
  MESSAGE_HOOK_TYPES,
  /** @deprecated Import from `@cpex/core/cmf`. */
  MessageHookTypeSchema,
  /** @deprecated Import from `@cpex/core/cmf`. */
  MessagePayloadSchema,
  /** @deprecated Import from `@cpex/core/cmf`. */
  MessageSchema,
  /** @deprecated Import from `@cpex/core/cmf`. */
  MessageView,
  /** @deprecated Import from `@cpex/core/cmf`. */
  PromptRequestSchema,
  /** @deprecated Import from `@cpex/core/cmf`. */
  PromptResultSchema,
  /** @deprecated Import from `@cpex/core/cmf`. */
  RESOURCE_TYPES,
  /** @deprecated Import from `@cpex/core/cmf`. */
  ROLES,
  /** @deprecated Import from `@cpex/core/cmf`. */
  ResourceReferenceSchema,
  /** @deprecated Import from `@cpex/core/cmf`. */
  ResourceSchema,
  /** @deprecated Import from `@cpex/core/cmf`. */
  ResourceTypeSchema,
  /** @deprecated Import from `@cpex/core/cmf`. */
  RoleSchema,
  /** @deprecated Import from `@cpex/core/cmf`. */
  ToolCallSchema,
  /** @deprecated Import from `@cpex/core/cmf`. */
  ToolResultSchema,
  /** @deprecated Import from `@cpex/core/cmf`. */
  VideoSourceSchema,
  /** @deprecated Import from `@cpex/core/cmf`. */
  messageViews,
  /** @deprecated Import from `@cpex/core/cmf`. */
  parseMessage,
  /** @deprecated Import from `@cpex/core/cmf`. */
  partsOf,
  /** @deprecated Import from `@cpex/core/cmf`. */
  textOf,
} from './cmf-api.js';
export type {
  /** @deprecated Import from `@cpex/core/cmf`. */
  AudioPart,
  /** @deprecated Import from `@cpex/core/cmf`. */
  AudioSource,
  /** @deprecated Import from `@cpex/core/cmf`. */
  Channel,
  /** @deprecated Import from `@cpex/core/cmf`. */
  ContentPart,
  /** @deprecated Import from `@cpex/core/cmf`. */
  ContentType,
  /** @deprecated Import from `@cpex/core/cmf`. */
  DocumentPart,
  /** @deprecated Import from `@cpex/core/cmf`. */
  DocumentSource,
  /** @deprecated Import from `@cpex/core/cmf`. */
  ImagePart,
  /** @deprecated Import from `@cpex/core/cmf`. */
  ImageSource,
  /** @deprecated Import from `@cpex/core/cmf`. */
  MediaSource,
  /** @deprecated Import from `@cpex/core/cmf`. */
  Message,
  /** @deprecated Import from `@cpex/core/cmf`. */
  MessageHookType,
  /** @deprecated Import from `@cpex/core/cmf`. */
  MessagePayload,
  /** @deprecated Import from `@cpex/core/cmf`. */
  MessageViewOptions,
  /** @deprecated Import from `@cpex/core/cmf`. */
  PartOf,
  /** @deprecated Import from `@cpex/core/cmf`. */
  PromptRequest,
  /** @deprecated Import from `@cpex/core/cmf`. */
  PromptRequestPart,
  /** @deprecated Import from `@cpex/core/cmf`. */
  PromptResult,
  /** @deprecated Import from `@cpex/core/cmf`. */
  PromptResultPart,
  /** @deprecated Import from `@cpex/core/cmf`. */
  Resource,
  /** @deprecated Import from `@cpex/core/cmf`. */
  ResourcePart,
  /** @deprecated Import from `@cpex/core/cmf`. */
  ResourceRefPart,
  /** @deprecated Import from `@cpex/core/cmf`. */
  ResourceReference,
  /** @deprecated Import from `@cpex/core/cmf`. */
  ResourceType,
  /** @deprecated Import from `@cpex/core/cmf`. */
  Role,
  /** @deprecated Import from `@cpex/core/cmf`. */
  TextPart,
  /** @deprecated Import from `@cpex/core/cmf`. */
  ThinkingPart,
  /** @deprecated Import from `@cpex/core/cmf`. */
  ToolCall,
  /** @deprecated Import from `@cpex/core/cmf`. */
  ToolCallPart,
  /** @deprecated Import from `@cpex/core/cmf`. */
  ToolResult,
  /** @deprecated Import from `@cpex/core/cmf`. */
  ToolResultPart,
  /** @deprecated Import from `@cpex/core/cmf`. */
  VideoPart,
  /** @deprecated Import from `@cpex/core/cmf`. */
  VideoSource,
  /** @deprecated Import from `@cpex/core/cmf`. */
  ViewAction,
} from './cmf-api.js';

// → @cpex/core/host
export {
  /** @deprecated Import from `@cpex/core/host`. */
  HOOK_METHODS,
  /** @deprecated Import from `@cpex/core/host`. */
  IN_PROCESS_HOST_CAPABILITIES,
  /** @deprecated Import from `@cpex/core/host`. */
  NODE_MODULE_SCHEME,
  /** @deprecated Import from `@cpex/core/host`. */
  PAYLOAD_TYPE_CMF_MESSAGE,
  /** @deprecated Import from `@cpex/core/host`. */
  PAYLOAD_TYPE_GENERIC,
  /** @deprecated Import from `@cpex/core/host`. */
  PAYLOAD_TYPE_IDENTITY,
  /** @deprecated Import from `@cpex/core/host`. */
  createInProcessHost,
  /** @deprecated Import from `@cpex/core/host`. */
  createNodeModuleFactory,
  /** @deprecated Import from `@cpex/core/host`. */
  parseNodeKind,
  /** @deprecated Import from `@cpex/core/host`. */
  pluginToInstance,
} from './host-api.js';
