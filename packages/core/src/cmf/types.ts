/**
 * CMF (common message format) types, with the Rust/Python cpex field names (snake_case wire data).
 * A `Message` has a role, an optional channel and a list of typed content parts; the part kind is
 * the `content_type` discriminator.
 */
type Opt<T> = T | null | undefined;

export const ROLES = ['system', 'developer', 'user', 'assistant', 'tool'] as const;
export type Role = (typeof ROLES)[number];

export const CHANNELS = ['analysis', 'commentary', 'final'] as const;
export type Channel = (typeof CHANNELS)[number];

export const CONTENT_TYPES = [
  'text',
  'thinking',
  'tool_call',
  'tool_result',
  'resource',
  'resource_ref',
  'prompt_request',
  'prompt_result',
  'image',
  'video',
  'audio',
  'document',
] as const;
export type ContentType = (typeof CONTENT_TYPES)[number];

export const RESOURCE_TYPES = ['file', 'blob', 'uri', 'database', 'api', 'memory', 'artifact'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export interface ToolCall {
  readonly tool_call_id: string;
  readonly name: string;
  readonly arguments?: Readonly<Record<string, unknown>>;
  readonly namespace?: Opt<string>;
}

export interface ToolResult {
  readonly tool_call_id: string;
  readonly tool_name: string;
  readonly content?: unknown;
  readonly is_error?: boolean;
}

export interface Resource {
  readonly resource_request_id: string;
  readonly uri: string;
  readonly name?: Opt<string>;
  readonly description?: Opt<string>;
  readonly resource_type: ResourceType;
  readonly content?: Opt<string>;
  /** Binary content as a list of bytes (Rust `Vec<u8>` in JSON). */
  readonly blob?: Opt<readonly number[]>;
  readonly mime_type?: Opt<string>;
  readonly size_bytes?: Opt<number>;
  readonly annotations?: Readonly<Record<string, unknown>>;
  readonly version?: Opt<string>;
}

export interface ResourceReference {
  readonly resource_request_id: string;
  readonly uri: string;
  readonly name?: Opt<string>;
  readonly resource_type: ResourceType;
  readonly range_start?: Opt<number>;
  readonly range_end?: Opt<number>;
  readonly selector?: Opt<string>;
}

export interface PromptRequest {
  readonly prompt_request_id: string;
  readonly name: string;
  readonly arguments?: Readonly<Record<string, unknown>>;
  readonly server_id?: Opt<string>;
}

export interface PromptResult {
  readonly prompt_request_id: string;
  readonly prompt_name: string;
  readonly messages?: readonly Message[];
  readonly content?: Opt<string>;
  readonly is_error?: boolean;
  readonly error_message?: Opt<string>;
}

/** `type` is `url` or `base64`; `data` the URL or the base64 string. */
export interface MediaSource {
  readonly type: string;
  readonly data: string;
  readonly media_type?: Opt<string>;
}
export type ImageSource = MediaSource;
export interface VideoSource extends MediaSource {
  readonly duration_ms?: Opt<number>;
}
export interface AudioSource extends MediaSource {
  readonly duration_ms?: Opt<number>;
}
export interface DocumentSource extends MediaSource {
  readonly title?: Opt<string>;
}

export interface TextPart {
  readonly content_type: 'text';
  readonly text: string;
}
export interface ThinkingPart {
  readonly content_type: 'thinking';
  readonly text: string;
}
export interface ToolCallPart {
  readonly content_type: 'tool_call';
  readonly content: ToolCall;
}
export interface ToolResultPart {
  readonly content_type: 'tool_result';
  readonly content: ToolResult;
}
export interface ResourcePart {
  readonly content_type: 'resource';
  readonly content: Resource;
}
export interface ResourceRefPart {
  readonly content_type: 'resource_ref';
  readonly content: ResourceReference;
}
export interface PromptRequestPart {
  readonly content_type: 'prompt_request';
  readonly content: PromptRequest;
}
export interface PromptResultPart {
  readonly content_type: 'prompt_result';
  readonly content: PromptResult;
}
export interface ImagePart {
  readonly content_type: 'image';
  readonly content: ImageSource;
}
export interface VideoPart {
  readonly content_type: 'video';
  readonly content: VideoSource;
}
export interface AudioPart {
  readonly content_type: 'audio';
  readonly content: AudioSource;
}
export interface DocumentPart {
  readonly content_type: 'document';
  readonly content: DocumentSource;
}

/** One content part; `content_type` says which of the 12 kinds. */
export type ContentPart =
  | TextPart
  | ThinkingPart
  | ToolCallPart
  | ToolResultPart
  | ResourcePart
  | ResourceRefPart
  | PromptRequestPart
  | PromptResultPart
  | ImagePart
  | VideoPart
  | AudioPart
  | DocumentPart;

/** The content part of a given kind. */
export type PartOf<K extends ContentType> = Extract<ContentPart, { content_type: K }>;

/** A CMF message (schema_version "2.0"). Extensions never travel inside it. */
export interface Message {
  readonly schema_version?: string;
  readonly role: Role;
  readonly content?: readonly ContentPart[];
  readonly channel?: Opt<Channel>;
}

/** Python's `MessagePayload.hook` metadata (where the evaluation happens; not the dispatch name). */
export const MESSAGE_HOOK_TYPES = [
  'evaluate',
  'llm_input',
  'llm_output',
  'tool_pre_invoke',
  'tool_post_invoke',
  'prompt_pre_fetch',
  'prompt_post_fetch',
  'resource_pre_fetch',
  'resource_post_fetch',
] as const;
export type MessageHookType = (typeof MESSAGE_HOOK_TYPES)[number];

/** The payload of every CMF hook (`cmf.*`, `evaluate`): Rust `{message}`, Python adds `hook`. */
export interface MessagePayload {
  readonly message: Message;
  readonly hook?: MessageHookType;
}
