// docs/extensions.md: a plugin writing extensions; each helper's comment names the capability
// the entry needs (`capabilities: [...]` in its config).
import {
  allow,
  appendDelegationHop,
  definePlugin,
  setHeaders,
  withCandidateConstraint,
  withCustom,
  withLabels,
} from '@cpex/sdk';

export default definePlugin({
  name: 'tagger',
  hooks: {
    tool_pre_invoke(_payload, _context, ext) {
      // #region writes
      let next = withLabels(ext, 'PII');                                                   // append_labels
      next = appendDelegationHop(next, { subject_id: 'agent-7', subject_type: 'agent', scopes_granted: ['read'] }); // append_delegation
      next = setHeaders(next, { 'x-redacted': 'true', cookie: null });                     // write_headers (null removes)
      next = setHeaders(next, { 'x-served-by': 'cpex' }, { response: true });
      next = withCustom(next, { 'pii.scanned': true });                                    // no capability
      next = withCandidateConstraint(next, { allow_regions: ['eu-west-1'] });              // write_candidate_constraint
      return allow({}, { modifiedExtensions: next });
      // #endregion
    },
  },
});
