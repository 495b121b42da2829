/**
 * Scenario files (format: ../shared/conformance/README.md): parsing, strict validation and
 * normalisation. Unknown scenario, step, manager or global_context keys are a coded error naming
 * the file and the key; keys inside `expect` are free-form (the matcher reports the ones it does
 * not evaluate).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '@cpex/core';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const jsonRecord = z.record(z.string(), z.unknown());

const globalContextSchema = z.strictObject({
  request_id: z.union([z.string(), z.number()]).optional(),
  user: z.union([z.string(), jsonRecord, z.null()]).optional(),
  user_context: z.union([jsonRecord, z.null()]).optional(),
  tenant_id: z.union([z.string(), z.null()]).optional(),
  server_id: z.union([z.string(), z.null()]).optional(),
  content_type: z.union([z.string(), z.null()]).optional(),
  state: jsonRecord.optional(),
  metadata: jsonRecord.optional(),
});

const stepSchema = z.strictObject({
  hook: z.string().min(1),
  payload: z.unknown(),
  global_context: z.union([z.literal('previous'), globalContextSchema]).optional(),
  local_contexts: z.union([z.literal('previous'), z.null()]).optional(),
  extensions: z.union([jsonRecord, z.null()]).optional(),
  violations_as_exceptions: z.boolean().optional(),
  expect: jsonRecord.optional(),
});

/** `manager:` keys: Python's constructor arguments plus every setting of the ARCHITECTURE settings table. */
export const MANAGER_KEYS = {
  timeout: 'pluginTimeout',
  plugin_timeout: 'pluginTimeout',
  default_hook_policy: 'defaultHookPolicy',
  hook_policies: 'hookPolicies',
  fail_on_plugin_error: 'failOnPluginError',
  execution_pool: 'executionPool',
  cow_validation: 'cowValidation',
  short_circuit_on_deny: 'shortCircuitOnDeny',
  max_payload_bytes: 'maxPayloadBytes',
  routing_enabled: 'routingEnabled',
  route_cache_max_entries: 'routeCacheMaxEntries',
} as const;

const managerSchema = z.strictObject({
  timeout: z.number().positive().optional(),
  plugin_timeout: z.number().positive().optional(),
  default_hook_policy: z.enum(['allow', 'deny']).optional(),
  hook_policies: z.record(z.string(), z.array(z.string())).optional(),
  fail_on_plugin_error: z.boolean().optional(),
  execution_pool: z.number().int().min(0).optional(),
  cow_validation: z.enum(['strict', 'disabled']).optional(),
  short_circuit_on_deny: z.boolean().optional(),
  max_payload_bytes: z.number().int().positive().optional(),
  routing_enabled: z.boolean().optional(),
  route_cache_max_entries: z.number().int().positive().optional(),
});

const scenarioSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  manager: managerSchema.optional(),
  config: jsonRecord,
  steps: z.array(stepSchema),
});

export type ScenarioGlobalContext = z.infer<typeof globalContextSchema>;
export type ScenarioManagerBlock = z.infer<typeof managerSchema>;

export interface ScenarioStep {
  hook: string;
  payload: unknown;
  globalContext: ScenarioGlobalContext | 'previous' | undefined;
  localContexts: 'previous' | null | undefined;
  extensions: Record<string, unknown> | null | undefined;
  violationsAsExceptions: boolean;
  expect: Record<string, unknown> | undefined;
}

export interface Scenario {
  name: string;
  description: string;
  /** Absolute path of the scenario file. */
  file: string;
  /** `PLUGINS_*` settings, as strings. */
  env: Record<string, string>;
  manager: ScenarioManagerBlock;
  config: Record<string, unknown>;
  steps: ScenarioStep[];
  /** The leading `#` comment block of the file (documents deviations from the reference). */
  headerComment: string;
}

function fail(file: string, where: string, message: string): never {
  throw new ConfigError('CPEX_ERR_CONFIG_INVALID', `${file}: ${where ? `${where}: ` : ''}${message}`, {
    file,
    ...(where ? { path: where } : {}),
  });
}

function issuePath(p: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const seg of p) out += typeof seg === 'number' ? `[${seg}]` : `${out ? '.' : ''}${String(seg)}`;
  return out;
}

