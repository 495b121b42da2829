// docs/sdk.md: a custom hook typed by declaration merging.
import type { PluginResult } from '@cpex/core';
import { definePlugin, modify } from '@cpex/sdk';

// #region custom-hook
declare module '@cpex/core' {
  interface HookMap {
    'search.pre': { payload: { query: string; limit: number }; result: PluginResult<{ query: string; limit: number }> };
  }
}

definePlugin({
  name: 'limit',
  hooks: { 'search.pre': (p) => modify({ ...p, limit: Math.min(p.limit, 50) }) }, // p is typed
});
// #endregion
