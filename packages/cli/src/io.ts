/** Where the CLI writes, and how it reports errors (coded, one line per issue). */
import path from 'node:path';
import { ConfigError, CpexError } from '@cpex/core';
import { describeCause, errorLocation } from '@cpex/core/internal';

/** Output streams of one CLI run (process.stdout/stderr, or buffers in tests). */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Directory relative paths (config, @payload files) resolve against. */
  cwd: string;
  env: Record<string, string | undefined>;
}

/** Exit codes, documented in `cpex --help` and docs/cli.md. */
export const EXIT = {
  ok: 0,
  /** The config (or a plugin it names) failed to load or validate. */
  config: 1,
  /** Bad command line: unknown command or flag, missing argument, unreadable or invalid --payload. */
  usage: 2,
  /** `cpex invoke`: the pipeline ran and halted (a plugin denied or failed with on_error: fail). */
  halted: 3,
} as const;

/** A command-line problem (exit 2). */
export class UsageError extends CpexError {
  constructor(message: string) {
    super('CPEX_ERR_INVALID_ARGUMENT', message);
    this.name = 'UsageError';
  }
}

/**
 * `error CPEX_ERR_X at plugins[2].mode: message (file config.yaml)` — one line per issue; file names
 * are shown relative to `cwd` when they are below it.
 */
export function formatError(e: unknown, cwd?: string): string[] {
  const fileNote = (file: string | undefined) => {
    if (!file) return '';
    const rel = cwd ? path.relative(cwd, file) : file;
    return ` (file ${rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file})`;
  };
  const at = (p: string | undefined) => (p && p !== '(root)' ? ` at ${p}` : '');
  if (e instanceof ConfigError && e.issues.length > 0) {
    return e.issues.map(
      (issue) =>
        `error ${e.code}${at(issue.path)}: ${stripPath(issue.message, issue.path)}${fileNote(e.file)}`,
    );
  }
  if (e instanceof CpexError) {
    const plugin = e.plugin && !e.message.includes(e.plugin) ? ` [plugin ${e.plugin}]` : '';
    const file = fileNote(e.file);
    const out = [`error ${e.code}${at(e.path)}: ${stripPath(e.message, e.path)}${plugin}${file}`];
    const thrownAt = e.cause === undefined ? undefined : errorLocation(e.cause);
    if (thrownAt) out.push(`  thrown at ${thrownAt}`);
    return out;
  }
  return [`error: ${describeCause(e)}`];
}

/** Messages often start with their own path; do not print it twice. */
function stripPath(message: string, p: string | undefined): string {
  if (p && message.startsWith(`${p}: `)) return message.slice(p.length + 2);
  return message;
}
