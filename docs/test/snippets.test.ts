// Every fenced code block of the repo's Markdown is included from a real file, extracted and
// checked, or explicitly illustrative (CONTRIBUTING.md, "Code blocks in docs"); this keeps it so.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isCI } from '../../scripts/lib/ci.mjs';
import {
  allBlocks,
  checkOutput,
  checkTypeScript,
  checkUnit,
  checkUnits,
  findTool,
  includedText,
  type Lang,
  markdownFiles,
  parseBlocks,
  structuralProblems,
  TOOLS,
  type Unit,
  writeIncludes,
} from '../src/snippets.js';

const blocks = allBlocks();
const units = checkUnits(blocks);
const fmt = (ps: { where: string; message: string }[]) =>
  ps.map((p) => `${p.where}: ${p.message}`).join('\n');

describe('docs code blocks', () => {
  it('finds the Markdown of the repo (README, docs, package and example READMEs)', () => {
    const docs = markdownFiles();
    for (const f of [
      'README.md',
      'CONTRIBUTING.md',
      'docs/hooks.md',
      'docs/ffi/go.md',
      'packages/sdk/README.md',
    ]) {
      expect(docs).toContain(f);
    }
    expect(blocks.length).toBeGreaterThan(50);
  });

  it('every block is marked, and every included block equals its file (pnpm snippets --write)', () => {
    expect(fmt(structuralProblems(blocks))).toBe('');
  });

  it('the README includes the first-plugin example (plugin, config, unit test, gateway)', () => {
    const readme = blocks.filter((b) => b.doc === 'README.md' && b.marker.kind === 'include');
    expect(readme.map((b) => (b.marker.kind === 'include' ? b.marker.file : ''))).toEqual([
      'examples/first-plugin/src/no-secrets.ts',
      'examples/first-plugin/config.yaml',
      'examples/first-plugin/test/no-secrets.test.ts',
      'examples/first-plugin/src/gateway.ts',
    ]);
  });

  // tsc over the snippets and the @cpex sources they import: ~100 s on a loaded 2-core machine;
  // the bound is generous so that only a real failure fails it.
  const SLOW = 900_000;
  it('ts/js snippets and included files type-check (one tsc program, the repo compiler options)', {
    timeout: SLOW,
  }, async () => {
    expect(units.filter((u) => u.lang === 'ts').length).toBeGreaterThan(20);
    expect(fmt(await checkTypeScript(units))).toBe('');
  });

  for (const b of blocks.filter((x) => x.marker.kind === 'output')) {
    const command = b.marker.kind === 'output' ? b.marker.command : '';
    it(`${b.doc}:${b.line} is an excerpt of what \`${command}\` prints`, { timeout: SLOW }, async () => {
      expect(await checkOutput(b)).toBeUndefined();
    });
  }

  const others = [...new Set(units.map((u) => u.lang))].filter((l) => l !== 'ts' && l !== 'js').sort();
  it('covers the languages the docs use', () => {
    expect(others).toEqual(expect.arrayContaining(['bash', 'c', 'go', 'json', 'rust', 'toml', 'yaml']));
  });
  for (const lang of others) {
    const need = TOOLS[lang];
    const missing = need !== undefined && !findTool(need);
    // Under CI a missing toolchain fails the test (no silent skips); locally it is a visible skip.
    it.skipIf(missing && !isCI())(`${lang} snippets pass their check${need ? ` (${need})` : ''}`, () => {
      if (missing) throw new Error(`${need} is not installed: ${lang} snippets cannot be checked`);
      const problems = units
        .filter((u) => u.lang === lang)
        .flatMap((u) => {
          const p = checkUnit(u);
          return p ? [{ where: u.where, message: p }] : [];
        });
      expect(fmt(problems)).toBe('');
    });
  }
});

