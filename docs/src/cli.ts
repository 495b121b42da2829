// `pnpm snippets`: checks every Markdown code block (see snippets.ts); `--write` first copies
// included files into their blocks. Exits 1 when a problem remains.
import {
  allBlocks,
  checkOutput,
  checkTypeScript,
  checkUnit,
  checkUnits,
  findTool,
  type Problem,
  structuralProblems,
  TOOLS,
  writeIncludes,
} from './snippets.js';

if (process.argv.includes('--write')) {
  for (const doc of writeIncludes()) process.stdout.write(`updated ${doc}\n`);
}
const blocks = allBlocks();
const units = checkUnits(blocks);
const problems: Problem[] = [...structuralProblems(blocks), ...(await checkTypeScript(units))];
for (const u of units) {
  if (u.lang === 'ts' || u.lang === 'js') continue;
  const need = TOOLS[u.lang];
  if (need && !findTool(need)) {
    problems.push({ where: u.where, message: `not checked: ${need} is not installed` });
    continue;
  }
  const p = checkUnit(u);
  if (p) problems.push({ where: u.where, message: p });
}
for (const b of blocks) {
  const p = await checkOutput(b);
  if (p) problems.push({ where: `${b.doc}:${b.line}`, message: p });
}
for (const p of problems) process.stderr.write(`${p.where}: ${p.message}\n`);
process.stdout.write(
  `${blocks.length} code blocks, ${units.length} checked units, ${problems.length} problem(s)\n`,
);
process.exitCode = problems.length ? 1 : 0;
