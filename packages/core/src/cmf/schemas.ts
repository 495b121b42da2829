/**
 * zod schemas for CMF messages (ingress validation). They add no defaults, so a message in the
 * Rust/Python wire shape round-trips unchanged. Unknown keys are dropped.
 */
import { z } from 'zod';
import { CpexError } from '../errors/cpex-error.js';
import { summarizeZodError } from '../errors/issue-path.js';
import {
  CHANNELS,
  type Message,
  MESSAGE_HOOK_TYPES,
  type MessagePayload,
  RESOURCE_TYPES,
  ROLES,
} from './types.js';

const str = z.string();
const optStr = str.nullish();
const optInt = z.number().int().nonnegative().nullish();
const jsonMap = z.record(z.string(), z.unknown());

export const RoleSchema = z.enum(ROLES);
export const ChannelSchema = z.enum(CHANNELS);
export const ResourceTypeSchema = z.enum(RESOURCE_TYPES);

export const ToolCallSchema = z.object({
  tool_call_id: str,
  name: str,
  arguments: jsonMap.optional(),
  namespace: optStr,
});
export const ToolResultSchema = z.object({
  tool_call_id: str,
  tool_name: str,
  content: z.unknown().optional(),
  is_error: z.boolean().optional(),
});
export const ResourceSchema = z.object({
  resource_request_id: str,
  uri: str,
  name: optStr,
  description: optStr,
  resource_type: ResourceTypeSchema,
  content: optStr,
  blob: z.array(z.number().int().min(0).max(255)).nullish(),
  mime_type: optStr,
  size_bytes: optInt,
  annotations: jsonMap.optional(),
  version: optStr,
});
export const ResourceReferenceSchema = z.object({
  resource_request_id: str,
  uri: str,
  name: optStr,
  resource_type: ResourceTypeSchema,
  range_start: optInt,
  range_end: optInt,
  selector: optStr,
});
export const PromptRequestSchema = z.object({
  prompt_request_id: str,
  name: str,
  arguments: jsonMap.optional(),
  server_id: optStr,
});
export const PromptResultSchema = z.object({
  prompt_request_id: str,
  prompt_name: str,
  messages: z.array(z.lazy(() => MessageSchema)).optional(),
  content: optStr,
  is_error: z.boolean().optional(),
  error_message: optStr,
});
const media = { type: str, data: str, media_type: optStr };
export const ImageSourceSchema = z.object(media);
export const VideoSourceSchema = z.object({ ...media, duration_ms: optInt });
export const AudioSourceSchema = z.object({ ...media, duration_ms: optInt });
export const DocumentSourceSchema = z.object({ ...media, title: optStr });

export const ContentPartSchema = z.discriminatedUnion('content_type', [
  z.object({ content_type: z.literal('text'), text: str }),
  z.object({ content_type: z.literal('thinking'), text: str }),
  z.object({ content_type: z.literal('tool_call'), content: ToolCallSchema }),
  z.object({ content_type: z.literal('tool_result'), content: ToolResultSchema }),
  z.object({ content_type: z.literal('resource'), content: ResourceSchema }),
  z.object({ content_type: z.literal('resource_ref'), content: ResourceReferenceSchema }),
  z.object({ content_type: z.literal('prompt_request'), content: PromptRequestSchema }),
  z.object({ content_type: z.literal('prompt_result'), content: PromptResultSchema }),
  z.object({ content_type: z.literal('image'), content: ImageSourceSchema }),
  z.object({ content_type: z.literal('video'), content: VideoSourceSchema }),
  z.object({ content_type: z.literal('audio'), content: AudioSourceSchema }),
  z.object({ content_type: z.literal('document'), content: DocumentSourceSchema }),
]);

export const MessageSchema: z.ZodType<Message> = z.object({
  schema_version: str.optional(),
  role: RoleSchema,
  content: z.array(ContentPartSchema).optional(),
  channel: ChannelSchema.nullish(),
}) as unknown as z.ZodType<Message>;

export const MessageHookTypeSchema = z.enum(MESSAGE_HOOK_TYPES);

export const MessagePayloadSchema: z.ZodType<MessagePayload> = z.object({
  message: MessageSchema,
  hook: MessageHookTypeSchema.optional(),
}) as unknown as z.ZodType<MessagePayload>;

/**
 * Validates a CMF message at ingress; throws CpexError CPEX_ERR_INVALID_PAYLOAD with the field path.
 * @example const msg = parseMessage(JSON.parse(body));
 */
export function parseMessage(value: unknown, where?: string): Message {
  const parsed = MessageSchema.safeParse(value);
  if (!parsed.success) {
    const { path, message } = summarizeZodError(parsed.error, 'message');
    throw new CpexError(
      'CPEX_ERR_INVALID_PAYLOAD',
      `invalid CMF message${where ? ` for ${where}` : ''} at ${path}: ${message}`,
      {
        ...(where ? { hook: where } : {}),
        path,
      },
    );
  }
  return parsed.data;
}
