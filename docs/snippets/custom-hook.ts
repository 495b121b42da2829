// docs/hooks.md: typing a custom hook by declaration merging.
import type { PluginResult } from '@cpex/core';

// #region declare
declare module '@cpex/core' {
  interface HookMap {
    generation_pre_call: { payload: { prompt: string }; result: PluginResult<{ prompt: string }> };
  }
}
// #endregion
