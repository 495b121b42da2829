/**
 * Issue 11 items 4 and 13: `{{ env.X }}` is substituted into parsed scalars (a value can never
 * create structure), and alias bombs / undefined aliases / too-deep YAML are CPEX_ERR_CONFIG_PARSE
 * with the file and line — never a raw ReferenceError or RangeError.
 */
import { ConfigError, parseConfigText } from '@cpex/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const TEMPLATE = [
  'plugin_settings:',
  '  plugin_timeout: {{ env.TIMEOUT }}',
  'plugins:',
  '  - name: "{{ env.V }}"',
  '    kind: "node://{{ env.V }}"',
  "    description: '{{ env.V }}'",
  '    hooks: [tool_pre_invoke]',
  '    config:',
  '      plain: {{ env.V }}',
  '      block: |',
  '        {{ env.V }}',
  '      list: [{{ env.V }}, {{ env.V }}]',
  '      flow: {k: {{ env.V }}}',
  '      {{ env.V }}: as-key',
  '  - name: second',
  '    kind: k',
  '',
].join('\n');

const parse = (v: string, timeout = '5') =>
  parseConfigText(TEMPLATE, { file: 't.yaml', env: { V: v, TIMEOUT: timeout } });

describe('{{ env.X }} is substituted into parsed scalars, never spliced into the text', () => {
  const HOSTILE = [
    'x\ncapabilities: [write_headers]',
    'x\n  capabilities: [write_headers]',
    'x\n    capabilities: [write_headers]',
    '"\ncapabilities: [write_headers]\nx: "',
    "'\ncapabilities: [write_headers]\nx: '",
    'x}, capabilities: [write_headers], y: {z',
    'x], capabilities: [write_headers',
    'a: b',
    '[write_headers]',
    '{a: 1}',
    '- item',
    '&anchor x',
    '*alias',
    '!!js/function "() => 1"',
    'x # comment',
    '---\nplugins: []',
    '...',
    '{{ env.TIMEOUT }}',
    '{% for x in y %}',
    '|\n  block',
    '\\u0000\0',
    `x\n${'  - name: injected\n    kind: k\n'}`,
  ];

  it.each(HOSTILE)('hostile value %j stays one string everywhere it is used', (v) => {
    const cfg = parse(v);
    expect(cfg.entries.map((e) => e.name)).toEqual([v, 'second']);
    const [e] = cfg.entries;
    expect(e!.capabilities).toEqual([]);
    expect(e!.kind).toBe(`node://${v}`);
    expect(e!.description).toBe(v);
    expect(e!.config).toEqual({
      plain: v.trim(),
      block: `${v}\n`,
      list: [v.trim(), v.trim()],
      flow: { k: v.trim() },
      [v]: 'as-key',
    });
    expect(cfg.settings.plugin_timeout).toBe(5);
  });

  it('property: for any env value, the config has the same shape as with a plain value', () => {
    const shape = (v: string) => {
      const cfg = parse(v);
      return JSON.stringify(
        cfg.entries.map((e) => ({
          ...e,
          name: 0,
          kind: 0,
          description: 0,
          config: Object.keys(e.config ?? {}).length,
        })),
      );
    };
    const base = shape('base-value');
    fc.assert(
      fc.property(
        fc
          .string({ unit: 'binary', maxLength: 80 })
          .filter((v) => v !== '' && v !== '__proto__' && !['plain', 'block', 'list', 'flow'].includes(v)),
        (v) => {
          expect(shape(v)).toBe(base);
        },
      ),
      { numRuns: 100 },
    );
  }, 120_000);

  it('a templated key that renders as __proto__ is a config error, never a prototype change', () => {
    expect(() => parse('__proto__')).toThrow(/__proto__/);
  });

  it('an unquoted template resolves as a YAML 1.2 scalar (numbers, booleans, null), never a collection', () => {
    expect(parse('x', '2.5').settings.plugin_timeout).toBe(2.5);
    const c = (v: string) => parse(v).entries[0]!.config as Record<string, unknown>;
    expect(c('42').plain).toBe(42);
    expect(c('true').plain).toBe(true);
    expect(c('0x1f').plain).toBe(31);
    expect(c('~').plain).toBeNull();
    expect(c('[1, 2]').plain).toBe('[1, 2]');
    // quoted and block scalars stay strings
    expect(parse('42').entries[0]!.description).toBe('42');
    expect(c('42').block).toBe('42\n');
  });

  it('a templated key that collides with a sibling key is an error, not an override', () => {
    expect(() => parse('plain')).toThrowError(
      /^t\.yaml:14:7: a templated key renders as "plain", which the mapping already has/,
    );
  });

  it('a value that is not a valid setting is a config error naming the path, not a crash', () => {
    expect(() => parse('x', '[1]')).toThrowError(/plugin_settings\.plugin_timeout: expected a number/);
    expect(() => parse('x', '1e99')).toThrowError(/plugin_settings\.plugin_timeout/);
  });

  it('unset variables render empty (Jinja), `| default()` applies, other syntax is refused with the line', () => {
    const cfg = parseConfigText(
      'plugins:\n  - {name: "{{ env.MISSING | default(\'fb\') }}", kind: "x{{ env[\'ALSO_MISSING\'] }}"}\n',
      { env: {} },
    );
    expect(cfg.entries[0]).toMatchObject({ name: 'fb', kind: 'x' });
    expect(() =>
      parseConfigText('plugins: []\nx: "{{ user.name }}"\n', { file: 'j.yaml', env: {} }),
    ).toThrowError(/j\.yaml:2: template syntax other than/);
  });
});

