/**
 * `{{ env.NAME }}` templating, substituted into parsed scalar values — never spliced into the YAML
 * text, so an environment value can never create structure (a newline plus `capabilities: [...]`
 * stays part of one string). Templates are swapped for random alphanumeric placeholders before
 * parsing (valid inside plain, quoted and block scalars alike), and each scalar holding a
 * placeholder gets the value after parsing:
 * - a quoted or block scalar stays a string;
 * - a plain (unquoted) scalar is resolved with the YAML 1.2 core schema as a scalar only
 *   (`timeout: {{ env.T }}` with T=5 is the number 5, as in Python cpex; a value that looks like
 *   a list or mapping stays a string);
 * - a mapping key stays a string.
 */
import { randomBytes } from 'node:crypto';
import { type Document, isMap, isScalar, type LineCounter, Scalar, visit } from 'yaml';
import { ConfigError } from '../errors/cpex-error.js';

const ENV_RE =
  /\{\{\s*env(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*['"]([^'"]+)['"]\s*\])\s*(?:\|\s*default\(\s*(['"])(.*?)\3\s*\)\s*)?\}\}/g;

export interface TemplatePlan {
  /** The text with every template replaced by a placeholder. */
  text: string;
  /** Rendered values by placeholder index. */
  values: string[];
  /** Matches one placeholder (group 1: index); null when the text had no template. */
  token: RegExp | null;
}

/**
 * The subset of Python cpex's Jinja rendering that configs use: `{{ env.NAME }}`,
 * `{{ env['NAME'] }}` and `{{ env.NAME | default('x') }}`; an unset variable without a default
 * renders as empty (as Jinja does). Any other template syntax is CPEX_ERR_CONFIG_UNSUPPORTED.
 */
export function extractTemplates(
  text: string,
  env: Record<string, string | undefined>,
  file?: string,
): TemplatePlan {
  const values: string[] = [];
  let prefix = '';
  const hasTemplate = text.includes('{{');
  if (hasTemplate) {
    do prefix = `cpexenv${randomBytes(6).toString('hex')}n`;
    while (text.includes(prefix));
  }
  const out = hasTemplate
    ? text.replace(
        ENV_RE,
        (_m, a: string | undefined, b: string | undefined, _q, dflt: string | undefined) => {
          const v = env[(a ?? b)!];
          values.push(v !== undefined ? v : (dflt ?? ''));
          return `${prefix}${values.length - 1}x`;
        },
      )
    : text;
  const leftover = /\{\{|\{%/.exec(out);
  if (leftover) {
    const line = out.slice(0, leftover.index).split('\n').length;
    throw new ConfigError(
      'CPEX_ERR_CONFIG_UNSUPPORTED',
      `${file ?? 'config'}:${line}: template syntax other than {{ env.NAME }} is not supported (cpex-ts does not run Jinja)`,
      { ...(file ? { file } : {}), path: `line ${line}` },
    );
  }
  return { text: out, values, token: values.length > 0 ? new RegExp(`${prefix}(\\d+)x`, 'g') : null };
}

/** Put the rendered values into the parsed document's scalars (see the module comment). */
export function applyTemplates(
  doc: Document,
  plan: TemplatePlan,
  file?: string,
  lineCounter?: LineCounter,
): void {
  const { token, values } = plan;
  if (!token) return;
  const render = (s: string): string => s.replace(token, (_m, i: string) => values[Number(i)] ?? '');
  visit(doc, {
    Scalar(key, node, path) {
      if (typeof node.value !== 'string' || !node.value.includes('cpexenv')) return;
      token.lastIndex = 0;
      if (!token.test(node.value)) return;
      token.lastIndex = 0;
      const rendered = render(node.value);
      if (key === 'key') {
        // A templated key may not name the prototype: `__proto__` would change the object's shape
        // (or its prototype) downstream instead of adding a field.
        if (rendered === '__proto__') {
          const at = node.range ? lineCounter?.linePos(node.range[0]) : undefined;
          throw new ConfigError(
            'CPEX_ERR_CONFIG_INVALID',
            `${file ?? 'config'}${at ? `:${at.line}:${at.col}` : ''}: a templated key renders as "__proto__", which is not allowed as a key`,
            { ...(file ? { file } : {}), ...(at ? { path: `line ${at.line}:${at.col}` } : {}) },
          );
        }
        // A templated key may not collide with a sibling: that would let a value replace a field.
        const map = path[path.length - 2];
        if (
          isMap(map) &&
          map.items.some((p) => p.key !== node && isScalar(p.key) && p.key.value === rendered)
        ) {
          const at = node.range ? lineCounter?.linePos(node.range[0]) : undefined;
          throw new ConfigError(
            'CPEX_ERR_CONFIG_INVALID',
            `${file ?? 'config'}${at ? `:${at.line}:${at.col}` : ''}: a templated key renders as ${JSON.stringify(rendered)}, which the mapping already has`,
            { ...(file ? { file } : {}), ...(at ? { path: `line ${at.line}:${at.col}` } : {}) },
          );
        }
        node.value = rendered;
      } else node.value = node.type === Scalar.PLAIN ? resolvePlainScalar(rendered) : rendered;
    },
  });
}

/**
 * A plain scalar's value under the YAML 1.2 core schema — scalars only: null, booleans, integers
 * (decimal, 0o, 0x), floats (.inf, .nan); anything else is the string itself, trimmed as a plain
 * scalar would be.
 */
export function resolvePlainScalar(raw: string): unknown {
  const s = raw.trim();
  if (s.includes('\n')) return s; // a multi-line plain scalar would have been folded: keep the text
  if (/^(?:~|null|Null|NULL|)$/.test(s)) return null;
  if (/^(?:true|True|TRUE)$/.test(s)) return true;
  if (/^(?:false|False|FALSE)$/.test(s)) return false;
  // Integers as the parser reads them: BigInt beyond 2^53, refused with the path (config/plain.ts).
  if (/^[-+]?[0-9]+$/.test(s)) return integer(BigInt(s));
  if (/^0o[0-7]+$/.test(s)) return integer(BigInt(s));
  if (/^0x[0-9a-fA-F]+$/.test(s)) return integer(BigInt(s));
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/.test(s)) return Number(s);
  if (/^[-+]?\.(?:inf|Inf|INF)$/.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^\.(?:nan|NaN|NAN)$/.test(s)) return Number.NaN;
  return s;
}

const integer = (n: bigint): number | bigint =>
  n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
