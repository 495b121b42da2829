// docs/executor.md: tracing through diagnostics_channel.
// #region tracing
import diagnostics_channel from 'node:diagnostics_channel';
import type { PluginEndMessage } from '@cpex/core';

diagnostics_channel.subscribe('cpex:plugin:end', (message) => {
  const m = message as PluginEndMessage;
  console.log(m.plugin, m.phase, m.outcome, m.durationMs);
});
// #endregion
