// A plugin that allows every call and reads one field (the bench measures the boundary, not plugins).
export default {
  name: 'allow-all',
  hooks: {
    tool_pre_invoke: (payload) => ({ continueProcessing: payload.name.length > 0 }),
  },
};
