/**
 * Fuzzed configs through every config entry point of core: parseConfigText, validateConfig,
 * loadConfigFile, PluginManager.loadConfig (file and object), loadConfigText and reload.
 * Start from the valid configs of examples/ and the conformance scenarios, mutate them (wrong
 * types, unknown keys, huge/negative/NaN numbers, deep nesting, prototype names, long strings,
 * hostile JavaScript values; at the text level tags, aliases, duplicate keys, BOM, several
 * documents, truncation) and require: success, or a coded CPEX_ERR_* naming where — never an
 * uncaught exception, a hang or a silently changed setting. Fixed seeds; each input is written to
 * a log file before it runs (a hang leaves the culprit there).
 */
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ConfigError,
  CpexError,
  loadConfigFile,
  type Logger,
  parseConfigText,
  PluginManager,
  pluginToInstance,
  validateConfig,
} from '@cpex/core';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** The valid configs we start from: every example and every conformance scenario's `config:`. */
const TEXTS: string[] = [];
for (const d of readdirSync(path.join(ROOT, 'examples'))) {
  try {
    TEXTS.push(readFileSync(path.join(ROOT, 'examples', d, 'config.yaml'), 'utf8'));
  } catch {
    // an example without a config.yaml
  }
}
for (const f of readdirSync(path.join(ROOT, 'conformance/scenarios'))) {
  const s = YAML.parse(readFileSync(path.join(ROOT, 'conformance/scenarios', f), 'utf8')) as {
    config?: unknown;
  };
  if (s?.config) TEXTS.push(YAML.stringify(s.config));
}
const BASES: unknown[] = TEXTS.map((t) => YAML.parse(t));

const logFile = path.join(mkdtempSync(path.join(tmpdir(), 'cpex-config-fuzz-')), 'last-input.txt');
const logFd = openSync(logFile, 'w');
afterAll(() => closeSync(logFd));
function logInput(label: string, input: string): void {
  writeSync(logFd, `--- ${label}\n${input}\n`);
}

/** The outcome rule: success, or a CpexError with a CPEX_ERR_* code and a message saying where. */
function expectCoded(e: unknown, input: string): void {
  if (!(e instanceof CpexError)) {
    throw new Error(`uncoded ${(e as Error)?.name}: ${(e as Error)?.message}\ninput: ${input.slice(0, 800)}`);
  }
  expect(e.code, input).toMatch(/^CPEX_ERR_[A-Z_]+$/);
  expect(e.message.length, input).toBeGreaterThan(0);
  if (e instanceof ConfigError && e.code !== 'CPEX_ERR_CONFIG_PARSE') {
    // a config error names a path (the YAML path of each issue)
    expect(e.issues.length + (e.path ? 1 : 0), `${e.message}\n${input}`).toBeGreaterThan(0);
  }
}
function outcome<T>(fn: () => T, input: string): T | undefined {
  try {
    return fn();
  } catch (e) {
    expectCoded(e, input);
    return undefined;
  }
}
async function outcomeAsync<T>(fn: () => Promise<T>, input: string): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    expectCoded(e, input);
    return undefined;
  }
}

// ---- object-level mutations -------------------------------------------------------------------

function deepValue(n: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = i % 2 ? [v] : { k: v };
  return v;
}

