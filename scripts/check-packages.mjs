// Packaging check (after `turbo run build`): every public package's exports map points at built
// ESM + .d.ts files, and each entry imports without the @cpex/source condition (i.e. as users get it).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
let failures = 0;
let checked = 0;
for (const dir of readdirSync(path.join(root, 'packages'))) {
  const pkgDir = path.join(root, 'packages', dir);
  const pkgFile = path.join(pkgDir, 'package.json');
  if (!existsSync(pkgFile)) continue;
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
  if (pkg.private) continue;
  for (const [sub, target] of Object.entries(pkg.exports ?? {})) {
    const js = path.join(pkgDir, target.import);
    const dts = path.join(pkgDir, target.types);
    const where = `${pkg.name}${sub === '.' ? '' : sub.slice(1)}`;
    if (!existsSync(js) || !existsSync(dts)) {
      console.error(`FAIL ${where}: missing ${existsSync(js) ? target.types : target.import}`);
      failures++;
      continue;
    }
    try {
      const mod = await import(pathToFileURL(js).href);
      if (Object.keys(mod).length === 0 && !sub.includes('internal')) throw new Error('no exports');
      checked++;
    } catch (e) {
      console.error(`FAIL ${where}: ${e.message}`);
      failures++;
    }
  }
}
// Tarball contents (what `npm publish` would ship, from the `files` field): a LICENSE and a
// README in each, and no tests, type tests or test utilities.
const FORBIDDEN = [/\.test\.[cm]?[jt]s$/, /\.test-d\.ts$/, /\.test-util\.[cm]?[jt]s$/, /(^|\/)test\//];
for (const dir of readdirSync(path.join(root, 'packages'))) {
  const pkgDir = path.join(root, 'packages', dir);
  const pkgFile = path.join(pkgDir, 'package.json');
  if (!existsSync(pkgFile)) continue;
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
  if (pkg.private) continue;
  let files;
  try {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: pkgDir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    files = JSON.parse(out)[0].files.map((f) => f.path);
  } catch (e) {
    console.error(`FAIL ${pkg.name}: npm pack --dry-run failed: ${e.message.split('\n')[0]}`);
    failures++;
    continue;
  }
  const problems = [];
  for (const need of ['LICENSE', 'README.md']) if (!files.includes(need)) problems.push(`no ${need}`);
  for (const f of files) if (FORBIDDEN.some((re) => re.test(f))) problems.push(`ships ${f}`);
  if (pkg.license !== 'Apache-2.0') problems.push(`license is ${pkg.license}, not Apache-2.0`);
  if (problems.length) {
    console.error(`FAIL ${pkg.name} tarball: ${problems.join('; ')}`);
    failures++;
  } else console.log(`tarball: ${pkg.name} ${files.length} files, LICENSE + README, no tests`);
}

// Size budgets (STYLE 18): the engine and the author SDK stay small. Bytes of built JS (without maps).
// core grew this wave by the session store, hot reload, the process supervisor, payload bounds and
// route explanations (~340 KB); the budget leaves ~15% headroom, so the next growth is a decision.
const BUDGETS = { core: 400_000, sdk: 60_000 };
function jsBytes(dir) {
  let n = 0;
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, f.name);
    if (f.isDirectory()) n += jsBytes(p);
    else if (f.name.endsWith('.js')) n += readFileSync(p).length;
  }
  return n;
}
for (const [pkg, budget] of Object.entries(BUDGETS)) {
  const bytes = jsBytes(path.join(root, 'packages', pkg, 'dist'));
  const ok = bytes <= budget;
  console.log(`size: @cpex/${pkg} ${bytes} bytes of JS (budget ${budget}) ${ok ? 'ok' : 'OVER BUDGET'}`);
  if (!ok) failures++;
}
console.log(`packaging: ${checked} entry points import from dist, ${failures} failed`);
process.exit(failures ? 1 : 0);
