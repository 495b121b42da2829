/**
 * Hot reload: content-hash guard, one atomic swap (in-flight calls finish on the old lineup),
 * unchanged plugins keep their instances, removed ones shut down after draining, rejected configs
 * leave the old lineup serving (coded error + event), and the directory watch (edit, rename-over,
 * ConfigMap symlink swap).
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type PluginEntry,
  type PluginFactory,
  PluginManager,
  type ReloadEvent,
  type ReloadResult,
} from '../../src/index.js';

interface Life {
  created: string[];
  initialized: string[];
  shutdown: string[];
}

/** Plugins that append `name[:config.tag]` to globalContext.state.ran; `gate` plugins wait for release. */
function recorder(life: Life, gates: Map<string, Promise<void>> = new Map()): PluginFactory {
  return {
    async create(entry: PluginEntry) {
      life.created.push(entry.name);
      if (entry.config?.fail_init) {
        return {
          host: { supportsTimeouts: 'cooperative', isolated: false, copiesPayloads: false },
          initialize: async () => {
            throw new Error('boom at initialize');
          },
          handler: () => undefined,
        };
      }
      const handler = async (_p: unknown, ctx: { globalContext: { state: Record<string, unknown> } }) => {
        const gate = gates.get(entry.name);
        if (gate) await gate;
        const tag =
          entry.config?.tag !== undefined ? `${entry.name}:${String(entry.config.tag)}` : entry.name;
        ctx.globalContext.state.ran = [...((ctx.globalContext.state.ran as string[]) ?? []), tag];
        return {};
      };
      return {
        host: { supportsTimeouts: 'cooperative', isolated: false, copiesPayloads: false },
        initialize: async () => {
          life.initialized.push(entry.name);
        },
        shutdown: async () => {
          life.shutdown.push(entry.name);
        },
        handler: (hook: string) => (entry.hooks.includes(hook) ? handler : undefined),
      };
    },
  };
}

const yaml = (
  plugins: Array<{ name: string; tag?: string; priority?: number; fail?: boolean }>,
  extra = '',
) =>
  `plugins:\n${plugins
    .map(
      (p) =>
        `  - name: ${p.name}\n    kind: rec\n    hooks: [tool_pre_invoke]\n    priority: ${p.priority ?? 10}\n    config: {${p.tag ? `tag: ${p.tag}` : ''}${p.fail ? 'fail_init: true' : ''}}`,
    )
    .join('\n')}\n${extra}`;

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const managers: PluginManager[] = [];
afterEach(async () => {
  await Promise.allSettled(managers.splice(0).map((m) => m.shutdown()));
});

async function started(text: string, life: Life, gates?: Map<string, Promise<void>>) {
  const m = new PluginManager({ logger: quiet });
  managers.push(m);
  m.registerFactory('rec', recorder(life, gates));
  await m.loadConfigText(text);
  await m.initialize();
  return m;
}

async function ranNames(m: PluginManager): Promise<string[]> {
  const gc = { requestId: `r${Math.random()}`, state: {} as Record<string, unknown>, metadata: {} };
  await m.invoke('tool_pre_invoke', { name: 't', args: {} }, { globalContext: gc });
  return (gc.state.ran as string[]) ?? [];
}

