/**
 * Config loading: YAML 1.2 text (or an object) → validated, normalized plugin entries and settings.
 * Every error names the file, the YAML path (and line:col when loaded from text), the expected and
 * the actual value, and lists every problem found, not just the first.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Alias,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
} from 'yaml';
import type { z } from 'zod';
import type { CpexErrorCode } from '../errors/catalogue.js';
import { ConfigError, CpexError, describeCause } from '../errors/cpex-error.js';
import { formatPath } from '../errors/issue-path.js';
import { compileCapabilities } from '../extensions/gate.js';
import { configHash } from '../reload/hash.js';
import type { Mode, OnError, PluginCondition, PluginEntry } from '../types.js';
import {
  type conditionSchema,
  configSchema,
  KNOWN_KEYS,
  pluginEntrySchema,
  type ParsedConfig,
  type ParsedPluginEntry,
  type ParsedPluginSettings,
} from './schema.js';
import { plainConfig } from './plain.js';
import { didYouMean } from './suggest.js';
import { applyTemplates, extractTemplates } from './templates.js';
import { BUILTIN_HOOK_NAMES } from '../hooks/builtin.js';

const BUILTIN_HOOKS: ReadonlySet<string> = new Set(BUILTIN_HOOK_NAMES);

/** A reference to a plugin from a group or route; `config` makes it an override instance. */
export interface PluginRef {
  name: string;
  config?: Record<string, unknown>;
}

export type EntityType = 'tool' | 'resource' | 'prompt' | 'llm';
export const ENTITY_TYPES: readonly EntityType[] = ['tool', 'resource', 'prompt', 'llm'];

export interface RouteDef {
  /** Index in `routes:` (file order breaks score ties). */
  index: number;
  entityType: EntityType;
  /** exact name (1000), list of names (500), glob (300), or "*" (0). */
  match: { kind: 'exact' | 'list' | 'glob' | 'any'; names: string[]; re?: RegExp };
  scope?: string;
  tags: string[];
  groups: string[];
  hasWhen: boolean;
  plugins: PluginRef[];
}

/** Route-based plugin selection (plugin_settings.routing_enabled), normalized. */
export interface RoutingConfig {
  groups: Record<string, PluginRef[]>;
  defaults: Partial<Record<string, string[]>>;
  routes: RouteDef[];
}

export interface NormalizedConfig {
  entries: PluginEntry[];
  routing: RoutingConfig;
  /** plugin_dirs resolved against baseDir. */
  pluginDirs: string[];
  settings: ParsedPluginSettings;
  warnings: string[];
  baseDir: string;
  file?: string;
}

export interface LoadTextOptions {
  baseDir?: string;
  /** File name used in messages. */
  file?: string;
  /** Environment for `{{ env.NAME }}` substitution (default process.env). */
  env?: Record<string, string | undefined>;
}

/** One problem of a config; `code` when it has a more specific code than CPEX_ERR_CONFIG_INVALID. */
type Issue = { path: string; message: string; code?: CpexErrorCode };

/** Parse YAML 1.2 text and validate it. */
export function parseConfigText(text: string, options: LoadTextOptions = {}): NormalizedConfig {
  if (typeof text !== 'string') {
    throw new CpexError('CPEX_ERR_INVALID_ARGUMENT', `config text must be a string, got ${typeof text}`, {
      ...(options.file ? { file: options.file } : {}),
    });
  }
  const env = options.env ?? process.env;
  const file = options.file;
  const plan = extractTemplates(text, env, file);
  const lineCounter = new LineCounter();
  const doc = parseYaml(plan.text, lineCounter, file);
  checkNodes(doc, lineCounter, file);
  applyTemplates(doc, plan, file, lineCounter);
  let data: unknown;
  try {
    // Alias expansion was bounded by checkNodes (linear in the document, not a fixed count).
    data = doc.toJS({ maxAliasCount: -1 }) ?? {};
  } catch (e) {
    throw parseFailure(file, [{ path: '(root)', message: yamlMessage(describeCause(e)) }]);
  }
  const locate = (parts: ReadonlyArray<PropertyKey>): string => {
    const node = nodeAt(doc, parts);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (!range) return '';
    const { line, col } = lineCounter.linePos(range[0]);
    return ` (line ${line}:${col})`;
  };
  const locateKey = (parts: ReadonlyArray<PropertyKey>): string => {
    const parent = nodeAt(doc, parts.slice(0, -1));
    const pair = isMap(parent)
      ? parent.items.find((p) => isScalar(p.key) && p.key.value === parts[parts.length - 1])
      : undefined;
    const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
    if (!range) return locate(parts);
    const { line, col } = lineCounter.linePos(range[0]);
    return ` (line ${line}:${col})`;
  };
  return validateData(data, { ...options, locate, locateKey }, 'in-place');
}

