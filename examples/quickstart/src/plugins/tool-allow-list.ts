// Sequential phase: only tools on the allow-list may run. Written as a Plugin subclass with a
// method named after the hook; the manager constructs it with the entry's `config:` block.
import { allow, deny, type PayloadOf, Plugin } from '@cpex/sdk';

export interface AllowListConfig {
  tools: string[];
}

export default class ToolAllowList extends Plugin<AllowListConfig> {
  private allowed = new Set<string>();

  override initialize() {
    this.allowed = new Set(this.config.tools ?? []);
  }

  tool_pre_invoke(payload: PayloadOf<'tool_pre_invoke'>) {
    const tool = String(payload.name);
    if (this.allowed.has(tool)) return allow();
    return deny('tool_not_allowed', `tool "${tool}" is not on the allow-list`, {
      description: `allowed: ${[...this.allowed].join(', ')}`,
      details: { tool },
      httpStatusCode: 403,
    });
  }
}