/** Hostile values, built lazily (fast-check inspects generated values: proxies must not be among them). */
const HOSTILE: Array<() => unknown> = [
  () => null,
  () => true,
  () => 0,
  () => -1,
  () => 1.5,
  () => Number.NaN,
  () => Number.POSITIVE_INFINITY,
  () => Number.NEGATIVE_INFINITY,
  () => 1e308,
  () => 2 ** 53 + 2,
  () => -0,
  () => '',
  () => 'x'.repeat(100_000),
  () => '\u0000',
  () => '\ud800',
  () => [],
  () => ({}),
  () => [[[[[]]]]],
  () => 'sequential',
  () => 'fail',
  () => ['x'],
  () => [1, 2],
  () => 12345678901234567890n,
  () => 5n,
  () => deepValue(5000),
  () => Symbol('s'),
  () => () => 1,
  () => {
    const o: Record<string, unknown> = { a: 1 };
    o.self = o;
    return o;
  },
  () =>
    Object.defineProperty({}, 'name', {
      get() {
        throw new Error('getter');
      },
      enumerable: true,
    }),
  () =>
    new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
        ownKeys() {
          throw new Error('trap');
        },
        getPrototypeOf() {
          throw new Error('trap');
        },
        has() {
          throw new Error('trap');
        },
      },
    ),
  () => {
    const r = Proxy.revocable({}, {});
    r.revoke();
    return r.proxy;
  },
  () => ({
    [Symbol.toPrimitive]() {
      throw new Error('prim');
    },
  }),
  () => new Date(Number.NaN),
  () => new Map([[1, 2]]),
  () => new Set([1]),
  () => new Uint8Array(3),
  () => undefined,
  () => Object.create(null),
  // biome-ignore lint/suspicious/noSparseArray: a list with a hole
  () => [, , 1],
  () => {
    const a: unknown[] = [];
    a.length = 2 ** 32 - 1;
    return a;
  },
  () => {
    // 2^40 values if expanded: a DAG, not a cycle
    let v: unknown = 'x';
    for (let i = 0; i < 40; i++) v = [v, v];
    return v;
  },
];
const KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'unknown_key',
  'plugin_timeout',
  'x'.repeat(5000),
  '',
  '\ud800',
];