type ParseIssue = { path: string; message: string };

/** CPEX_ERR_CONFIG_PARSE naming each location once: `file:line:col: invalid YAML: message`. */
function parseFailure(file: string | undefined, all: ParseIssue[]): ConfigError {
  const where = file ?? 'config';
  // One line per distinct problem (a too-deep document fails at every level with the same message).
  const seen = new Set<string>();
  const issues = all.filter((i) => !seen.has(i.message) && seen.add(i.message)).slice(0, 20);
  const loc = (i: ParseIssue) => `${where}${i.path.startsWith('line ') ? `:${i.path.slice(5)}` : ''}`;
  const text =
    issues.length === 1
      ? `${loc(issues[0]!)}: invalid YAML: ${issues[0]!.message}`
      : `${where}: invalid YAML:\n  ${issues.map((i) => `${loc(i)}: ${i.message}`).join('\n  ')}`;
  return new ConfigError('CPEX_ERR_CONFIG_PARSE', text, { ...(file ? { file } : {}), issues });
}

/** Stack exhaustion inside the YAML library, said plainly. */
const yamlMessage = (m: string): string =>
  /Maximum call stack/.test(m) ? 'nested too deeply to parse (the YAML parser ran out of stack)' : m;

function parseYaml(text: string, lineCounter: LineCounter, file: string | undefined): Document {
  let doc: Document;
  try {
    doc = parseDocument(text, {
      version: '1.2',
      lineCounter,
      prettyErrors: false,
      uniqueKeys: true,
      merge: true, // `<<: *defaults`, as Python's YAML 1.1 loader reads it
      // Integers as BigInt, so one beyond 2^53 is refused with its path (plain.ts), not rounded.
      intAsBigInt: true,
      // Only the core schema's tags: !!binary/!!set/!!omap/!!timestamp would become a Buffer, Set,
      // Map or Date that JSON turns into {} or a string (checkNodes refuses them with their line).
      resolveKnownTags: false,
    });
  } catch (e) {
    // e.g. a RangeError from nesting deep enough to exhaust the parser's stack
    throw parseFailure(file, [{ path: '(root)', message: yamlMessage(describeCause(e)) }]);
  }
  if (doc.errors.length > 0) {
    throw parseFailure(
      file,
      doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        // The library's message may repeat the location: keep only the first line, without it.
        const msg = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
        return { path: `line ${line}:${col}`, message: yamlMessage(msg) };
      }),
    );
  }
  return doc;
}

/** Nodes an alias may expand to, in total, beyond the document's own nodes (bounds alias bombs). */
const ALIAS_EXPANSION_BUDGET = 100_000;

