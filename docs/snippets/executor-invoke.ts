// docs/executor.md: one tool call through the pre and post hooks.
import type { GlobalContext, PluginManager, PluginViolation, ToolPreInvokePayload } from '@cpex/core';

declare const manager: PluginManager;
declare const original: ToolPreInvokePayload;
declare function reject(violation: PluginViolation | null): never;
declare function runTool(call: ToolPreInvokePayload): Promise<unknown>;

// #region invoke
const globalContext: GlobalContext = { requestId: 'req-1', user: 'alice', state: {}, metadata: {} };
const result = await manager.invoke('tool_pre_invoke', { name: 'send_mail', args: { to: 'bob@example.com' } }, {
  globalContext,
});
if (!result.continueProcessing) reject(result.violation);      // {code, reason, description, details, pluginName}
const payload = result.modifiedPayload ?? original;            // null unless a plugin changed it
await result.background.wait();                                 // fire-and-forget failures, if you care
const post = await manager.invoke('tool_post_invoke', { name: 'send_mail', result: await runTool(payload) }, {
  globalContext, contextTable: result.contextTable,             // plugins get their local state back
});
// #endregion
export { post };
