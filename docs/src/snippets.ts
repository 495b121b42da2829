/**
 * Docs snippets: every fenced code block in the repo's Markdown is checked, one of three ways,
 * chosen by an HTML comment on the line(s) just above the fence:
 *
 * - `<!-- snippet: path/to/file.ts -->` or `<!-- snippet: path/to/file.ts#name -->`: the block is
 *   the file (or the part between `#region name` and `#endregion` lines in it), byte for byte.
 *   `pnpm snippets --write` copies files into their blocks; the test fails when they drift.
 *   The file itself is checked as its language (below), besides its own project's checks.
 * - `<!-- snippet: check -->`: the block is a complete file; it is extracted and checked as its
 *   language.
 * - `<!-- snippet: output: COMMAND -->`: the block is an excerpt of what COMMAND (run by bash at
 *   the repo root) prints: each of its lines, in order, is a line of the output (`$ ` lines and
 *   blank lines are skipped).
 * - `<!-- snippet: illustrative -->`: not runnable (shell output, a wire transcript, a type
 *   sketch); said explicitly so that no block is unchecked silently.
 *
 * Language checks: ts/js → tsc (one program over every snippet, with the repo's compiler
 * options); yaml → parsed, and a CPEX config (a map with `plugins`, `plugin_settings`, `routes`,
 * ...) validated by `@cpex/core`'s config loader; json → parsed; bash/sh → `bash -n`;
 * python → `py_compile`; go → gofmt's parser; c → `gcc -fsyntax-only` (with
 * packages/host-native/include); rust → rustfmt's parser; toml → Python's tomllib.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfigText } from '@cpex/core';
import { parse as parseYaml } from 'yaml';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Directories never searched for Markdown. */
const SKIP_DIRS = new Set([
  'node_modules',
  '.git',
  'dist',
  '.cache',
  '.venv',
  'target',
  '.turbo',
  '.changeset',
  '.snippets',
  '.pytest_cache',
  '__pycache__',
]);

export type Marker =
  | { kind: 'include'; file: string; region?: string }
  | { kind: 'check' }
  | { kind: 'illustrative' }
  | { kind: 'output'; command: string }
  | { kind: 'none' }
  | { kind: 'bad'; text: string };

export interface Block {
  /** Markdown file, relative to the repo. */
  doc: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** Info string's first word, lower-cased ('' when absent). */
  lang: string;
  /** Indentation of the fence (stripped from the content). */
  indent: string;
  /** The block's text, each line ending in '\n'. */
  content: string;
  /** 0-based line indexes of the first content line and of the closing fence. */
  start: number;
  end: number;
  marker: Marker;
}

/** Every Markdown file of the repo (relative paths, sorted). */
export function markdownFiles(root = REPO): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      if (d.isDirectory()) {
        if (!SKIP_DIRS.has(d.name)) walk(path.join(dir, d.name));
      } else if (d.name.endsWith('.md') && d.name !== 'CHANGELOG.md') {
        out.push(path.relative(root, path.join(dir, d.name)));
      }
    }
  };
  walk(root);
  return out.sort();
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)/;
const MARKER = /^\s*<!--\s*snippet:\s*(.*?)\s*-->\s*$/;

