/** The default logger: warnings and errors to stderr, nothing else. */
import type { Logger } from '../types.js';

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

export const consoleLogger: Logger = {
  debug() {},
  info() {},
  warn(msg, fields) {
    process.stderr.write(`[cpex] warn: ${msg}${fields ? ` ${safeJson(fields)}` : ''}\n`);
  },
  error(msg, fields) {
    process.stderr.write(`[cpex] error: ${msg}${fields ? ` ${safeJson(fields)}` : ''}\n`);
  },
};
