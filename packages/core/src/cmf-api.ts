/**
 * `@cpex/core/cmf` — the Common Message Format (Rust cpex's `Message`), the payload of the
 * `cmf.*` hooks:
 * - types (`Message`, `ContentPart` and each part, `MessagePayload`, …) and the enumerations
 *   (`ROLES`, `CHANNELS`, `CONTENT_TYPES`, `RESOURCE_TYPES`, `MESSAGE_HOOK_TYPES`);
 * - zod schemas (`MessageSchema`, `MessagePayloadSchema`, `ContentPartSchema`, …) and
 *   `parseMessage` (validate at ingress, coded error);
 * - zero-copy views for policy code: `messageViews`, `MessageView`, `textOf`, `partsOf`.
 *
 * Plugin authors get the views and types from `@cpex/sdk` as well.
 *
 * @example
 * import { messageViews, type MessagePayload } from '@cpex/core/cmf';
 * for (const view of messageViews(payload.message)) if (view.kind === 'tool_call') console.log(view.name);
 */
export * from './cmf/types.js';
export * from './cmf/schemas.js';
export { MessageView, messageViews, textOf, partsOf } from './cmf/view.js';
export type { MessageViewOptions, ViewAction } from './cmf/view.js';
