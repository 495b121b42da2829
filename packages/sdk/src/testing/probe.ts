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
  | { kind: 'sleep'; ms: number }
  /** Hostile: never settle (block or wait forever), ignoring cancellation. */
  | { kind: 'hang' }
  /**
   * Hostile: the first call of a plugin instance ignores cancellation, waits `ms`, then answers
   * `modify(set)` (where the runtime can, more than once: an in-process thenable calls back twice);
   * every later call of that instance allows at once. The late answer must never reach an invocation.
   */
  | { kind: 'late'; ms: number; set: Record<string, unknown> }
  /** Hostile: allocate (and touch) memory without bound; the probe's entry caps the plugin at `limitMb`. */
  | { kind: 'grow'; limitMb: number }
  /**
   * Hostile: write bytes that are no frame to the plugin's stdout (and to any channel to its host it
   * can reach), then deny with `{ code, reason }`. The host delivers the deny or fails the call: never an allow.
   */
  | { kind: 'garbage'; code: string; reason: string }
  /** Hostile: crash whatever runs the plugin, in the middle of the call (segfault, abort, exit). */
  | { kind: 'crash' }
  /** Hostile: the plugin's initialization never completes (blocks, ignores everything); calls would allow. */
  | { kind: 'hang_init' }
  /** Hostile: calls allow; the plugin's shutdown never completes (blocks, ignores everything). */
  | { kind: 'hang_shutdown' };

/** The hostile behaviours of the suite, each of which a host contains or declares in `HostProbe.limits`. */
export type HostileKind = 'hang' | 'late' | 'grow' | 'garbage' | 'crash' | 'hang_init' | 'hang_shutdown';

/** Why a host cannot contain a hostile behaviour, and where its docs say so (checked by the suite). */
export interface HostLimit {
  /** One line for the test name: what happens instead. */
  reason: string;
  /** The document that states the limit, relative to the repository root (e.g. `docs/hosts/native.md`). */
  doc: string;
  /** A phrase that document contains (checked when the suite is given `docsRoot`). */
  says: string;
}

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
  /** `pluginName` is the name the suite gives the entry (for probes that keep per-plugin records). */
  entry(behaviour: ProbeBehaviour, hooks: readonly string[], pluginName?: string): ProbeEntry;
  /** Directory relative kinds in probe entries resolve against (default: process.cwd()). */
  baseDir?: string;
  /**
   * What the probe plugin named `pluginName` observed: `sleep-start`, then `slept` or `aborted`
   * (its cancellation signal fired); `late-sent` once a `late` probe gave its late answer. Required for hosts whose timeouts are cooperative, so the suite
   * can check that a timed-out plugin is told to stop.
   */
  events?(pluginName: string): readonly string[] | Promise<readonly string[]>;
  /**
   * The hostile behaviours this host cannot contain (a crash in the gateway's own process, a
   * thread that never comes back): the suite runs every other hostile behaviour, and for these
   * checks that the limit is declared and documented (`HostSuiteOptions.docsRoot`).
   */
  limits?: Partial<Record<HostileKind, HostLimit>>;
}
