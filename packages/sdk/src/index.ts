/**
 * @cpex/sdk — what a CPEX plugin author imports. Every name is listed here explicitly (no
 * `export *` from core); `packages/sdk/test/export-map.test.ts` pins the runtime names.
 *
 * - write a plugin: `definePlugin({ name, hooks })`, a class extending `Plugin` (methods named
 *   after hooks, or `@hook(...)`), or one typed function via `hookHandler(hook, fn)`; group with `pluginSet()`;
 * - answer: `allow()` / `deny()` / `modify()`, and `toMutable()` for an editable copy of a payload;
 * - read and edit extensions (`withLabels`, `hasLabel`, `setHeaders`, …) and CMF messages
 *   (`messageViews`, `textOf`, `partsOf`);
 * - the types: payloads of every built-in hook, `PayloadOf` / `ResultOf` / `HookMap`, contexts,
 *   results, violations, extensions, CMF, and the host contract (`PluginHost`, `PluginFactory`,
 *   `PluginInstance`, `FactoryContext`) as ARCHITECTURE section 2 pins it;
 * - `CpexError` and friends, to throw coded errors.
 *
 * `Plugin` here is the base CLASS. Core's `Plugin` is the structural INTERFACE every plugin object
 * satisfies (what `manager.register` accepts); the class implements it, and the sdk exports the
 * interface as `PluginObject`. The testing harness lives in `@cpex/sdk/testing`. A gateway imports
 * `@cpex/core` (docs/api.md, "Which import").
 */

// Authoring.
export { definePlugin, hookHandler, pluginSet } from './define.js';
export type { DefinedPlugin, PluginDefinition, PluginSetMember } from './define.js';
export { HOOK_METHODS, PLUGIN_CLASS, Plugin, hook } from './plugin-class.js';
export { allow, deny, modify } from './results.js';
export type { ResultExtras, ViolationExtras } from './results.js';
export { toMutable } from './mutable.js';
export type { Mutable } from './mutable.js';
export type { KnownHookName, MaybePromise, TypedHandler, TypedHooks } from './types.js';

// The contract types a plugin sees (ARCHITECTURE section 2).
export type {
  /** Core's plugin-object interface (`Plugin` in @cpex/core); in the sdk, `Plugin` is the base class. */
  Plugin as PluginObject,
  PluginSet,
  PluginEntry,
  PluginCondition,
  PluginContext,
  PluginContextData,
  GlobalContext,
  Handler,
  PluginResult,
  PluginViolation,
  PluginErrorRecord,
  PipelineResult,
  BackgroundWork,
  Mode,
  Phase,
  OnError,
  Disposable,
  Extensions,
  PluginHost,
  PluginFactory,
  PluginInstance,
  FactoryContext,
  HookMap,
  PayloadOf,
  ResultOf,
  GenericPayload,
  BuiltinHookMap,
  // Built-in hook payloads.
  ToolPreInvokePayload,
  ToolPostInvokePayload,
  PromptPrehookPayload,
  PromptPosthookPayload,
  ResourcePreFetchPayload,
  ResourcePostFetchPayload,
  AgentPreInvokePayload,
  AgentPostInvokePayload,
  HttpHeaderPayload,
  HttpPreRequestPayload,
  HttpPostRequestPayload,
  HttpAuthResolveUserPayload,
  HttpAuthCheckPermissionPayload,
  HttpAuthCheckPermissionResultPayload,
  PythonSubject,
  IdentityResolvePayload,
  IdentityResult,
  AttenuationConfig,
  TokenDelegatePayload,
  DelegationResult,
  TokenSource,
  IdentityPayload,
  DelegationPayload,
  ElicitationPayload,
  CpexErrorCode,
} from '@cpex/core';

// Errors a plugin throws or checks.
export { CpexError, ConfigError, PluginViolationError, isCpexError } from '@cpex/core';

// Extensions: reading and copy-on-write edits.
export {
  MonotonicSet,
  withLabels,
  labelsOf,
  hasLabel,
  appendDelegationHop,
  setHeaders,
  getHeader,
  withCustom,
  withCandidateConstraint,
} from '@cpex/core/extensions';
export type {
  SetHeadersOptions,
  CapabilityName,
  ExtensionSlot,
  RequestExtension,
  AgentExtension,
  ConversationContext,
  HttpExtension,
  SubjectType,
  SubjectExtension,
  ClientExtension,
  WorkloadIdentity,
  ObjectSecurityProfile,
  RetentionPolicy,
  DataPolicy,
  SecurityExtension,
  AuthorizationDetail,
  DelegationHop,
  DelegationExtension,
  TokenKind,
  DelegationMode,
  RawInboundToken,
  DelegationKey,
  RawDelegatedToken,
  RawCredentialsExtension,
  CandidateConstraintExtension,
  ToolMetadata,
  ResourceMetadata,
  PromptMetadata,
  McpExtension,
  TokenUsage,
  CompletionExtension,
  ProvenanceExtension,
  LlmExtension,
  FrameworkExtension,
  MetaExtension,
} from '@cpex/core/extensions';

// CMF: zero-copy views and the message types.
export { MessageView, messageViews, textOf, partsOf } from '@cpex/core/cmf';
export type {
  MessageViewOptions,
  ViewAction,
  Message,
  MessagePayload,
  MessageHookType,
  ContentPart,
  ContentType,
  PartOf,
  Role,
  Channel,
  ResourceType,
  TextPart,
  ThinkingPart,
  ToolCallPart,
  ToolResultPart,
  ResourcePart,
  ResourceRefPart,
  PromptRequestPart,
  PromptResultPart,
  ImagePart,
  VideoPart,
  AudioPart,
  DocumentPart,
  ToolCall,
  ToolResult,
  Resource,
  ResourceReference,
  PromptRequest,
  PromptResult,
  MediaSource,
} from '@cpex/core/cmf';

// Kept for code written against 0.1, when the sdk re-exported all of core.
export {
  /**
   * @deprecated A gateway imports `PluginManager` from `@cpex/core`; plugin tests use
   * `createTestManager` from `@cpex/sdk/testing`. Kept until 0.3.
   */
  PluginManager,
} from '@cpex/core';
