/**
 * Extensions across the Python boundary: cpex-ts uses the Rust cpex 0.2 shapes, Python cpex
 * 0.1.x plugins the Python ones (`http.headers`, `subject.type`, …);
 * `extensionsToPython` / `extensionsFromPython` (./python-shapes.ts) do the mapping.
 *
 * Credential-bearing request headers never reach a Python plugin (as in Rust cpex); when the
 * plugin's edit comes back they are put back, so hiding them is not read as an edit.
 */
import type { Extensions } from '@cpex/core/host';
import { extensionsFromPython, extensionsToPython } from './python-shapes.js';

type Json = Record<string, unknown>;

/** Header names withheld from Python plugins (compared case-insensitively). */
export const SENSITIVE_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
]);

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The converters a PythonPlugin uses on the 3rd hook argument and on `modified_extensions`. */
export interface ExtensionCodec {
  out(ext: Extensions | undefined): unknown;
  in(returned: unknown, sent: Extensions | undefined): unknown;
}

/** Converts extensions to the Python shapes and back (see the module doc). */
export const extensionCodec: ExtensionCodec = {
  out(ext) {
    const py = extensionsToPython(ext);
    const http = py.http;
    if (isObject(http) && isObject(http.headers)) {
      const headers: Json = {};
      for (const [k, v] of Object.entries(http.headers))
        if (!SENSITIVE_HEADERS.has(k.toLowerCase())) headers[k] = v;
      py.http = { ...http, headers };
    }
    return py;
  },
  in(returned, sent) {
    let value = returned;
    // Put the withheld headers back (unless the plugin set its own value for one).
    const withheld = Object.entries(sent?.http?.request_headers ?? {}).filter(([k]) =>
      SENSITIVE_HEADERS.has(k.toLowerCase()),
    );
    if (withheld.length && isObject(value) && isObject(value.http) && isObject(value.http.headers)) {
      const headers: Json = { ...value.http.headers };
      for (const [k, v] of withheld) if (!(k in headers)) headers[k] = v;
      value = { ...value, http: { ...value.http, headers } };
    }
    return extensionsFromPython(value, sent ?? null);
  },
};
