/**
 * What successive loadConfig() calls accumulate: settings (merged, then resolved with their
 * precedence), routing, plugin_dirs, the base directory, warnings and the last config.
 */
import type { NormalizedConfig, RoutingConfig } from '../config/load.js';
import { resolveSettings } from '../config/settings.js';
import type { Logger, ManagerOptions, ResolvedSettings } from '../types.js';

export class ConfigState {
  readonly #options: ManagerOptions;
  readonly #env: Record<string, string | undefined>;
  #yaml: NonNullable<NormalizedConfig['settings']> = {};
  settings: ResolvedSettings;
  /** hook -> writable fields (compiled from hook_policies). */
  readonly policies = new Map<string, ReadonlySet<string>>();
  routing: RoutingConfig = { groups: {}, defaults: {}, routes: [] };
  pluginDirs: string[] = [];
  baseDir = process.cwd();
  config: NormalizedConfig | undefined;
  readonly warnings: string[] = [];

  constructor(options: ManagerOptions, env: Record<string, string | undefined>) {
    this.#options = options;
    this.#env = env;
    this.settings = resolveSettings(options, {}, env);
    this.#compilePolicies();
  }

  /** Merge a loaded config (its entries are the manager's business). */
  merge(cfg: NormalizedConfig, logger: Logger): void {
    this.config = cfg;
    this.#yaml = { ...this.#yaml, ...cfg.settings };
    this.settings = resolveSettings(this.#options, this.#yaml, this.#env);
    this.#compilePolicies();
    this.pluginDirs = [...new Set([...this.pluginDirs, ...cfg.pluginDirs])];
    this.routing = {
      groups: { ...this.routing.groups, ...cfg.routing.groups },
      defaults: { ...this.routing.defaults, ...cfg.routing.defaults },
      routes: [...this.routing.routes, ...cfg.routing.routes],
    };
    this.baseDir = cfg.baseDir;
    for (const w of cfg.warnings) {
      this.warnings.push(cfg.file ? `${cfg.file}: ${w}` : w);
      logger.warn(`config: ${w}`, cfg.file ? { file: cfg.file } : undefined);
    }
  }

  /**
   * Take over everything `next` holds (hot reload: the new config replaces the old one instead
   * of merging into it). `policies` is updated in place: the executor holds that map.
   */
  replaceWith(next: ConfigState): void {
    this.#yaml = next.#yaml;
    this.settings = next.settings;
    this.routing = next.routing;
    this.pluginDirs = next.pluginDirs;
    this.baseDir = next.baseDir;
    this.config = next.config;
    this.warnings.push(...next.warnings);
    this.#compilePolicies();
  }

  #compilePolicies(): void {
    this.policies.clear();
    for (const [hook, fields] of Object.entries(this.settings.hookPolicies))
      this.policies.set(hook, new Set(fields));
  }
}
