import { ConfigError } from '@cpex/core';
import { parseCommandArgs, positionals } from '../args.js';
import { type CliIo, EXIT } from '../io.js';
import { reportError, withConfig } from '../load.js';

export const validateHelp = `Usage: cpex validate <config> [--schema-only] [--json]

Check a plugin config: YAML 1.2 syntax, the schema (every issue with its YAML path), and - unless
--schema-only - that every plugin can be created and initialized (modules found, exports of the right
shape, hooks implemented, hosts installed). Plugins are shut down again afterwards.

Options:
  --schema-only   only parse and validate the file; do not create plugins
  --json          print {"ok", "plugins", "hooks", "warnings"} or {"ok": false, "errors": [...]}
  -h, --help      show this help

Exit codes: 0 valid, 1 invalid (coded errors on stderr), 2 usage error.`;

export async function validateCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals: pos } = parseCommandArgs('validate', argv, {
    'schema-only': { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    io.out(`${validateHelp}\n`);
    return EXIT.ok;
  }
  const [configPath] = positionals('validate', pos, ['config']) as [string];
  const report = (e: unknown) => {
    if (values.json) io.out(`${JSON.stringify({ ok: false, errors: errorsAsJson(e) })}\n`);
    else reportError(e, io);
  };
  return withConfig(
    configPath,
    io,
    async (loaded) => {
      const { manager } = loaded;
      const entries = manager.config?.entries ?? [];
      let hooks = [...new Set(entries.filter((e) => e.mode !== 'disabled').flatMap((e) => e.hooks))];
      if (!values['schema-only']) {
        await manager.initialize();
        hooks = manager.hookNames();
        // With fail_on_plugin_error: false the manager skips plugins that fail to load; a validator
        // must not call that valid.
        const running = new Set(manager.pluginNames());
        const skipped = entries.filter((e) => e.mode !== 'disabled' && !running.has(e.name));
        if (skipped.length > 0) {
          const why = (name: string) =>
            manager.warnings.find((w) => w.includes(`"${name}"`) || w.includes(` ${name} `));
          throw new ConfigError(
            'CPEX_ERR_PLUGIN_LOAD',
            `${skipped.length} plugin(s) failed to load and were skipped (fail_on_plugin_error: false)`,
            {
              ...(loaded.file ? { file: loaded.file } : {}),
              issues: skipped.map((e) => ({
                path: `plugins[${entries.indexOf(e)}]`,
                message: `plugin ${e.name} was skipped: ${why(e.name)?.replace(/^skipped: /, '') ?? 'it failed to load'}`,
              })),
            },
          );
        }
      }
      const active = entries.filter((e) => e.mode !== 'disabled').length;
      const warnings = [...new Set(loaded.warnings)];
      if (values.json) {
        io.out(
          `${JSON.stringify({ ok: true, plugins: active, disabled: entries.length - active, hooks, warnings })}\n`,
        );
      } else {
        for (const w of warnings) io.err(`warning: ${w}\n`);
        const disabled = entries.length - active;
        io.out(
          `ok: ${active} plugin${active === 1 ? '' : 's'}${disabled ? ` (+${disabled} disabled)` : ''} on ${hooks.length} hook${hooks.length === 1 ? '' : 's'}${values['schema-only'] ? ' (schema only)' : ''}\n`,
        );
      }
      return EXIT.ok;
    },
    report,
  );
}

function errorsAsJson(e: unknown): Record<string, unknown>[] {
  const err = e as {
    code?: string;
    issues?: ReadonlyArray<{ path: string; message: string }>;
    file?: string;
    plugin?: string;
    message?: string;
  };
  if (err.issues && err.issues.length > 0) {
    return err.issues.map((i) => ({
      code: err.code,
      path: i.path,
      message: i.message,
      ...(err.file ? { file: err.file } : {}),
    }));
  }
  return [
    {
      code: err.code ?? 'error',
      message: err.message ?? String(e),
      ...(err.plugin ? { plugin: err.plugin } : {}),
      ...(err.file ? { file: err.file } : {}),
    },
  ];
}
