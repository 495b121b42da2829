import { hasLabel, withLabels } from '@cpex/core/extensions';

export default {
  name: 'taint',
  hooks: {
    tool_pre_invoke(payload: { name: string }, _ctx: unknown, ext: Parameters<typeof withLabels>[0]) {
      if (payload.name === 'read_secret') return { modifiedExtensions: withLabels(ext, 'SECRET') };
      if (payload.name === 'send_mail' && hasLabel(ext, 'SECRET')) {
        return {
          continueProcessing: false,
          violation: { code: 'tainted', reason: 'this session read a secret' },
        };
      }
      return {};
    },
  },
};
