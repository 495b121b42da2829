/**
 * Routing example: the same hook, different tools, different plugins.
 * Run: pnpm --filter @cpex/example-routing start
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PluginManager } from '@cpex/core';

const here = path.dirname(fileURLToPath(import.meta.url));

export async function route(
  tools: Array<{ tool: string; scope?: string }>,
): Promise<Array<{ tool: string; ran: Record<string, unknown> }>> {
  const manager = new PluginManager();
  await manager.loadConfig(path.join(here, '../config.yaml'));
  await manager.initialize();
  const out: Array<{ tool: string; ran: Record<string, unknown> }> = [];
  for (const { tool, scope } of tools) {
    const r = await manager.invoke(
      'tool_pre_invoke',
      { name: tool, args: {} },
      { extensions: { meta: { entity_type: 'tool', entity_name: tool, ...(scope ? { scope } : {}) } } },
    );
    const ran = Object.fromEntries(
      Object.entries(r.metadata)
        .filter(([k]) => k.startsWith('ran.'))
        .map(([k, v]) => [k.slice(4), v]),
    );
    out.push({ tool, ran });
  }
  await manager.shutdown();
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const { tool, ran } of await route([
    { tool: 'send_email' },
    { tool: 'send_sms' },
    { tool: 'search' },
  ])) {
    console.log(
      `${tool.padEnd(12)} → ${Object.entries(ran)
        .map(([k, v]) => (v === true ? k : `${k}(${String(v)})`))
        .join(', ')}`,
    );
  }
}
