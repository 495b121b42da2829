/**
 * Regenerates the generated parts of docs/conformance.md: the cross-host matrix table (by running
 * the corpus on every available host) and the list of documented deviations (from
 * conformance/deviations.yaml).
 *
 *   node --conditions=@cpex/source --import tsx conformance/src/gen-docs.ts [--python-path DIR]... [--no-run]
 *
 * `--no-run` only refreshes the deviations list and leaves the matrix table as it is.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultPython } from './cli.js';
import { loadDeviations } from './compare.js';
import { runMatrix } from './matrix.js';
import { collectScenarioFiles, loadScenarioFile } from './scenario.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const DOC = path.join(REPO, 'docs', 'conformance.md');

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->`. */
export function replaceBlock(doc: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`docs/conformance.md has no ${start} ... ${end} block`);
  return `${doc.slice(0, i + start.length)}\n${body}\n${doc.slice(j)}`;
}

export function deviationsTable(): string {
  const rows = loadDeviations().map(
    (d) =>
      `| ${d.scenario} | ${d.paths.map((p) => `\`${p}\``).join(', ')} | ${d.reason.replace(/\|/g, '\\|')} |`,
  );
  return ['| scenario | differing fields | why cpex-ts differs |', '|---|---|---|', ...rows].join('\n');
}

/** One row per scenario of the corpus: file, name and description. */
export function scenariosTable(
  scenarios: ReadonlyArray<{ file: string; name: string; description: string }>,
): string {
  const rows = scenarios.map(
    (s) => `| ${path.basename(s.file, path.extname(s.file))} | ${s.description.replace(/\|/g, '\\|')} |`,
  );
  return ['| scenario | what it checks |', '|---|---|', ...rows].join('\n');
}

async function generate(argv: readonly string[]): Promise<void> {
  const pythonPath: string[] = [];
  for (let i = 0; i < argv.length; i++)
    if (argv[i] === '--python-path' && argv[i + 1]) pythonPath.push(path.resolve(argv[++i] as string));
  let doc = await readFile(DOC, 'utf8');
  doc = replaceBlock(doc, 'deviations', deviationsTable());
  const scenarios = [];
  for (const f of await collectScenarioFiles([path.join(REPO, 'conformance', 'scenarios')])) {
    scenarios.push(await loadScenarioFile(f));
  }
  doc = replaceBlock(doc, 'scenarios', scenariosTable(scenarios));
  if (!argv.includes('--no-run')) {
    const m = await runMatrix(scenarios, { host: 'ts', pythonPath, python: defaultPython() });
    const notes = Object.entries(m.unavailable).map(([h, why]) => `- ${h}: not run (${why})`);
    const diffs = m.differences.map((d) => `- ${d.scenario}: \`${d.path}\` differs between hosts`);
    doc = replaceBlock(
      doc,
      'matrix',
      [
        m.table,
        '',
        ...(notes.length ? ['Hosts not in this run:', '', ...notes, ''] : []),
        ...(diffs.length ? ['Cross-host differences:', '', ...diffs] : ['No cross-host differences.']),
      ].join('\n'),
    );
  }
  await writeFile(DOC, doc);
  process.stderr.write(`updated ${path.relative(REPO, DOC)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  generate(process.argv.slice(2)).then(
    () => setTimeout(() => process.exit(0), 3000).unref(),
    (e) => {
      process.stderr.write(`gen-docs: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
