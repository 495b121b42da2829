/**
 * Settings precedence: PluginManager option > YAML plugin_settings > PLUGINS_* environment > default.
 */
import { CpexError } from '../errors/cpex-error.js';
import type { ManagerOptions, ResolvedSettings } from '../types.js';
import { DEFAULT_MAX_PAYLOAD_DEPTH } from '../payload/bounds.js';
import { describeRange, inRange, type NumericRange, NUMERIC_RANGES as R, rangeMessage } from './ranges.js';
import type { ParsedPluginSettings } from './schema.js';

export const DEFAULT_SETTINGS: Readonly<ResolvedSettings> = Object.freeze({
  pluginTimeout: 30,
  pluginInitTimeout: 60,
  pluginShutdownTimeout: 10,
  failOnPluginError: true,
  executionPool: 10,
  hookPolicies: {},
  defaultHookPolicy: 'allow',
  cowValidation: 'strict',
  shortCircuitOnDeny: true,
  maxPayloadBytes: 10_000_000,
  maxPayloadDepth: DEFAULT_MAX_PAYLOAD_DEPTH,
  routingEnabled: false,
  routeCacheMaxEntries: 10_000,
  trustedKeys: Object.freeze([]) as unknown as string[],
  requireSignature: false,
});

function envNumber(
  env: Record<string, string | undefined>,
  name: string,
  r: NumericRange,
): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!inRange(r, n)) {
    throw new CpexError('CPEX_ERR_CONFIG_INVALID', `environment ${name}: ${rangeMessage(r, raw)}`, {
      path: name,
    });
  }
  return n;
}

function envBool(env: Record<string, string | undefined>, name: string): boolean | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new CpexError(
    'CPEX_ERR_CONFIG_INVALID',
    `environment ${name}: expected true|false, got ${JSON.stringify(raw)}`,
    {
      path: name,
    },
  );
}

function envPolicy(env: Record<string, string | undefined>, name: string): 'allow' | 'deny' | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const v = raw.trim().toLowerCase();
  if (v === 'allow' || v === 'deny') return v;
  throw new CpexError(
    'CPEX_ERR_CONFIG_INVALID',
    `environment ${name}: expected one of allow|deny, got ${JSON.stringify(raw)}`,
    {
      path: name,
    },
  );
}

/** PluginManager option → the range of its YAML twin. */
const OPTION_RANGES: ReadonlyArray<[keyof ManagerOptions, NumericRange]> = [
  ['pluginTimeout', R.plugin_timeout],
  ['timeout', R.plugin_timeout],
  ['pluginInitTimeout', R.plugin_init_timeout],
  ['pluginShutdownTimeout', R.plugin_shutdown_timeout],
  ['executionPool', R.execution_pool],
  ['maxPayloadBytes', R.max_payload_bytes],
  ['maxPayloadDepth', R.max_payload_depth],
  ['routeCacheMaxEntries', R.route_cache_max_entries],
];

function validateOptions(o: ManagerOptions): void {
  const bad = (k: string, want: string, v: unknown) => {
    throw new CpexError(
      'CPEX_ERR_INVALID_ARGUMENT',
      `PluginManager option ${k}: expected ${want}, got ${JSON.stringify(v)}`,
      {
        path: k,
      },
    );
  };
  for (const [k, r] of OPTION_RANGES) {
    const v = o[k];
    if (v !== undefined && !inRange(r, v)) bad(k, describeRange(r), v);
  }
  if (
    o.defaultHookPolicy !== undefined &&
    o.defaultHookPolicy !== 'allow' &&
    o.defaultHookPolicy !== 'deny'
  ) {
    bad('defaultHookPolicy', 'allow|deny', o.defaultHookPolicy);
  }
  if (o.cowValidation !== undefined && o.cowValidation !== 'strict' && o.cowValidation !== 'disabled') {
    bad('cowValidation', 'strict|disabled', o.cowValidation);
  }
  if (
    o.trustedKeys !== undefined &&
    !(Array.isArray(o.trustedKeys) && o.trustedKeys.every((k) => typeof k === 'string' && k.length > 0))
  ) {
    bad('trustedKeys', 'a list of non-empty strings (PEM or base64 ed25519 public keys)', o.trustedKeys);
  }
  if (o.requireSignature !== undefined && typeof o.requireSignature !== 'boolean') {
    bad('requireSignature', 'a boolean', o.requireSignature);
  }
}

/** Resolve every setting with its precedence. Throws coded errors for invalid option/env values. */
export function resolveSettings(
  options: ManagerOptions,
  yaml: ParsedPluginSettings = {},
  env: Record<string, string | undefined> = options.env ?? process.env,
): ResolvedSettings {
  validateOptions(options);
  const d = DEFAULT_SETTINGS;
  return {
    pluginTimeout:
      options.pluginTimeout ??
      options.timeout ??
      yaml.plugin_timeout ??
      envNumber(env, 'PLUGINS_PLUGIN_TIMEOUT', R.plugin_timeout) ??
      d.pluginTimeout,
    pluginInitTimeout:
      options.pluginInitTimeout ??
      yaml.plugin_init_timeout ??
      envNumber(env, 'PLUGINS_PLUGIN_INIT_TIMEOUT', R.plugin_init_timeout) ??
      d.pluginInitTimeout,
    pluginShutdownTimeout:
      options.pluginShutdownTimeout ??
      yaml.plugin_shutdown_timeout ??
      envNumber(env, 'PLUGINS_PLUGIN_SHUTDOWN_TIMEOUT', R.plugin_shutdown_timeout) ??
      d.pluginShutdownTimeout,
    failOnPluginError:
      options.failOnPluginError ??
      yaml.fail_on_plugin_error ??
      envBool(env, 'PLUGINS_FAIL_ON_PLUGIN_ERROR') ??
      d.failOnPluginError,
    executionPool:
      options.executionPool ??
      yaml.execution_pool ??
      envNumber(env, 'PLUGINS_EXECUTION_POOL', R.execution_pool) ??
      d.executionPool,
    hookPolicies: options.hookPolicies ?? yaml.hook_policies ?? d.hookPolicies,
    defaultHookPolicy:
      options.defaultHookPolicy ??
      yaml.default_hook_policy ??
      envPolicy(env, 'PLUGINS_DEFAULT_HOOK_POLICY') ??
      d.defaultHookPolicy,
    cowValidation: options.cowValidation ?? yaml.cow_validation ?? d.cowValidation,
    shortCircuitOnDeny: options.shortCircuitOnDeny ?? yaml.short_circuit_on_deny ?? d.shortCircuitOnDeny,
    maxPayloadBytes: options.maxPayloadBytes ?? yaml.max_payload_bytes ?? d.maxPayloadBytes,
    maxPayloadDepth: options.maxPayloadDepth ?? yaml.max_payload_depth ?? d.maxPayloadDepth,
    routingEnabled: options.routingEnabled ?? yaml.routing_enabled ?? d.routingEnabled,
    routeCacheMaxEntries:
      options.routeCacheMaxEntries ?? yaml.route_cache_max_entries ?? d.routeCacheMaxEntries,
    trustedKeys: [...(options.trustedKeys ?? yaml.trusted_keys ?? d.trustedKeys)],
    requireSignature: options.requireSignature ?? yaml.require_signature ?? d.requireSignature,
  };
}