/** Every path of plain data in `v` (containers only entered when plain). */
function paths(v: unknown, at: PropertyKey[] = [], out: PropertyKey[][] = []): PropertyKey[][] {
  out.push(at);
  if (out.length > 300) return out;
  try {
    // (never index a hole bomb: its length is 2^32-1)
    if (Array.isArray(v))
      for (const k of Object.keys(v).slice(0, 50)) paths(v[Number(k)], [...at, Number(k)], out);
    else if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype)
      for (const k of Object.keys(v)) paths((v as Record<string, unknown>)[k], [...at, k], out);
  } catch {
    // a hostile value placed by an earlier mutation: not entered
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<PropertyKey, unknown> {
  try {
    return !!v && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
  } catch {
    return false; // a hostile value placed by an earlier mutation
  }
}

type Mutation = [number, number, 'set' | 'delete' | 'key', number];

/** A base config with the mutations applied (the mutations only ever enter plain data). */
function mutate(base: unknown, muts: Mutation[]): unknown {
  let cfg: unknown = structuredClone(base);
  for (const [pi, vi, op, ki] of muts) {
    const ps = paths(cfg);
    const p = ps[pi % ps.length]!;
    if (p.length === 0) {
      if (op === 'set') cfg = HOSTILE[vi % HOSTILE.length]!();
      continue;
    }
    let parent = cfg as Record<PropertyKey, unknown>;
    for (const k of p.slice(0, -1)) parent = parent[k] as Record<PropertyKey, unknown>;
    const last = p[p.length - 1]!;
    if (op === 'delete') {
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete parent[last];
    } else if (op === 'key') {
      const target = parent[last];
      if (isPlainObject(target)) {
        Object.defineProperty(target, KEYS[ki % KEYS.length]!, {
          value: HOSTILE[vi % HOSTILE.length]!(),
          enumerable: true,
          configurable: true,
          writable: true,
        });
      }
    } else parent[last] = HOSTILE[vi % HOSTILE.length]!();
  }
  return cfg;
}

/** A bounded description of a (possibly hostile) value: never expands a DAG, never runs its code. */
function show(v: unknown): string {
  let budget = 3000;
  const walk = (x: unknown, depth: number): string => {
    if (budget-- <= 0 || depth > 12) return '…';
    if (typeof x === 'string') return JSON.stringify(x.length > 60 ? `${x.slice(0, 60)}…(${x.length})` : x);
    if (typeof x === 'bigint') return `${x}n`;
    if (typeof x !== 'object' || x === null)
      return typeof x === 'symbol' || typeof x === 'function' ? typeof x : String(x);
    try {
      if (Array.isArray(x))
        return `[${x
          .slice(0, 20)
          .map((e) => walk(e, depth + 1))
          .join(', ')}${x.length > 20 ? ` …(${x.length})` : ''}]`;
      if (Object.getPrototypeOf(x) !== Object.prototype) return `(${Object.prototype.toString.call(x)})`;
      return `{${Object.keys(x)
        .slice(0, 30)
        .map(
          (k) => `${JSON.stringify(k.slice(0, 40))}: ${walk((x as Record<string, unknown>)[k], depth + 1)}`,
        )
        .join(', ')}}`;
    } catch {
      return '(unreadable)';
    }
  };
  return walk(v, 0);
}

const mutations = fc.array(
  fc.tuple(
    fc.nat(),
    fc.nat(HOSTILE.length - 1),
    fc.constantFrom<'set' | 'delete' | 'key'>('set', 'delete', 'key'),
    fc.nat(KEYS.length - 1),
  ),
  { minLength: 1, maxLength: 4 },
);

describe('fuzzed configs: success or a coded error, through every entry point', () => {
  it('property: mutated config objects through validateConfig, PluginManager.loadConfig(object) and as YAML text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(BASES.length - 1), mutations, async (bi, muts) => {
        const cfg = mutate(BASES[bi], muts);
        const input = show(cfg);
        logInput(`object ${bi} ${JSON.stringify(muts)}`, input);
        const ok = outcome(() => validateConfig(cfg), input);
        const manager = new PluginManager({ logger: quiet, env: {} });
        await outcomeAsync(() => manager.loadConfig(cfg as Record<string, unknown>), input);
        await manager.shutdown();
        if (ok) noSettingLost(cfg, ok);
        let text: string | undefined;
        try {
          // only what validated as plain data (YAML.stringify would expand a DAG or run getters)
          text = ok ? YAML.stringify(cfg) : undefined;
        } catch {
          text = undefined; // not expressible as YAML: the object path above covered it
        }
        if (text !== undefined) {
          logInput('as text', text);
          const fromText = outcome(() => parseConfigText(text, { env: {}, file: 'fuzz.yaml' }), text);
          if (fromText) noSettingLost(YAML.parse(text), fromText);
        }
      }),
      { seed: 20261207, numRuns: 120 },
    );
  }, 240_000);

  it('property: mutated in-code entries through register() and registerHook()', async () => {
    // The camelCase entry of a plugin registered in code, from a scenario entry.
    const ENTRIES = BASES.flatMap((b) =>
      ((b as { plugins?: Array<Record<string, unknown>> }).plugins ?? []).slice(0, 2),
    ).map((p) => ({
      priority: p.priority,
      mode: p.mode,
      onError: p.on_error,
      config: p.config,
      conditions: [{ tools: ['x'] }],
      timeout: 1,
    }));
    await fc.assert(
      fc.asyncProperty(fc.nat(ENTRIES.length - 1), mutations, fc.boolean(), async (ei, muts, asHook) => {
        const entry = mutate(ENTRIES[ei], muts) as Record<string, unknown>;
        const input = show(entry);
        logInput(`entry ${ei} ${JSON.stringify(muts)} ${asHook}`, input);
        const m = new PluginManager({ logger: quiet, env: {} });
        await outcomeAsync(async () => {
          const r = asHook
            ? m.registerHook('tool_pre_invoke', () => undefined, entry as never)
            : m.register({ name: 'p', hooks: { tool_pre_invoke: () => undefined } }, entry as never);
          await m.initialize();
          await r.ready;
          await m.invoke('tool_pre_invoke', { name: 'x', args: {} });
        }, input);
        await m.shutdown();
      }),
      { seed: 11, numRuns: 80 },
    );
  }, 240_000);

  it('a plugin object whose reads throw is CPEX_ERR_INVALID_ARGUMENT from register(), never a raw error', () => {
    const m = new PluginManager({ logger: quiet, env: {} });
    const trap = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
      },
    );
    expect(() => m.register(trap as never)).toThrowError(
      expect.objectContaining({ code: 'CPEX_ERR_INVALID_ARGUMENT' }),
    );
    const r = Proxy.revocable({}, {});
    r.revoke();
    expect(() => m.register(r.proxy as never)).toThrowError(
      expect.objectContaining({ code: 'CPEX_ERR_INVALID_ARGUMENT' }),
    );
    const getter = Object.defineProperty({ name: 'g' }, 'hooks', {
      get() {
        throw null;
      },
    });
    expect(() => m.register(getter as never)).toThrowError(
      expect.objectContaining({ code: 'CPEX_ERR_INVALID_ARGUMENT' }),
    );
    expect(() => m.register({ name: 'e', hooks: {} }, trap as never)).toThrowError(
      expect.objectContaining({ code: 'CPEX_ERR_INVALID_ARGUMENT' }),
    );
    expect(() =>
      m.registerHook('tool_pre_invoke', () => undefined, { config: { s: Symbol('s') } } as never),
    ).toThrowError(expect.objectContaining({ code: 'CPEX_ERR_INVALID_ARGUMENT', path: 'config.s' }));
  });

  it('property: mutated YAML text (tags, aliases, keys, BOM, documents, truncation) through parseConfigText', () => {
    const VALUES = [
      '!!js/function "function(){}"',
      '!!binary aGVsbG8=',
      '!!set {a, b}',
      '!!omap [a: 1]',
      '!!timestamp 2001-12-14',
      '!foo bar',
      '!!int "12"',
      '.nan',
      '-.inf',
      '12345678901234567890',
      '0x7fffffffffffffffff',
      '1e400',
      '~',
      '&a [*a]',
      '*undefined_alias',
      '{? [a]: b}',
      '"\\ud800"',
      '"\\x00"',
      `${'['.repeat(3000)}${']'.repeat(3000)}`,
      'x'.repeat(5000),
      '{a: 1, a: 2}',
      '[a, b',
      '"unterminated',
      '|+\n  x',
      '{{ env.X }}',
      '{{ env.NAN }}',
      '{{ env.BIG }}',
      '{__proto__: {polluted: 1}}',
      '{}',
      '[]',
      '@reserved',
      '-1',
      '1e9',
    ];
    const KEY = [
      '__proto__',
      'constructor',
      '? [complex]',
      '"a\\u0000b"',
      'plugin_timeout',
      'plugins',
      'mode',
      '<<',
      '!!str 1',
      '1',
      'null',
      '[a]',
      '&k key',
      '*k',
    ];
    const PREFIX = [
      '\uFEFF',
      '---\n',
      '...\n',
      '--- |\n',
      '%YAML 1.2\n---\n',
      'plugins: []\n---\n',
      '',
      '\uFEFF\uFEFF',
      '\0',
    ];
    fc.assert(
      fc.property(
        fc.nat(TEXTS.length - 1),
        fc.array(
          fc.tuple(
            fc.nat(),
            fc.constantFrom('value', 'key', 'line', 'duplicate', 'prefix', 'truncate'),
            fc.nat(VALUES.length - 1),
            fc.nat(KEY.length - 1),
          ),
          { minLength: 1, maxLength: 3 },
        ),
        (ti, muts) => {
          const lines = TEXTS[ti]!.split('\n');
          let prefix = '';
          let cut = -1;
          for (const [n, op, vi, ki] of muts) {
            const i = n % lines.length;
            const l = lines[i]!;
            if (op === 'value') lines[i] = l.replace(/:\s.*$/, `: ${VALUES[vi]}`);
            else if (op === 'key') lines[i] = l.replace(/^(\s*-?\s*)[A-Za-z_]+:/, `$1${KEY[ki]}:`);
            else if (op === 'line')
              lines.splice(
                i,
                0,
                l.replace(/^(\s*-?\s*).*$/, `$1${KEY[ki]}: ${VALUES[vi]}`).replace(/^(\s*)-/, '$1 '),
              );
            else if (op === 'duplicate') lines.splice(i, 0, l.replace(/^(\s*)-/, '$1 '));
            else if (op === 'prefix') prefix = PREFIX[n % PREFIX.length]!;
            else cut = n % (TEXTS[ti]!.length + 1);
          }
          let text = prefix + lines.join('\n');
          if (cut >= 0) text = text.slice(0, cut);
          logInput('text', text);
          const env = { X: 'x', NAN: '.nan', BIG: '99999999999999999999' };
          const cfg = outcome(() => parseConfigText(text, { env, file: 'fuzz.yaml' }), text);
          if (cfg) noSettingLost(undefined, cfg);
        },
      ),
      { seed: 7, numRuns: 800 },
    );
  }, 240_000);
});

