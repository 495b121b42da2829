/**
 * Issue 11 (the `__proto__` class): a literal `__proto__:` key anywhere in a config (top level,
 * plugin_settings, a plugin entry, its `config:` at any depth, applied_to, conditions, groups,
 * routes, route overrides, hook_policies) is a coded CPEX_ERR_CONFIG_INVALID naming the YAML path
 * and line — it is never dropped silently and never turns into a prototype. `constructor`,
 * `prototype` and the other Object.prototype names are ordinary keys: kept as data where data is
 * kept (a plugin's `config:`), warned about where keys are known. Object.prototype is never touched.
 */
import { ConfigError, parseConfigText, validateConfig } from '@cpex/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/** A config with `KEY: VALUE` inserted at one place (the `%` marks where), as YAML text. */
const PLACES: Record<string, { yaml: string; path: string }> = {
  top: { yaml: 'plugins: [{name: a, kind: k}]\n%\n', path: '' },
  settings: { yaml: 'plugin_settings:\n  plugin_timeout: 5\n  %\nplugins: []\n', path: 'plugin_settings.' },
  entry: { yaml: 'plugins:\n  - name: a\n    kind: k\n    %\n', path: 'plugins[0].' },
  config: {
    yaml: 'plugins:\n  - name: a\n    kind: k\n    config:\n      keep: 1\n      %\n',
    path: 'plugins[0].config.',
  },
  configDeep: {
    yaml: 'plugins:\n  - name: a\n    kind: k\n    config:\n      outer:\n        - inner:\n            %\n',
    path: 'plugins[0].config.outer[0].inner.',
  },
  appliedTo: {
    yaml: 'plugins:\n  - name: a\n    kind: k\n    applied_to:\n      %\n',
    path: 'plugins[0].applied_to.',
  },
  condition: {
    yaml: 'plugins:\n  - name: a\n    kind: k\n    conditions:\n      - tools: [x]\n        %\n',
    path: 'plugins[0].conditions[0].',
  },
  groups: { yaml: 'plugins: [{name: a, kind: k}]\ngroups:\n  sec: {plugins: [a]}\n  %\n', path: 'groups.' },
  route: {
    yaml: 'plugins: [{name: a, kind: k}]\nroutes:\n  - tool: x\n    plugins: [a]\n    %\n',
    path: 'routes[0].',
  },
  routeOverride: {
    yaml: 'plugins: [{name: a, kind: k}]\nroutes:\n  - tool: x\n    plugins:\n      - a:\n          config:\n            %\n',
    path: 'routes[0].plugins[0].a.config.',
  },
  hookPolicies: {
    yaml: 'plugin_settings:\n  hook_policies:\n    tool_pre_invoke: [args]\n    %\nplugins: []\n',
    path: 'plugin_settings.hook_policies.',
  },
};

const VALUES = ['{polluted: true}', '1', '[x]', '{mode: disabled, priority: 1}', 'null'];
const OTHER_KEYS = ['constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];

function load(
  yaml: string,
): { ok: true; cfg: ReturnType<typeof parseConfigText> } | { ok: false; e: unknown } {
  try {
    return { ok: true, cfg: parseConfigText(yaml, { file: 'gateway.yaml', env: {} }) };
  } catch (e) {
    return { ok: false, e };
  }
}

const untouched = (): void => {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTO_NAMES);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(({} as Record<string, unknown>).mode).toBeUndefined();
};
const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();

describe('`__proto__` and other Object.prototype names as config keys', () => {
  it('property: a literal `__proto__` key at any place is CPEX_ERR_CONFIG_INVALID with its YAML path and line', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(PLACES)), fc.constantFrom(...VALUES), (place, value) => {
        const p = PLACES[place]!;
        const yaml = p.yaml.replace('%', `__proto__: ${value}`);
        const line = yaml.split('\n').findIndex((l) => l.includes('__proto__')) + 1;
        const r = load(yaml);
        expect(r.ok, `${place}: ${yaml}`).toBe(false);
        const e = (r as { e: unknown }).e as ConfigError;
        expect(e).toBeInstanceOf(ConfigError);
        expect(e.code).toBe('CPEX_ERR_CONFIG_INVALID');
        expect(e.path).toBe(`${p.path}__proto__`);
        expect(e.message).toContain(`${p.path}__proto__: "__proto__" is not allowed as a key`);
        expect(e.message).toContain(`(line ${line}:`);
        untouched();
      }),
      { numRuns: 120 },
    );
  });

  it("property: constructor/prototype/toString/... keys never change a shape or Object.prototype; in a plugin's config they are kept as own data", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(PLACES)),
        fc.constantFrom(...OTHER_KEYS),
        fc.constantFrom(...VALUES),
        (place, key, value) => {
          const yaml = PLACES[place]!.yaml.replace('%', `${key}: ${value}`);
          const r = load(yaml);
          if (!r.ok) {
            // a schema-checked place may refuse the value (e.g. a group that is not a mapping),
            // but only with a coded config error
            expect(r.e).toBeInstanceOf(ConfigError);
          } else if (place === 'config') {
            const config = r.cfg.entries[0]?.config as Record<string, unknown>;
            expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
            expect(Object.keys(config)).toEqual(['keep', key]);
            expect(Object.hasOwn(config, key)).toBe(true);
          }
          untouched();
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a config object built in code (JSON.parse keeps "__proto__" as an own key) is refused the same way', () => {
    const data = JSON.parse('{"plugins": [{"name": "a", "kind": "k", "config": {"__proto__": {"x": 1}}}]}');
    let err: unknown;
    try {
      validateConfig(data);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).path).toBe('plugins[0].config.__proto__');
  });
});