export function parseMarker(text: string): Marker {
  if (text === 'check') return { kind: 'check' };
  if (text === 'illustrative' || text.startsWith('illustrative ')) return { kind: 'illustrative' };
  if (text.startsWith('output:') && text.slice(7).trim() !== '')
    return { kind: 'output', command: text.slice(7).trim() };
  const m = /^([\w./@+-]+?)(?:#([\w.-]+))?$/.exec(text);
  if (m?.[1] && !m[1].startsWith('/') && !m[1].includes('..')) {
    return m[2] ? { kind: 'include', file: m[1], region: m[2] } : { kind: 'include', file: m[1] };
  }
  return { kind: 'bad', text };
}

/** The fenced blocks of one Markdown text, each with the marker above it. */
export function parseBlocks(doc: string, text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '');
    if (!open) continue;
    const [, indent = '', fence = '', info = ''] = open;
    let j = i + 1;
    const closing = new RegExp(`^\\s*${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    while (j < lines.length && !closing.test(lines[j] ?? '')) j++;
    const body = lines
      .slice(i + 1, j)
      .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart()));
    let k = i - 1;
    while (k >= 0 && (lines[k] ?? '').trim() === '') k--;
    const mm = k >= 0 ? MARKER.exec(lines[k] ?? '') : null;
    blocks.push({
      doc,
      line: i + 1,
      lang: info.toLowerCase(),
      indent,
      content: body.map((l) => `${l}\n`).join(''),
      start: i + 1,
      end: j,
      marker: mm ? parseMarker(mm[1] ?? '') : { kind: 'none' },
    });
    i = j;
  }
  return blocks;
}

export function allBlocks(root = REPO): Block[] {
  return markdownFiles(root).flatMap((doc) => parseBlocks(doc, readFileSync(path.join(root, doc), 'utf8')));
}

const REGION_START = /#region\s+([\w.-]+)/;
const REGION_END = /#endregion\b/;

/** A file's text, or one region of it (marker lines dropped, common indentation removed). */
export function includedText(file: string, region?: string, root = REPO): string {
  const text = readFileSync(path.join(root, file), 'utf8');
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  let picked: string[];
  if (region === undefined) {
    picked = lines;
  } else {
    const from = lines.findIndex((l) => REGION_START.exec(l)?.[1] === region);
    if (from < 0) throw new Error(`${file} has no "#region ${region}"`);
    let depth = 0;
    let to = from + 1;
    for (; to < lines.length; to++) {
      const l = lines[to] ?? '';
      if (REGION_START.test(l)) depth++;
      else if (REGION_END.test(l)) {
        if (depth === 0) break;
        depth--;
      }
    }
    if (to >= lines.length) throw new Error(`${file}: "#region ${region}" has no #endregion`);
    picked = lines.slice(from + 1, to);
  }
  picked = picked.filter((l) => !REGION_START.test(l) && !REGION_END.test(l));
  // The common leading whitespace (spaces or tabs) of the non-blank lines.
  let common: string | undefined;
  for (const l of picked) {
    if (l.trim() === '') continue;
    const lead = /^[ \t]*/.exec(l)?.[0] ?? '';
    if (common === undefined) common = lead;
    let n = 0;
    while (n < common.length && n < lead.length && common[n] === lead[n]) n++;
    common = common.slice(0, n);
  }
  const cut = common?.length ?? 0;
  return picked.map((l) => `${l.slice(cut)}\n`).join('');
}

/** Rewrites every include block from its file; returns the Markdown files it changed. */
export function writeIncludes(root = REPO): string[] {
  const changed: string[] = [];
  for (const doc of markdownFiles(root)) {
    const full = path.join(root, doc);
    const text = readFileSync(full, 'utf8');
    const lines = text.split('\n');
    const blocks = parseBlocks(doc, text);
    let dirty = false;
    for (const b of [...blocks].reverse()) {
      if (b.marker.kind !== 'include') continue;
      let want: string;
      try {
        want = includedText(b.marker.file, b.marker.region, root);
      } catch {
        continue; // a missing file or region: structuralProblems reports it
      }
      if (want === b.content) continue;
      const body = want
        .slice(0, -1)
        .split('\n')
        .map((l) => (l === '' ? '' : b.indent + l));
      lines.splice(b.start, b.end - b.start, ...(want === '' ? [] : body));
      dirty = true;
    }
    if (dirty) {
      writeFileSync(full, lines.join('\n'));
      changed.push(doc);
    }
  }
  return changed;
}

// ---------------------------------------------------------------------------------------------
// Language checks

export type Lang = 'ts' | 'js' | 'yaml' | 'json' | 'bash' | 'python' | 'go' | 'c' | 'rust' | 'toml';

