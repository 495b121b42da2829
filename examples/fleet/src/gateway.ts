/**
 * One gateway replica: a PluginManager with the Redis session store and fleet reload. Requests
 * arrive as JSON lines on stdin ({subject, session, tool}); results leave as JSON lines on stdout.
 * (A real gateway would take them over HTTP/MCP; the CPEX part is the same.)
 */
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PluginManager } from '@cpex/core';
import { FleetReload, RedisSessionStore } from '@cpex/session-redis';

const [name = 'gateway', redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'] =
  process.argv.slice(2);
const configFile = path.join(path.dirname(fileURLToPath(import.meta.url)), '../config.yaml');

const sessionStore = new RedisSessionStore({ endpoint: redisUrl, ttlSeconds: 24 * 3600 });
const manager = new PluginManager({ sessionStore });
await manager.loadConfig(configFile);
await manager.initialize();
const fleet = await FleetReload.start(manager, { endpoint: redisUrl, file: configFile, replicaId: name });
process.stdout.write(`${JSON.stringify({ ready: name, config: fleet.status().hash })}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  const req = JSON.parse(line) as { subject: string; session: string; tool: string };
  const r = await manager.invoke(
    'tool_pre_invoke',
    { name: req.tool, args: {} },
    { extensions: { agent: { session_id: req.session }, security: { subject: { id: req.subject } } } },
  );
  process.stdout.write(
    `${JSON.stringify({ gateway: name, tool: req.tool, allowed: r.continueProcessing, violation: r.violation?.code ?? null })}\n`,
  );
}
await fleet.close();
await manager.shutdown();
await sessionStore.close();
