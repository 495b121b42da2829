/**
 * The public TypeScript surface of @cpex/core (ARCHITECTURE.md section 2).
 *
 * API records are camelCase. Payloads, metadata, state and extensions are data that
 * round-trips to Python/Rust/Go and keep their snake_case field names.
 */
import type { SessionStore } from './session/store.js';
import type { Extensions } from './extensions/types.js';
import type { HookDefinition } from './hooks/builtin.js';

export type { Extensions };

/** Execution mode of a plugin entry; `disabled` entries are never instantiated. */
export type Mode = 'sequential' | 'transform' | 'audit' | 'concurrent' | 'fire_and_forget' | 'disabled';
/** The five executor phases, in their fixed order. */
export type Phase = Exclude<Mode, 'disabled'>;
export const PHASES: readonly Phase[] = ['sequential', 'transform', 'audit', 'concurrent', 'fire_and_forget'];
/** What the manager does when a plugin throws, times out or makes a forbidden edit. */
export type OnError = 'fail' | 'ignore' | 'disable';

/** Caller-side request context (Python `GlobalContext`, camelCase). */
export interface GlobalContext {
  requestId: string;
  user?: string | Record<string, unknown>;
  userContext?: Record<string, unknown>;
  tenantId?: string;
  serverId?: string;
  contentType?: string;
  state: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

export interface PluginViolation {
  code: string;
  reason: string;
  description?: string;
  details?: Record<string, unknown>;
  /** Set by the manager to the plugin that produced the violation. */
  pluginName?: string;
  mcpErrorCode?: number;
  httpStatusCode?: number;
  httpHeaders?: Record<string, string>;
}

/** What a handler returns. `allow()` / `deny()` / `modify()` in @cpex/sdk build these. */
export interface PluginResult<P = unknown> {
  continueProcessing?: boolean;
  modifiedPayload?: P;
  modifiedExtensions?: Extensions;
  violation?: PluginViolation;
  metadata?: Record<string, unknown>;
  retryDelayMs?: number;
}

/** A non-halting failure recorded in `PipelineResult.errors` (or reported by `background.wait()`). */
export interface PluginErrorRecord {
  pluginName: string;
  code: string;
  message: string;
  /** Which phase the plugin ran in, when known. */
  phase?: Phase;
  /** The `CPEX_ERR_*` code behind it, when the failure was a coded error. */
  errorCode?: string;
  /**
   * Where the plugin's thrown error (or the `cause` of a host's coded error) was raised: the first
   * stack frame with a file, `path:line:column`. Absent when unknown (non-Error values, other languages).
   */
  location?: string;
}

/** Handle on the fire-and-forget work of one invocation. */
export interface BackgroundWork {
  /** Resolves when every fire-and-forget plugin of the invocation settled; lists their failures. */
  wait(): Promise<PluginErrorRecord[]>;
  /** Number of background tasks still running. */
  readonly pending: number;
}

export interface PipelineResult<P = unknown> {
  continueProcessing: boolean;
  modifiedPayload: P | null;
  payloadModified: boolean;
  modifiedExtensions: Extensions | null;
  violation: PluginViolation | null;
  errors: PluginErrorRecord[];
  metadata: Record<string, unknown>;
  retryDelayMs: number;
  contextTable: ContextTableLike | null;
  background: BackgroundWork;
}

/** Local state of one plugin for one request (an entry of the context table). */
export interface PluginContextData {
  state: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

/** Opaque per-request table of plugin contexts; pass it back to the next invoke of the request. */
export interface ContextTableLike {
  readonly requestId: string;
  /** `{ [pluginName]: { state, metadata } }` */
  toJSON(): Record<string, PluginContextData>;
  get(pluginName: string): PluginContextData | undefined;
  readonly size: number;
}

/** The `context` argument of every handler. */
export interface PluginContext {
  /** Local state of this plugin for this request; survives pre -> post when the table is passed back. */
  readonly state: Record<string, unknown>;
  /** Local metadata of this plugin for this request. */
  readonly metadata: Record<string, unknown>;
  /** This plugin's copy of the caller's GlobalContext; state/metadata writes merge back per phase rules. */
  readonly globalContext: GlobalContext;
  /** Aborted on timeout, on a concurrent sibling's deny, or when the caller aborts. Created lazily. */
  readonly signal: AbortSignal;
  /**
   * Calls `listener` once, with the reason, when this call is aborted (as `signal` would), without
   * creating the AbortSignal: the cheap way for a host to watch every call. Returns false, and
   * registers nothing, when the call is already aborted. Optional: contexts built by hand may lack it.
   * @example
   * if (context.onAbort && !context.onAbort(stop)) stop(undefined);
   * // ... when the call settles:
   * context.offAbort?.(stop);
   */
  onAbort?(listener: (reason: unknown) => void): boolean;
  /** Removes a listener added with `onAbort`. */
  offAbort?(listener: (reason: unknown) => void): void;
  readonly pluginName: string;
  readonly hook: string;
  readonly phase: Phase;
  /**
   * This plugin's effective timeout in milliseconds (its entry's `timeout`, else `plugin_timeout`).
   * A host with pre-emptive timeouts enforces it itself and rejects with a CpexError
   * CPEX_ERR_PLUGIN_TIMEOUT; the executor then keeps only a liveness backstop.
   */
  readonly timeoutMs: number;
  /** Convenience accessors as in Python's PluginContext. */
  getState<T = unknown>(key: string, fallback?: T): T | undefined;
  setState(key: string, value: unknown): void;
}

/** A hook handler. `extensions` is the capability-filtered view for this plugin. */
export type Handler<P = any, R extends PluginResult<any> = PluginResult<any>> = (
  payload: P,
  context: PluginContext,
  extensions: Extensions | undefined,
) => R | void | undefined | Promise<R | void | undefined>;

/** An in-process plugin object: `name`, lifecycle, and a handler per hook (method or `hooks` map). */
export interface Plugin {
  name: string;
  initialize?(): void | Promise<void>;
  shutdown?(): void | Promise<void>;
  /** Handlers by hook name; takes precedence over methods named after the hook. */
  hooks?: Record<string, Handler>;
  [hookOrMember: string]: unknown;
}

/** A named, nestable group of plugins (and sets), registered and disposed as one unit. */
export interface PluginSet {
  readonly kind: 'plugin-set';
  name: string;
  members: ReadonlyArray<Plugin | PluginSet | { plugin: Plugin; entry?: Partial<PluginEntry> }>;
}

/** One legacy condition (OR across entries, AND inside one). */
export interface PluginCondition {
  serverIds?: string[];
  tenantIds?: string[];
  tools?: string[];
  prompts?: string[];
  resources?: string[];
  agents?: string[];
  userPatterns?: string[];
  contentTypes?: string[];
}

/** A plugin's config entry, normalized (YAML keys are snake_case; this record is camelCase). */
export interface PluginEntry {
  name: string;
  kind: string;
  hooks: string[];
  mode: Mode;
  priority: number;
  onError: OnError;
  /** Capability names as configured (validated, lower-cased, implications NOT expanded). */
  capabilities: string[];
  conditions: PluginCondition[];
  /** The plugin's own config block, passed to its factory. */
  config: Record<string, unknown> | null;
  /** Per-plugin timeout in seconds; overrides `plugin_timeout`. */
  timeout?: number;
  tags: string[];
  description?: string;
  author?: string;
  version?: string;
  namespace?: string;
  /** Keys the YAML entry carried that core does not interpret (applied_to, max_content_size, ...). */
  extra: Record<string, unknown>;
}

/** How a host runs plugins; the executor consults this instead of scattered checks. */
export interface HostCapabilities {
  /** 'cooperative': in-thread, the manager stops waiting and aborts the signal. 'preemptive': the host kills and restarts. */
  supportsTimeouts: 'cooperative' | 'preemptive';
  /** True when plugins run in another thread/process/sandbox. */
  isolated: boolean;
  /** True when payloads cross a serialization boundary (plugins get copies by construction). */
  copiesPayloads: boolean;
}

/** What a factory returns for one config entry. */
export interface PluginInstance {
  /** The handler for a hook, or undefined if the plugin does not implement it (a load error). */
  handler(hook: string): Handler | undefined;
  initialize?(): void | Promise<void>;
  shutdown?(): void | Promise<void>;
  readonly host: HostCapabilities;
  /** Optional: the underlying plugin object (in-process plugins). */
  readonly plugin?: Plugin;
  /**
   * Optional: how this host runs this plugin, for `cpex plugins` and diagnostics (grants,
   * isolation, signature state). The CLI prints it without knowing the host.
   */
  describe?(): PluginDescription;
}

/** How a plugin is isolated from the gateway process. */
export type PluginIsolation = 'none' | 'worker' | 'process' | 'sandbox';

/** A host's description of one plugin instance (see docs/hosts/contract.md). */
export interface PluginDescription {
  /** The host's name: 'in-process', 'python', 'wasm', 'native', ... */
  host: string;
  isolation: PluginIsolation;
  /** Whether the entry's timeout pre-empts the plugin (kill/terminate) or is cooperative. */
  timeouts: 'cooperative' | 'preemptive';
  /** What the plugin was granted beyond the default (deny-by-default hosts): env, filesystem, network, memory... */
  grants?: Record<string, unknown>;
  /** Signature verification state for hosts that load signed artifacts. */
  signature?: {
    state: 'verified' | 'unsigned' | 'not-required' | 'invalid';
    keyId?: string;
    detail?: string;
  };
  /** Anything else worth showing (interpreter, pid, component hash, ABI version, ...); JSON-serializable. */
  details?: Record<string, unknown>;
  /** Human-readable caveats, e.g. "timeout is not pre-emptive (isolation: none)". */
  notes?: string[];
}

/** Read-only view of the manager's hook registry handed to hosts (custom hook schemas included). */
export interface HookRegistryReader {
  has(name: string): boolean;
  get(name: string): HookDefinition | undefined;
  names(): string[];
  /**
   * Validates a payload for hook `name` against its schema (hooks without one pass through) and
   * returns the parsed value; throws CPEX_ERR_INVALID_PAYLOAD naming the hook and field path.
   */
  validatePayload<T = unknown>(name: string, value: unknown): T;
  /** Same as `validatePayload`, for a plugin's modified payload (the hook's result schema). */
  validateResult<T = unknown>(name: string, value: unknown): T;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Handed to factories when they create a plugin instance. */
export interface FactoryContext {
  /** Directory of the config file (or the `baseDir` option), for resolving relative paths. */
  baseDir: string;
  /** `plugin_dirs` resolved against `baseDir`. */
  pluginDirs: string[];
  settings: ResolvedSettings;
  logger: Logger;
  /** The manager's hook registry: built-in hooks and those added with `manager.defineHook`. */
  hooks: HookRegistryReader;
}

export interface PluginFactory {
  create(entry: PluginEntry, ctx: FactoryContext): Promise<PluginInstance>;
}

/** A language host (in-process, python, wasm, native): a driver with capabilities and dispose(). */
export interface PluginHost {
  readonly name: string;
  readonly capabilities: HostCapabilities;
  /** Factories this host provides: registered names and/or URL schemes (e.g. 'python://'). */
  readonly kinds: string[];
  readonly factory: PluginFactory;
  /**
   * True when this host takes bare dotted class paths (`plugins.pii.PiiFilter`) as kinds when no
   * registered factory or scheme matches — a generic capability any host may claim (at most one
   * registered host should); host-python claims it today. See docs/hosts/contract.md.
   */
  readonly handlesDottedPaths?: boolean;
  dispose(): Promise<void>;
}

export interface Disposable {
  dispose(): Promise<void>;
  [Symbol.asyncDispose]?(): Promise<void>;
}

export type HookPolicy = 'allow' | 'deny';
export type CowValidation = 'strict' | 'disabled';

/** Settings after precedence (option > YAML plugin_settings > PLUGINS_* env > default). */
export interface ResolvedSettings {
  pluginTimeout: number;
  /** Seconds a plugin's creation + initialize() may take. */
  pluginInitTimeout: number;
  /** Seconds a plugin's shutdown() (and a host's dispose()) may take. */
  pluginShutdownTimeout: number;
  failOnPluginError: boolean;
  executionPool: number;
  hookPolicies: Record<string, string[]>;
  defaultHookPolicy: HookPolicy;
  cowValidation: CowValidation;
  shortCircuitOnDeny: boolean;
  maxPayloadBytes: number;
  /** Payload nesting limit where payloads are parsed or serialized (checkPayloadBounds). */
  maxPayloadDepth: number;
  routingEnabled: boolean;
  routeCacheMaxEntries: number;
  /** ed25519 public keys (PEM or base64 raw) trusted to sign native libraries; parsed by the host that loads them. */
  trustedKeys: string[];
  /** Refuse native libraries without a valid signature. */
  requireSignature: boolean;
}

/** PluginManager constructor options; they override YAML plugin_settings. */
export interface ManagerOptions {
  pluginTimeout?: number;
  /** Seconds a plugin's creation + initialize() may take (YAML `plugin_init_timeout`, default 60). */
  pluginInitTimeout?: number;
  /** Seconds a plugin's shutdown() may take (YAML `plugin_shutdown_timeout`, default 10). */
  pluginShutdownTimeout?: number;
  /** Alias of `pluginTimeout` (Python's constructor argument). */
  timeout?: number;
  failOnPluginError?: boolean;
  executionPool?: number;
  hookPolicies?: Record<string, string[]>;
  defaultHookPolicy?: HookPolicy;
  cowValidation?: CowValidation;
  shortCircuitOnDeny?: boolean;
  maxPayloadBytes?: number;
  maxPayloadDepth?: number;
  routingEnabled?: boolean;
  routeCacheMaxEntries?: number;
  /** ed25519 public keys trusted to sign native libraries (PEM or base64 raw); see docs/hosts/native.md. */
  trustedKeys?: string[];
  /** Refuse native libraries without a valid signature from `trustedKeys`. */
  requireSignature?: boolean;
  /** Environment to read PLUGINS_* from (default process.env). */
  env?: Record<string, string | undefined>;
  logger?: Logger;
  /** Hosts to register at construction. */
  hosts?: PluginHost[];
  /**
   * Session state shared across requests (security labels by session). When set, every invoke
   * whose extensions resolve to a session (see `resolveSession`) loads the session's labels before
   * plugins run and appends the labels they added; a store failure halts that invoke with the
   * violation `session_store_error`. Default: none (no session handling, no cost).
   */
  sessionStore?: SessionStore;
}

export interface InvokeOptions {
  globalContext?: GlobalContext;
  contextTable?: ContextTableLike | null;
  extensions?: Extensions;
  violationsAsExceptions?: boolean;
  signal?: AbortSignal;
}
