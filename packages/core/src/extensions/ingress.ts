/**
 * Caller-supplied extensions at ingress (`invoke` options, `cpex invoke --extensions`, every
 * host's and the sidecar's wire): validated with the same zod schemas that judge plugin output.
 * Malformed input is a coded error (CPEX_ERR_INVALID_PAYLOAD naming the field), never a coerced
 * value: labels given as a string or a mixed list do not become an empty set.
 *
 * Cost: once per distinct extensions object (cached by identity, a WeakMap lookup afterwards),
 * never per invoke. Extensions are values: the object a caller passes is deep-frozen when it is
 * validated, so what was validated is what plugins get, on every later invoke too.
 */
import { CpexError } from '../errors/cpex-error.js';
import { summarizeZodError } from '../errors/issue-path.js';
import { describeSparse, findSparse } from '../payload/holes.js';
import { deepFreeze } from './equality.js';
import { notJsonData } from './json-data.js';
import { ExtensionsSchema } from './schemas.js';
import type { Extensions } from './types.js';

const validated = new WeakMap<object, Extensions>();
/** The last object validated and what it gave: a gateway that passes one object many times skips the WeakMap. */
let lastIn: object | undefined;
let lastOut: Extensions | undefined;

/**
 * The extensions to run with, or the coded error saying what is wrong (never throws). A valid
 * object is returned as is, except that the wire shape of labels (a JSON array of strings)
 * becomes a MonotonicSet; the result is cached for the object.
 * @example const ext = ingressExtensions(options.extensions, hook); if (ext instanceof CpexError) throw ext;
 */
export function ingressExtensions(value: unknown, where?: string): Extensions | CpexError {
  // Validated (and deep-frozen) already: the object a caller passes to invoke after invoke. (The
  // check is all this function does in line, so the optimizer inlines it into invoke().)
  if (value === lastIn && value !== undefined) return lastOut!;
  return validateExtensions(value, where);
}

/** ingressExtensions past its one-entry cache: the WeakMap of validated objects, else the schemas. */
function validateExtensions(value: unknown, where: string | undefined): Extensions | CpexError {
  let isArray: boolean;
  try {
    isArray = Array.isArray(value);
  } catch (e) {
    return new CpexError(
      'CPEX_ERR_INVALID_PAYLOAD',
      `invalid extensions${where ? ` for ${where}` : ''}: could not be read`,
      {
        ...(where ? { hook: where } : {}),
        path: 'extensions',
        cause: e,
      },
    );
  }
  if (typeof value !== 'object' || value === null || isArray) {
    return new CpexError(
      'CPEX_ERR_INVALID_PAYLOAD',
      `invalid extensions${where ? ` for ${where}` : ''}: expected an object, got ${value === null ? 'null' : isArray ? 'an array' : typeof value}`,
      { ...(where ? { hook: where } : {}), path: 'extensions' },
    );
  }
  const hit = validated.get(value);
  if (hit !== undefined) {
    lastIn = value;
    lastOut = hit;
    return hit;
  }
  let out: Extensions;
  try {
    // Holes first: the schemas would visit every index of `length = 2 ** 32 - 1` one by one.
    const sparse = findSparse(value);
    if (sparse) {
      const path = sparse.path === '' ? 'extensions' : `extensions.${sparse.path}`;
      return new CpexError(
        'CPEX_ERR_INVALID_PAYLOAD',
        `invalid extensions${where ? ` for ${where}` : ''} at ${path}: ${describeSparse(sparse)}`,
        { ...(where ? { hook: where } : {}), path },
      );
    }
    const parsed = ExtensionsSchema.safeParse(value);
    if (!parsed.success) {
      const { path, message } = summarizeZodError(parsed.error, 'extensions');
      return new CpexError(
        'CPEX_ERR_INVALID_PAYLOAD',
        `invalid extensions${where ? ` for ${where}` : ''} at ${path}: ${message}`,
        { ...(where ? { hook: where } : {}), path, details: { issues: parsed.error.issues.length } },
      );
    }
    // `custom` crosses to plugins in every language as JSON: only what JSON carries exactly.
    const custom = (value as { custom?: unknown }).custom;
    const bad = custom === undefined || custom === null ? undefined : notJsonData(custom);
    if (bad !== undefined) {
      const path = `extensions.custom${bad.path}`;
      return new CpexError(
        'CPEX_ERR_INVALID_PAYLOAD',
        `invalid extensions${where ? ` for ${where}` : ''} at ${path}: ${bad.message}`,
        { ...(where ? { hook: where } : {}), path },
      );
    }
    // Keep the caller's object (and its identity, which the view cache keys on) unless the wire
    // shape of labels needs converting.
    const labels = (value as { security?: { labels?: unknown } | null }).security?.labels;
    out = Array.isArray(labels) ? (parsed.data as Extensions) : (value as Extensions);
  } catch (e) {
    // A hostile object (throwing getters, revoked proxy) is bad input, not a crash.
    return new CpexError(
      'CPEX_ERR_INVALID_PAYLOAD',
      `invalid extensions${where ? ` for ${where}` : ''}: could not be read`,
      { ...(where ? { hook: where } : {}), path: 'extensions', cause: e },
    );
  }
  // Cached by identity, so the caller's object must not change behind the cache: it is frozen
  // (deeply) now, also when labels were converted and plugins get the converted copy. A caller
  // that mutates it later gets a TypeError, never a stale or unvalidated value.
  deepFreeze(value);
  validated.set(value, out);
  if (out !== value) validated.set(deepFreeze(out), out);
  lastIn = value;
  lastOut = out;
  return out;
}
