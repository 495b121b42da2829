/**
 * cmf-labeler: inspects every content part of an LLM-bound CMF message and labels the request
 * `PII` when a part carries an e-mail address, a phone number or a US social security number.
 * Labels are monotonic: later plugins (and later hooks of the same request) can rely on them.
 *
 * Needs capability `append_labels` in its config entry.
 */
import { allow, definePlugin, messageViews, withLabels } from '@cpex/sdk';

const DETECTORS: Record<string, RegExp> = {
  email: /[\w.+-]+@[\w-]+\.[\w.-]+/,
  phone: /\b\d{3}[-. ]\d{3}[-. ]\d{4}\b/,
  ssn: /\b\d{3}-\d{2}-\d{4}\b/,
};

/** The PII kinds found in one piece of text. */
export function detect(text: string): string[] {
  return Object.entries(DETECTORS)
    .filter(([, re]) => re.test(text))
    .map(([kind]) => kind);
}

export default definePlugin({
  name: 'cmf-labeler',
  hooks: {
    'cmf.llm_input': (payload, _ctx, ext) => {
      const findings: Array<{ part: number; kind: string; pii: string[] }> = [];
      for (const view of messageViews(payload.message, { hook: 'cmf.llm_input', extensions: ext ?? null })) {
        // text and thinking parts are read in place; tool calls are checked through their JSON arguments
        const text = view.text ?? (view.kind === 'tool_call' ? String(view.content) : null);
        if (text === null) continue;
        const pii = detect(text);
        if (pii.length) findings.push({ part: view.index, kind: view.kind, pii });
      }
      if (!findings.length) return allow();
      return allow({ pii_findings: findings }, { modifiedExtensions: withLabels(ext, 'PII') });
    },
  },
});