/**
 * A config that loads keeps what it said: every setting of plugin_settings, every plugin's name,
 * priority, timeout and config, exactly (numbers included); and everything is plain data.
 */
function noSettingLost(input: unknown, cfg: ReturnType<typeof validateConfig>): void {
  expect(() => JSON.stringify(cfg.entries)).not.toThrow();
  // a BigInt that fits is the same number
  const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x));
  const same = (a: unknown, b: unknown) => expect(json(a)).toBe(json(b));
  for (const e of cfg.entries) {
    // JSON round trip: nothing a plugin in another language could not receive exactly
    same(JSON.parse(JSON.stringify(e.config)), e.config);
  }
  if (!input || typeof input !== 'object') return;
  const raw = input as {
    plugin_settings?: Record<string, unknown>;
    plugins?: Array<Record<string, unknown>>;
  };
  for (const [k, v] of Object.entries(raw.plugin_settings ?? {})) {
    if (k in cfg.settings && v !== undefined) same((cfg.settings as Record<string, unknown>)[k], v);
  }
  (raw.plugins ?? []).forEach((p, i) => {
    const e = cfg.entries[i]!;
    expect(e.name).toBe(p.name);
    if (p.priority !== undefined) same(e.priority, p.priority);
    if (p.timeout !== undefined) same(e.timeout, p.timeout);
    if (p.config !== undefined && p.config !== null) same(e.config, p.config);
  });
}