describe('manager.reload', () => {
  it('swaps the lineup: unchanged plugins keep their instance, changed ones are re-created, removed ones shut down', async () => {
    const life: Life = { created: [], initialized: [], shutdown: [] };
    const m = await started(yaml([{ name: 'a' }, { name: 'b', tag: 'v1' }, { name: 'c' }]), life);
    expect(await ranNames(m)).toEqual(['a', 'b:v1', 'c']);
    const r = await m.reload({ text: yaml([{ name: 'a' }, { name: 'b', tag: 'v2' }, { name: 'd' }]) });
    expect(r).toMatchObject({ status: 'reloaded', added: ['b', 'd'], kept: ['a'], removed: ['b', 'c'] });
    expect(r.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(m.configHash).toBe(r.hash);
    await r.drained;
    expect(life.initialized).toEqual(['a', 'b', 'c', 'b', 'd']); // a was not re-initialized
    expect(life.shutdown.sort()).toEqual(['b', 'c']);
    expect(await ranNames(m)).toEqual(['a', 'b:v2', 'd']);
    expect(m.pluginNames()).toEqual(['a', 'b', 'd']);
  });

  it('is a no-op when the content hash is unchanged, from the first reload on (loadConfig records the hash)', async () => {
    const life: Life = { created: [], initialized: [], shutdown: [] };
    const text = yaml([{ name: 'a' }]);
    const m = await started(text, life);
    expect(m.configHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const first = await m.reload({ text });
    expect(first).toMatchObject({ status: 'unchanged', added: [], kept: [], removed: [] });
    expect(first.hash).toBe(m.configHash);
    expect(life.initialized).toEqual(['a']);
    const again = await m.reload({ text });
    expect(again).toMatchObject({ status: 'unchanged', added: [], removed: [] });
    expect(life.created).toEqual(['a']);
  });

  it('records the hash for file, text and object sources; the same content reloads as unchanged across source kinds', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cpex-hash-'));
    try {
      const text = yaml([{ name: 'a' }]);
      const file = path.join(dir, 'plugins.yaml');
      writeFileSync(file, text);
      const object = {
        plugins: [{ name: 'a', kind: 'rec', hooks: ['tool_pre_invoke'], priority: 10, config: {} }],
      };
      const events: ReloadEvent[] = [];
      const onEvent = (e: unknown) => events.push(e as ReloadEvent);
      diagnostics_channel.subscribe('cpex:reload', onEvent);
      try {
        // [how the manager loads, what reloads it] — a file and its text hash alike (the bytes),
        // an object hashes its canonical JSON.
        const cases: Array<[(m: PluginManager) => Promise<void>, Parameters<PluginManager['reload']>[0]]> = [
          [(m) => m.loadConfig(file), file],
          [(m) => m.loadConfig(new URL(`file://${file}`)), { text }],
          [(m) => m.loadConfigText(text), file],
          [(m) => m.loadConfig(object as never), { config: structuredClone(object) }],
        ];
        for (const [load, source] of cases) {
          const life: Life = { created: [], initialized: [], shutdown: [] };
          const m = new PluginManager({ logger: quiet });
          managers.push(m);
          m.registerFactory('rec', recorder(life));
          await load(m);
          await m.initialize();
          const hash = m.configHash;
          expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
          const same = await m.reload(source);
          expect(same).toMatchObject({ status: 'unchanged', hash });
          expect(events.at(-1)).toMatchObject({ manager: m, status: 'unchanged', hash });
          expect(life.created).toEqual(['a']);
        }
      } finally {
        diagnostics_channel.unsubscribe('cpex:reload', onEvent);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has no single hash after a second loadConfig merged another source: the next reload diffs', async () => {
    const life: Life = { created: [], initialized: [], shutdown: [] };
    const m = new PluginManager({ logger: quiet });
    managers.push(m);
    m.registerFactory('rec', recorder(life));
    const text = yaml([{ name: 'a' }]);
    await m.loadConfigText(text);
    await m.loadConfigText(yaml([{ name: 'b' }]));
    await m.initialize();
    expect(m.configHash).toBeUndefined();
    const r = await m.reload({ text });
    expect(r).toMatchObject({ status: 'reloaded', kept: ['a'], removed: ['b'] });
    expect(m.configHash).toBe(r.hash);
  });

  it('lets invocations in flight finish on the old lineup while new ones get the new lineup', async () => {
    const life: Life = { created: [], initialized: [], shutdown: [] };
    let release!: () => void;
    const gates = new Map([['slow', new Promise<void>((r) => (release = r))]]);
    const m = await started(
      yaml([
        { name: 'slow', priority: 1 },
        { name: 'old', priority: 2 },
      ]),
      life,
      gates,
    );
    const gcOld = { requestId: 'old', state: {} as Record<string, unknown>, metadata: {} };
    const inFlight = m.invoke('tool_pre_invoke', { name: 't', args: {} }, { globalContext: gcOld });
    const r = await m.reload({
      text: yaml([
        { name: 'slow', priority: 1 },
        { name: 'new', priority: 2 },
      ]),
    });
    expect(r).toMatchObject({ kept: ['slow'], added: ['new'], removed: ['old'] });
    // The removed plugin is not shut down while the old invocation can still reach it.
    await new Promise((res) => setTimeout(res, 20));
    expect(life.shutdown).toEqual([]);
    gates.delete('slow');
    const fresh = await ranNames(m);
    expect(fresh).toEqual(['slow', 'new']);
    release();
    const old = await inFlight;
    expect(old.continueProcessing).toBe(true);
    expect(gcOld.state.ran).toEqual(['slow', 'old']);
    await r.drained;
    expect(life.shutdown).toEqual(['old']);
  });

  it('a config that fails validation or initialize leaves the old lineup serving, with CPEX_ERR_RELOAD and an event', async () => {
    const life: Life = { created: [], initialized: [], shutdown: [] };
    const m = await started(yaml([{ name: 'a' }]), life);
    const events: ReloadEvent[] = [];
    const sub = (msg: unknown) => events.push(msg as ReloadEvent);
    diagnostics_channel.subscribe('cpex:reload', sub);
    try {
      await expect(m.reload({ text: 'plugins: [{name: x}]' })).rejects.toMatchObject({
        code: 'CPEX_ERR_RELOAD',
        cause: expect.objectContaining({ code: 'CPEX_ERR_CONFIG_INVALID' }),
      });
      await expect(
        m.reload({ text: yaml([{ name: 'a' }, { name: 'n' }, { name: 'bad', fail: true }]) }),
      ).rejects.toMatchObject({
        code: 'CPEX_ERR_RELOAD',
        plugin: 'bad',
      });
      expect(life.shutdown).toEqual(['n']); // created for the failed reload, shut down again
      expect(await ranNames(m)).toEqual(['a']);
      expect(events.map((e) => e.status)).toEqual(['failed', 'failed']);
      expect(events[1]!.error?.message).toContain('previous config keeps serving');
      const ok = await m.reload({ text: yaml([{ name: 'a' }, { name: 'n' }]) });
      expect(ok.status).toBe('reloaded');
      expect(events.at(-1)).toMatchObject({ status: 'reloaded', added: ['n'], kept: ['a'] });
    } finally {
      diagnostics_channel.unsubscribe('cpex:reload', sub);
    }
  });

  it('keeps in-code registrations and refuses config names that clash with them', async () => {
    const life: Life = { created: [], initialized: [], shutdown: [] };
    const m = await started(yaml([{ name: 'a' }]), life);
    m.registerHook('tool_pre_invoke', () => ({}), { name: 'code', priority: 100 });
    await m.reload({ text: yaml([{ name: 'b' }]) });
    expect(m.pluginNames().sort()).toEqual(['b', 'code']);
    await expect(m.reload({ text: yaml([{ name: 'code' }]) })).rejects.toMatchObject({
      code: 'CPEX_ERR_RELOAD',
    });
  });

  it('applies the new plugin_settings and routes', async () => {
    const life: Life = { created: [], initialized: [], shutdown: [] };
    const m = await started(yaml([{ name: 'a' }, { name: 'b' }]), life);
    const routed = yaml(
      [{ name: 'a' }, { name: 'b' }],
      'plugin_settings: {routing_enabled: true}\nroutes:\n  - tool: search\n    plugins: [{b: {config: {tag: routed}}}]\n',
    );
    await m.reload({ text: routed });
    expect(m.settings.routingEnabled).toBe(true);
    const gc = { requestId: 'x', state: {} as Record<string, unknown>, metadata: {} };
    await m.invoke(
      'tool_pre_invoke',
      { name: 'search', args: {} },
      {
        globalContext: gc,
        extensions: { meta: { entity_type: 'tool', entity_name: 'search' } },
      },
    );
    expect(gc.state.ran).toEqual(['b:routed']);
  });
});

describe('manager.watchConfig', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const next = (m: { results: ReloadResult[] }, n: number) =>
    new Promise<void>((resolve, reject) => {
      const t0 = Date.now();
      const tick = () => {
        if (m.results.length >= n) return resolve();
        if (Date.now() - t0 > 30_000) return reject(new Error(`no reload #${n} within 30 s`));
        setTimeout(tick, 20);
      };
      tick();
    });

  it('sees in-place edits, rename-over saves and ConfigMap-style symlink swaps', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cpex-watch-'));
    // ConfigMap layout: config.yaml -> ..data/config.yaml, ..data -> ..v1
    mkdirSync(path.join(dir, '..v1'));
    writeFileSync(path.join(dir, '..v1/config.yaml'), yaml([{ name: 'a' }]));
    symlinkSync('..v1', path.join(dir, '..data'));
    symlinkSync('..data/config.yaml', path.join(dir, 'config.yaml'));
    const life: Life = { created: [], initialized: [], shutdown: [] };
    const m = new PluginManager({ logger: quiet });
    managers.push(m);
    m.registerFactory('rec', recorder(life));
    await m.loadConfig(path.join(dir, 'config.yaml'));
    await m.initialize();
    const seen = { results: [] as ReloadResult[] };
    const watch = m.watchConfig(path.join(dir, 'config.yaml'), {
      debounceMs: 30,
      pollMs: 0, // events only: this test is about what the watch sees
      onReload: (r) => seen.results.push(r),
    });
    try {
      // The baseline check finds what loadConfig loaded: unchanged, so no onReload.
      expect(await watch.check()).toMatchObject({ status: 'unchanged' });
      expect(seen.results).toEqual([]);

      // 1. Kubernetes swap: new ..v2 dir, new ..data symlink renamed over the old one.
      mkdirSync(path.join(dir, '..v2'));
      writeFileSync(path.join(dir, '..v2/config.yaml'), yaml([{ name: 'a' }, { name: 'b' }]));
      symlinkSync('..v2', path.join(dir, '..data_tmp'));
      renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
      await next(seen, 1);
      expect(seen.results[0]).toMatchObject({ added: ['b'], kept: ['a'] });

      // 2. An editor's save: write a temp file and rename it over the target (here: the real file).
      writeFileSync(path.join(dir, '..v2/.config.yaml.swp'), yaml([{ name: 'b' }]));
      renameSync(path.join(dir, '..v2/.config.yaml.swp'), path.join(dir, '..v2/config.yaml'));
      // The rename happened under ..v2 (not the watched directory): the top-level swap or a poll
      // would normally announce it; check() is what the poll calls.
      await watch.check();
      await next(seen, 2);
      expect(seen.results[1]).toMatchObject({ removed: ['a'], kept: ['b'] });

      // 3. In-place edit of a plain file in the watched directory.
      rmSync(path.join(dir, 'config.yaml'));
      writeFileSync(path.join(dir, 'config.yaml'), yaml([{ name: 'b', tag: 'x' }]));
      await next(seen, 3);
      writeFileSync(path.join(dir, 'config.yaml'), yaml([{ name: 'b', tag: 'y' }]));
      await next(seen, 4);
      expect(await ranNames(m)).toEqual(['b:y']);

      // An unchanged touch (same bytes written again): the watch reloads, the guard says unchanged.
      const unchanged: ReloadEvent[] = [];
      const onEvent = (e: unknown) => {
        if ((e as ReloadEvent).status === 'unchanged') unchanged.push(e as ReloadEvent);
      };
      diagnostics_channel.subscribe('cpex:reload', onEvent);
      try {
        writeFileSync(path.join(dir, 'config.yaml'), yaml([{ name: 'b', tag: 'y' }]));
        const t1 = Date.now();
        while (unchanged.length === 0 && Date.now() - t1 < 30_000)
          await new Promise((r) => setTimeout(r, 20));
        expect(unchanged[0]).toMatchObject({ manager: m, hash: m.configHash });
        expect(seen.results).toHaveLength(4); // no onReload for it
      } finally {
        diagnostics_channel.unsubscribe('cpex:reload', onEvent);
      }

      // A broken save is rejected and the last good config keeps serving.
      writeFileSync(path.join(dir, 'config.yaml'), 'plugins: [{name: broken}]');
      const t0 = Date.now();
      while (!watch.lastError && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 20));
      expect(watch.lastError?.code).toBe('CPEX_ERR_RELOAD');
      expect(await ranNames(m)).toEqual(['b:y']);
    } finally {
      watch.close();
    }
  });

  it('is closed by shutdown()', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cpex-watch-'));
    writeFileSync(path.join(dir, 'config.yaml'), yaml([{ name: 'a' }]));
    const life: Life = { created: [], initialized: [], shutdown: [] };
    const m = new PluginManager({ logger: quiet });
    m.registerFactory('rec', recorder(life));
    await m.loadConfig(path.join(dir, 'config.yaml'));
    await m.initialize();
    const watch = m.watchConfig(path.join(dir, 'config.yaml'), { debounceMs: 10, pollMs: 0 });
    await watch.check();
    await m.shutdown();
    expect(await watch.check()).toBeUndefined(); // closed: no reload attempted
    expect(() => m.watchConfig(path.join(dir, 'config.yaml'))).toThrow(
      expect.objectContaining({ code: 'CPEX_ERR_SHUT_DOWN' }),
    );
  });
});
