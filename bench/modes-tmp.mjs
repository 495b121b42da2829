import { PluginManager } from '@cpex/core';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const ALLOW = { continueProcessing: true };
const small = { name: 'calc', args: { x: 1 } };
for (const mode of process.argv.slice(2)) {
  const m = new PluginManager({ logger: quiet });
  for (let i = 0; i < 5; i++) m.registerHook('tool_pre_invoke', async () => ALLOW, { name: `p${i}`, mode });
  await m.initialize();
  for (let i = 0; i < 5000; i++) await m.invoke('tool_pre_invoke', small);
  const n = 50000; const c0 = process.cpuUsage(); const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await m.invoke('tool_pre_invoke', small);
  const wall = Number(process.hrtime.bigint() - t) / n / 1000; const cpu = process.cpuUsage(c0); 
  console.log(mode, 'wall µs', wall.toFixed(2), 'cpu µs', ((cpu.user + cpu.system) / n).toFixed(2));
  await m.shutdown();
}