describe('values a config cannot carry faithfully are refused with their path and line', () => {
  const entry = (v: string) => `plugins:\n  - name: a\n    kind: k\n    config:\n      v: ${v}\n`;
  const refuse = (yaml: string, code: string, pattern: RegExp) => {
    let err: unknown;
    try {
      parseConfigText(yaml, { file: 'g.yaml', env: {} });
    } catch (e) {
      err = e;
    }
    expect(err, yaml).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe(code);
    expect((err as ConfigError).message).toMatch(pattern);
  };

  it.each([
    ['!!binary aGVsbG8=', '!!binary'],
    ['!!set {a, b}', '!!set'],
    ['!!omap [a: 1]', '!!omap'],
    ['!!pairs [a: 1]', '!!pairs'],
    ['!!timestamp 2001-12-14', '!!timestamp'],
    ['!!js/function "function(){}"', '!!js/function'],
    ['!custom x', '!custom'],
  ])(
    'the tag of %j is CPEX_ERR_CONFIG_PARSE with its line (never a Buffer/Set/Map/Date, never ignored)',
    (v, tag) => {
      refuse(
        entry(v),
        'CPEX_ERR_CONFIG_PARSE',
        new RegExp(
          `^g\\.yaml:5:\\d+: invalid YAML: the tag ${tag.replace(/[/!]/g, '\\$&')} is not supported`,
        ),
      );
    },
  );

  it('core-schema tags are accepted', () => {
    const cfg = parseConfigText(
      entry('{s: !!str 12, i: !!int "7", m: !!map {a: 1}, q: !!seq [1], n: !!null ""}'),
      {
        env: {},
      },
    );
    expect(cfg.entries[0]!.config).toEqual({ v: { s: '12', i: 7, m: { a: 1 }, q: [1], n: null } });
  });

  it('a list or mapping as a key is CPEX_ERR_CONFIG_PARSE (never stringified into "[ a ]")', () => {
    refuse(
      entry('{[a]: 1}'),
      'CPEX_ERR_CONFIG_PARSE',
      /^g\.yaml:5:\d+: invalid YAML: a mapping key must be a scalar/,
    );
    refuse(
      `${entry('1')}      ? {k: v}\n      : x\n`,
      'CPEX_ERR_CONFIG_PARSE',
      /^g\.yaml:6:\d+: .*mapping key must be a scalar/,
    );
  });

  it.each([
    ['12345678901234567890', /plugins\[0\]\.config\.v: the integer 12345678901234567890 is beyond/],
    ['-9007199254740993', /the integer -9007199254740993 is beyond/],
    ['0x20000000000001', /the integer 9007199254740993 is beyond/],
    ['.nan', /plugins\[0\]\.config\.v: expected a finite number .* got NaN \(line 5:10\)/],
    ['-.inf', /got -Infinity/],
    ['1e400', /got Infinity/],
    ['"\\ud800x"', /plugins\[0\]\.config\.v: the string has an unpaired surrogate \\ud800 at index 0/],
  ])('%s in a plugin config is CPEX_ERR_CONFIG_INVALID naming the path', (v, pattern) => {
    refuse(entry(v), 'CPEX_ERR_CONFIG_INVALID', pattern);
  });

  it('safe integers stay exact numbers; so do integers from {{ env.X }}', () => {
    const cfg = parseConfigText(`${entry('9007199254740991')}      t: {{ env.N }}\n`, { env: { N: '-42' } });
    expect(cfg.entries[0]!.config).toEqual({ v: 9007199254740991, t: -42 });
    expect(() =>
      parseConfigText(`${entry('1')}      t: {{ env.N }}\n`, { env: { N: '99999999999999999999' } }),
    ).toThrowError(/plugins\[0\]\.config\.t: the integer 99999999999999999999 is beyond/);
  });

  it('a file that is not UTF-8 is CPEX_ERR_CONFIG_PARSE with its line, through every file reader', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cpex-utf8-'));
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from('plugins:\n  - name: a'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('\n    kind: k\n'),
      ]),
    );
    await expect(loadConfigFile(file)).rejects.toMatchObject({
      code: 'CPEX_ERR_CONFIG_PARSE',
      message: expect.stringMatching(
        /bad\.yaml:2: invalid YAML: the file is not valid UTF-8 \(byte 20: 0xff\)/,
      ),
    });
    const m = new PluginManager({ logger: quiet, env: {} });
    await expect(m.loadConfig(file)).rejects.toMatchObject({ code: 'CPEX_ERR_CONFIG_PARSE' });
    await m.initialize();
    await expect(m.reload(file)).rejects.toMatchObject({
      code: 'CPEX_ERR_RELOAD',
      cause: expect.objectContaining({ code: 'CPEX_ERR_CONFIG_PARSE' }),
    });
    await m.shutdown();
    // an overlong encoding of "/" and a UTF-16 surrogate encoded in UTF-8 are not UTF-8 either
    for (const bytes of [
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
    ]) {
      writeFileSync(file, Buffer.concat([Buffer.from('plugins: []\nx: '), Buffer.from(bytes)]));
      await expect(loadConfigFile(file)).rejects.toThrowError(
        /bad\.yaml:2: invalid YAML: the file is not valid UTF-8 \(byte 15:/,
      );
    }
  });
});

