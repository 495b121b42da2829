/**
 * `MessageView`: read accessors over one content part of a CMF message, without copying it.
 * A view holds references to the message, the part and (optionally) the plugin's extensions
 * view; every accessor reads through them on demand.
 *
 * ```ts
 * for (const view of messageViews(payload.message, { hook: 'cmf.llm_input', extensions: ext })) {
 *   if (view.kind === 'text' && /\d{3}-\d{2}-\d{4}/.test(view.text ?? '')) ...
 * }
 * ```
 */
import { getHeader, hasLabel } from '../extensions/builders.js';
import type { Extensions } from '../extensions/types.js';
import type { Channel, ContentPart, ContentType, Message, PartOf, Role } from './types.js';

/** What the part does from the gateway's point of view. */
export type ViewAction = 'execute' | 'receive' | 'read' | 'invoke' | 'send' | 'generate' | 'write';

const TEXT_ACTION: Record<Role, ViewAction> = {
  user: 'send',
  assistant: 'generate',
  tool: 'receive',
  system: 'write',
  developer: 'write',
};

const PRE_HOOK = /(^|[._])(pre_invoke|pre_fetch|llm_input|http_request|pre_request)$/;
const POST_HOOK = /(^|[._])(post_invoke|post_fetch|llm_output|post_request)$/;

export interface MessageViewOptions {
  /** The hook being run (e.g. `cmf.llm_input`); drives `isPre` / `isPost`. */
  hook?: string;
  /** The plugin's extensions view, for `hasLabel` / `getHeader`. */
  extensions?: Extensions | null;
}

export class MessageView {
  readonly message: Message;
  readonly part: ContentPart;
  readonly index: number;
  readonly hook: string | undefined;
  readonly extensions: Extensions | null | undefined;

  constructor(message: Message, index: number, options: MessageViewOptions = {}) {
    const part = message.content?.[index];
    if (!part) throw new RangeError(`message has no content part ${index}`);
    this.message = message;
    this.part = part;
    this.index = index;
    this.hook = options.hook;
    this.extensions = options.extensions;
  }

  /** The content part kind (one of the 12). */
  get kind(): ContentType {
    return this.part.content_type;
  }
  get role(): Role {
    return this.message.role;
  }
  get channel(): Channel | null {
    return this.message.channel ?? null;
  }

  /** The part narrowed to kind `k`, or undefined. */
  as<K extends ContentType>(k: K): PartOf<K> | undefined {
    return this.part.content_type === k ? (this.part as PartOf<K>) : undefined;
  }

  get action(): ViewAction {
    switch (this.part.content_type) {
      case 'tool_call':
        return 'execute';
      case 'tool_result':
      case 'prompt_result':
        return 'receive';
      case 'resource':
      case 'resource_ref':
        return 'read';
      case 'prompt_request':
        return 'invoke';
      default:
        return TEXT_ACTION[this.message.role] ?? 'send';
    }
  }

  /** Text of text and thinking parts (null for other kinds). */
  get text(): string | null {
    const p = this.part;
    return p.content_type === 'text' || p.content_type === 'thinking' ? p.text : null;
  }

  /**
   * The part's main content: text, tool-call arguments as JSON text, a tool result's content,
   * embedded resource text, a prompt result's text, or a media source's data.
   */
  get content(): unknown {
    const p = this.part;
    switch (p.content_type) {
      case 'text':
      case 'thinking':
        return p.text;
      case 'tool_call':
        return JSON.stringify(p.content.arguments ?? {});
      case 'tool_result':
        return p.content.content ?? null;
      case 'resource':
        return p.content.content ?? null;
      case 'prompt_result':
        return p.content.content ?? null;
      case 'resource_ref':
      case 'prompt_request':
        return null;
      default:
        return p.content.data;
    }
  }

  /** Tool, prompt or resource name (document title for documents). */
  get name(): string | null {
    const p = this.part;
    switch (p.content_type) {
      case 'tool_call':
      case 'prompt_request':
        return p.content.name;
      case 'tool_result':
        return p.content.tool_name;
      case 'prompt_result':
        return p.content.prompt_name;
      case 'resource':
      case 'resource_ref':
        return p.content.name ?? p.content.uri;
      case 'document':
        return p.content.title ?? null;
      default:
        return null;
    }
  }

  /** `tool://<namespace|_>/<name>`, `prompt://_/<name>`, or the resource URI. */
  get uri(): string | null {
    const p = this.part;
    switch (p.content_type) {
      case 'tool_call':
        return `tool://${p.content.namespace ?? '_'}/${p.content.name}`;
      case 'tool_result':
        return `tool://_/${p.content.tool_name}`;
      case 'prompt_request':
        return `prompt://${p.content.server_id ?? '_'}/${p.content.name}`;
      case 'prompt_result':
        return `prompt://_/${p.content.prompt_name}`;
      case 'resource':
      case 'resource_ref':
        return p.content.uri;
      default:
        return null;
    }
  }

  /** Tool-call or prompt-request arguments (the message's own object, not a copy). */
  get args(): Readonly<Record<string, unknown>> | null {
    const p = this.part;
    if (p.content_type === 'tool_call' || p.content_type === 'prompt_request')
      return p.content.arguments ?? {};
    return null;
  }

  get mimeType(): string | null {
    const p = this.part;
    switch (p.content_type) {
      case 'resource':
        return p.content.mime_type ?? null;
      case 'image':
      case 'video':
      case 'audio':
      case 'document':
        return p.content.media_type ?? null;
      default:
        return null;
    }
  }

  get isError(): boolean {
    const p = this.part;
    return (
      (p.content_type === 'tool_result' || p.content_type === 'prompt_result') && p.content.is_error === true
    );
  }

  get isPre(): boolean {
    return this.hook !== undefined && PRE_HOOK.test(this.hook);
  }
  get isPost(): boolean {
    return this.hook !== undefined && POST_HOOK.test(this.hook);
  }
  get isText(): boolean {
    return this.part.content_type === 'text' || this.part.content_type === 'thinking';
  }
  get isMedia(): boolean {
    const k = this.part.content_type;
    return k === 'image' || k === 'video' || k === 'audio' || k === 'document';
  }

  /** True when the extensions carry `label` (case-insensitive; needs `read_labels`). */
  hasLabel(label: string): boolean {
    return hasLabel(this.extensions, label);
  }

  /** A request header from the extensions (case-insensitive; needs `read_headers`). */
  getHeader(name: string): string | undefined {
    return getHeader(this.extensions, name);
  }
}

/**
 * One view per content part of `message`, in order (no copies of the message).
 * @example for (const v of messageViews(msg)) if (v.kind === 'tool_call') console.log(v.uri);
 */
export function* messageViews(message: Message, options: MessageViewOptions = {}): Generator<MessageView> {
  const n = message.content?.length ?? 0;
  for (let i = 0; i < n; i++) yield new MessageView(message, i, options);
}

/**
 * The text of all text parts joined (as Rust's `get_text_content`); null when there is none.
 * @example textOf(payload.message)?.includes('password')
 */
export function textOf(message: Message): string | null {
  const texts: string[] = [];
  for (const p of message.content ?? []) if (p.content_type === 'text') texts.push(p.text);
  return texts.length ? texts.join('') : null;
}

/**
 * The parts of one kind, typed.
 * @example for (const call of partsOf(message, 'tool_call')) console.log(call.content.name);
 */
export function partsOf<K extends ContentType>(message: Message, kind: K): PartOf<K>[] {
  return (message.content ?? []).filter((p): p is PartOf<K> => p.content_type === kind);
}