/** The tags of the YAML 1.2 core schema: what JSON-compatible config data can carry. */
const CORE_TAGS: ReadonlySet<string> = new Set(
  ['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`),
);

/**
 * One pass over the document's nodes, CPEX_ERR_CONFIG_PARSE with the line of the first problem:
 * - a tag outside the core schema (`!!binary`, `!!set`, `!!timestamp`, `!!js/function`, `!foo`):
 *   Python's safe loader refuses unknown tags, and the YAML 1.1 ones build values JSON cannot carry;
 * - a mapping key that is a list or a mapping (JavaScript would stringify it into "[ a ]");
 * - undefined aliases and alias bombs. Each anchored node's expanded size is computed once
 *   (post-order over the tree, no recursion), so the check is linear; the total expansion may not
 *   exceed the document's size plus a fixed budget.
 */
function checkNodes(doc: Document, lineCounter: LineCounter, file: string | undefined): void {
  const at = (node: { range?: [number, number, number] | null | undefined }): string => {
    const r = node.range;
    if (!r) return '(root)';
    const { line, col } = lineCounter.linePos(r[0]);
    return `line ${line}:${col}`;
  };
  // One pass in document order: an alias refers to the last anchor of its name before it
  // (Alias.resolve would search the whole document per alias: quadratic).
  const aliases: Alias[] = [];
  const targets = new Map<Alias, unknown>();
  const anchors = new Map<string, unknown>();
  let nodes = 0;
  visit(doc, {
    Pair(_k, pair) {
      if (isMap(pair.key) || isSeq(pair.key)) {
        throw parseFailure(file, [
          {
            path: at(pair.key),
            message:
              'a mapping key must be a scalar, not a list or a mapping (JavaScript would turn it into text)',
          },
        ]);
      }
    },
    Node(_k, n) {
      nodes++;
      if (n.tag !== undefined && !CORE_TAGS.has(n.tag)) {
        const tag = n.tag.replace(/^tag:yaml\.org,2002:/, '!!');
        throw parseFailure(file, [
          {
            path: at(n),
            message: `the tag ${tag} is not supported: a cpex config holds JSON-compatible data (strings, numbers, booleans, null, lists, mappings); write the value as a string`,
          },
        ]);
      }
      if (isAlias(n)) {
        aliases.push(n);
        targets.set(n, anchors.get(n.source));
      } else if (n.anchor) anchors.set(n.anchor, n);
    },
  });
  if (aliases.length === 0) return;
  // Size of a node with its aliases expanded, memoized per node.
  const size = new Map<unknown, number>();
  const sizeOf = (root: unknown): number => {
    const stack: Array<{ node: unknown; kids: unknown[]; i: number; total: number }> = [];
    const kidsOf = (n: unknown): unknown[] => {
      if (isAlias(n)) {
        const target = targets.get(n);
        return target ? [target] : [];
      }
      if (isMap(n)) return n.items.flatMap((p) => [p.key, p.value]);
      if (isSeq(n)) return n.items;
      return [];
    };
    const known = size.get(root);
    if (known !== undefined) return known;
    const onStack = new Set<unknown>([root]);
    stack.push({ node: root, kids: kidsOf(root), i: 0, total: 1 });
    while (stack.length > 0) {
      const f = stack[stack.length - 1]!;
      if (f.i < f.kids.length) {
        const k = f.kids[f.i++];
        if (k === null || typeof k !== 'object') continue;
        const memo = size.get(k);
        if (memo !== undefined) f.total += memo;
        else if (onStack.has(k)) {
          throw parseFailure(file, [
            { path: at(k as Node), message: 'an alias refers to its own anchor (a cycle)' },
          ]);
        } else {
          onStack.add(k);
          stack.push({ node: k, kids: kidsOf(k), i: 0, total: 1 });
        }
        continue;
      }
      stack.pop();
      onStack.delete(f.node);
      size.set(f.node, f.total);
      if (stack.length > 0) stack[stack.length - 1]!.total += f.total;
    }
    return size.get(root)!;
  };
  let expanded = 0;
  for (const a of aliases) {
    const target = targets.get(a);
    if (!target) {
      throw parseFailure(file, [
        { path: at(a), message: `alias *${a.source} has no anchor &${a.source} before it` },
      ]);
    }
    expanded += sizeOf(target);
    if (expanded > nodes + ALIAS_EXPANSION_BUDGET) {
      throw parseFailure(file, [
        {
          path: at(a),
          message: `aliases expand to more than ${nodes + ALIAS_EXPANSION_BUDGET} nodes (an alias bomb?); the config has ${nodes}`,
        },
      ]);
    }
  }
}

function nodeAt(doc: Document, parts: ReadonlyArray<PropertyKey>): unknown {
  let node: unknown = doc.contents;
  for (const p of parts) {
    if (isMap(node)) node = node.get(p as string, true);
    else if (isSeq(node) && typeof p === 'number') node = node.get(p, true);
    else return node;
    if (node === undefined) return undefined;
  }
  return isScalar(node) || isMap(node) || isSeq(node) ? node : undefined;
}

type ValidateOptions = LoadTextOptions & {
  locate?: (parts: ReadonlyArray<PropertyKey>) => string;
  /** Where a mapping key (not its value) is. */
  locateKey?: (parts: ReadonlyArray<PropertyKey>) => string;
};

/**
 * Validate an already-parsed config object (from YAML or code). A config object from code is
 * read once into a plain snapshot first (config/plain.ts): getters, proxies and later edits of
 * the caller's object change nothing, and what is not config data is refused with its path.
 */
export function validateConfig(data: unknown, options: ValidateOptions = {}): NormalizedConfig {
  return validateData(data, options, 'copy');
}

/**
 * The plain snapshot of a config object from code (what validateConfig validates and what its
 * content hash is computed from), or CPEX_ERR_CONFIG_INVALID naming each problem's path.
 */
export function configData(data: unknown, file?: string): Record<string, unknown> {
  return plainOrThrow(
    data,
    'copy',
    file,
    () => '',
    () => '',
  );
}

function plainOrThrow(
  data: unknown,
  mode: 'copy' | 'in-place',
  file: string | undefined,
  locate: (parts: ReadonlyArray<PropertyKey>) => string,
  locateKey: (parts: ReadonlyArray<PropertyKey>) => string,
): Record<string, unknown> {
  const where = file ? `${file}: ` : '';
  const { data: plain, issues } = plainConfig(data, mode, locate, locateKey);
  if (issues.length > 0) {
    throw new ConfigError(
      'CPEX_ERR_CONFIG_INVALID',
      `${where}invalid config:\n  ${issues.map((i) => `${i.path}: ${i.message}`).join('\n  ')}`,
      { ...(file ? { file } : {}), path: issues[0]!.path, issues },
    );
  }
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) {
    throw new ConfigError(
      'CPEX_ERR_CONFIG_INVALID',
      `${where}(root): expected a mapping, got ${describe(plain)}`,
      { ...(file ? { file } : {}), path: '(root)' },
    );
  }
  return plain as Record<string, unknown>;
}

