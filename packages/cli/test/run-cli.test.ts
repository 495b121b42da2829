// runCli in-process: the programmatic entry and subcommands contributed by other packages.
import { describe, expect, it } from 'vitest';
import { type CliCommand, EXIT, runCli } from '../src/index.js';
import { capture } from './capture.js';

const serve: CliCommand = {
  name: 'serve',
  summary: 'serve a manager over a socket',
  help: 'Usage: cpex serve <config>',
  async run(argv, io) {
    io.out(`serving ${argv.join(' ')}\n`);
    return argv.length === 1 ? EXIT.ok : EXIT.usage;
  },
};

describe('runCli with contributed commands', () => {
  it('lists them in --help, shows their help and runs them with the rest of argv', async () => {
    const help = capture();
    expect(await runCli(['--help'], help, { commands: [serve] })).toBe(0);
    expect(help.stdout).toMatch(/ {2}serve +serve a manager over a socket/);
    const h = capture();
    expect(await runCli(['help', 'serve'], h, { commands: [serve] })).toBe(0);
    expect(h.stdout).toBe('Usage: cpex serve <config>\n');
    const run = capture();
    expect(await runCli(['serve', 'cfg.yaml'], run, { commands: [serve] })).toBe(0);
    expect(run.stdout).toBe('serving cfg.yaml\n');
    expect(await runCli(['serve'], capture(), { commands: [serve] })).toBe(EXIT.usage);
  });

  it('built-in commands win over a contributed one of the same name; unknown names stay usage errors', async () => {
    const fake: CliCommand = { ...serve, name: 'validate' };
    const io = capture();
    expect(await runCli(['validate', '--help'], io, { commands: [fake] })).toBe(0);
    expect(io.stdout).toMatch(/^Usage: cpex validate <config>/);
    const unknown = capture();
    expect(await runCli(['deploy'], unknown, { commands: [serve] })).toBe(EXIT.usage);
    expect(unknown.stderr).toMatch(
      /unknown command "deploy" \(commands: validate, invoke, plugins, (routes, )?serve[,;]/,
    );
    expect(unknown.stderr.match(/\bserve\b/g)).toHaveLength(1);
  });

  it('prints the package version', async () => {
    const io = capture();
    expect(await runCli(['--version'], io)).toBe(0);
    expect(io.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