const LANGS: Record<string, Lang> = {
  ts: 'ts',
  typescript: 'ts',
  tsx: 'ts',
  js: 'js',
  javascript: 'js',
  mjs: 'js',
  yaml: 'yaml',
  yml: 'yaml',
  json: 'json',
  bash: 'bash',
  sh: 'bash',
  shell: 'bash',
  python: 'python',
  py: 'python',
  go: 'go',
  c: 'c',
  h: 'c',
  rust: 'rust',
  rs: 'rust',
  toml: 'toml',
};

const EXT_LANG: Record<string, Lang> = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.js': 'js',
  '.mjs': 'js',
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.json': 'json',
  '.sh': 'bash',
  '.py': 'python',
  '.go': 'go',
  '.c': 'c',
  '.h': 'c',
  '.rs': 'rust',
  '.toml': 'toml',
};

export function langOf(info: string): Lang | undefined {
  return LANGS[info];
}

export function langOfFile(file: string): Lang | undefined {
  return EXT_LANG[path.extname(file)];
}

/** One thing to check: a `check` block's text, or an included file. */
export interface Unit {
  lang: Lang;
  /** Where to report problems: `doc.md:line` or the included file. */
  where: string;
  text: string;
  /** The real file, for included files. */
  file?: string;
}

/** The units to check: each `check` block, and each distinct included file (whole file). */
export function checkUnits(blocks: readonly Block[], root = REPO): Unit[] {
  const units: Unit[] = [];
  const files = new Set<string>();
  for (const b of blocks) {
    if (b.marker.kind === 'check') {
      const lang = langOf(b.lang);
      if (lang) units.push({ lang, where: `${b.doc}:${b.line}`, text: b.content });
    } else if (b.marker.kind === 'include' && !files.has(b.marker.file)) {
      files.add(b.marker.file);
      const lang = langOfFile(b.marker.file);
      const full = path.join(root, b.marker.file);
      if (lang && existsSync(full)) {
        units.push({ lang, where: b.marker.file, text: readFileSync(full, 'utf8'), file: b.marker.file });
      }
    }
  }
  return units;
}