function validateData(data: unknown, options: ValidateOptions, mode: 'copy' | 'in-place'): NormalizedConfig {
  const file = options.file;
  const where = file ? `${file}: ` : '';
  const locate = options.locate ?? (() => '');
  data = plainOrThrow(data, mode, file, locate, options.locateKey ?? locate);
  const warnings: string[] = [];
  const input = preprocess(
    data as Record<string, unknown>,
    warnings,
    options.locateKey ?? locate,
    locate,
    file,
  );
  const parsed = configSchema.safeParse(input, { reportInput: true });
  const issues: Issue[] = [];
  if (!parsed.success) {
    for (const iss of parsed.error.issues) issues.push(issueOf(iss, locate));
  }
  let cfg: ParsedConfig | undefined = parsed.success ? parsed.data : undefined;
  if (cfg) {
    const names = new Map<string, number>();
    (cfg.plugins ?? []).forEach((p, i) => {
      const prev = names.get(p.name);
      if (prev !== undefined) {
        issues.push({
          path: `plugins[${i}].name`,
          message: `duplicate plugin name "${p.name}" (first used at plugins[${prev}])${locate(['plugins', i, 'name'])}`,
        });
      } else names.set(p.name, i);
      if (
        p.kind === 'external' ||
        p.mcp !== undefined ||
        p.grpc !== undefined ||
        p.unix_socket !== undefined
      ) {
        issues.push({
          path: `plugins[${i}].kind`,
          message: `plugin "${p.name}": external plugins (MCP/gRPC/unix-socket transports) are not supported yet in cpex-ts${locate(['plugins', i, 'kind'])}`,
        });
      }
      p.capabilities.forEach((c, j) => {
        try {
          compileCapabilities([c]);
        } catch (e) {
          issues.push({
            path: `plugins[${i}].capabilities[${j}]`,
            // the path says where; drop the "(capabilities[0])" of the single-name check
            message: `${(e as Error).message.replace(/ \(capabilities\[0\]\)/, '')}${locate(['plugins', i, 'capabilities', j])}`,
            code: 'CPEX_ERR_UNKNOWN_CAPABILITY',
          });
        }
      });
    });
    checkRouting(cfg, names, issues, locate);
  }
  if (issues.length > 0 || !cfg) {
    // One specific code when every issue shares it (all unknown capabilities, all unsupported
    // features); a mix is CPEX_ERR_CONFIG_INVALID, each issue keeping its own `code`.
    for (const i of issues)
      if (i.code === undefined && /not supported yet/.test(i.message)) i.code = 'CPEX_ERR_CONFIG_UNSUPPORTED';
    const codes = new Set(issues.map((i) => i.code ?? 'CPEX_ERR_CONFIG_INVALID'));
    const code: CpexErrorCode = codes.size === 1 ? [...codes][0]! : 'CPEX_ERR_CONFIG_INVALID';
    const first = issues[0];
    const text = issues.map((i) => `${i.path}: ${i.message}`).join('\n  ');
    throw new ConfigError(code, `${where}invalid config:\n  ${text}`, {
      ...(file ? { file } : {}),
      ...(first ? { path: first.path } : {}),
      issues,
    });
  }
  cfg = cfg as ParsedConfig;
  const baseDir = options.baseDir ?? (file ? path.dirname(path.resolve(file)) : process.cwd());
  const entries = (cfg.plugins ?? []).map((p, i) =>
    normalizeEntry(p, (data as { plugins?: unknown[] }).plugins?.[i]),
  );
  const pluginDirs = (cfg.plugin_dirs ?? []).map((d) => path.resolve(baseDir, d));
  return {
    entries,
    routing: normalizeRouting(cfg),
    pluginDirs,
    settings: cfg.plugin_settings ?? {},
    warnings,
    baseDir,
    ...(file ? { file } : {}),
  };
}

