/**
 * Plugin entries given in code (`register`, `registerHook`) are validated by the SAME zod schema
 * as a YAML entry (config/schema.ts `pluginEntrySchema`, through `validatePluginEntry`): the
 * camelCase fields are mapped to their YAML names, validated, normalized, and errors name the
 * camelCase field again. Plugin names are unique across every registration: one check, here.
 */
import { CONDITION_FIELDS, validatePluginEntry } from '../config/load.js';
import { plainConfig } from '../config/plain.js';
import { ConfigError, CpexError, describeCause } from '../errors/cpex-error.js';
import { compileCapabilities } from '../extensions/gate.js';
import type { PluginEntry } from '../types.js';

/** camelCase entry field -> YAML key (fields whose name differs). */
const YAML_KEY: Record<string, string> = { onError: 'on_error' };
/** camelCase condition field -> YAML key. */
const CONDITION_YAML: Record<string, string> = Object.fromEntries(
  Object.entries(CONDITION_FIELDS).map(([yaml, camel]) => [camel, yaml]),
);
const CAMEL_KEY: Record<string, string> = {
  on_error: 'onError',
  ...Object.fromEntries(Object.entries(CONDITION_FIELDS)),
};
const ENTRY_FIELDS = [
  'kind',
  'hooks',
  'mode',
  'priority',
  'onError',
  'capabilities',
  'conditions',
  'config',
  'timeout',
  'tags',
  'description',
  'author',
  'version',
  'namespace',
] as const;

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return '(unprintable)';
  }
}

/**
 * A complete entry for an in-code registration: `partial` (camelCase) over the defaults, with
 * `discovered` hooks when it names none. Throws CPEX_ERR_INVALID_ARGUMENT naming the plugin and
 * the field, or CPEX_ERR_UNKNOWN_CAPABILITY.
 */
export function entryFromCode(
  name: string,
  partial: Partial<PluginEntry>,
  discovered: readonly string[],
): PluginEntry {
  if (typeof partial !== 'object' || partial === null) {
    throw new CpexError('CPEX_ERR_INVALID_ARGUMENT', `plugin "${name}": the entry must be an object`, {
      plugin: name,
    });
  }
  const read: Record<string, unknown> = {};
  for (const f of [...ENTRY_FIELDS, 'extra'] as const) {
    try {
      read[f] = partial[f];
    } catch (e) {
      throw new CpexError(
        'CPEX_ERR_INVALID_ARGUMENT',
        `plugin "${name}": ${f}: cannot be read: ${describeCause(e)}`,
        {
          plugin: name,
          path: f,
        },
      );
    }
  }
  // The entry is read once into plain data (config/plain.ts): what is validated is what is used,
  // and a value no config could hold (a symbol, a cycle, a throwing getter) is refused with its path.
  const plain = plainConfig(read, 'copy');
  if (plain.issues.length > 0) {
    const first = plain.issues[0]!;
    throw new CpexError('CPEX_ERR_INVALID_ARGUMENT', `plugin "${name}": ${first.path}: ${first.message}`, {
      plugin: name,
      path: first.path,
      details: { issues: plain.issues },
    });
  }
  const fields = plain.data as Partial<Record<(typeof ENTRY_FIELDS)[number] | 'extra', unknown>>;
  const raw: Record<string, unknown> = { name, kind: 'in-process', hooks: [...discovered] };
  for (const f of ENTRY_FIELDS) {
    const v = fields[f];
    if (v === undefined) continue;
    if (f === 'conditions' && Array.isArray(v)) {
      raw.conditions = v.map((c, i) => {
        if (!c || typeof c !== 'object' || Array.isArray(c)) return c;
        const out: Record<string, unknown> = {};
        for (const [k, cv] of Object.entries(c)) {
          const yaml = CONDITION_YAML[k];
          if (yaml === undefined) {
            throw new CpexError(
              'CPEX_ERR_INVALID_ARGUMENT',
              `plugin "${name}": conditions[${i}].${k}: expected one of ${Object.keys(CONDITION_YAML).join('|')}`,
              { plugin: name, path: `conditions[${i}].${k}` },
            );
          }
          out[yaml] = cv;
        }
        return out;
      });
    } else raw[YAML_KEY[f] ?? f] = v;
  }
  const res = validatePluginEntry(raw);
  if (res.issues) {
    const first = res.issues[0]!;
    const path = first.path.replace(/[a-z_]+/g, (k) => CAMEL_KEY[k] ?? k);
    throw new CpexError(
      'CPEX_ERR_INVALID_ARGUMENT',
      `plugin "${name}": ${path}: ${first.message}${res.issues.length > 1 ? ` (and ${res.issues.length - 1} more)` : ''}; got ${safeJson(getPath(fields, path))}`,
      { plugin: name, path, details: { issues: res.issues } },
    );
  }
  const entry = res.entry;
  try {
    compileCapabilities(entry.capabilities);
  } catch (err) {
    throw new CpexError(
      'CPEX_ERR_UNKNOWN_CAPABILITY',
      `plugin "${name}": capabilities: ${(err as Error).message}`,
      {
        plugin: name,
        path: 'capabilities',
      },
    );
  }
  if (fields.extra !== undefined && fields.extra !== null && typeof fields.extra === 'object')
    entry.extra = { ...(fields.extra as Record<string, unknown>) };
  return entry;
}

function getPath(o: unknown, path: string): unknown {
  const top = /^[A-Za-z]+/.exec(path)?.[0];
  return top === undefined ? o : (o as Record<string, unknown>)[top];
}

/**
 * The one duplicate-name check: `added` must not reuse a name in `taken` or among themselves.
 * Throws ConfigError CPEX_ERR_DUPLICATE_PLUGIN naming the plugin (and its YAML path and file).
 */
export function assertUniqueNames(
  taken: Iterable<string>,
  added: ReadonlyArray<{ name: string; path?: string | undefined }>,
  file?: string,
): void {
  const names = new Set(taken);
  for (const a of added) {
    if (names.has(a.name)) {
      const at = a.path ? `${a.path}.name: ` : '';
      throw new ConfigError('CPEX_ERR_DUPLICATE_PLUGIN', `${at}plugin "${a.name}" is already registered`, {
        plugin: a.name,
        ...(a.path ? { path: `${a.path}.name` } : {}),
        ...(file ? { file } : {}),
      });
    }
    names.add(a.name);
  }
}
