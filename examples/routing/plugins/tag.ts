/**
 * A tiny plugin for the routing example: it records its name (and its `label` config, which a
 * route override can change) in the result metadata under `ran`.
 */
import { allow, definePlugin } from '@cpex/sdk';

export default (config: { label?: string } | null, entry: { name: string }) =>
  definePlugin({
    name: entry.name,
    hooks: {
      tool_pre_invoke() {
        return allow({ [`ran.${entry.name}`]: config?.label ?? true });
      },
    },
  });
