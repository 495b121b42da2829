/**
 * Child process of `pnpm bench --only wasm` (bench/src/wasm.ts): one load of a component, in a
 * fresh process, as a gateway starting up does it — read, check, transpile (cold) or read the
 * transpile cache (cached), glue, compile, instantiate — through the host's own path
 * (`factory.create` + `initialize`, `isolation: none`). Prints one JSON line:
 * `{"ms": <the load>, "again": <a second entry with the same file in the same process>}`. Then
 * it makes one untimed call, as a gateway would: that writes the glue's V8 code cache (once).
 *
 * Usage: node wasm-load.js <component.wasm> <cacheDir>
 */
import { createWasmHost } from '@cpex/host-wasm';
import { benchContext, benchEntry, benchFactoryContext } from './harness.js';

const [file, cacheDir] = process.argv.slice(2);
if (!file || !cacheDir) throw new Error('usage: wasm-load <component.wasm> <cacheDir>');

const ctx = benchFactoryContext(process.cwd());
const host = createWasmHost({ cacheDir, isolation: 'none' });
const load = async (name: string) => {
  const t = process.hrtime.bigint();
  const p = await host.factory.create(
    benchEntry(name, `wasm://${file}`, 'tool_pre_invoke', null, 'none'),
    ctx,
  );
  await p.initialize?.();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, plugin: p };
};
const { ms, plugin } = await load('first');
const again = (await load('again')).ms;
await plugin.handler('tool_pre_invoke')?.(
  { name: 'search', args: { q: 'weather in Paris' } },
  benchContext('first', 'tool_pre_invoke'),
  undefined,
);
await host.dispose();
process.stdout.write(`${JSON.stringify({ ms, again })}\n`);
