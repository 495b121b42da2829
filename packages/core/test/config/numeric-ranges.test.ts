/** Item 10 of issue 11: every numeric setting has a documented range; outside it is an error, never clamped. */
import { configJsonSchema, CpexError, parseConfigText, PluginManager } from '@cpex/core';
import { NUMERIC_RANGES } from '@cpex/core/internal';
import { describe, expect, it } from 'vitest';

const settingsYaml = (key: string, value: string) =>
  `plugin_settings:\n  ${key}: ${value}\nplugins:\n  - {name: a, kind: k, hooks: [tool_pre_invoke]}\n`;
const entryYaml = (key: string, value: string) =>
  `plugins:\n  - name: a\n    kind: k\n    hooks: [tool_pre_invoke]\n    ${key}: ${value}\n`;

const TOP = [
  'plugin_timeout',
  'execution_pool',
  'max_payload_bytes',
  'max_payload_depth',
  'route_cache_max_entries',
];
const ENTRY = ['timeout', 'priority', 'max_content_size'];

function rejects(yaml: string, path: string): string {
  try {
    parseConfigText(yaml, { file: 'g.yaml', env: {} });
  } catch (e) {
    expect((e as CpexError).code).toBe('CPEX_ERR_CONFIG_INVALID');
    expect((e as CpexError).message).toContain(`${path}: expected `);
    return (e as Error).message;
  }
  throw new Error(`accepted ${path}`);
}

describe('numeric settings: documented range, rejected outside it', () => {
  it('the range table covers every numeric key of plugin_settings and plugin entries', () => {
    const schema = configJsonSchema() as {
      properties: Record<string, { anyOf?: Array<{ properties?: Record<string, { type?: string }> }> }>;
      $defs?: unknown;
    };
    const text = JSON.stringify(schema);
    for (const k of TOP) expect(NUMERIC_RANGES).toHaveProperty([k]);
    for (const k of ENTRY) expect(NUMERIC_RANGES).toHaveProperty([`plugins[].${k}`]);
    // Every number/integer in the JSON Schema has both bounds: nothing numeric is unbounded.
    const numbers = [...text.matchAll(/\{[^{}]*"type":"(?:number|integer)"[^{}]*\}/g)].map((m) => m[0]);
    expect(numbers.length).toBeGreaterThanOrEqual(TOP.length + ENTRY.length);
    for (const n of numbers) {
      expect(n).toMatch(/"(exclusiveM|m)inimum"/);
      expect(n).toMatch(/"maximum"/);
      expect(n).toMatch(/"description"/);
    }
  });

  it('each bound is enforced: just inside is accepted, just outside is a config error', () => {
    for (const key of [...TOP, ...ENTRY]) {
      const r = NUMERIC_RANGES[(TOP.includes(key) ? key : `plugins[].${key}`) as keyof typeof NUMERIC_RANGES];
      const yaml = TOP.includes(key) ? settingsYaml : entryYaml;
      const path = TOP.includes(key) ? `plugin_settings.${key}` : `plugins[0].${key}`;
      expect(() => parseConfigText(yaml(key, String(r.max)), { env: {} })).not.toThrow();
      rejects(yaml(key, String(r.integer ? r.max + 1 : r.max + 0.001)), path);
      rejects(yaml(key, String(r.min - 1)), path);
      if (r.integer) rejects(yaml(key, String(r.min + 0.5)), path);
      rejects(yaml(key, '.inf'), path);
      rejects(yaml(key, '.nan'), path);
      rejects(yaml(key, '"5"'), path);
    }
  });

  it('timeouts above 2^31 ms are rejected (YAML, entry, option, env), not clamped', () => {
    const msg = rejects(settingsYaml('plugin_timeout', '2147484'), 'plugin_settings.plugin_timeout');
    expect(msg).toContain('expected a number > 0 and <= 2147483.647 (seconds), got 2147484');
    rejects(entryYaml('timeout', '1e12'), 'plugins[0].timeout');
    expect(() => new PluginManager({ pluginTimeout: 2 ** 31 })).toThrowError(
      /pluginTimeout: expected a number > 0/,
    );
    expect(() => new PluginManager({ timeout: 2147483.648 })).toThrow(CpexError);
    expect(() => new PluginManager({ env: { PLUGINS_PLUGIN_TIMEOUT: '3000000' } })).toThrowError(
      /PLUGINS_PLUGIN_TIMEOUT: expected a number > 0 and <= 2147483\.647/,
    );
    expect(() => new PluginManager({ pluginTimeout: 2147483.647 })).not.toThrow();
  });

  it('manager options share the ranges', () => {
    expect(() => new PluginManager({ executionPool: 10_001 })).toThrow(
      /executionPool: expected an integer in 0\.\.10000/,
    );
    expect(() => new PluginManager({ maxPayloadDepth: 0 })).toThrow(/maxPayloadDepth/);
    expect(() => new PluginManager({ maxPayloadDepth: 1001 })).toThrow(/maxPayloadDepth/);
    expect(() => new PluginManager({ maxPayloadBytes: 2 ** 31 })).toThrow(/maxPayloadBytes/);
    expect(() => new PluginManager({ routeCacheMaxEntries: 0.5 })).toThrow(/routeCacheMaxEntries/);
  });
});
