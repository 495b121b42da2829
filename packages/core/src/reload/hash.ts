/**
 * The content hash of a config — what the reload guard compares and what fleet mode announces.
 * A file or YAML text hashes its bytes (so every replica computes the same value for the same
 * ConfigMap content, whatever YAML library it uses); a config object hashes its canonical JSON
 * (keys sorted).
 */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level (undefined members dropped, as JSON does). */
export function stableStringify(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => stableStringify(x)).join(',')}]`;
  const keys = Object.keys(v as Record<string, unknown>)
    .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** `sha256:<hex>` of config text (a file's bytes) or of a config object's canonical JSON. */
export function configHash(source: string | Uint8Array | object): string {
  const h = createHash('sha256');
  if (typeof source === 'string' || source instanceof Uint8Array) h.update(source);
  else h.update(stableStringify(source));
  return `sha256:${h.digest('hex')}`;
}
