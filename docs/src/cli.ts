// `pnpm snippets`: checks every Markdown code block (see snippets.ts); `--write` first copies
// included files into their blocks. Exits 1 when a problem remains.
import { checkAll, writeIncludes } from './snippets.js';

if (process.argv.includes('--write')) {
  for (const doc of writeIncludes()) process.stdout.write(`updated ${doc}\n`);
}
const { blocks, units, problems } = await checkAll();
for (const p of problems) process.stderr.write(`${p.where}: ${p.message}\n`);
process.stdout.write(`${blocks} code blocks, ${units} checked units, ${problems.length} problem(s)\n`);
process.exitCode = problems.length ? 1 : 0;
