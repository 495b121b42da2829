#!/usr/bin/env node
// The `cpex` executable: run the CLI, then exit with its code once output is flushed.
import { nodeIo, runCli } from './cli.js';

runCli(process.argv.slice(2), nodeIo()).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
