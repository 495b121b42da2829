/**
 * pii-egress-guard: runs after the labeler and blocks LLM input labelled `PII` when the model
 * provider is not on the allow-list. It only reads labels (capability `read_labels`).
 */
import { allow, definePlugin, deny, hasLabel } from '@cpex/sdk';

const TRUSTED_PROVIDERS = new Set(['internal', 'on-prem']);

export default definePlugin({
  name: 'pii-egress-guard',
  hooks: {
    'cmf.llm_input': (_payload, _ctx, ext) => {
      const provider = ext?.llm?.provider ?? 'unknown';
      if (hasLabel(ext, 'pii') && !TRUSTED_PROVIDERS.has(provider)) {
        return deny('pii_egress', `PII may not be sent to provider ${provider}`);
      }
      return allow();
    },
  },
});
