import path from 'node:path';
import {
  type LineupEntry,
  PHASES,
  type Phase,
  type PluginDescription,
  type PluginEntry,
  type PluginManager,
} from '@cpex/core';
import { parseCommandArgs, positionals } from '../args.js';
import { type CliIo, EXIT } from '../io.js';
import { withConfig } from '../load.js';

export const pluginsHelp = `Usage: cpex plugins <config> [--json] [--no-load]
       cpex plugins --discover DIR [--config <config>] [--json]

Show the lineup: for each hook, the phases in execution order (sequential, transform, audit,
concurrent, fire_and_forget) and in each phase the plugins in run order (ascending priority, ties in
config order) with their mode, priority, timeout (seconds), on_error, capabilities and kind.
Plugins with mode: disabled are listed last. Then, for each plugin, how its host runs it (from the
host's describe(), whatever the host): isolation, whether timeouts are pre-emptive or cooperative,
grants, signature state, details (interpreter, pids, module, ...) and notes.

Options:
  --json      print {"hooks": {hook: {phase: [plugin...]}}, "disabled": [...],
              "plugins": {name: description}} instead of a table
  --no-load   compute the lineup from the config alone, without creating plugins (no modules
              imported, no host processes started; no host descriptions)
  --discover DIR  list the native plugin libraries in DIR (@cpex/host-native): whether each is
              signed by a trusted key (plugin_settings.trusted_keys of --config) and loadable
              (manifest, ABI version and interface hash read in a child process; a library whose
              signature fails is never opened)
  -h, --help  show this help

Exit codes: 0 ok, 1 config or plugin load error, 2 usage error.`;

type Lineups = Record<string, Record<Phase, LineupEntry[]>>;

/** The lineup from the config alone: the executor's ordering rule applied to the entries. */
function lineupFromConfig(entries: readonly PluginEntry[], defaultTimeout: number): Lineups {
  const out: Lineups = {};
  entries.forEach((e) => {
    if (e.mode === 'disabled') return;
    for (const hook of e.hooks) {
      out[hook] ??= Object.fromEntries(PHASES.map((p) => [p, []])) as unknown as Record<Phase, LineupEntry[]>;
      out[hook][e.mode].push({
        name: e.name,
        kind: e.kind,
        mode: e.mode,
        priority: e.priority,
        timeout: e.timeout ?? defaultTimeout,
        onError: e.onError,
        capabilities: [...e.capabilities],
        disabled: false,
      });
    }
  });
  // Stable sort: ties keep config order.
  for (const phases of Object.values(out))
    for (const p of PHASES) phases[p].sort((a, b) => a.priority - b.priority);
  return out;
}