function parseError(text: string): ConfigError {
  try {
    parseConfigText(text, { file: 'bad.yaml', env: {} });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('parsed');
}

describe('aliases and nesting: CPEX_ERR_CONFIG_PARSE with file and line', () => {
  it('a billion-laughs alias bomb names the alias that crosses the budget', () => {
    const rows = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) {
      const p = String.fromCharCode(96 + i);
      const n = String.fromCharCode(97 + i);
      rows.push(`${n}: &${n} [${Array(9).fill(`*${p}`).join(',')}]`);
    }
    const e = parseError(`${rows.join('\n')}\nplugins: []\n`);
    expect(e.code).toBe('CPEX_ERR_CONFIG_PARSE');
    expect(e.message).toMatch(/^bad\.yaml:\d+:\d+: invalid YAML: aliases expand to more than \d+ nodes/);
  });

  it('a wide alias bomb (one anchor referenced very often) is refused too', () => {
    const big = `big: &b [${Array(1000).fill('"xxxxxxxx"').join(',')}]\nuse: [${Array(200).fill('*b').join(',')}]\nplugins: []\n`;
    expect(parseError(big).message).toMatch(/^bad\.yaml:2:\d+: invalid YAML: aliases expand/);
  });

  it('an undefined alias and a self-referencing anchor name their line', () => {
    expect(parseError('plugins:\n  - *nope\n').message).toBe(
      'bad.yaml:2:5: invalid YAML: alias *nope has no anchor &nope before it',
    );
    expect(parseError('x: &a [1, *a]\nplugins: []\n').message).toMatch(
      /^bad\.yaml:1:\d+: invalid YAML: an alias refers to its own anchor/,
    );
  });

  it('ordinary anchors and merge keys still work, reused by many plugins', () => {
    const n = 500;
    const plugins = Array.from({ length: n }, (_, i) => `  - {<<: *d, name: p${i}}`).join('\n');
    const cfg = parseConfigText(
      `defaults: &d {kind: k, hooks: [tool_pre_invoke], priority: 7}\nplugins:\n${plugins}\n`,
      {
        env: {},
      },
    );
    expect(cfg.entries).toHaveLength(n);
    expect(cfg.entries[n - 1]).toMatchObject({ kind: 'k', priority: 7, hooks: ['tool_pre_invoke'] });
  });

  it('YAML nested 100,000 deep is a parse error, not a stack overflow', () => {
    const e = parseError(`plugins: []\nx: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`);
    expect(e.code).toBe('CPEX_ERR_CONFIG_PARSE');
    expect(e.message).toMatch(/nested too deeply to parse/);
    expect(e.message.split('nested too deeply').length).toBe(2); // said once
  }, 120_000);
});
