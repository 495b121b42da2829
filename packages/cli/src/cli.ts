/**
 * The `cpex` command: a table of subcommands. Installed hosts and the ffi add their own
 * (`cpex serve`, ...) by exporting `cliCommands` from `<package>/cli`.
 */
import { readFileSync } from 'node:fs';
import { invokeCommand, invokeHelp } from './commands/invoke.js';
import { pluginsCommand, pluginsHelp } from './commands/plugins.js';
import { routesCommand, routesHelp } from './commands/routes.js';
import { validateCommand, validateHelp } from './commands/validate.js';
import { type CliIo, EXIT, formatError, UsageError } from './io.js';

/** A `cpex` subcommand. Host packages export `cliCommands: CliCommand[]` from `<package>/cli`. */
export interface CliCommand {
  name: string;
  /** One line for `cpex --help`. */
  summary: string;
  help: string;
  /** Returns the exit code. */
  run(argv: string[], io: CliIo): Promise<number>;
}

const BUILTIN: CliCommand[] = [
  {
    name: 'validate',
    summary: 'check a config (schema, modules, hooks); exit 1 with coded errors',
    help: validateHelp,
    run: validateCommand,
  },
  {
    name: 'invoke',
    summary: 'run one hook through the pipeline and print the PipelineResult as JSON',
    help: invokeHelp,
    run: invokeCommand,
  },
  {
    name: 'plugins',
    summary: 'show the lineup per hook and phase (mode, priority, timeout, capabilities)',
    help: pluginsHelp,
    run: pluginsCommand,
  },
  {
    name: 'routes',
    summary: 'explain which plugins run for a request and why',
    help: routesHelp,
    run: routesCommand,
  },
];

/** Packages whose `/cli` entry may contribute subcommands when installed. */
const EXTENSION_PACKAGES = ['@cpex/ffi', '@cpex/host-python', '@cpex/host-wasm', '@cpex/host-native'];

async function installedCommands(): Promise<CliCommand[]> {
  const found: CliCommand[] = [];
  for (const pkg of EXTENSION_PACKAGES) {
    try {
      const mod = (await import(`${pkg}/cli`)) as { cliCommands?: CliCommand[] };
      if (Array.isArray(mod.cliCommands))
        found.push(...mod.cliCommands.filter((c) => typeof c?.run === 'function'));
    } catch {
      // not installed, or contributes no commands
    }
  }
  return found;
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function topHelp(commands: readonly CliCommand[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `Usage: cpex <command> [options]

CPEX plugin configs from the command line.

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}
  ${'help'.padEnd(width)}  show help for a command (cpex help <command>, or cpex <command> --help)

Options:
  -h, --help     show this help
  -v, --version  print the version

Exit codes: 0 ok, 1 invalid config or plugin load error, 2 usage error,
            3 (invoke) the pipeline halted.
Docs: README.md of @cpex/cli (shipped with this package); the full manual is docs/cli.md\nin the cpex-ts repository.`;
}

/** Options of `runCli`. */
export interface RunCliOptions {
  /** Extra subcommands (e.g. a gateway embedding the CLI); they come after the built-in ones. */
  commands?: readonly CliCommand[];
}

/**
 * Run the CLI with `argv` (without `node` and the script) and return the exit code.
 *
 * @example
 * process.exitCode = await runCli(['validate', 'plugins.yaml'], nodeIo());
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  options: RunCliOptions = {},
): Promise<number> {
  const [first, ...rest] = argv;
  const given = options.commands ?? [];
  // A command given by the caller wins over an installed package's command of the same name.
  const extensionCommands = async () => {
    const names = new Set(given.map((c) => c.name));
    return [...given, ...(await installedCommands()).filter((c) => !names.has(c.name))];
  };
  try {
    if (first === undefined || first === '-h' || first === '--help') {
      const all = [...BUILTIN, ...(await extensionCommands())];
      (first === undefined ? io.err : io.out)(`${topHelp(all)}\n`);
      return first === undefined ? EXIT.usage : EXIT.ok;
    }
    if (first === '-v' || first === '--version') {
      io.out(`${version()}\n`);
      return EXIT.ok;
    }
    if (first === 'help') {
      const name = rest[0];
      const all = [...BUILTIN, ...(await extensionCommands())];
      if (name === undefined) {
        io.out(`${topHelp(all)}\n`);
        return EXIT.ok;
      }
      const cmd = all.find((c) => c.name === name);
      if (!cmd)
        throw new UsageError(
          `cpex help: unknown command "${name}" (commands: ${all.map((c) => c.name).join(', ')})`,
        );
      io.out(`${cmd.help}\n`);
      return EXIT.ok;
    }
    let cmd = BUILTIN.find((c) => c.name === first);
    if (!cmd) {
      const ext = await extensionCommands();
      cmd = ext.find((c) => c.name === first);
      if (!cmd) {
        const names = [...BUILTIN, ...ext].map((c) => c.name).join(', ');
        const hint = first.startsWith('-') ? `unknown option "${first}"` : `unknown command "${first}"`;
        throw new UsageError(`cpex: ${hint} (commands: ${names}; see cpex --help)`);
      }
    }
    return await cmd.run([...rest], io);
  } catch (e) {
    for (const line of formatError(e, io.cwd)) io.err(`${line}\n`);
    return e instanceof UsageError ? EXIT.usage : EXIT.config;
  }
}

/** `CliIo` over the real process streams. */
export function nodeIo(): CliIo {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    cwd: process.cwd(),
    env: process.env,
  };
}