function lineupFromManager(manager: PluginManager): Lineups {
  const out: Lineups = {};
  for (const hook of manager.hookNames()) out[hook] = manager.lineup(hook);
  return out;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

type Descriptions = Record<string, PluginDescription>;

function descriptionsOf(manager: PluginManager): Descriptions {
  const out: Descriptions = {};
  for (const name of manager.pluginNames()) {
    const d = manager.describePlugin(name);
    if (d) out[name] = d;
  }
  return out;
}

const scalar = (v: unknown): string =>
  typeof v === 'string' ? v : Array.isArray(v) ? v.map(scalar).join(',') || '-' : JSON.stringify(v);

function renderDescriptions(descriptions: Descriptions): string[] {
  const names = Object.keys(descriptions);
  if (names.length === 0) return [];
  const lines = ['hosts (how each plugin runs)'];
  const rows: string[][] = [['  plugin', 'host', 'isolation', 'timeouts', 'signature']];
  for (const name of names) {
    const d = descriptions[name]!;
    const sig = d.signature
      ? `${d.signature.state}${d.signature.keyId ? ` (${d.signature.keyId})` : ''}`
      : '-';
    rows.push([`  ${name}`, d.host, d.isolation, d.timeouts, sig]);
  }
  lines.push(...table(rows));
  for (const name of names) {
    const d = descriptions[name]!;
    const more: string[] = [];
    if (d.grants && Object.keys(d.grants).length > 0)
      more.push(
        `    grants: ${Object.entries(d.grants)
          .map(([k, v]) => `${k}=${scalar(v)}`)
          .join('  ')}`,
      );
    else if (d.grants) more.push('    grants: none');
    if (d.signature?.detail) more.push(`    signature: ${d.signature.detail}`);
    if (d.details && Object.keys(d.details).length > 0)
      more.push(
        `    details: ${Object.entries(d.details)
          .map(([k, v]) => `${k}=${scalar(v)}`)
          .join('  ')}`,
      );
    for (const n of d.notes ?? []) more.push(`    note: ${n}`);
    if (more.length > 0) lines.push(`  ${name}`, ...more);
  }
  lines.push('');
  return lines;
}

function render(lineups: Lineups, disabled: readonly PluginEntry[]): string {
  const lines: string[] = [];
  const hooks = Object.keys(lineups);
  if (hooks.length === 0) lines.push('(no plugins registered on any hook)');
  for (const hook of hooks) {
    lines.push(hook);
    const rows: string[][] = [
      ['  phase', 'priority', 'plugin', 'timeout', 'on_error', 'capabilities', 'kind'],
    ];
    for (const phase of PHASES) {
      for (const p of lineups[hook]![phase]) {
        rows.push([
          `  ${phase}`,
          String(p.priority),
          p.name + (p.disabled ? ' (disabled at runtime)' : ''),
          `${p.timeout}s`,
          p.onError,
          p.capabilities.length ? p.capabilities.join(',') : '-',
          p.kind,
        ]);
      }
    }
    lines.push(...table(rows), '');
  }
  if (disabled.length > 0) {
    lines.push('disabled (mode: disabled, never created)');
    for (const e of disabled) lines.push(`  ${e.name}  hooks: ${e.hooks.join(', ') || '-'}  kind: ${e.kind}`);
    lines.push('');
  }
  return lines.join('\n');
}

export async function pluginsCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals: pos } = parseCommandArgs('plugins', argv, {
    json: { type: 'boolean' },
    'no-load': { type: 'boolean' },
    discover: { type: 'string' },
    config: { type: 'string' },
  });
  if (values.help) {
    io.out(`${pluginsHelp}\n`);
    return EXIT.ok;
  }
  if (typeof values.discover === 'string')
    return discover(values.discover, values.config, values.json === true, io);
  const [configPath] = positionals('plugins', pos, ['config']) as [string];
  return withConfig(configPath, io, async (loaded) => {
    const { manager } = loaded;
    const entries = manager.config?.entries ?? [];
    let lineups: Lineups;
    let descriptions: Descriptions | undefined;
    if (values['no-load']) {
      lineups = lineupFromConfig(entries, manager.settings.pluginTimeout);
    } else {
      await manager.initialize();
      lineups = lineupFromManager(manager);
      descriptions = descriptionsOf(manager);
    }
    const disabled = entries.filter((e) => e.mode === 'disabled');
    if (values.json) {
      const hooks = Object.fromEntries(
        Object.entries(lineups).map(([hook, phases]) => [
          hook,
          Object.fromEntries(
            PHASES.map((p) => [
              p,
              phases[p].map((e) => ({
                name: e.name,
                mode: e.mode,
                priority: e.priority,
                timeout: e.timeout,
                on_error: e.onError,
                capabilities: e.capabilities,
                kind: e.kind,
                disabled: e.disabled,
              })),
            ]),
          ),
        ]),
      );
      io.out(
        `${JSON.stringify(
          {
            hooks,
            disabled: disabled.map((e) => ({ name: e.name, hooks: e.hooks, kind: e.kind })),
            ...(descriptions ? { plugins: descriptions } : {}),
          },
          null,
          2,
        )}\n`,
      );
    } else {
      for (const w of [...new Set(loaded.warnings)]) io.err(`warning: ${w}\n`);
      io.out(`${render(lineups, disabled)}\n`);
      if (descriptions) io.out(`${renderDescriptions(descriptions).join('\n')}\n`);
    }
    return EXIT.ok;
  });
}

/** `cpex plugins --discover DIR`: what a native search path holds (needs @cpex/host-native). */
async function discover(
  dir: string,
  configPath: string | undefined,
  json: boolean,
  io: CliIo,
): Promise<number> {
  let mod: {
    discoverNativePlugins?: (
      d: string,
      o: { trustedKeys?: string[]; requireSignature?: boolean },
    ) => Promise<Array<Record<string, unknown>>>;
  };
  try {
    mod = (await import('@cpex/host-native')) as unknown as typeof mod;
  } catch {
    io.err(
      'error CPEX_ERR_HOST_UNAVAILABLE: cpex plugins --discover needs @cpex/host-native (pnpm add @cpex/host-native)\n',
    );
    return EXIT.config;
  }
  return withConfig(configPath || undefined, io, async (loaded) => {
    const trustedKeys = loaded?.manager.settings.trustedKeys ?? [];
    const requireSignature = loaded?.manager.settings.requireSignature ?? false;
    const rows = await mod.discoverNativePlugins!(path.resolve(io.cwd, dir), {
      trustedKeys,
      requireSignature,
    });
    if (json) io.out(`${JSON.stringify({ libraries: rows }, null, 2)}\n`);
    else if (rows.length === 0) io.out(`(no native libraries in ${dir})\n`);
    else {
      const lines = table([
        ['library', 'loadable', 'signature', 'name', 'version', 'hooks / error'],
        ...rows.map((r) => {
          const m = r.manifest as { name?: string; version?: string; hooks?: string[] } | undefined;
          const err = r.error as { code?: string; message?: string } | undefined;
          return [
            path.relative(io.cwd, String(r.path)),
            r.loadable ? 'yes' : 'no',
            `${r.signature}${r.keyId ? ` (${r.keyId})` : ''}`,
            m?.name ?? '-',
            m?.version ?? '-',
            r.loadable ? (m?.hooks ?? []).join(', ') : `${err?.code ?? ''} ${err?.message ?? ''}`,
          ];
        }),
      ]);
      io.out(`${lines.join('\n')}\n`);
    }
    return EXIT.ok;
  });
}
