// A CliIo that buffers what a command writes (for runCli in-process tests).
import type { CliIo } from '../src/index.js';

export function capture(
  cwd = process.cwd(),
  env: Record<string, string | undefined> = {},
): CliIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out(t: string) {
      io.stdout += t;
    },
    err(t: string) {
      io.stderr += t;
    },
    cwd,
    env,
  };
  return io;
}
