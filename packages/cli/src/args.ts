/** node:util parseArgs wrapped so every problem becomes a UsageError (exit 2) naming the command. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type CliIo, UsageError } from './io.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Parsed flags: booleans for `type: 'boolean'` options, strings otherwise. */
export type ParsedValues<O extends OptionSpec> = {
  [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string;
} & { help?: boolean };

export function parseCommandArgs<O extends OptionSpec>(
  command: string,
  argv: string[],
  options: O,
): { values: ParsedValues<O>; positionals: string[] } {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }) as { values: ParsedValues<O>; positionals: string[] };
  } catch (e) {
    const message = e instanceof Error ? e.message.replace(/\. To specify a positional.*$/s, '') : String(e);
    throw new UsageError(`cpex ${command}: ${message} (see cpex ${command} --help)`);
  }
}

/** Exactly `names.length` positionals, else a UsageError listing what is missing or extra. */
export function positionals(command: string, given: string[], names: string[]): string[] {
  if (given.length < names.length) {
    throw new UsageError(
      `cpex ${command}: missing <${names.slice(given.length).join('> <')}> (see cpex ${command} --help)`,
    );
  }
  if (given.length > names.length) {
    throw new UsageError(
      `cpex ${command}: unexpected argument ${JSON.stringify(given[names.length])} (see cpex ${command} --help)`,
    );
  }
  return given;
}

/**
 * A JSON flag value: inline JSON, or `@file` (relative to the cwd). `what` names the flag in errors.
 * `objectOnly` rejects arrays, strings and numbers.
 */
export function readJsonArg(flag: string, value: string, io: CliIo, objectOnly = true): unknown {
  let text = value;
  let source = `--${flag}`;
  if (value.startsWith('@')) {
    const file = path.resolve(io.cwd, value.slice(1));
    source = `--${flag} file ${file}`;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new UsageError(
        `${source}: cannot read (${code === 'ENOENT' ? 'no such file' : String(code ?? e)})`,
      );
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${source} is not valid JSON: ${(e as Error).message}`);
  }
  if (objectOnly && (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))) {
    const got = parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`;
    throw new UsageError(`${source} must be a JSON object, got ${got}`);
  }
  return parsed;
}
