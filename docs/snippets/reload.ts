// docs/fleet.md: reloading one manager.
import type { PluginManager } from '@cpex/core';

declare const manager: PluginManager;
declare function onReload(...args: unknown[]): void;
declare function onError(...args: unknown[]): void;

// #region reload
const r = await manager.reload('/etc/cpex/plugins.yaml');   // or {text}, or {config}
const watch = manager.watchConfig('/etc/cpex/plugins.yaml', { onReload, onError });
// #endregion
