/**
 * `cpex routes <config> --tool NAME`: which plugins would run for a request, in which phase and
 * order, and why (matching route and score, groups, overrides). Reads the config only: no plugin
 * is created, no module imported, no host process started.
 */
import { explainRoute, PHASES, type RouteExplanation } from '@cpex/core';
import { parseCommandArgs, positionals } from '../args.js';
import { type CliIo, EXIT, UsageError } from '../io.js';
import { withConfig } from '../load.js';

export const routesHelp = `Usage: cpex routes <config> (--tool NAME | --resource URI | --prompt NAME | --llm MODEL)
                   [--scope S] [--tag T]... [--hook H] [--json]

Explain the routing of one request: every route of the entity type with its score (exact name
1000, list 500, glob 300, * 0; +100 scope, +10 when) and why it matched or not, the winning route,
the groups applied (all, global.defaults, the route's tags and groups, request tags), and per hook
the plugins that would run by phase in execution order with the reference that selected each one
and its config override. With routing_enabled false every plugin of a hook runs; that is said.

Options:
  --tool, --resource, --prompt, --llm   the entity (exactly one)
  --scope S     the request's meta.scope
  --tag T       a request meta tag (repeatable)
  --hook H      show only this hook
  --json        print the explanation as JSON
  -h, --help    show this help

Exit codes: 0 ok, 1 config error, 2 usage error.`;

const ENTITIES = ['tool', 'resource', 'prompt', 'llm'] as const;

function render(x: RouteExplanation, hookFilter: string | undefined): string {
  const out: string[] = [];
  const r = x.request;
  out.push(
    `request: ${r.entity_type} ${JSON.stringify(r.entity_name)}${r.scope !== undefined ? ` scope ${JSON.stringify(r.scope)}` : ''}${r.tags.length ? ` tags ${r.tags.join(',')}` : ''}`,
  );
  if (!x.routingEnabled) {
    out.push('routing: off (plugin_settings.routing_enabled is false): every plugin of a hook runs');
  } else {
    out.push(
      x.route
        ? `route: #${x.route.index} ${JSON.stringify(x.route.match)} score ${x.route.score} (${x.route.why})`
        : 'route: none matched (only the all group and defaults apply)',
    );
    if (x.candidates.length > 0) {
      out.push('candidates:');
      for (const c of x.candidates) {
        const mark = c === x.route ? '*' : ' ';
        out.push(
          `  ${mark} #${c.index} ${JSON.stringify(c.match)}${c.scope !== undefined ? ` scope ${JSON.stringify(c.scope)}` : ''}: ${c.score === null ? 'no match' : `score ${c.score}`} — ${c.why}`,
        );
      }
    }
    out.push(`groups: ${x.groups.length ? x.groups.join(', ') : '(none)'}`);
  }
  const hooks = Object.keys(x.hooks).filter((h) => hookFilter === undefined || h === hookFilter);
  if (hooks.length === 0) out.push('plugins: none would run');
  for (const hook of hooks) {
    out.push(`${hook}:`);
    let n = 0;
    for (const phase of PHASES) {
      for (const p of x.hooks[hook]![phase]) {
        n++;
        const override = p.override ? ` override ${JSON.stringify(p.override)}` : '';
        out.push(`  ${n}. ${phase.padEnd(15)} ${p.name} (priority ${p.priority}) ← ${p.from}${override}`);
      }
    }
  }
  for (const ref of x.refs.filter((f) => f.replaces)) {
    out.push(`note: ${ref.name} from ${ref.from} replaced its reference from ${ref.replaces!.join(', ')}`);
  }
  if (x.missing.length)
    out.push(`note: referenced but not configured (or mode: disabled): ${x.missing.join(', ')}`);
  return out.join('\n');
}

export async function routesCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals: pos } = parseCommandArgs('routes', argv, {
    tool: { type: 'string' },
    resource: { type: 'string' },
    prompt: { type: 'string' },
    llm: { type: 'string' },
    scope: { type: 'string' },
    tag: { type: 'string', multiple: true },
    hook: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    io.out(`${routesHelp}\n`);
    return EXIT.ok;
  }
  const [configPath] = positionals('routes', pos, ['config']) as [string];
  const given = ENTITIES.filter((e) => values[e] !== undefined);
  if (given.length !== 1) {
    throw new UsageError(
      `cpex routes: give exactly one of --tool, --resource, --prompt, --llm (got ${given.length ? given.map((g) => `--${g}`).join(' ') : 'none'}) (see cpex routes --help)`,
    );
  }
  const type = given[0]!;
  const tags = (values as unknown as { tag?: string[] }).tag ?? [];
  return withConfig(configPath, io, async (loaded) => {
    const { manager } = loaded;
    const cfg = manager.config;
    const explanation = explainRoute(
      cfg?.routing ?? { groups: {}, defaults: {}, routes: [] },
      cfg?.entries ?? [],
      {
        entity_type: type,
        entity_name: values[type] as string,
        ...(values.scope !== undefined ? { scope: values.scope } : {}),
        tags,
      },
      manager.settings.routingEnabled,
    );
    if (values.hook !== undefined) {
      for (const h of Object.keys(explanation.hooks)) if (h !== values.hook) delete explanation.hooks[h];
    }
    if (values.json) io.out(`${JSON.stringify(explanation, null, 2)}\n`);
    else {
      for (const w of [...new Set(loaded.warnings)]) io.err(`warning: ${w}\n`);
      io.out(`${render(explanation, values.hook)}\n`);
    }
    return EXIT.ok;
  });
}
