// docs/config.md: a routed request names its entity in extensions.meta.
import type { PluginManager, ToolPreInvokePayload } from '@cpex/core';

declare const manager: PluginManager;
declare const payload: ToolPreInvokePayload;

// #region routed-invoke
await manager.invoke('tool_pre_invoke', payload, {
  extensions: { meta: { entity_type: 'tool', entity_name: 'send_email', scope: 'tenant-a', tags: ['pii'] } },
});
// #endregion