/** A tool's path, looked up in PATH and where this repo's setup installs it; undefined if absent. */
export function findTool(name: string): string | undefined {
  const extra = [path.join(homedir(), '.cargo/bin'), '/usr/local/go/bin'];
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), ...extra]) {
    if (dir && existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/** The external tool each language needs (ts/js/yaml/json are checked in-process). */
export const TOOLS: Partial<Record<Lang, string>> = {
  bash: 'bash',
  python: 'python3',
  toml: 'python3',
  go: 'gofmt',
  c: 'gcc',
  rust: 'rustfmt',
};

export interface Problem {
  where: string;
  message: string;
}

const CONFIG_KEYS = ['plugins', 'plugin_settings', 'plugin_dirs', 'routes', 'groups', 'global'];

function run(cmd: string, args: string[], input: string, cwd = REPO): string | undefined {
  const r = spawnSync(cmd, args, { input, cwd, encoding: 'utf8', timeout: 300_000 });
  if (r.error) return String(r.error);
  if (r.status !== 0) return `${r.stderr || r.stdout}`.trim() || `${cmd} exited ${r.status}`;
  return undefined;
}

/** Checks one non-TypeScript unit; returns its problem, if any. */
export function checkUnit(u: Unit, root = REPO): string | undefined {
  switch (u.lang) {
    case 'json':
      try {
        JSON.parse(u.text);
        return undefined;
      } catch (e) {
        return `invalid JSON: ${(e as Error).message}`;
      }
    case 'yaml': {
      let doc: unknown;
      try {
        doc = parseYaml(u.text);
      } catch (e) {
        return `invalid YAML: ${(e as Error).message}`;
      }
      if (doc && typeof doc === 'object' && CONFIG_KEYS.some((k) => k in doc)) {
        try {
          parseConfigText(u.text, u.file ? { file: path.join(root, u.file) } : {});
        } catch (e) {
          return `not a valid CPEX config: ${(e as Error).message}`;
        }
      }
      return undefined;
    }
    case 'bash':
      return run(tool('bash'), ['-n'], u.text);
    case 'python':
      return run(tool('python3'), ['-c', PY_COMPILE, u.where], u.text);
    case 'toml':
      return run(tool('python3'), ['-c', 'import sys, tomllib; tomllib.loads(sys.stdin.read())'], u.text);
    case 'go':
      // gofmt parses a whole file, or (from stdin) a declaration or statement list.
      return run(tool('gofmt'), ['-e'], u.text)?.replace(/^<standard input>/gm, u.where);
    case 'c':
      return run(
        tool('gcc'),
        [
          '-fsyntax-only',
          '-std=c11',
          '-Wall',
          '-Werror',
          '-I',
          path.join(root, 'packages/host-native/include'),
          '-x',
          'c',
          '-',
        ],
        u.text,
      );
    case 'rust':
      // rustfmt parses the file (a syntax error fails); formatting is not judged here.
      return run(tool('rustfmt'), ['--edition', '2021', '--emit', 'stdout'], u.text);
    case 'ts':
    case 'js':
      throw new Error('TypeScript units are checked together by checkTypeScript');
  }
}

const PY_COMPILE = 'import sys; compile(sys.stdin.read(), sys.argv[1], "exec")';

function tool(name: string): string {
  const t = findTool(name);
  if (!t) throw new Error(`${name} is not installed`);
  return t;
}

/**
 * Type-checks every ts/js unit in one tsc program (the repo's compiler options). `check` blocks
 * are written to docs/.snippets/ (gitignored) so that `@cpex/*` resolve through docs/node_modules.
 */
export async function checkTypeScript(units: readonly Unit[], root = REPO): Promise<Problem[]> {
  const ts = units.filter((u) => u.lang === 'ts' || u.lang === 'js');
  if (ts.length === 0) return [];
  const dir = path.join(root, 'docs/.snippets');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const whereOf = new Map<string, string>();
  // Packages' global declaration files (not reached through imports), as the root tsconfig has them.
  const files: string[] = readdirSync(path.join(root, 'packages')).flatMap((p) => {
    const src = path.join(root, 'packages', p, 'src');
    return existsSync(src)
      ? readdirSync(src)
          .filter((f) => f.endsWith('.d.ts'))
          .map((f) => path.join(src, f))
      : [];
  });
  for (const u of ts) {
    if (u.file) {
      files.push(path.join(root, u.file));
      whereOf.set(path.join(root, u.file), u.where);
      continue;
    }
    const name = `${u.where.replace(/[/:]/g, '_').replace(/\.md_/, '_L')}.${u.lang === 'ts' ? 'ts' : 'mjs'}`;
    writeFileSync(path.join(dir, name), u.text);
    files.push(path.join(dir, name));
    whereOf.set(path.join(dir, name), u.where);
  }
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../tsconfig.base.json',
      compilerOptions: { noEmit: true, allowJs: true, checkJs: true, rootDir: '../..' },
      files,
    }),
  );
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  // Asynchronous: tsc over the sources takes a while, and a test worker must keep answering.
  const out = await new Promise<string | undefined>((resolve) => {
    execFile(
      process.execPath,
      [tsc, '-p', path.join(dir, 'tsconfig.json'), '--pretty', 'false'],
      { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve(error ? `${stdout}${stderr}` || String(error) : undefined),
    );
  });
  if (out === undefined) return [];
  const problems: Problem[] = [];
  for (const line of out.split('\n')) {
    const m = /^(.+?)\((\d+),(\d+)\): (error .*)$/.exec(line);
    if (!m) continue;
    const abs = path.resolve(root, m[1] ?? '');
    const where = whereOf.get(abs);
    const at = where
      ? where.includes('.md:')
        ? `${where} (+${m[2]} line${m[2] === '1' ? '' : 's'} into the block)`
        : `${where}:${m[2]}`
      : `${path.relative(root, abs)}:${m[2]}`;
    problems.push({ where: at, message: m[4] ?? '' });
  }
  if (problems.length === 0) problems.push({ where: 'tsc', message: out.trim() });
  return problems;
}

