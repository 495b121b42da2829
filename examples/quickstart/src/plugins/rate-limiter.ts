// Concurrent phase: at most `max_calls` tool calls per user in a sliding window. Written as a
// Plugin subclass whose handler is marked with the @hook decorator.
import { allow, deny, hook, type PayloadOf, type PluginContext, Plugin } from '@cpex/sdk';

export interface RateLimitConfig {
  max_calls: number;
  window_seconds: number;
}

export default class RateLimiter extends Plugin<RateLimitConfig> {
  private readonly calls = new Map<string, number[]>();
  /** Injectable clock, so tests can move time. */
  now: () => number = () => Date.now();

  @hook('tool_pre_invoke')
  check(payload: PayloadOf<'tool_pre_invoke'>, context: PluginContext) {
    const user = typeof context.globalContext.user === 'string' ? context.globalContext.user : 'anonymous';
    const windowMs = this.config.window_seconds * 1000;
    const now = this.now();
    const recent = (this.calls.get(user) ?? []).filter((t) => now - t < windowMs);
    if (recent.length >= this.config.max_calls) {
      const retryDelayMs = windowMs - (now - recent[0]!);
      this.calls.set(user, recent);
      return deny(
        'rate_limited',
        `${user} made ${recent.length} calls in ${this.config.window_seconds}s (limit ${this.config.max_calls})`,
        { details: { user, tool: String(payload.name) }, httpStatusCode: 429, retryDelayMs },
      );
    }
    recent.push(now);
    this.calls.set(user, recent);
    return allow({ calls_in_window: recent.length });
  }
}