describe('the checker catches what it should', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cpex-snippets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('unmarked blocks, unreadable markers, missing files and drift; --write repairs drift', () => {
    mkdirSync(path.join(dir, 'src'), { recursive: true });
    writeFileSync(
      path.join(dir, 'src/a.ts'),
      'export const a = 1;\n// #region part\n  const b = 2;\n// #endregion\n',
    );
    const md = [
      '# t',
      '```ts',
      'x',
      '```',
      '<!-- snippet: nonsense here -->',
      '```ts',
      '```',
      '<!-- snippet: src/missing.ts -->',
      '```ts',
      '```',
      '<!-- snippet: src/a.ts -->',
      '```ts',
      'export const a = 2;',
      '```',
      '- item',
      '',
      '  <!-- snippet: src/a.ts#part -->',
      '  ```ts',
      '  const b = 2;',
      '  ```',
      '<!-- snippet: illustrative (output) -->',
      '```',
      '$ anything',
      '```',
      '',
    ].join('\n');
    writeFileSync(path.join(dir, 'doc.md'), md);
    const found = parseBlocks('doc.md', md);
    expect(found.map((b) => b.marker.kind)).toEqual([
      'none',
      'bad',
      'include',
      'include',
      'include',
      'illustrative',
    ]);
    const messages = structuralProblems(found, dir).map((p) => `${p.where} ${p.message}`);
    expect(messages).toEqual([
      expect.stringMatching(/^doc\.md:2 unmarked code block/),
      expect.stringMatching(/^doc\.md:6 unreadable snippet marker/),
      expect.stringMatching(/^doc\.md:9 included file src\/missing\.ts does not exist/),
      expect.stringMatching(/^doc\.md:12 block differs from src\/a\.ts/),
    ]);
    expect(writeIncludes(dir)).toEqual(['doc.md']);
    const fixed = readFileSync(path.join(dir, 'doc.md'), 'utf8');
    expect(fixed).toContain('```ts\nexport const a = 1;\n  const b = 2;\n```');
    expect(fixed).toContain('  ```ts\n  const b = 2;\n  ```'); // the region, dedented, re-indented
    expect(structuralProblems(parseBlocks('doc.md', fixed), dir).length).toBe(3); // unmarked, bad, missing remain
  });

  it('a region drops its marker lines and the common indentation, tabs included', () => {
    writeFileSync(
      path.join(dir, 'f.go'),
      'func f() {\n\t// #region r\n\tif x {\n\t\ty()\n\t}\n\t// #endregion\n}\n',
    );
    expect(includedText('f.go', 'r', dir)).toBe('if x {\n\ty()\n}\n');
    expect(() => includedText('f.go', 'nope', dir)).toThrow(/no "#region nope"/);
  });

  it('an output block must be lines of what its command prints, in order', async () => {
    const block = (marker: string, body: string) =>
      parseBlocks('o.md', `<!-- snippet: ${marker} -->\n\`\`\`\n${body}\n\`\`\`\n`)[0]!;
    expect(
      await checkOutput(block("output: printf 'one\\ntwo  \\nthree\\n'", '$ cmd\none\n\nthree'), dir),
    ).toBeUndefined();
    expect(await checkOutput(block("output: printf 'one\\ntwo\\n'", 'two\none'), dir)).toMatch(
      /not in the output .*: one$/,
    );
    expect(await checkOutput(block("output: printf 'one\\n'", 'on'), dir)).toMatch(/not in the output/);
    expect(await checkOutput(block('output: exit 3', 'x'), dir)).toMatch(/exit 3 failed/);
  });

  it('a type error in a snippet is reported at its doc line', async () => {
    const u: Unit = {
      lang: 'ts',
      where: 'docs/x.md:7',
      text: "export const a = 1;\nexport const n: number = 'one';\n",
    };
    const problems = await checkTypeScript([u]);
    expect(problems).toEqual([
      { where: 'docs/x.md:7 (+2 lines into the block)', message: expect.stringMatching(/TS2322/) },
    ]);
  });

  const broken: [Lang, string, RegExp][] = [
    ['json', '{"a": 1,}', /invalid JSON/],
    ['yaml', 'a: [1, 2', /invalid YAML/],
    [
      'yaml',
      'plugins:\n  - name: x\n    kind: node://./x.ts\n    hooks: [tool_pre_invoke]\n    mode: sequental\n',
      /not a valid CPEX config.*sequental/s,
    ],
    ['bash', 'if then fi\n', /syntax error/],
    ['python', 'def f(:\n  pass\n', /SyntaxError|invalid syntax/],
    ['go', 'func f() { return 1 +\n', /expected|unexpected/],
    ['c', '#include "cpex_plugin.h"\nint f(void) { return undeclared; }\n', /undeclared/],
    ['rust', 'fn f() { let x = ; }\n', /error/],
    ['toml', 'a = [1,\n', /TOML|Expected|expected/i],
  ];
  for (const [lang, text, want] of broken) {
    const need = TOOLS[lang];
    const missing = need !== undefined && !findTool(need);
    it.skipIf(missing && !isCI())(`a broken ${lang} snippet fails its check`, () => {
      expect(checkUnit({ lang, where: 'docs/x.md:1', text })).toMatch(want);
    });
  }
});