describe('config objects from code are read once into plain data', () => {
  const base = () => ({ plugins: [{ name: 'a', kind: 'k', hooks: ['tool_pre_invoke'], config: { n: 1 } }] });
  const refuse = (cfg: unknown, pattern: RegExp) => {
    let err: unknown;
    try {
      validateConfig(cfg);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('CPEX_ERR_CONFIG_INVALID');
    expect((err as ConfigError).message).toMatch(pattern);
  };
  const withConfig = (v: unknown) => {
    const c = base();
    (c.plugins[0]!.config as Record<string, unknown>).v = v;
    return c;
  };

  it('values that are not config data are refused with their path', () => {
    refuse(withConfig(5n ** 40n), /plugins\[0\]\.config\.v: the integer \d+ is beyond/);
    refuse(withConfig(Symbol('s')), /plugins\[0\]\.config\.v: a symbol is not config data/);
    refuse(
      withConfig(() => 1),
      /plugins\[0\]\.config\.v: a function is not config data/,
    );
    refuse(withConfig(new Date(0)), /plugins\[0\]\.config\.v: a Date is not config data/);
    refuse(withConfig(new Map()), /plugins\[0\]\.config\.v: a Map is not config data/);
    refuse(withConfig(new Uint8Array(2)), /plugins\[0\]\.config\.v: a Uint8Array is not config data/);
    refuse(
      withConfig(new (class Settings {})()),
      /plugins\[0\]\.config\.v: an instance of Settings is not config data/,
    );
    refuse(withConfig([1, undefined]), /plugins\[0\]\.config\.v\[1\]: undefined is not config data/);
    // biome-ignore lint/suspicious/noSparseArray: a list with a hole
    refuse(withConfig([1, , 3]), /plugins\[0\]\.config\.v: a list with holes \(length 3, 2 held\)/);
    refuse(withConfig(Number.NaN), /plugins\[0\]\.config\.v: expected a finite number/);
    refuse(
      withConfig({ 'a\ud800': 1 }),
      /plugins\[0\]\.config\.v: the key "a\\ud800" has an unpaired surrogate/,
    );
  });

  it('a BigInt that fits is a number', () => {
    expect(validateConfig(withConfig(7n)).entries[0]!.config).toEqual({ n: 1, v: 7 });
    expect(validateConfig({ plugins: [{ name: 'a', kind: 'k', priority: 3n }] }).entries[0]!.priority).toBe(
      3,
    );
  });

  it('cycles, depth, size, throwing getters, trapping and revoked proxies: coded, bounded, never a stack overflow', () => {
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    refuse(withConfig(cyc), /plugins\[0\]\.config\.v\.self: the value contains itself \(a cycle\)/);
    refuse(withConfig(deepValue(100_000)), /nested more than 1000 levels deep/);
    let dag: unknown = 'x';
    for (let i = 0; i < 60; i++) dag = [dag, dag];
    refuse(withConfig(dag), /holds more than 1000000 values/);
    const hole: unknown[] = [];
    hole.length = 2 ** 32 - 1;
    refuse(withConfig(hole), /a list with holes \(length 4294967295, 0 held\)/);
    refuse(
      withConfig(
        Object.defineProperty({}, 'x', {
          enumerable: true,
          get() {
            throw new Error('boom');
          },
        }),
      ),
      /plugins\[0\]\.config\.v\.x: cannot be read: .*boom/,
    );
    const trap = new Proxy(
      {},
      {
        ownKeys() {
          throw null;
        },
      },
    );
    refuse(withConfig(trap), /plugins\[0\]\.config\.v: cannot be read/);
    const r = Proxy.revocable({}, {});
    r.revoke();
    refuse(withConfig(r.proxy), /plugins\[0\]\.config\.v: cannot be read/);
    refuse(r.proxy, /\(root\): cannot be read/);
  });

  it('PluginManager.loadConfig and reload refuse them the same way (never a raw TypeError)', async () => {
    const r = Proxy.revocable({}, {});
    r.revoke();
    const m = new PluginManager({ logger: quiet, env: {} });
    await expect(m.loadConfig(r.proxy as never)).rejects.toMatchObject({ code: 'CPEX_ERR_CONFIG_INVALID' });
    await expect(m.loadConfig(withConfig(1n << 60n))).rejects.toMatchObject({
      code: 'CPEX_ERR_CONFIG_INVALID',
    });
    await expect(m.loadConfigText(42 as never)).rejects.toMatchObject({ code: 'CPEX_ERR_INVALID_ARGUMENT' });
    await m.initialize();
    await expect(m.reload({ config: withConfig(Symbol('x')) })).rejects.toMatchObject({
      code: 'CPEX_ERR_RELOAD',
      path: 'plugins[0].config.v',
    });
    await m.shutdown();
  });

  it('what was validated is what is used: editing or re-reading the caller object afterwards changes nothing', async () => {
    let reads = 0;
    const cfg = base();
    Object.defineProperty(cfg.plugins[0]!.config, 'live', {
      enumerable: true,
      get: () => ++reads,
    });
    const m = new PluginManager({ logger: quiet, env: {} });
    let seen: unknown;
    m.registerFactory('k', {
      async create(entry) {
        seen = entry.config;
        return pluginToInstance({ name: entry.name, hooks: { tool_pre_invoke: () => undefined } });
      },
    });
    await m.loadConfig(cfg);
    cfg.plugins[0]!.config.n = 99;
    await m.initialize();
    expect(seen).toEqual({ n: 1, live: 1 });
    expect(reads).toBe(1);
    expect(m.config?.entries[0]?.config).toEqual({ n: 1, live: 1 });
    await m.shutdown();
  });
});
