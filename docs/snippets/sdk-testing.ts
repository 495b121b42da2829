// docs/sdk.md: testing plugins against the real executor.
import { allow, definePlugin, deny, Plugin, type PayloadOf } from '@cpex/sdk';
import { expect } from 'vitest';

class AllowList extends Plugin<{ tools: string[] }> {
  tool_pre_invoke(payload: PayloadOf<'tool_pre_invoke'>) {
    const tool = String(payload.name);
    return this.config.tools.includes(tool) ? allow() : deny('tool_not_allowed', `${tool} is not allowed`);
  }
}
const redactor = definePlugin({ name: 'redactor', hooks: { tool_pre_invoke: () => allow() } });

// #region test-manager
import { createTestManager } from '@cpex/sdk/testing';

await using tm = await createTestManager({
  plugins: [
    { plugin: new AllowList({ tools: ['search'] }, { name: 'allow-list' }), entry: { priority: 1 } },
    { plugin: redactor, entry: { mode: 'transform' } },
  ],
  // or config: 'plugins: ...' (YAML text or object) with baseDir, or configFile: 'plugins.yaml'
  settings: { pluginTimeout: 2 },
});
const r = await tm.invoke('tool_pre_invoke', { name: 'rm', args: {} }, { globalContext: { user: 'alice' } });
expect(r.violation?.code).toBe('tool_not_allowed');
// #endregion
