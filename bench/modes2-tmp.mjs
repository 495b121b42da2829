import { PluginManager } from '@cpex/core';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const ALLOW = { continueProcessing: true };
const small = { name: 'calc', args: { x: 1 } };
const mode = process.argv[2];
const m = new PluginManager({ logger: quiet });
for (let i = 0; i < 5; i++) m.registerHook('tool_pre_invoke', async () => ALLOW, { name: `p${i}`, mode });
await m.initialize();
let pend = 0; const hs = [];
for (let i = 0; i < 20000; i++) { const r = await m.invoke('tool_pre_invoke', small); if (i % 1000 === 0) hs.push(r.background); }
console.log('pending handles at end of loop:', hs.map(h => h.pending).join(','));
const v8 = await import('node:v8');
const h = v8.getHeapStatistics(); console.log('heap used MB', (h.used_heap_size/1e6).toFixed(1));
const file = v8.writeHeapSnapshot('/tmp/ff.heapsnapshot');
const fs = await import('node:fs');
const snap = JSON.parse(fs.readFileSync(file, 'utf8'));
const f = snap.snapshot.meta.node_fields; const nf = f.length; const types = snap.snapshot.meta.node_types[0];
const iType = f.indexOf('type'), iName = f.indexOf('name'), iSize = f.indexOf('self_size');
const counts = new Map();
for (let i = 0; i < snap.nodes.length; i += nf) {
  const t = types[snap.nodes[i + iType]]; const n = snap.strings[snap.nodes[i + iName]];
  const k = t + ':' + n; const c = counts.get(k) ?? [0, 0]; c[0]++; c[1] += snap.nodes[i + iSize]; counts.set(k, c);
}
console.log([...counts].sort((a, b) => b[1][1] - a[1][1]).slice(0, 25).map(([k, [c, s]]) => `${k.slice(0,60)} ${c} ${(s/1e6).toFixed(2)}MB`).join('\n'));
