/**
 * The behaviour-probe contract of the host suite: a host supplies config entries whose plugin
 * behaves as told, so one suite can drive hosts in any language.
 */

/** What a probe plugin does on every hook it implements. */
export type ProbeBehaviour =
  /** Continue; attach `metadata` if given. */
  | { kind: 'allow'; metadata?: Record<string, unknown> }
  /** Halt with a violation `{ code, reason }`. */
  | { kind: 'deny'; code: string; reason: string }
  /** Continue with `{ ...payload, ...set }` as the modified payload. */
  | { kind: 'modify'; set: Record<string, unknown> }
  /** Throw (or raise) an error whose message contains `message`. */
  | { kind: 'throw'; message: string }
  /** Wait `ms` milliseconds (giving up early when cancelled, where the host can tell), then allow. */
  | { kind: 'sleep'; ms: number };

/** The YAML-shaped parts of a config entry (snake_case); the suite adds `name`, `hooks`, `mode`, `on_error`, `timeout`. */
export interface ProbeEntry {
  kind: string;
  config?: Record<string, unknown>;
  [yamlKey: string]: unknown;
}

/**
 * How a host's test provides probe plugins. The plugin of `entry(b, hooks)` must implement exactly
 * the hooks in `hooks`, each with behaviour `b`.
 *
 * @example
 * const probe: HostProbe = { entry: (behaviour, hooks) => ({ kind: 'python://probe.Probe', config: { behaviour, hooks } }) };
 */
export interface HostProbe {
  entry(behaviour: ProbeBehaviour, hooks: readonly string[]): ProbeEntry;
  /** Directory relative kinds in probe entries resolve against (default: process.cwd()). */
  baseDir?: string;
  /**
   * What the probe plugin named `pluginName` observed: `sleep-start`, then `slept` or `aborted`
   * (its cancellation signal fired). Required for hosts whose timeouts are cooperative, so the suite
   * can check that a timed-out plugin is told to stop.
   */
  events?(pluginName: string): readonly string[] | Promise<readonly string[]>;
}
