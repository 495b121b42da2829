// A gateway loads the config, guards each tool call with the pre hook, runs the tool, and hands
// its result to the post hook with the same context table.
import { randomUUID } from 'node:crypto';
import { type GlobalContext, PluginManager, type PluginViolation } from '@cpex/core';
import { registerPythonHost } from '@cpex/host-python';

export type Tool = (args: Record<string, unknown>) => Promise<unknown>;
export type Outcome = { ok: true; result: unknown } | { ok: false; violation: PluginViolation | null };

export async function startGateway(configFile: string) {
  const manager = new PluginManager(); // options override YAML plugin_settings
  registerPythonHost(manager, { python: '.venv/bin/python' }); // only if the config has Python plugins
  await manager.loadConfig(configFile); // every Python cpex 0.1.x config loads
  await manager.initialize(); // rejects with a coded CpexError if a plugin fails to load

  async function callTool(
    user: string,
    name: string,
    args: Record<string, unknown>,
    tool: Tool,
  ): Promise<Outcome> {
    const globalContext: GlobalContext = { requestId: randomUUID(), user, state: {}, metadata: {} };
    const pre = await manager.invoke('tool_pre_invoke', { name, args }, { globalContext });
    if (!pre.continueProcessing) return { ok: false, violation: pre.violation }; // {code, reason, pluginName, ...}
    const call = pre.modifiedPayload ?? { name, args }; // a transform plugin may have rewritten it
    const result = await tool(call.args ?? {});
    // the post hook with the same context: plugins get back the local state they kept
    const post = await manager.invoke(
      'tool_post_invoke',
      { name, result },
      { globalContext, contextTable: pre.contextTable },
    );
    if (!post.continueProcessing) return { ok: false, violation: post.violation };
    return { ok: true, result: (post.modifiedPayload ?? { result }).result };
  }

  return { callTool, close: () => manager.shutdown() }; // shutdown drains background work, stops workers
}
