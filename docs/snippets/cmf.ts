// docs/cmf.md: message views.
import type { Extensions } from '@cpex/core';
import type { MessagePayload } from '@cpex/core/cmf';

declare const payload: MessagePayload;
declare const ext: Extensions;
const message = payload.message;

// #region views
import { messageViews, textOf, partsOf } from '@cpex/sdk';

for (const view of messageViews(payload.message, { hook: 'cmf.llm_input', extensions: ext })) {
  view.kind;      // 'text' | 'tool_call' | …
  view.action;    // tool_call → execute; tool/prompt results → receive; resources → read;
                  // prompt_request → invoke; text by role: user → send, assistant → generate,
                  // tool → receive, system/developer → write
  view.text;      // text/thinking parts
  view.content;   // text, tool-call arguments as JSON text, a result's content, resource text, media data
  view.name;      // tool / prompt / resource name, document title
  view.uri;       // tool://<namespace|_>/<name>, prompt://<server|_>/<name>, or the resource URI
  view.args;      // tool-call / prompt-request arguments (the message's own object)
  view.mimeType; view.isError; view.isPre; view.isPost; view.isText; view.isMedia;
  view.as('tool_call')?.content.tool_call_id;   // typed narrowing
  view.hasLabel('PII'); view.getHeader('x-tenant');   // through the plugin's extensions view
}
textOf(message);                  // all text parts joined, or null
partsOf(message, 'tool_call');    // typed parts of one kind
// #endregion
