/**
 * @cpex/cli — the `cpex` command (`validate`, `invoke`, `plugins`) as a library: run it
 * programmatically, or contribute subcommands from a host package (`cliCommands` in `<pkg>/cli`).
 */
export { nodeIo, runCli } from './cli.js';
export type { CliCommand, RunCliOptions } from './cli.js';
export { EXIT, formatError, UsageError } from './io.js';
export type { CliIo } from './io.js';
export { errorToWire, resultToWire, violationToWire } from './wire.js';