/** Rewrites legacy modes, collects unknown-key warnings. Never mutates its input. */
function preprocess(
  data: Record<string, unknown>,
  warnings: string[],
  locateKey: (parts: ReadonlyArray<PropertyKey>) => string,
  locate: (parts: ReadonlyArray<PropertyKey>) => string,
  file: string | undefined,
): Record<string, unknown> {
  const warnUnknown = (obj: Record<string, unknown>, known: Set<string>, at: PropertyKey[]): void => {
    for (const k of Object.keys(obj)) {
      if (known.has(k)) continue;
      const where = locateKey([...at, k]).replace(/^ \(line /, ` (${file ? `${file}:` : 'line '}`);
      warnings.push(`${formatPath([...at, k])}: unknown key, ignored${didYouMean(k, known)}${where}`);
    }
  };
  warnUnknown(data, KNOWN_KEYS.top, []);
  const out: Record<string, unknown> = { ...data };
  if (out.plugin_settings && typeof out.plugin_settings === 'object' && !Array.isArray(out.plugin_settings)) {
    warnUnknown(out.plugin_settings as Record<string, unknown>, KNOWN_KEYS.settings, ['plugin_settings']);
  }
  if (Array.isArray(out.plugins)) {
    out.plugins = out.plugins.map((p, i) => {
      if (!p || typeof p !== 'object' || Array.isArray(p)) return p;
      const entry = { ...(p as Record<string, unknown>) };
      warnUnknown(entry, KNOWN_KEYS.plugin, ['plugins', i]);
      if (Array.isArray(entry.hooks)) {
        entry.hooks.forEach((h, j) => {
          // Any hook name works (custom hooks need no registration), so a near-miss of a built-in
          // name is a warning with the suggestion, not an error.
          if (typeof h !== 'string' || BUILTIN_HOOKS.has(h)) return;
          const hint = didYouMean(h, BUILTIN_HOOKS);
          if (!hint) return;
          const where = locate(['plugins', i, 'hooks', j]).replace(
            /^ \(line /,
            ` (${file ? `${file}:` : 'line '}`,
          );
          warnings.push(
            `plugins[${i}].hooks[${j}]: "${h}" is not a built-in hook${hint}; it runs only if something invokes it${where}`,
          );
        });
      }
      if (Array.isArray(entry.conditions)) {
        entry.conditions.forEach((c, j) => {
          if (c && typeof c === 'object' && !Array.isArray(c)) {
            warnUnknown(c as Record<string, unknown>, KNOWN_KEYS.condition, ['plugins', i, 'conditions', j]);
          }
        });
      }
      rewriteEntry(entry);
      return entry;
    });
  }
  return out;
}

/** Python's legacy mode names (models.py) and null lists, rewritten in place before validation. */
function rewriteEntry(entry: Record<string, unknown>): void {
  if (entry.mode === 'enforce') entry.mode = 'sequential';
  else if (entry.mode === 'permissive') entry.mode = 'transform';
  else if (entry.mode === 'enforce_ignore_error') {
    entry.mode = 'sequential';
    if (entry.on_error === undefined) entry.on_error = 'ignore';
  }
  // Python accepts a capability *set*; a YAML null means none.
  if (entry.capabilities === null) entry.capabilities = [];
  if (entry.hooks === null) entry.hooks = [];
  if (entry.conditions === null) entry.conditions = [];
  if (entry.tags === null) entry.tags = [];
}

/**
 * Validate and normalize ONE plugin entry given in code (YAML field names, snake_case) with the
 * same schema, rewrites and normalization as a YAML entry. Returns the entry, or the issues
 * (paths relative to the entry, e.g. `on_error`, `conditions[0].tools`).
 */
export function validatePluginEntry(
  raw: Record<string, unknown>,
): { entry: PluginEntry; issues?: undefined } | { entry?: undefined; issues: Issue[] } {
  const input = { ...raw };
  rewriteEntry(input);
  const parsed = pluginEntrySchema.safeParse(input, { reportInput: true });
  if (!parsed.success) return { issues: parsed.error.issues.map((iss) => issueOf(iss, () => '')) };
  return { entry: normalizeEntry(parsed.data, raw) };
}

function issueOf(iss: z.core.$ZodIssue, locate: (parts: ReadonlyArray<PropertyKey>) => string): Issue {
  const p = formatPath(iss.path);
  let message = iss.message;
  if (iss.code === 'invalid_type' && !/got/.test(message)) {
    message = `expected ${iss.expected}, got ${describe((iss as { input?: unknown }).input)}`;
  } else if (iss.code === 'too_small' && iss.origin === 'string') {
    message = 'expected a non-empty string';
  }
  return { path: p, message: `${message}${locate(iss.path)}` };
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  const s = JSON.stringify(v) ?? String(v);
  return `${typeof v} ${s.length > 80 ? `${s.slice(0, 77)}...` : s}`;
}

function normalizeEntry(p: ParsedPluginEntry, raw: unknown): PluginEntry {
  const extra: Record<string, unknown> = {};
  if (p.applied_to != null) extra.applied_to = p.applied_to;
  if (p.max_content_size !== undefined) extra.max_content_size = p.max_content_size;
  if (p.max_memory_mb !== undefined) extra.max_memory_mb = p.max_memory_mb;
  if (p.isolation !== undefined) extra.isolation = p.isolation;
  if (p.require_signature !== undefined) extra.require_signature = p.require_signature;
  if (raw && typeof raw === 'object') {
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
      if (!KNOWN_KEYS.plugin.has(k)) extra[k] = v;
    }
  }
  const entry: PluginEntry = {
    name: p.name,
    kind: p.kind,
    hooks: [...new Set(p.hooks)],
    mode: p.mode as Mode,
    priority: p.priority,
    onError: (p.on_error ?? 'fail') as OnError,
    capabilities: [...new Set(p.capabilities.map((c) => c.trim().toLowerCase()))],
    conditions: p.conditions.map(normalizeCondition),
    config: p.config ?? null,
    tags: p.tags,
    extra,
  };
  if (p.timeout !== undefined) entry.timeout = p.timeout;
  if (p.description != null) entry.description = p.description;
  if (p.author != null) entry.author = p.author;
  if (p.version != null) entry.version = p.version;
  if (p.namespace != null) entry.namespace = p.namespace;
  return entry;
}

/** Content types are normalized as Python does: drop parameters, trim, lower-case. */
export function normalizeContentType(ct: string): string {
  return (ct.split(';')[0] ?? '').trim().toLowerCase();
}

/** YAML (snake_case) condition field -> PluginCondition (camelCase) field. */
export const CONDITION_FIELDS = {
  server_ids: 'serverIds',
  tenant_ids: 'tenantIds',
  tools: 'tools',
  prompts: 'prompts',
  resources: 'resources',
  agents: 'agents',
  user_patterns: 'userPatterns',
  content_types: 'contentTypes',
} as const satisfies Record<string, keyof PluginCondition>;

/**
 * Set one condition field as Python normalizes it, for YAML and in-code entries alike: an empty
 * list means "any" (the field is left out); content types are normalized.
 */
export function setConditionField(
  out: PluginCondition,
  key: keyof PluginCondition,
  values: readonly string[],
): void {
  if (values.length === 0) return;
  out[key] = key === 'contentTypes' ? values.map(normalizeContentType) : [...values];
}

function normalizeCondition(c: z.output<typeof conditionSchema>): PluginCondition {
  const out: PluginCondition = {};
  for (const [field, key] of Object.entries(CONDITION_FIELDS)) {
    const v = c[field as keyof typeof CONDITION_FIELDS];
    if (v) setConditionField(out, key, v);
  }
  return out;
}

/** Read and validate a config file (path or file: URL). */
export async function loadConfigFile(
  source: string | URL,
  options: Omit<LoadTextOptions, 'file'> = {},
): Promise<NormalizedConfig> {
  return (await loadConfigFileHashed(source, options)).cfg;
}

/**
 * Read and validate a config file, with the content hash of its bytes (`sha256:<hex>`): what the
 * reload guard compares and fleet mode announces.
 */
export async function loadConfigFileHashed(
  source: string | URL,
  options: Omit<LoadTextOptions, 'file'> = {},
): Promise<{ cfg: NormalizedConfig; hash: string; file: string }> {
  const file = source instanceof URL ? fileURLToPath(source) : source;
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new CpexError('CPEX_ERR_CONFIG_READ', `cannot read config file ${file}: ${(e as Error).message}`, {
      file,
      cause: e,
    });
  }
  const cfg = parseConfigText(decodeUtf8(bytes, file), {
    ...options,
    file,
    baseDir: options.baseDir ?? path.dirname(path.resolve(file)),
  });
  return { cfg, hash: configHash(bytes), file };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A config file's text. Bytes that are not UTF-8 are CPEX_ERR_CONFIG_PARSE with their line, never
 * replaced silently by U+FFFD (which would change a name, a pattern or a key). A BOM is dropped.
 */
function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    // Find the first bad sequence: decode growing prefixes is quadratic, so scan the bytes.
    const at = firstInvalidUtf8(bytes);
    const line = bytes.subarray(0, at).reduce((n, b) => (b === 0x0a ? n + 1 : n), 1);
    throw new ConfigError(
      'CPEX_ERR_CONFIG_PARSE',
      `${file}:${line}: invalid YAML: the file is not valid UTF-8 (byte ${at}: 0x${bytes[at]?.toString(16).padStart(2, '0')}); save it as UTF-8`,
      { file, issues: [{ path: `line ${line}`, message: `not valid UTF-8 at byte ${at}` }] },
    );
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n =
      c < 0x80
        ? 0
        : c >= 0xc2 && c <= 0xdf
          ? 1
          : c >= 0xe0 && c <= 0xef
            ? 2
            : c >= 0xf0 && c <= 0xf4
              ? 3
              : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (((b[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    if (n > 0 && !utf8Ok(b.subarray(i, i + n + 1))) return i;
    i += n + 1;
  }
  return b.length;
}

/** Overlong forms, surrogates and code points past U+10FFFF pass the lead/continuation check. */
function utf8Ok(seq: Uint8Array): boolean {
  try {
    utf8.decode(seq);
    return true;
  } catch {
    return false;
  }
}

function refName(ref: string | Record<string, unknown>): string {
  return typeof ref === 'string' ? ref : (Object.keys(ref)[0] ?? '');
}

function toRef(ref: string | Record<string, { config?: Record<string, unknown> | undefined }>): PluginRef {
  if (typeof ref === 'string') return { name: ref };
  const [name, body] = Object.entries(ref)[0]!;
  return body?.config ? { name, config: body.config } : { name };
}

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

function allGroups(cfg: ParsedConfig): Record<string, { plugins: Array<string | Record<string, unknown>> }> {
  return { ...(cfg.global?.policies ?? {}), ...(cfg.groups ?? {}) };
}

/** Cross-field rules of routes and groups (Rust cpex validate_config). */
function checkRouting(
  cfg: ParsedConfig,
  plugins: Map<string, number>,
  issues: Issue[],
  locate: (parts: ReadonlyArray<PropertyKey>) => string,
): void {
  const groups = allGroups(cfg);
  const checkRefs = (refs: Array<string | Record<string, unknown>>, at: PropertyKey[]) => {
    refs.forEach((r, i) => {
      const n = refName(r);
      if (!plugins.has(n)) {
        issues.push({ path: formatPath([...at, i]), message: `unknown plugin "${n}"${locate([...at, i])}` });
      }
    });
  };
  for (const [g, def] of Object.entries(cfg.groups ?? {})) checkRefs(def.plugins, ['groups', g, 'plugins']);
  for (const [g, def] of Object.entries(cfg.global?.policies ?? {}))
    checkRefs(def.plugins, ['global', 'policies', g, 'plugins']);
  for (const [et, gs] of Object.entries(cfg.global?.defaults ?? {})) {
    if (!(ENTITY_TYPES as readonly string[]).includes(et)) {
      issues.push({
        path: `global.defaults.${et}`,
        message: `expected one of ${ENTITY_TYPES.join('|')}, got "${et}"`,
      });
    }
    for (const g of list(gs)) {
      if (!groups[g])
        issues.push({
          path: `global.defaults.${et}`,
          message: `unknown group "${g}"${locate(['global', 'defaults', et])}`,
        });
    }
  }
  (cfg.routes ?? []).forEach((r, i) => {
    const matchers = ENTITY_TYPES.filter((k) => r[k] !== undefined);
    if (matchers.length !== 1) {
      issues.push({
        path: `routes[${i}]`,
        message: `a route needs exactly one of tool|resource|prompt|llm, got ${matchers.length ? matchers.join(', ') : 'none'}${locate(['routes', i])}`,
      });
    }
    for (const g of list(r.groups)) {
      if (!groups[g])
        issues.push({
          path: `routes[${i}].groups`,
          message: `unknown group "${g}"${locate(['routes', i, 'groups'])}`,
        });
    }
    checkRefs(r.plugins, ['routes', i, 'plugins']);
  });
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

function normalizeRouting(cfg: ParsedConfig): RoutingConfig {
  const groups: Record<string, PluginRef[]> = {};
  for (const [g, def] of Object.entries(allGroups(cfg)))
    groups[g] = def.plugins.map((r) => toRef(r as never));
  const defaults: Partial<Record<string, string[]>> = {};
  for (const [et, gs] of Object.entries(cfg.global?.defaults ?? {})) defaults[et] = list(gs);
  const routes: RouteDef[] = (cfg.routes ?? []).map((r, index) => {
    const entityType = ENTITY_TYPES.find((k) => r[k] !== undefined)!;
    const m = r[entityType]!;
    let match: RouteDef['match'];
    if (Array.isArray(m)) match = { kind: 'list', names: m };
    else if (m === '*') match = { kind: 'any', names: [m] };
    else if (/[*?]/.test(m)) match = { kind: 'glob', names: [m], re: globToRegExp(m) };
    else match = { kind: 'exact', names: [m] };
    const def: RouteDef = {
      index,
      entityType,
      match,
      tags: r.meta?.tags ?? [],
      groups: list(r.groups),
      hasWhen: r.when !== undefined,
      plugins: r.plugins.map((x) => toRef(x as never)),
    };
    if (r.meta?.scope !== undefined) def.scope = r.meta.scope;
    return def;
  });
  return { groups, defaults, routes };
}
