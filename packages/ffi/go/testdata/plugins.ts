// Plugins the Go tests drive through the sidecar (node:// modules, one named export each).
import { allow, definePlugin, deny, modify, toMutable } from '@cpex/sdk';

/** Returns the payload and the extensions it received (tests round trips field by field). */
export const echo = definePlugin({
  name: 'echo',
  hooks: {
    tool_pre_invoke: (payload, _ctx, extensions) =>
      modify(toMutable(payload), { modifiedExtensions: extensions, metadata: { hook: 'tool_pre_invoke' } }),
    'cmf.llm_input': (payload, _ctx, extensions) =>
      modify(toMutable(payload), { modifiedExtensions: extensions }),
    'identity.resolve': (payload) => modify(toMutable(payload)),
    generic_echo: (payload) => modify({ echoed: toMutable(payload) }),
  },
});

/** Counts calls in its local state (pre → post threading) and writes the global state. */
export const counter = definePlugin({
  name: 'counter',
  hooks: {
    tool_pre_invoke: (_payload, ctx) => {
      ctx.state.count = Number(ctx.state.count ?? 0) + 1;
      ctx.globalContext.state.seen_by_counter = true;
      return allow({
        count: ctx.state.count,
        user: ctx.globalContext.user ?? null,
        request_id: ctx.globalContext.requestId,
      });
    },
    tool_post_invoke: (_payload, ctx) => {
      ctx.state.count = Number(ctx.state.count ?? 0) + 1;
      return allow({ count: ctx.state.count });
    },
  },
});

/** Sleeps `ms` (tests in-flight calls, drains and a killed sidecar). */
export const sleeper = definePlugin({
  name: 'sleeper',
  hooks: {
    slow: async (payload) => {
      const ms = Number((payload as { ms?: number }).ms ?? 0);
      await new Promise((resolve) => setTimeout(resolve, ms));
      return allow({ slept: ms });
    },
  },
});

/** Denies every call of its hook. */
export const denier = definePlugin({
  name: 'denier',
  hooks: {
    deny_me: () => deny('forbidden', 'denied by the test', { httpStatusCode: 403, details: { why: 'test' } }),
  },
});

/** A fire-and-forget plugin that fails after a while. */
export const background = definePlugin({
  name: 'background',
  hooks: {
    bg: async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw new Error('background failure');
    },
  },
});
