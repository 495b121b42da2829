// docs/errors.md: telling coded errors apart.
import { PluginManager } from '@cpex/core';

const manager = new PluginManager();

// #region catch
import { CpexError, PluginViolationError } from '@cpex/core';

try {
  await manager.loadConfig('plugins.yaml');
} catch (e) {
  if (e instanceof CpexError) console.error(e.code, e.path, e.message);
}
// #endregion