/** Expands `{"$repeat": [s, n]}` into `s` repeated `n` times, anywhere in a JSON value. */
export function expandRepeat(value: unknown, file = '<scenario>', where = 'payload'): unknown {
  if (Array.isArray(value)) return value.map((v, i) => expandRepeat(v, file, `${where}[${i}]`));
  if (value !== null && typeof value === 'object') {
    const rec = value as Record<string, unknown>;
    const keys = Object.keys(rec);
    if (keys.length === 1 && keys[0] === '$repeat') {
      const spec = rec.$repeat;
      if (
        !Array.isArray(spec) ||
        spec.length !== 2 ||
        typeof spec[0] !== 'string' ||
        !Number.isInteger(spec[1]) ||
        (spec[1] as number) < 0
      ) {
        fail(file, where, '"$repeat" takes [string, non-negative integer]');
      }
      return (spec[0] as string).repeat(spec[1] as number);
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = expandRepeat(rec[k], file, `${where}.${k}`);
    return out;
  }
  return value;
}

function leadingComment(text: string): string {
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) lines.push(line.replace(/^#\s?/, ''));
    else if (line.trim() === '' && lines.length === 0) continue;
    else break;
  }
  return lines.join('\n');
}

/** Parses and validates one scenario text. `file` is used in error messages only. */
export function parseScenario(text: string, file: string): Scenario {
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true });
  } catch (e) {
    throw new ConfigError('CPEX_ERR_CONFIG_PARSE', `${file}: not valid YAML: ${(e as Error).message}`, {
      file,
      cause: e,
    });
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    fail(file, '', 'a scenario must be a mapping');
  const parsed = scenarioSchema.safeParse(doc);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((iss) => {
      const base = issuePath(iss.path);
      if (iss.code === 'unrecognized_keys') {
        const keys = (iss as { keys: string[] }).keys;
        const what = base === '' ? 'scenario' : /^steps\[\d+\]$/.test(base) ? 'step' : base;
        return {
          path: base ? `${base}.${keys[0]}` : (keys[0] ?? ''),
          message: `unknown ${what} key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}`,
        };
      }
      return { path: base, message: iss.message };
    });
    const text0 = issues.map((i) => `${i.path || '<root>'}: ${i.message}`).join('; ');
    throw new ConfigError('CPEX_ERR_CONFIG_INVALID', `${file}: invalid scenario: ${text0}`, {
      file,
      ...(issues[0]?.path ? { path: issues[0].path } : {}),
      issues,
    });
  }
  const s = parsed.data;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.env ?? {})) env[k] = String(v);
  return {
    name: s.name,
    description: s.description ?? '',
    file,
    env,
    manager: s.manager ?? {},
    config: s.config,
    headerComment: leadingComment(text),
    steps: s.steps.map((st, i) => ({
      hook: st.hook,
      payload: expandRepeat(st.payload, file, `steps[${i}].payload`),
      globalContext: st.global_context,
      localContexts: st.local_contexts,
      extensions:
        st.extensions === undefined ? undefined : (expandRepeat(st.extensions) as Record<string, unknown>),
      violationsAsExceptions: st.violations_as_exceptions ?? false,
      expect: st.expect,
    })),
  };
}

/** Reads one scenario file. */
export async function loadScenarioFile(file: string): Promise<Scenario> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (e) {
    throw new ConfigError('CPEX_ERR_CONFIG_READ', `${abs}: cannot read scenario: ${(e as Error).message}`, {
      file: abs,
      cause: e,
    });
  }
  return parseScenario(text, abs);
}

/** Expands files and directories (non-recursive, `*.yaml`/`*.yml`, sorted) into scenario file paths. */
export async function collectScenarioFiles(inputs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    const abs = path.resolve(input);
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(abs);
    } catch {
      throw new ConfigError('CPEX_ERR_CONFIG_READ', `${abs}: no such scenario file or directory`, {
        file: abs,
      });
    }
    if (st.isDirectory()) {
      const names = (await readdir(abs)).filter((n) => /\.ya?ml$/.test(n)).sort();
      for (const n of names) out.push(path.join(abs, n));
    } else {
      out.push(abs);
    }
  }
  return out;
}
