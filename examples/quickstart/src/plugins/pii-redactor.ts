// Transform phase: masks e-mail addresses, phone numbers and US social security numbers in every
// string of the tool arguments (pre) and tool results (post). Written as a factory function, so the
// config entry's `config:` block chooses the detectors.
import { allow, definePlugin, modify, type PluginEntry } from '@cpex/sdk';

// The same patterns as examples/python-plugin/plugins/pii_guard.py (compiled there with re.ASCII, so
// \w, \d and \b mean the same in both); examples/quickstart/test/redactor-parity.test.ts runs both.
// Phone: North American numbers with an optional country code (+1, +44, or a "1-" trunk prefix), an
// area code in parentheses or not, space/dot/dash separators and an optional extension
// ("x12", "ext. 12"); never part of a longer digit or word run (too-short runs stay).
const DETECTORS = {
  email: { pattern: /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g, mask: '[EMAIL]' },
  phone: {
    pattern:
      /(?<![\w+])(?:\+\d{1,3}[ .-]?|1[ .-])?(?:\(\d{3}\)[ .-]?|\d{3}[ .-]?)\d{3}[ .-]?\d{4}(?: ?(?:x|ext\.?) ?\d{1,6})?(?!\w)/g,
    mask: '[PHONE]',
  },
  ssn: { pattern: /\b\d{3}-\d{2}-\d{4}\b/g, mask: '[SSN]' },
} as const;

type Detector = keyof typeof DETECTORS;
const ORDER: readonly Detector[] = ['ssn', 'email', 'phone'];

export interface PiiConfig {
  /** Which detectors run (default: all). */
  detect?: Detector[];
}

/** Returns a redacted copy of `value` and counts what it masked. */
function redact(value: unknown, detectors: readonly Detector[], found: Set<Detector>): unknown {
  if (typeof value === 'string') {
    let out = value;
    // Most specific first, so the phone pattern never eats part of an SSN.
    for (const d of ORDER.filter((x) => detectors.includes(x))) {
      const { pattern, mask } = DETECTORS[d];
      const next = out.replace(pattern, mask);
      if (next !== out) found.add(d);
      out = next;
    }
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, detectors, found));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, detectors, found)]));
  }
  return value;
}

export default function piiRedactor(config: PiiConfig | null, entry: PluginEntry) {
  const detectors: Detector[] = config?.detect ?? ['ssn', 'email', 'phone'];
  return definePlugin({
    name: entry.name,
    hooks: {
      tool_pre_invoke(payload) {
        const found = new Set<Detector>();
        const args = redact(payload.args, detectors, found);
        if (found.size === 0) return allow();
        return modify(
          { ...payload, args: args as typeof payload.args },
          { metadata: { redacted: ORDER.filter((d) => found.has(d)) } },
        );
      },
      tool_post_invoke(payload) {
        const found = new Set<Detector>();
        const result = redact(payload.result, detectors, found);
        if (found.size === 0) return allow();
        return modify({ ...payload, result }, { metadata: { redacted: ORDER.filter((d) => found.has(d)) } });
      },
    },
  });
}