/** Structural problems: unmarked blocks, bad markers, includes that drift or point nowhere. */
export function structuralProblems(blocks: readonly Block[], root = REPO): Problem[] {
  const problems: Problem[] = [];
  for (const b of blocks) {
    const where = `${b.doc}:${b.line}`;
    const m = b.marker;
    if (m.kind === 'none') {
      problems.push({
        where,
        message:
          'unmarked code block: put <!-- snippet: FILE[#region] -->, <!-- snippet: check --> or <!-- snippet: illustrative --> above it',
      });
    } else if (m.kind === 'bad') {
      problems.push({ where, message: `unreadable snippet marker "${m.text}"` });
    } else if (m.kind === 'check' && !langOf(b.lang)) {
      problems.push({
        where,
        message: `"check" needs a language the checker knows (${Object.keys(LANGS).join(', ')}); got "${b.lang || 'none'}"`,
      });
    } else if (m.kind === 'include') {
      if (!existsSync(path.join(root, m.file))) {
        problems.push({ where, message: `included file ${m.file} does not exist` });
        continue;
      }
      let want: string;
      try {
        want = includedText(m.file, m.region, root);
      } catch (e) {
        problems.push({ where, message: (e as Error).message });
        continue;
      }
      if (want !== b.content) {
        problems.push({
          where,
          message: `block differs from ${m.file}${m.region ? `#${m.region}` : ''} (run \`pnpm snippets --write\`)`,
        });
      }
    }
  }
  return problems;
}

/**
 * Runs an `output:` block's command and returns what of the block is not in its output (each
 * block line must equal an output line, in order, trailing spaces ignored), or undefined.
 */
export async function checkOutput(block: Block, root = REPO): Promise<string | undefined> {
  if (block.marker.kind !== 'output') return undefined;
  const { command } = block.marker;
  const out = await new Promise<{ text: string; error?: string }>((resolve) => {
    execFile(
      'bash',
      ['-c', command],
      { cwd: root, encoding: 'utf8', timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve(
          error ? { text: stdout, error: `${command} failed: ${stderr || String(error)}` } : { text: stdout },
        ),
    );
  });
  if (out.error) return out.error;
  const lines = out.text.split('\n').map((l) => l.trimEnd());
  let at = 0;
  for (const want of block.content.split('\n').map((l) => l.trimEnd())) {
    if (want === '' || want.startsWith('$ ')) continue;
    const found = lines.indexOf(want, at);
    if (found < 0) return `not in the output of \`${command}\` (in this order): ${want}`;
    at = found + 1;
  }
  return undefined;
}

/** Every check of every block (what `pnpm snippets` runs); a missing tool is a problem here. */
export async function checkAll(root = REPO): Promise<{ blocks: number; units: number; problems: Problem[] }> {
  const blocks = allBlocks(root);
  const units = checkUnits(blocks, root);
  const problems: Problem[] = [...structuralProblems(blocks, root), ...(await checkTypeScript(units, root))];
  for (const u of units) {
    if (u.lang === 'ts' || u.lang === 'js') continue;
    const need = TOOLS[u.lang];
    const p = need && !findTool(need) ? `not checked: ${need} is not installed` : checkUnit(u, root);
    if (p) problems.push({ where: u.where, message: p });
  }
  for (const b of blocks) {
    const p = await checkOutput(b, root);
    if (p) problems.push({ where: `${b.doc}:${b.line}`, message: p });
  }
  return { blocks: blocks.length, units: units.length, problems };
}
