import { allow, definePlugin, deny } from '@cpex/sdk';

export default definePlugin({
  name: 'no-secrets',
  hooks: {
    tool_pre_invoke(payload) {
      return JSON.stringify(payload.args).includes('BEGIN PRIVATE KEY')
        ? deny('secret_in_args', `tool ${payload.name} was called with a private key`)
        : allow();
    },
  },
});
