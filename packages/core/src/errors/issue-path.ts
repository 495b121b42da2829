/**
 * How a problem's location is written in every coded error: `plugins[2].mode`, `extensions.security.labels`.
 * One function for config issues, zod issues (extensions, CMF, hook payloads) and ingress checks.
 */
import type { z } from 'zod';

/** `plugins[2].mode` from `['plugins', 2, 'mode']`; `(root)` for an empty path. */
export function formatPath(parts: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

/** A one-line summary of a zod error: the first issue's path, and `path: message; …` for up to three issues. */
export function summarizeZodError(error: z.ZodError, prefix = ''): { path: string; message: string } {
  const at = (path: ReadonlyArray<PropertyKey>) => formatPath(prefix ? [prefix, ...path] : path);
  const first = error.issues[0];
  const path = first ? at(first.path) : prefix || '(root)';
  const message = error.issues
    .slice(0, 3)
    .map((i) => `${at(i.path)}: ${i.message}`)
    .join('; ');
  return { path, message };
}
